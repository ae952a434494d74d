// DNS wire format: parsing untrusted queries, building responses.
#include "dns/dns_message.h"

#include <gtest/gtest.h>

#include <random>

#include "dns/ip_address.h"

namespace md::dns {
namespace {

std::vector<uint8_t> Bytes(std::initializer_list<int> b) {
  std::vector<uint8_t> out;
  for (int x : b) out.push_back(static_cast<uint8_t>(x));
  return out;
}

// A header with the given counts, for hand-built messages.
std::vector<uint8_t> Header(uint16_t qd, uint16_t an = 0, uint16_t ns = 0, uint16_t ar = 0, uint16_t flags = 0x0100) {
  std::vector<uint8_t> h;
  put16(h, 0xabcd);
  put16(h, flags);
  put16(h, qd);
  put16(h, an);
  put16(h, ns);
  put16(h, ar);
  return h;
}

void Append(std::vector<uint8_t>& v, std::initializer_list<int> b) {
  for (int x : b) v.push_back(static_cast<uint8_t>(x));
}

TEST(DnsMessage, ParsesQueryKeepingCaseInWireForm) {
  auto packet = build_query(0x1234, "Web.Dns.MiniDocker.", kTypeA);
  ASSERT_TRUE(packet);
  auto q = parse_query(*packet);
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_EQ(q->header.id, 0x1234);
  EXPECT_TRUE(q->header.recursion_desired());
  EXPECT_EQ(q->qname.text, "web.dns.minidocker");
  EXPECT_EQ(q->qname.wire, std::string("\3Web\3Dns\12MiniDocker\0", 20));
  EXPECT_EQ(q->qtype, kTypeA);
  EXPECT_EQ(q->qclass, kClassIn);
  EXPECT_EQ(q->question_end, packet->size());
  EXPECT_FALSE(q->edns);
  EXPECT_EQ(q->max_udp_size(), 512u);
}

TEST(DnsMessage, ParsesEdnsOpt) {
  auto packet = build_query(1, "web", kTypeAaaa, Edns{4096, 0, true});
  ASSERT_TRUE(packet);
  auto q = parse_query(*packet);
  ASSERT_TRUE(q) << q.error().message;
  ASSERT_TRUE(q->edns);
  EXPECT_EQ(q->edns->udp_size, 4096);
  EXPECT_EQ(q->edns->version, 0);
  EXPECT_TRUE(q->edns->dnssec_ok);
  EXPECT_EQ(q->max_udp_size(), kEdnsUdpSize) << "clamped to what we honour";
  auto small = parse_query(*build_query(1, "web", kTypeA, Edns{100, 0, false}));
  ASSERT_TRUE(small);
  EXPECT_EQ(small->max_udp_size(), 512u) << "never below the classic size";
}

TEST(DnsMessage, RootQueryHasEmptyName) {
  auto q = parse_query(*build_query(1, ".", kTypeA));
  ASSERT_TRUE(q);
  EXPECT_EQ(q->qname.text, "");
  EXPECT_EQ(q->qname.wire, std::string(1, '\0'));
}

TEST(DnsMessage, RejectsEveryTruncation) {
  auto packet = *build_query(7, "a.example.com", kTypeA, Edns{1232, 0, false});
  ASSERT_TRUE(parse_query(packet));
  for (size_t n = 0; n < packet.size(); ++n) {
    std::span<const uint8_t> prefix(packet.data(), n);
    EXPECT_FALSE(parse_query(prefix)) << "prefix of " << n << " bytes";
  }
}

TEST(DnsMessage, RejectsResponsesOpcodesAndQuestionCounts) {
  auto packet = *build_query(7, "web", kTypeA);
  auto response = packet;
  response[2] |= 0x80;
  EXPECT_FALSE(parse_query(response));
  auto notify = packet;
  notify[2] |= 4 << 3;
  EXPECT_FALSE(parse_query(notify));
  auto none = packet;
  set16(none, 4, 0);
  EXPECT_FALSE(parse_query(none));
  auto two = packet;
  set16(two, 4, 2);
  EXPECT_FALSE(parse_query(two)) << "second question missing";
}

TEST(DnsMessage, IgnoresTrailingBytes) {
  auto packet = *build_query(7, "web", kTypeA);
  packet.push_back(0xff);
  EXPECT_TRUE(parse_query(packet));
}

TEST(DnsMessage, FollowsBackwardPointers) {
  // Question "web.minidocker", then an additional A record owned by a pointer to
  // offset 16 ("minidocker") prefixed by a new label "db".
  auto m = Header(1, 0, 0, 1);
  Append(m, {3, 'w', 'e', 'b', 10, 'm', 'i', 'n', 'i', 'd', 'o', 'c', 'k', 'e', 'r', 0, 0, 1, 0, 1});
  size_t owner_at = m.size();
  Append(m, {2, 'd', 'b', 0xc0, 16, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 10, 0, 0, 1});
  auto q = parse_query(m);
  ASSERT_TRUE(q) << q.error().message;
  size_t at = owner_at;
  auto name = read_name(m, at);
  ASSERT_TRUE(name) << name.error().message;
  EXPECT_EQ(name->text, "db.minidocker");
  EXPECT_EQ(name->wire, std::string("\2db\12minidocker\0", 15));
  EXPECT_EQ(at, owner_at + 5) << "past the pointer, not past its target";
}

TEST(DnsMessage, RejectsPointerLoops) {
  {  // A pointer to itself.
    auto m = Header(1);
    Append(m, {0xc0, 12, 0, 1, 0, 1});
    EXPECT_FALSE(parse_query(m));
  }
  {  // A forward pointer, into the type field.
    auto m = Header(1);
    Append(m, {0xc0, 14, 0, 1, 0, 1});
    EXPECT_FALSE(parse_query(m));
  }
  {  // Two names pointing at each other: the second's pointer is backwards, the
     // first's (reached through it) then points forwards again.
    auto m = Header(1, 0, 0, 1);
    Append(m, {1, 'a', 0xc0, 22, 0, 1, 0, 1});  // offset 12: "a" -> 22
    Append(m, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0});   // filler to offset 22
    Append(m, {1, 'b', 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0});
    EXPECT_FALSE(parse_query(m));
  }
  {  // A long chain of backward pointers ending at a real label is fine.
    auto m = Header(1);
    Append(m, {1, 'x', 0, 0, 1, 0, 1});  // question at 12
    size_t prev = 12;
    for (int i = 0; i < 300; ++i) {
      size_t here = m.size();
      Append(m, {0xc0 | static_cast<int>(prev >> 8), static_cast<int>(prev & 0xff)});
      prev = here;
    }
    size_t at = prev;
    auto name = read_name(m, at);
    ASSERT_TRUE(name) << name.error().message;
    EXPECT_EQ(name->text, "x");
    EXPECT_EQ(at, m.size());
  }
}

TEST(DnsMessage, RejectsReservedLabelTypes) {
  for (int type : {0x40, 0x80}) {
    auto m = Header(1);
    Append(m, {type | 1, 'a', 0, 0, 1, 0, 1});
    EXPECT_FALSE(parse_query(m)) << type;
  }
}

TEST(DnsMessage, RejectsNamesOver255Bytes) {
  // 127 labels of one byte: 255 bytes with the root, the maximum.
  auto ok = Header(1);
  for (int i = 0; i < 127; ++i) Append(ok, {1, 'a'});
  Append(ok, {0, 0, 1, 0, 1});
  EXPECT_TRUE(parse_query(ok));
  auto m = Header(1);
  for (int i = 0; i < 128; ++i) Append(m, {1, 'a'});
  Append(m, {0, 0, 1, 0, 1});
  EXPECT_FALSE(parse_query(m));
  // Also when the length comes from following a pointer.
  auto p = Header(1, 0, 0, 1);
  for (int i = 0; i < 127; ++i) Append(p, {1, 'a'});
  Append(p, {0, 0, 1, 0, 1});
  Append(p, {1, 'b', 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0});
  EXPECT_FALSE(parse_query(p));
}

TEST(DnsMessage, EscapesBytesThatAreNotHostNameCharacters) {
  auto m = Header(1);
  Append(m, {3, 'a', '.', 'B', 2, 0xff, ' ', 0, 0, 1, 0, 1});
  auto q = parse_query(m);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->qname.text, "a\\046b.\\255\\032");
}

