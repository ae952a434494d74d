#include "net/nft_rules.h"

#include <arpa/inet.h>

#include <cerrno>
#include <charconv>
#include <nlohmann/json.hpp>
#include <utility>

namespace md::net {

namespace {

using json = nlohmann::json;

// A small stand-in for std::format (libstdc++ 12 has none): "{}" takes the next
// argument, "{0}" a numbered one, "{{" and "}}" are braces.
std::string as_text(std::string_view v) { return std::string(v); }
std::string as_text(const char* v) { return v; }
std::string as_text(const std::string& v) { return v; }
std::string as_text(int v) { return std::to_string(v); }

template <class... A>
std::string fmt(std::string_view f, const A&... args) {
  const std::string texts[] = {as_text(args)..., std::string()};
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    char c = f[i];
    if ((c == '{' || c == '}') && i + 1 < f.size() && f[i + 1] == c) {
      out += c;
      ++i;
    } else if (c == '{') {
      size_t close = f.find('}', i);
      std::string_view index = f.substr(i + 1, close - i - 1);
      size_t n = index.empty() ? next++ : static_cast<size_t>(index[0] - '0');
      out += texts[n < sizeof...(A) ? n : sizeof...(A)];
      i = close;
    } else {
      out += c;
    }
  }
  return out;
}

// The fixed layout; "@T@" is the table name. Every choice here is explained in
// docs/networking_nft.md; the comments below say what nft 1.0.6 made us write.
//
// - nft cannot compare two packet fields (`oifname != iifname` is a syntax error:
//   the right side must be a constant), so "not to its own bridge" is a lookup of
//   the pair in @same_bridge, which holds "br" . "br" for each bridge.
// - `ct status != dnat` would compare the whole status word with the DNAT bit
//   (always unequal); `ct status & dnat == 0` tests the bit. nft lists it back as
//   `ct status ! dnat`.
// - `priority dstnat` is refused for the nat output hook by nft 1.0.6: -100 is
//   the same number.
// - The table's comment goes on `create table`: given in the `table ip T { }`
//   block that follows (an update, as far as the kernel is concerned) it is lost.
// - The map lookups are written `dnat ip to <key> map @m`; nft 1.0.6 infers the
//   address . port split from the map's value type.
constexpr std::string_view kLayout = R"(create table ip @T@ { comment "minidocker container networks: managed by minidocker, do not edit"; }
table ip @T@ {
	set bridges { type ifname; }
	set internal_bridges { type ifname; }
	set same_bridge { type ifname . ifname; }
	set masq_nets { type ipv4_addr; flags interval; }
	map ports_any { type inet_proto . inet_service : ipv4_addr . inet_service; }
	map ports_ip { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }

	chain localnet_guard {
		type filter hook prerouting priority raw; policy accept;
		iifname @bridges ip daddr 127.0.0.0/8 drop
	}

	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		fib daddr type local dnat ip to ip daddr . meta l4proto . th dport map @ports_ip
		fib daddr type local dnat ip to meta l4proto . th dport map @ports_any
	}

	chain output {
		type nat hook output priority -100; policy accept;
		fib daddr type local dnat ip to ip daddr . meta l4proto . th dport map @ports_ip
		fib daddr type local dnat ip to meta l4proto . th dport map @ports_any
	}

	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr @masq_nets oifname != @bridges masquerade
		oifname @bridges ip saddr 127.0.0.0/8 masquerade
		oifname @bridges ct status dnat ip saddr @masq_nets masquerade
	}

	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname @internal_bridges iifname . oifname != @same_bridge drop
		oifname @internal_bridges iifname . oifname != @same_bridge drop
		iifname @bridges oifname @bridges iifname . oifname != @same_bridge ct status & dnat == 0 drop
	}
}
)";

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_any(std::string_view host_ip) { return host_ip.empty() || host_ip == "0.0.0.0"; }

Status check_ipv4(std::string_view what, std::string_view ip) {
  in_addr a{};
  std::string s(ip);
  if (::inet_pton(AF_INET, s.c_str(), &a) != 1)
    return fail(fmt("invalid {} `{}`: not an IPv4 address", what, ip), EINVAL);
  return {};
}

