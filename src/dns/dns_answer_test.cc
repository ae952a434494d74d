// What the server does with one request: answer, forward or drop.
#include "dns/dns_answer.h"

#include <gtest/gtest.h>

namespace md::dns {
namespace {

class DnsAnswerTest : public ::testing::Test {
 protected:
  HostsTable hosts_ = HostsTable::parse(
      "10.89.0.2 web web-alias\n"
      "10.89.0.3 db\n"
      "fd00::3 db\n"
      "10.89.0.4 web\n");
  AnswerPolicy policy_{"dns.minidocker", 0, false};

  Decision Ask(std::string_view name, uint16_t type, Transport t = Transport::kUdp) {
    auto q = build_query(0x5151, name, type);
    EXPECT_TRUE(q);
    return decide(*q, hosts_, policy_, t);
  }
  // The answers' rdata, and the header, of a reply.
  static std::vector<std::string> Rdata(const Decision& d, uint16_t* type = nullptr) {
    std::vector<std::string> out;
    auto h = parse_header(d.reply);
    size_t pos = d.query.question_end;
    for (int i = 0; h && i < h->ancount; ++i) {
      EXPECT_EQ(get16(d.reply, pos), 0xc00c);
      if (type) *type = get16(d.reply, pos + 2);
      size_t len = get16(d.reply, pos + 10);
      out.emplace_back(reinterpret_cast<const char*>(d.reply.data()) + pos + 12, len);
      pos += 12 + len;
    }
    return out;
  }
};

TEST_F(DnsAnswerTest, AnswersKnownNamesInAnySpelling) {
  for (std::string_view name : {"web", "WEB.", "web.dns.minidocker", "Web.DNS.minidocker."}) {
    Decision d = Ask(name, kTypeA);
    ASSERT_EQ(d.disposition, Disposition::kReply) << name;
    auto h = parse_header(d.reply);
    EXPECT_EQ(h->rcode(), 0);
    EXPECT_EQ(h->flags & 0x0400, 0x0400) << "authoritative";
    EXPECT_EQ(Rdata(d), (std::vector<std::string>{std::string("\x0a\x59\x00\x02", 4), std::string("\x0a\x59\x00\x04", 4)}))
        << name;
  }
  EXPECT_EQ(Rdata(Ask("web-alias", kTypeA)).size(), 1u);
}

TEST_F(DnsAnswerTest, AaaaAndOtherTypesOfKnownNames) {
  Decision none = Ask("web", kTypeAaaa);
  ASSERT_EQ(none.disposition, Disposition::kReply);
  EXPECT_EQ(parse_header(none.reply)->rcode(), 0) << "NOERROR, no data: the name exists";
  EXPECT_TRUE(Rdata(none).empty());
  Decision v6 = Ask("db", kTypeAaaa);
  uint16_t type = 0;
  auto rd = Rdata(v6, &type);
  ASSERT_EQ(rd.size(), 1u);
  EXPECT_EQ(type, kTypeAaaa);
  EXPECT_EQ(rd[0].size(), 16u);
  EXPECT_EQ(Rdata(Ask("db", kTypeAny)).size(), 2u);
  Decision mx = Ask("db", 15);
  EXPECT_EQ(parse_header(mx.reply)->rcode(), 0);
  EXPECT_TRUE(Rdata(mx).empty());
}

TEST_F(DnsAnswerTest, PtrForKnownAddresses) {
  uint16_t type = 0;
  auto rd = Rdata(Ask("3.0.89.10.in-addr.arpa", kTypePtr), &type);
  ASSERT_EQ(rd.size(), 1u);
  EXPECT_EQ(type, kTypePtr);
  EXPECT_EQ(rd[0], std::string("\2db\3dns\12minidocker\0", 19));
  policy_.domain = "";
  EXPECT_EQ(Rdata(Ask("2.0.89.10.in-addr.arpa", kTypePtr))[0], std::string("\3web\0", 5));
  Decision unknown = Ask("9.0.89.10.in-addr.arpa", kTypePtr);
  EXPECT_EQ(parse_header(unknown.reply)->rcode(), 3) << "no upstreams: NXDOMAIN";
}

TEST_F(DnsAnswerTest, UnknownNamesAreForwardedOrNxdomain) {
  Decision nx = Ask("example.com", kTypeA);
  ASSERT_EQ(nx.disposition, Disposition::kReply);
  auto h = parse_header(nx.reply);
  EXPECT_EQ(h->rcode(), 3);
  EXPECT_EQ(h->flags & 0x0480, 0) << "neither authoritative nor recursive";
  policy_.have_upstreams = true;
  Decision fwd = Ask("example.com", kTypeA);
  EXPECT_EQ(fwd.disposition, Disposition::kForward);
  EXPECT_EQ(fwd.query.qname.text, "example.com");
  EXPECT_EQ(Ask("9.0.89.10.in-addr.arpa", kTypePtr).disposition, Disposition::kForward);
}

TEST_F(DnsAnswerTest, OurZoneIsNeverForwarded) {
  policy_.have_upstreams = true;
  Decision d = Ask("nosuch.dns.minidocker", kTypeA);
  ASSERT_EQ(d.disposition, Disposition::kReply);
  auto h = parse_header(d.reply);
  EXPECT_EQ(h->rcode(), 3);
  EXPECT_EQ(h->flags & 0x0480, 0x0480) << "authoritative, recursion available";
  Decision apex = Ask("dns.minidocker", kTypeA);
  EXPECT_EQ(parse_header(apex.reply)->rcode(), 0);
  EXPECT_EQ(Ask("xdns.minidocker", kTypeA).disposition, Disposition::kForward) << "not a label boundary";
}

TEST_F(DnsAnswerTest, DropsResponsesAndGarbage) {
  auto q = *build_query(1, "web", kTypeA);
  q[2] |= 0x80;
  EXPECT_EQ(decide(q, hosts_, policy_, Transport::kUdp).disposition, Disposition::kDrop);
  std::vector<uint8_t> tiny{1, 2, 3};
  EXPECT_EQ(decide(tiny, hosts_, policy_, Transport::kUdp).disposition, Disposition::kDrop);
  auto loop = *build_query(1, "web", kTypeA);
  loop.resize(12);
  loop.insert(loop.end(), {0xc0, 12, 0, 1, 0, 1});
  Decision d = decide(loop, hosts_, policy_, Transport::kUdp);
  EXPECT_EQ(d.disposition, Disposition::kDrop);
  EXPECT_FALSE(d.drop_reason.empty());
}

TEST_F(DnsAnswerTest, NotImpForOtherOpcodesBadVersForNewEdns) {
  auto update = *build_query(1, "web", kTypeA);
  update[2] = static_cast<uint8_t>(5 << 3);
  Decision d = decide(update, hosts_, policy_, Transport::kUdp);
  ASSERT_EQ(d.disposition, Disposition::kReply);
  EXPECT_EQ(parse_header(d.reply)->rcode(), 4);
  auto v1 = *build_query(1, "web", kTypeA, Edns{1232, 1, false});
  Decision b = decide(v1, hosts_, policy_, Transport::kUdp);
  ASSERT_EQ(b.disposition, Disposition::kReply);
  EXPECT_EQ(b.reply[b.reply.size() - 11 + 5], 1) << "extended rcode BADVERS";
}

TEST_F(DnsAnswerTest, UdpAnswersTruncateTcpAnswersDoNot) {
  std::string many;
  for (int i = 1; i <= 40; ++i) many += "10.89.1." + std::to_string(i) + " crowd\n";
  hosts_ = HostsTable::parse(many);
  Decision udp = Ask("crowd", kTypeA);
  EXPECT_TRUE(parse_header(udp.reply)->truncated());
  Decision tcp = Ask("crowd", kTypeA, Transport::kTcp);
  EXPECT_FALSE(parse_header(tcp.reply)->truncated());
  EXPECT_EQ(parse_header(tcp.reply)->ancount, 40);
  auto edns = *build_query(1, "crowd", kTypeA, Edns{4096, 0, false});
  Decision big = decide(edns, hosts_, policy_, Transport::kUdp);
  EXPECT_FALSE(parse_header(big.reply)->truncated()) << "fits the client's EDNS0 size";
}

TEST_F(DnsAnswerTest, OtherClassesAreNotAnsweredLocally) {
  auto chaos = *build_query(1, "web", kTypeA);
  set16(chaos, chaos.size() - 2, 3);  // CH
  Decision d = decide(chaos, hosts_, policy_, Transport::kUdp);
  ASSERT_EQ(d.disposition, Disposition::kReply);
  EXPECT_EQ(parse_header(d.reply)->rcode(), 3);
}

}  // namespace
}  // namespace md::dns
