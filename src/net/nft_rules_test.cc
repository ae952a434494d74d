// Unit tests of the nftables layer that need no root and no kernel: the scripts
// NftRules runs, input validation, and parsing of nft's JSON and error text.
// tests/net/nft_test.cc runs the same scripts against the kernel.
#include "net/nft_rules.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>

namespace md::net {
namespace {

PortMapping port(std::string host_ip, std::string proto, uint16_t hp, std::string cip,
                 uint16_t cp) {
  return PortMapping{std::move(host_ip), std::move(proto), hp, std::move(cip), cp};
}

TEST(NftScript, CreateTableSubstitutesTheNameEverywhere) {
  auto s = nft_script::create_table("minidocker_1a2b");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_TRUE(s->starts_with("create table ip minidocker_1a2b { comment \"minidocker container "
                             "networks: managed by minidocker, do not edit\"; }\n"
                             "table ip minidocker_1a2b {\n"))
      << *s;
  EXPECT_EQ(s->find("@T@"), std::string::npos);
  // The rules that make it work; the full text is checked against the kernel's
  // listing in tests/net/nft_test.cc.
  for (const char* rule : {
           "fib daddr type local dnat ip to ip daddr . meta l4proto . th dport map @ports_ip",
           "fib daddr type local dnat ip to meta l4proto . th dport map @ports_any",
           "ip saddr @masq_nets oifname != @bridges masquerade",
           "oifname @bridges ip saddr 127.0.0.0/8 masquerade",
           "oifname @bridges ct status dnat ip saddr @masq_nets masquerade",
           "iifname @internal_bridges iifname . oifname != @same_bridge drop",
           "oifname @internal_bridges iifname . oifname != @same_bridge drop",
           "iifname @bridges oifname @bridges iifname . oifname != @same_bridge ct status & dnat "
           "== 0 drop",
           "iifname @bridges ip daddr 127.0.0.0/8 drop",
       })
    EXPECT_NE(s->find(rule), std::string::npos) << rule;
}

TEST(NftScript, DeleteTableAddsFirstSoAbsentIsFine) {
  EXPECT_EQ(nft_script::delete_table("md").value(), "add table ip md\ndelete table ip md\n");
}

TEST(NftScript, TableNamesThatCannotBeOneNftWordAreRejected) {
  for (const char* bad : {"", "1md", "md-x", "md x", "md;flush ruleset", "md\"", "_md"}) {
    auto s = nft_script::create_table(bad);
    ASSERT_FALSE(s) << bad;
    EXPECT_EQ(s.error().errno_value, EINVAL);
    EXPECT_NE(s.error().message.find("invalid nftables table name"), std::string::npos);
  }
  EXPECT_FALSE(nft_script::check_table_name(std::string(65, 'a')));
  EXPECT_TRUE(nft_script::check_table_name(std::string(64, 'a')));
  EXPECT_TRUE(nft_script::check_table_name("minidocker"));
}

TEST(NftScript, AddNetworkPutsSubnetInMasqNets) {
  EXPECT_EQ(nft_script::add_network("md", "md-br0", "10.88.0.0/16", false).value(),
            "add element ip md bridges { \"md-br0\" }\n"
            "add element ip md same_bridge { \"md-br0\" . \"md-br0\" }\n"
            "add element ip md masq_nets { 10.88.0.0/16 }\n");
}

TEST(NftScript, AddInternalNetworkHasNoEgressNat) {
  EXPECT_EQ(nft_script::add_network("md", "md-br1", "10.89.0.0/24", true).value(),
            "add element ip md bridges { \"md-br1\" }\n"
            "add element ip md same_bridge { \"md-br1\" . \"md-br1\" }\n"
            "add element ip md internal_bridges { \"md-br1\" }\n");
}

TEST(NftScript, RemoveNetworkAddsThenDeletesAndAlwaysClearsInternal) {
  EXPECT_EQ(nft_script::remove_network("md", "md-br0", "10.88.0.0/16", false).value(),
            "add element ip md bridges { \"md-br0\" }\n"
            "add element ip md same_bridge { \"md-br0\" . \"md-br0\" }\n"
            "add element ip md internal_bridges { \"md-br0\" }\n"
            "add element ip md masq_nets { 10.88.0.0/16 }\n"
            "delete element ip md bridges { \"md-br0\" }\n"
            "delete element ip md same_bridge { \"md-br0\" . \"md-br0\" }\n"
            "delete element ip md internal_bridges { \"md-br0\" }\n"
            "delete element ip md masq_nets { 10.88.0.0/16 }\n");
}

TEST(NftScript, BadBridgeNamesAreRejectedBeforeNft) {
  for (const char* bad : {"", "br\"0", "br*", "br 0", "br\\0", "abcdefghijklmnop", ".", ".."}) {
    auto s = nft_script::add_network("md", bad, "10.88.0.0/16", false);
    ASSERT_FALSE(s) << bad;
    EXPECT_NE(s.error().message.find("invalid bridge name"), std::string::npos);
  }
  EXPECT_TRUE(nft_script::add_network("md", "abcdefghijklmno", "10.88.0.0/16", false));
}

TEST(NftScript, SubnetsMustBeIpv4NetworkAddresses) {
  auto host_bits = nft_script::add_network("md", "br", "10.88.0.5/16", false);
  ASSERT_FALSE(host_bits);
  EXPECT_EQ(host_bits.error().message,
            "invalid subnet `10.88.0.5/16`: host bits set, it should be 10.88.0.0/16");
  for (const char* bad : {"10.88.0.0", "10.88.0.0/0", "10.88.0.0/33", "10.88.0.0/x", "fd00::/64",
                          "10.88.0.0/16 ; flush ruleset", "/16"})
    EXPECT_FALSE(nft_script::add_network("md", "br", bad, false)) << bad;
  EXPECT_TRUE(nft_script::add_network("md", "br", "10.88.0.7/32", false));
}

TEST(NftScript, PortsGoToTheAnyOrTheAddressMap) {
  auto s = nft_script::add_ports("md", {port("", "tcp", 8080, "10.88.0.2", 80),
                                        port("0.0.0.0", "udp", 53, "10.88.0.3", 5353),
                                        port("192.168.1.5", "tcp", 8443, "10.88.0.2", 443)});
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(*s,
            "add element ip md ports_any { tcp . 8080 : 10.88.0.2 . 80 }\n"
            "add element ip md ports_any { udp . 53 : 10.88.0.3 . 5353 }\n"
            "add element ip md ports_ip { 192.168.1.5 . tcp . 8443 : 10.88.0.2 . 443 }\n");
}

TEST(NftScript, RemovePortsAddsWithTheValueThenDeletesByKey) {
  auto s = nft_script::remove_ports("md", {port("", "tcp", 8080, "10.88.0.2", 80),
                                           port("127.0.0.1", "udp", 53, "10.88.0.3", 53)});
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(*s,
            "add element ip md ports_any { tcp . 8080 : 10.88.0.2 . 80 }\n"
            "delete element ip md ports_any { tcp . 8080 }\n"
            "add element ip md ports_ip { 127.0.0.1 . udp . 53 : 10.88.0.3 . 53 }\n"
            "delete element ip md ports_ip { 127.0.0.1 . udp . 53 }\n");
}

TEST(NftScript, BadPortsAreRejectedByName) {
  struct Case {
    PortMapping p;
    const char* message;
  } cases[] = {
      {port("", "sctp", 80, "10.88.0.2", 80),
       "invalid protocol `sctp` in port 0.0.0.0:80/sctp -> 10.88.0.2:80: expected tcp or udp"},
      {port("", "tcp", 0, "10.88.0.2", 80), "invalid port 0.0.0.0:0/tcp -> 10.88.0.2:80: port 0"},
      {port("", "tcp", 80, "10.88.0.2", 0), "invalid port 0.0.0.0:80/tcp -> 10.88.0.2:0: port 0"},
      {port("::", "tcp", 80, "10.88.0.2", 80), "invalid host address `::`: not an IPv4 address"},
      {port("", "tcp", 80, "web", 80), "invalid container address `web`: not an IPv4 address"},
      {port("", "tcp", 80, "0.0.0.0", 80),
       "invalid port 0.0.0.0:80/tcp -> 0.0.0.0:80: container address 0.0.0.0"},
  };
  for (const auto& c : cases) {
    auto s = nft_script::add_ports("md", {c.p});
    ASSERT_FALSE(s) << c.message;
    EXPECT_EQ(s.error().message, c.message);
    EXPECT_EQ(s.error().errno_value, EINVAL);
  }
}

// As printed by nft 1.0.6 for `nft -j list table ip md` (rules trimmed).
constexpr const char* kTableJson =
    R"({"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", )"
    R"("json_schema_version": 1}}, {"table": {"family": "ip", "name": "md", "handle": 1}}, )"
    R"({"set": {"family": "ip", "name": "bridges", "table": "md", "type": "ifname", "handle": 1, )"
    R"("elem": ["md-br0"]}}, )"
    R"({"map": {"family": "ip", "name": "ports_any", "table": "md", "type": ["inet_proto", )"
    R"("inet_service"], "handle": 9, "map": "ipv4_addr . inet_service", "elem": [[{"concat": )"
    R"(["udp", 53]}, {"concat": ["10.0.0.3", 53]}], [{"concat": ["tcp", 80]}, {"concat": )"
    R"(["10.0.0.2", 8080]}]]}}, )"
    R"({"map": {"family": "ip", "name": "ports_ip", "table": "md", "type": ["ipv4_addr", )"
    R"("inet_proto", "inet_service"], "handle": 10, "map": "ipv4_addr . inet_service", "elem": )"
    R"([[{"concat": ["192.168.1.1", "tcp", 81]}, {"concat": ["10.0.0.2", 8080]}]]}}]})";

TEST(NftScript, ParsesBothPortMaps) {
  auto ports = nft_script::parse_ports(kTableJson);
  ASSERT_TRUE(ports) << ports.error().message;
  std::vector<PortMapping> want = {port("", "udp", 53, "10.0.0.3", 53),
                                   port("", "tcp", 80, "10.0.0.2", 8080),
                                   port("192.168.1.1", "tcp", 81, "10.0.0.2", 8080)};
  EXPECT_EQ(*ports, want);
}

TEST(NftScript, ParsesEmptyMapsAndNumericProtocols) {
  auto empty = nft_script::parse_ports(
      R"({"nftables": [{"map": {"name": "ports_any", "type": ["inet_proto", "inet_service"]}}]})");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  auto numeric = nft_script::parse_ports(
      R"({"nftables": [{"map": {"name": "ports_any", "elem": [[{"concat": [17, 53]}, )"
      R"({"concat": ["10.0.0.3", 53]}]]}}]})");
  ASSERT_TRUE(numeric) << numeric.error().message;
  ASSERT_EQ(numeric->size(), 1u);
  EXPECT_EQ((*numeric)[0].proto, "udp");
}

TEST(NftScript, RejectsWhatIsNotNftJson) {
  EXPECT_FALSE(nft_script::parse_ports("table ip md {"));
  EXPECT_FALSE(nft_script::parse_ports(R"({"nftables": [{"map": {"name": "ports_any", )"
                                       R"("elem": [[{"concat": ["tcp", 0]}, {"concat": )"
                                       R"(["10.0.0.2", 80]}]]}}]})"));
  EXPECT_FALSE(nft_script::parse_has_table("", "md"));
}

TEST(NftScript, FindsOnlyOurIpTable) {
  const char* tables =
      R"({"nftables": [{"metainfo": {"version": "1.0.6"}}, {"table": {"family": "ip", "name": )"
      R"("nat", "handle": 1}}, {"table": {"family": "inet", "name": "md", "handle": 2}}]})";
  EXPECT_FALSE(nft_script::parse_has_table(tables, "md").value());
  EXPECT_TRUE(nft_script::parse_has_table(tables, "nat").value());
}

TEST(PortMapping, CanonicalFormHasEmptyAnyAddress) {
  EXPECT_EQ(canonical(port("0.0.0.0", "tcp", 1, "10.0.0.2", 2)).host_ip, "");
  EXPECT_EQ(canonical(port("127.0.0.1", "tcp", 1, "10.0.0.2", 2)).host_ip, "127.0.0.1");
  EXPECT_EQ(to_string(port("", "udp", 53, "10.0.0.2", 5353)), "0.0.0.0:53/udp -> 10.0.0.2:5353");
}

TEST(NftError, KeepsMessageAndCommandOnOneLine) {
  const char* raw =
      "Error: Could not process rule: File exists\n"
      "add element ip md ports_any { tcp . 80 : 10.0.0.3 . 8080 }\n"
      "                             ^^^^^^^^\n";
  EXPECT_EQ(format_nft_error(raw),
            "nft: Could not process rule: File exists: "
            "`add element ip md ports_any { tcp . 80 : 10.0.0.3 . 8080 }`");
  EXPECT_EQ(nft_error_errno(raw), EEXIST);
}

TEST(NftError, StripsLocationsAndJoinsSeveralErrors) {
  const char* raw =
      "<cmdline>:2:1-5: Error: syntax error, unexpected junk\n"
      "junk\n"
      "^^^^\n"
      "<cmdline>:3:20-21: Error: Could not process rule: No such file or directory\n"
      "delete table ip md\n"
      "                ^^\n";
  EXPECT_EQ(format_nft_error(raw),
            "nft: syntax error, unexpected junk: `junk`; Could not process rule: No such file or "
            "directory: `delete table ip md`");
  EXPECT_EQ(nft_error_errno(raw), ENOENT);
}

TEST(NftError, UnknownShapesAreKeptAndEmptyIsNamed) {
  EXPECT_EQ(format_nft_error("something odd\nhappened\n"), "nft: something odd happened");
  EXPECT_EQ(format_nft_error(""), "nft: command failed without a message");
  EXPECT_EQ(nft_error_errno("Error: syntax error, unexpected string\n"), 0);
}

}  // namespace
}  // namespace md::net