TEST(DnsMessage, RejectsMalformedRecordsAfterTheQuestion) {
  auto m = *build_query(1, "web", kTypeA);
  set16(m, 10, 1);  // claims an additional record that is not there
  EXPECT_FALSE(parse_query(m));
  auto rd = *build_query(1, "web", kTypeA);
  set16(rd, 10, 1);
  Append(rd, {0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 9, 1, 2});  // rdlength 9, 2 bytes present
  EXPECT_FALSE(parse_query(rd));
  auto opt_in_answer = *build_query(1, "web", kTypeA);
  set16(opt_in_answer, 6, 1);
  Append(opt_in_answer, {0, 0, 41, 2, 0, 0, 0, 0, 0, 0, 0});
  EXPECT_FALSE(parse_query(opt_in_answer));
  auto two_opts = *build_query(1, "web", kTypeA, Edns{});
  set16(two_opts, 10, 2);
  Append(two_opts, {0, 0, 41, 2, 0, 0, 0, 0, 0, 0, 0});
  EXPECT_FALSE(parse_query(two_opts));
}

TEST(DnsMessage, BuildsAnswersWithPointerToQuestion) {
  auto q = parse_query(*build_query(0x4242, "Web", kTypeA));
  ASSERT_TRUE(q);
  std::vector<Record> answers{{kTypeA, 0, std::string("\x0a\x59\x00\x02", 4)}};
  auto r = build_response(*q, answers, {Rcode::kNoError, true, false, 512});
  auto expected = Bytes({0x42, 0x42, 0x85, 0x00, 0, 1, 0, 1, 0, 0, 0, 0,  // QR AA RD
                         3, 'W', 'e', 'b', 0, 0, 1, 0, 1,                  // question, case kept
                         0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 10, 89, 0, 2});
  EXPECT_EQ(r, expected);
  auto parsed = parse_header(r);
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->is_response());
  EXPECT_EQ(parsed->rcode(), 0);
}