// "10.88.0.0/16" → itself, checked: an address, a prefix 1..32, no host bits.
Status check_subnet(std::string_view cidr) {
  size_t slash = cidr.find('/');
  if (slash == std::string_view::npos)
    return fail(fmt("invalid subnet `{}`: expected address/prefix", cidr), EINVAL);
  std::string addr(cidr.substr(0, slash));
  std::string_view len_text = cidr.substr(slash + 1);
  int len = -1;
  auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
  in_addr a{};
  if (ec != std::errc{} || end != len_text.data() + len_text.size() || len < 1 || len > 32 ||
      ::inet_pton(AF_INET, addr.c_str(), &a) != 1)
    return fail(fmt("invalid subnet `{}`: expected IPv4 address/1-32", cidr), EINVAL);
  uint32_t host_mask = len == 32 ? 0 : (0xffffffffu >> len);
  uint32_t host = ntohl(a.s_addr);
  if ((host & host_mask) != 0) {
    in_addr net{htonl(host & ~host_mask)};
    char buf[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, &net, buf, sizeof buf);
    return fail(fmt("invalid subnet `{}`: host bits set, it should be {}/{}", cidr, buf,
                            len),
                EINVAL);
  }
  return {};
}

Status check_port(const PortMapping& p) {
  if (p.proto != "tcp" && p.proto != "udp")
    return fail(fmt("invalid protocol `{}` in port {}: expected tcp or udp", p.proto,
                            to_string(p)),
                EINVAL);
  if (p.host_port == 0 || p.container_port == 0)
    return fail(fmt("invalid port {}: port 0", to_string(p)), EINVAL);
  if (!is_any(p.host_ip)) TRY(check_ipv4("host address", p.host_ip));
  TRY(check_ipv4("container address", p.container_ip));
  if (p.container_ip == "0.0.0.0")
    return fail(fmt("invalid port {}: container address 0.0.0.0", to_string(p)), EINVAL);
  return {};
}

// The map a mapping lives in and its key, e.g. `ports_any { tcp . 8080`.
std::string element_key(const PortMapping& p) {
  if (is_any(p.host_ip)) return fmt("ports_any {{ {} . {}", p.proto, p.host_port);
  return fmt("ports_ip {{ {} . {} . {}", p.host_ip, p.proto, p.host_port);
}

std::string element_with_value(const PortMapping& p) {
  return fmt("{} : {} . {} }}", element_key(p), p.container_ip, p.container_port);
}

// One line per element, so nft's error points at the mapping that failed.
Result<std::string> port_lines(std::string_view table, const std::vector<PortMapping>& ports,
                               bool remove) {
  TRY(nft_script::check_table_name(table));
  std::string out;
  for (const auto& p : ports) {
    TRY(check_port(p));
    // Removal adds first: absent elements are then not an error (nft 1.0.6 has
    // no `destroy`), and the add fails with EEXIST when the key has another
    // value. The delete goes by key: the kernel ignores a value given to it.
    out += fmt("add element ip {} {}\n", table, element_with_value(p));
    if (remove) out += fmt("delete element ip {} {} }}\n", table, element_key(p));
  }
  return out;
}

// A JSON value that is a string or a number, as text ("tcp" / 6, 80 / "80").
std::string scalar(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<long long>());
  return {};
}

std::string proto_name(const json& v) {
  std::string s = scalar(v);
  if (s == "6") return "tcp";  // numeric output (NFT_CTX_OUTPUT_NUMERIC_PROTO)
  if (s == "17") return "udp";
  return s;
}

Result<uint16_t> port_number(const json& v) {
  std::string s = scalar(v);
  unsigned n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc{} || end != s.data() + s.size() || n == 0 || n > 65535)
    return fail(fmt("parse nft port map: bad port `{}`", v.dump()), EINVAL);
  return static_cast<uint16_t>(n);
}

const json* concat_items(const json& v) {
  if (v.is_object() && v.contains("concat") && v["concat"].is_array()) return &v["concat"];
  return nullptr;
}

}  // namespace

PortMapping canonical(PortMapping p) {
  if (is_any(p.host_ip)) p.host_ip.clear();
  return p;
}

std::string to_string(const PortMapping& p) {
  return fmt("{}:{}/{} -> {}:{}", is_any(p.host_ip) ? "0.0.0.0" : p.host_ip, p.host_port,
                     p.proto, p.container_ip, p.container_port);
}

