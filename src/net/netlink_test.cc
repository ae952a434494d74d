// Unit tests of the pure parts of net/netlink.h (no root, no kernel): IPv4 parsing,
// prefix arithmetic, Docker's MAC scheme. The kernel side is in tests/net/.
#include "net/netlink.h"

#include <gtest/gtest.h>

namespace md::net {
namespace {

uint32_t ip4(const char* text) { return parse_ipv4(text).value(); }

TEST(Ipv4Parse, CidrKeepsTheHostBitsAndTheFormatRoundTrips) {
  auto net = parse_cidr("10.77.0.1/16");
  ASSERT_TRUE(net) << net.error().message;
  EXPECT_EQ(net->addr_be, ip4("10.77.0.1"));
  EXPECT_EQ(net->prefix, 16);
  EXPECT_EQ(net->to_string(), "10.77.0.1/16");
  EXPECT_EQ(format_ipv4(ip4("192.168.1.254")), "192.168.1.254");
  EXPECT_EQ(parse_cidr("0.0.0.0/0")->prefix, 0);
  EXPECT_EQ(parse_cidr("1.2.3.4/32")->prefix, 32);
}

TEST(Ipv4Parse, BadInputIsEinvalNamingTheText) {
  for (const char* bad : {"10.77.0.1", "10.77.0.1/", "10.77.0.1/33", "10.77.0.1/-1", "10.77.0/16",
                          "10.77.0.1/16x", "x/16", "10.77.0.256/8", "", "/8"}) {
    auto net = parse_cidr(bad);
    ASSERT_FALSE(net) << bad;
    EXPECT_EQ(net.error().errno_value, EINVAL);
    EXPECT_NE(net.error().message.find(std::string("`") + bad + "`"), std::string::npos)
        << net.error().message;
  }
  EXPECT_FALSE(parse_ipv4("1.2.3"));
  EXPECT_FALSE(parse_ipv4("1.2.3.4 "));
}

TEST(Ipv4Net, MaskNetworkBroadcastAndContains) {
  Ipv4Net net{ip4("10.77.3.9"), 16};
  EXPECT_EQ(net.mask_be(), ip4("255.255.0.0"));
  EXPECT_EQ(net.network().to_string(), "10.77.0.0/16");
  EXPECT_EQ(format_ipv4(net.broadcast_be()), "10.77.255.255");
  EXPECT_TRUE(net.contains(ip4("10.77.255.1")));
  EXPECT_FALSE(net.contains(ip4("10.78.0.1")));
  EXPECT_EQ(Ipv4Net({ip4("1.2.3.4"), 0}).mask_be(), 0u);
  EXPECT_EQ(Ipv4Net({ip4("1.2.3.4"), 32}).mask_be(), 0xffffffffu);
  EXPECT_TRUE(Ipv4Net({ip4("1.2.3.4"), 0}).contains(ip4("200.1.1.1")));
}

TEST(Ipv4Net, OverlapsIsSymmetricAndUsesTheShorterPrefix) {
  Ipv4Net big{ip4("172.16.0.0"), 12}, inside{ip4("172.17.5.0"), 24}, beside{ip4("172.32.0.0"), 16};
  EXPECT_TRUE(big.overlaps(inside));
  EXPECT_TRUE(inside.overlaps(big));
  EXPECT_FALSE(big.overlaps(beside));
  EXPECT_FALSE(beside.overlaps(inside));
  EXPECT_TRUE(Ipv4Net({0, 0}).overlaps(beside));
}

TEST(MacForIp, IsDockers0242SchemeInLowercase) {
  EXPECT_EQ(mac_for_ip(ip4("172.17.0.2")), "02:42:ac:11:00:02");
  EXPECT_EQ(mac_for_ip(ip4("10.77.255.254")), "02:42:0a:4d:ff:fe");
}

}  // namespace
}  // namespace md::net