TEST(DnsMessage, SetsRcodeAndRecursionAvailable) {
  auto q = parse_query(*build_query(1, "nosuch", kTypeA));
  auto r = build_response(*q, {}, {Rcode::kNxDomain, false, true, 512});
  auto h = parse_header(r);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->rcode(), 3);
  EXPECT_EQ(h->flags & 0x0080, 0x0080);
  EXPECT_EQ(h->flags & 0x0400, 0) << "not authoritative";
  EXPECT_EQ(h->ancount, 0);
}

TEST(DnsMessage, TruncatesWhenAnswersDoNotFit) {
  auto q = parse_query(*build_query(1, "many", kTypeA));
  std::vector<Record> answers(40, Record{kTypeA, 0, std::string(4, '\1')});
  auto r = build_response(*q, answers, {Rcode::kNoError, true, false, 512});
  auto h = parse_header(r);
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->truncated());
  EXPECT_EQ(h->ancount, 0);
  EXPECT_LE(r.size(), 512u);
  auto big = build_response(*q, answers, {Rcode::kNoError, true, false, kMaxMessageSize});
  auto hb = parse_header(big);
  EXPECT_FALSE(hb->truncated());
  EXPECT_EQ(hb->ancount, 40);
  EXPECT_EQ(big.size(), 12 + 10u + 40 * 16) << "header, question, 40 answers of 16 bytes";
}

TEST(DnsMessage, EchoesOptAndSplitsExtendedRcode) {
  auto q = parse_query(*build_query(1, "web", kTypeA, Edns{4096, 0, true}));
  ASSERT_TRUE(q);
  auto r = build_response(*q, {}, {Rcode::kNoError, true, false, q->max_udp_size()});
  EXPECT_EQ(parse_header(r)->arcount, 1);
  ASSERT_GE(r.size(), 11u);
  auto opt = std::vector<uint8_t>(r.end() - 11, r.end());
  EXPECT_EQ(opt, Bytes({0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0})) << "root, OPT, 1232, no DO, no options";
  auto bad = build_response(*q, {}, {Rcode::kBadVers, false, false, 512});
  EXPECT_EQ(parse_header(bad)->rcode(), 0);
  EXPECT_EQ(bad[bad.size() - 11 + 5], 1) << "BADVERS = 16: upper bits in the OPT TTL";
}