namespace nft_script {

Status check_table_name(std::string_view table) {
  // nft 1.0.6 has no quoted identifiers, so the name goes into scripts bare: only
  // characters its lexer reads as one word, which also rules out injection.
  bool ok = !table.empty() && table.size() <= 64 && is_alpha(table[0]);
  for (char c : table) ok = ok && (is_alpha(c) || is_digit(c) || c == '_');
  if (!ok)
    return fail(fmt("invalid nftables table name `{}`: expected a letter then letters, "
                            "digits or '_', at most 64",
                            table),
                EINVAL);
  return {};
}

Status check_bridge_name(std::string_view bridge) {
  // Quoted in scripts; no '"', '\\' or '*' (a trailing '*' is an nft wildcard).
  bool ok = !bridge.empty() && bridge.size() <= 15 && bridge != "." && bridge != "..";
  for (char c : bridge) ok = ok && (is_alpha(c) || is_digit(c) || c == '_' || c == '-' || c == '.');
  if (!ok)
    return fail(fmt("invalid bridge name `{}`: expected 1-15 of letters, digits, '_', "
                            "'-', '.'",
                            bridge),
                EINVAL);
  return {};
}

Result<std::string> create_table(std::string_view table) {
  TRY(check_table_name(table));
  std::string out;
  std::string_view rest = kLayout;
  for (size_t at; (at = rest.find("@T@")) != std::string_view::npos; rest = rest.substr(at + 3)) {
    out += rest.substr(0, at);
    out += table;
  }
  out += rest;
  return out;
}

Result<std::string> delete_table(std::string_view table) {
  TRY(check_table_name(table));
  return fmt("add table ip {0}\ndelete table ip {0}\n", table);
}

namespace {

Result<std::string> network_lines(std::string_view table, std::string_view bridge,
                                  std::string_view subnet, bool internal, bool remove) {
  TRY(check_table_name(table));
  TRY(check_bridge_name(bridge));
  TRY(check_subnet(subnet));
  std::vector<std::string> elements = {
      fmt("bridges {{ \"{}\" }}", bridge),
      fmt("same_bridge {{ \"{0}\" . \"{0}\" }}", bridge),
  };
  if (internal || remove) elements.push_back(fmt("internal_bridges {{ \"{}\" }}", bridge));
  if (!internal) elements.push_back(fmt("masq_nets {{ {} }}", subnet));
  std::string out;
  // Removal adds first so that absent elements are not an error (no `destroy`
  // in nft 1.0.6); the batch is atomic, so nothing is visible in between.
  for (const auto& e : elements) out += fmt("add element ip {} {}\n", table, e);
  if (remove)
    for (const auto& e : elements) out += fmt("delete element ip {} {}\n", table, e);
  return out;
}

}  // namespace

Result<std::string> add_network(std::string_view table, std::string_view bridge,
                                std::string_view subnet_cidr, bool internal) {
  return network_lines(table, bridge, subnet_cidr, internal, false);
}

Result<std::string> remove_network(std::string_view table, std::string_view bridge,
                                   std::string_view subnet_cidr, bool internal) {
  return network_lines(table, bridge, subnet_cidr, internal, true);
}

Result<std::string> add_ports(std::string_view table, const std::vector<PortMapping>& ports) {
  return port_lines(table, ports, false);
}

Result<std::string> remove_ports(std::string_view table, const std::vector<PortMapping>& ports) {
  return port_lines(table, ports, true);
}

Result<std::vector<PortMapping>> parse_ports(std::string_view text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("nftables") ||
      !doc["nftables"].is_array())
    return fail("parse nft port maps: not nft JSON output", EINVAL);
  std::vector<PortMapping> out;
  for (const auto& obj : doc["nftables"]) {
    if (!obj.is_object() || !obj.contains("map")) continue;
    const json& map = obj["map"];
    std::string name = map.value("name", "");
    bool any = name == "ports_any";
    if (!any && name != "ports_ip") continue;
    if (!map.contains("elem")) continue;  // empty map
    for (const json& elem : map["elem"]) {
      // [key, value]; a key or value with attributes (counter, timeout) is
      // wrapped as {"elem": {"val": ...}}.
      if (!elem.is_array() || elem.size() != 2)
        return fail(fmt("parse nft map {}: unexpected element {}", name, elem.dump()),
                    EINVAL);
      const json* key_v = &elem[0];
      if (key_v->is_object() && key_v->contains("elem")) key_v = &(*key_v)["elem"]["val"];
      const json* key = concat_items(*key_v);
      const json* val = concat_items(elem[1]);
      size_t key_size = any ? 2 : 3;
      if (key == nullptr || val == nullptr || key->size() != key_size || val->size() != 2)
        return fail(fmt("parse nft map {}: unexpected element {}", name, elem.dump()),
                    EINVAL);
      PortMapping p;
      size_t i = 0;
      if (!any) p.host_ip = scalar((*key)[i++]);
      p.proto = proto_name((*key)[i++]);
      p.host_port = TRY(port_number((*key)[i]));
      p.container_ip = scalar((*val)[0]);
      p.container_port = TRY(port_number((*val)[1]));
      out.push_back(canonical(std::move(p)));
    }
  }
  return out;
}

Result<bool> parse_has_table(std::string_view text, std::string_view table) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("nftables") ||
      !doc["nftables"].is_array())
    return fail("parse nft table list: not nft JSON output", EINVAL);
  for (const auto& obj : doc["nftables"]) {
    if (!obj.is_object() || !obj.contains("table")) continue;
    const json& t = obj["table"];
    if (t.value("family", "") == "ip" && t.value("name", "") == table) return true;
  }
  return false;
}

}  // namespace nft_script