TEST(DnsMessage, HeaderOnlyResponse) {
  auto h = parse_header(Header(1, 0, 0, 0, (4 << 11) | 0x0100));
  ASSERT_TRUE(h);
  auto r = build_header_response(*h, Rcode::kNotImp);
  EXPECT_EQ(r, Bytes({0xab, 0xcd, 0x80 | (4 << 3) | 1, 4, 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(DnsMessage, EncodesNames) {
  EXPECT_EQ(*encode_name("web.dns.minidocker."), std::string("\3web\3dns\12minidocker\0", 20));
  EXPECT_EQ(*encode_name(""), std::string(1, '\0'));
  EXPECT_FALSE(encode_name("a..b"));
  EXPECT_FALSE(encode_name("a.b.."));
  EXPECT_FALSE(encode_name(std::string(64, 'a')));
  EXPECT_TRUE(encode_name(std::string(63, 'a')));
  std::string long_name;
  for (int i = 0; i < 128; ++i) long_name += "a.";
  EXPECT_FALSE(encode_name(long_name));
}

// Random corruption of valid messages: the parser must fail cleanly or succeed,
// never read out of bounds (run under MD_SANITIZE=ON to check the latter).
TEST(DnsMessage, SurvivesRandomCorruption) {
  std::mt19937 rng(12345);
  auto base = *build_query(9, "some.name.example", kTypeA, Edns{1232, 0, false});
  for (int round = 0; round < 20000; ++round) {
    auto m = base;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      switch (rng() % 3) {
        case 0: m[rng() % m.size()] = static_cast<uint8_t>(rng()); break;
        case 1: m.resize(rng() % (m.size() + 1)); break;
        case 2: m.push_back(static_cast<uint8_t>(rng())); break;
      }
      if (m.empty()) m.push_back(0);
    }
    auto q = parse_query(m);
    if (q) {
      EXPECT_LE(q->qname.wire.size(), 255u);
    }
  }
}

TEST(DnsIpAddress, ReverseNames) {
  auto v4 = address_from_reverse_name("3.0.89.10.in-addr.arpa");
  ASSERT_TRUE(v4);
  EXPECT_EQ(to_string(*v4), "10.89.0.3");
  EXPECT_FALSE(address_from_reverse_name("0.89.10.in-addr.arpa")) << "partial";
  EXPECT_FALSE(address_from_reverse_name("1.3.0.89.10.in-addr.arpa"));
  EXPECT_FALSE(address_from_reverse_name("03.0.89.10.in-addr.arpa")) << "leading zero";
  EXPECT_FALSE(address_from_reverse_name("256.0.89.10.in-addr.arpa"));
  EXPECT_FALSE(address_from_reverse_name(".0.89.10.in-addr.arpa"));
  EXPECT_FALSE(address_from_reverse_name("in-addr.arpa"));
  auto v6 = address_from_reverse_name(
      "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
  ASSERT_TRUE(v6);
  EXPECT_EQ(to_string(*v6), "2001:db8::1");
  EXPECT_FALSE(address_from_reverse_name("1.0.ip6.arpa"));
}

TEST(DnsIpAddress, ParsesEndpoints) {
  auto a = parse_endpoint("10.89.0.1", 53);
  ASSERT_TRUE(a);
  EXPECT_EQ(to_string(*a), "10.89.0.1:53");
  auto b = parse_endpoint("127.0.0.1:5353", 53);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->port(), 5353);
  auto c = parse_endpoint("[fd00::1]:5300", 53);
  ASSERT_TRUE(c);
  EXPECT_EQ(to_string(*c), "[fd00::1]:5300");
  auto d = parse_endpoint("fd00::1", 53);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->port(), 53);
  EXPECT_FALSE(parse_endpoint("web:53", 53));
  EXPECT_FALSE(parse_endpoint("1.2.3.4:", 53));
  EXPECT_FALSE(parse_endpoint("1.2.3.4:65536", 53));
  EXPECT_FALSE(parse_endpoint("[1.2.3.4]:53", 53));
  auto bad = parse_endpoint("1.2.3.4:x", 53);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "invalid address `1.2.3.4:x`: port must be a number from 0 to 65535");
  EXPECT_TRUE(same_endpoint(*parse_endpoint("127.0.0.1", 53), *parse_endpoint("127.0.0.1:53", 0)));
}

}  // namespace
}  // namespace md::dns