Result<NftRules> NftRules::open(std::string table_name) {
  TRY(nft_script::check_table_name(table_name));
  Nft nft = TRY(Nft::open());
  return NftRules(std::move(nft), std::move(table_name));
}

Result<bool> NftRules::table_exists() {
  // `list tables` reads table headers only; `list table` would fetch every set
  // element and rule.
  std::string out = TRY_CTX(nft_.run_json("list tables"), "list nftables tables");
  return nft_script::parse_has_table(out, table_);
}

Status NftRules::ensure_table() {
  if (TRY(table_exists())) return {};
  std::string script = TRY(nft_script::create_table(table_));
  auto created = nft_.run(script);
  // Another process created it between our look and our batch: its batch was
  // complete and atomic, so the table is whole.
  if (!created && created.error().errno_value == EEXIST) return {};
  if (!created) return std::unexpected(with_context(created.error(), "create nftables table " + table_));
  return {};
}

Status NftRules::delete_table() {
  std::string script = TRY(nft_script::delete_table(table_));
  TRY_CTX(nft_.run(script), "delete nftables table " + table_);
  return {};
}

Status NftRules::add_network(const std::string& bridge, const std::string& subnet_cidr,
                             bool internal) {
  std::string script = TRY(nft_script::add_network(table_, bridge, subnet_cidr, internal));
  TRY_CTX(nft_.run(script), fmt("add network {} ({}) to nftables", bridge, subnet_cidr));
  return {};
}

Status NftRules::remove_network(const std::string& bridge, const std::string& subnet_cidr,
                                bool internal) {
  std::string script = TRY(nft_script::remove_network(table_, bridge, subnet_cidr, internal));
  TRY_CTX(nft_.run(script),
          fmt("remove network {} ({}) from nftables", bridge, subnet_cidr));
  return {};
}

Status NftRules::add_ports(const std::vector<PortMapping>& ports) {
  if (ports.empty()) return {};
  std::string script = TRY(nft_script::add_ports(table_, ports));
  auto added = nft_.run(script);
  if (added) return {};
  if (added.error().errno_value != EEXIST)
    return std::unexpected(with_context(added.error(), "publish ports"));
  // Slow path, failure only: name the port and who has it.
  auto current = list_ports();
  if (current) {
    for (const auto& want : ports) {
      PortMapping w = canonical(want);
      for (const auto& have : *current) {
        if (have.host_ip == w.host_ip && have.proto == w.proto && have.host_port == w.host_port &&
            have != w)
          return fail(fmt("publish {}: port is already published to {}:{}", to_string(want),
                                  have.container_ip, have.container_port),
                      EEXIST);
      }
    }
  }
  return std::unexpected(with_context(added.error(), "publish ports"));
}

Status NftRules::remove_ports(const std::vector<PortMapping>& ports) {
  if (ports.empty()) return {};
  std::string script = TRY(nft_script::remove_ports(table_, ports));
  auto removed = nft_.run(script);
  if (removed) return {};
  if (removed.error().errno_value != EEXIST)
    return std::unexpected(with_context(removed.error(), "unpublish ports"));
  // Some key is present with another target: it is someone else's now. Remove
  // exactly the mappings that are present as given (still add-then-delete, so a
  // concurrent change between the listing and the batch fails it with EEXIST
  // instead of deleting another container's port: then look again).
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto current = TRY_CTX(list_ports(), "unpublish ports");
    std::vector<PortMapping> present;
    for (const auto& want : ports) {
      PortMapping w = canonical(want);
      bool listed = false;
      for (const auto& have : current) listed = listed || have == w;
      bool dup = false;
      for (const auto& p : present) dup = dup || p == w;
      if (listed && !dup) present.push_back(w);
    }
    if (present.empty()) return {};
    std::string again = TRY(nft_script::remove_ports(table_, present));
    auto deleted = nft_.run(again);
    if (deleted) return {};
    if (deleted.error().errno_value != EEXIST)
      return std::unexpected(with_context(deleted.error(), "unpublish ports"));
  }
  return fail("unpublish ports: the port maps kept changing underneath", EAGAIN);
}

Result<std::vector<PortMapping>> NftRules::list_ports() {
  // One command for both maps: nft 1.0.6 fails on two `list map` commands in one
  // buffer, and `list table` costs one dump either way.
  auto out = nft_.run_json("list table ip " + table_);
  if (!out && out.error().errno_value == ENOENT) return std::vector<PortMapping>{};
  if (!out) return std::unexpected(with_context(out.error(), "list published ports"));
  return nft_script::parse_ports(*out);
}

}  // namespace md::net
