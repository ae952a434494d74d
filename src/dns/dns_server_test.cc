// The server in-process on 127.0.0.1, ephemeral port, driven by real sockets.
// Receives use generous timeouts; nothing sleeps to synchronise.
#include "dns/dns_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <thread>

#include "base/file_util.h"

namespace md::dns {
namespace {

constexpr int kReceiveTimeoutSeconds = 10;

void SetReceiveTimeout(int fd) {
  timeval tv{kReceiveTimeoutSeconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

Endpoint Loopback(uint16_t port) { return *parse_endpoint("127.0.0.1", port); }

// A UDP socket on 127.0.0.1 playing the upstream server.
struct FakeUpstream {
  UniqueFd fd;
  Endpoint at;

  FakeUpstream() {
    fd.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    Endpoint any = Loopback(0);
    EXPECT_EQ(::bind(fd.get(), any.addr(), any.length), 0);
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len);
    at = endpoint_from(ss, len);
    SetReceiveTimeout(fd.get());
  }

  // Receives one query; answers it with `rcode` and, for NOERROR, one A record.
  // Returns the query as received (empty on timeout).
  std::vector<uint8_t> AnswerOne(uint8_t rcode, const uint8_t (&ip)[4]) {
    std::vector<uint8_t> q(65536);
    sockaddr_storage from{};
    socklen_t from_len = sizeof from;
    ssize_t n = ::recvfrom(fd.get(), q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) return {};
    q.resize(static_cast<size_t>(n));
    auto parsed = parse_query(q);
    EXPECT_TRUE(parsed);
    if (!parsed) return q;
    std::vector<uint8_t> a(q.begin(), q.begin() + static_cast<long>(parsed->question_end));
    a[2] |= 0x80;  // QR
    a[3] = static_cast<uint8_t>(0x80 | rcode);
    set16(a, 10, 0);
    if (rcode == 0) {
      set16(a, 6, 1);
      for (int b : {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4}) a.push_back(static_cast<uint8_t>(b));
      a.insert(a.end(), ip, ip + 4);
    }
    ::sendto(fd.get(), a.data(), a.size(), 0, reinterpret_cast<sockaddr*>(&from), from_len);
    return q;
  }
};

class TcpClient {
 public:
  explicit TcpClient(const Endpoint& at) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    SetReceiveTimeout(fd_.get());
    int one = 1;  // the split-query test sends two small writes back to back
    ::setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    connected_ = ::connect(fd_.get(), at.addr(), at.length) == 0;
  }
  bool connected() const { return connected_; }
  void Send(std::span<const uint8_t> m) {
    std::vector<uint8_t> framed;
    put16(framed, static_cast<uint16_t>(m.size()));
    framed.insert(framed.end(), m.begin(), m.end());
    ASSERT_EQ(::send(fd_.get(), framed.data(), framed.size(), MSG_NOSIGNAL), static_cast<ssize_t>(framed.size()));
  }
  std::vector<uint8_t> Receive() {
    uint8_t len[2];
    if (!ReadExactly(len, 2)) return {};
    std::vector<uint8_t> m(static_cast<size_t>(len[0] << 8 | len[1]));
    if (!ReadExactly(m.data(), m.size())) return {};
    return m;
  }
  int fd() const { return fd_.get(); }

 private:
  bool ReadExactly(uint8_t* p, size_t n) {
    while (n > 0) {
      ssize_t got = ::recv(fd_.get(), p, n, 0);
      if (got <= 0) return false;
      p += got;
      n -= static_cast<size_t>(got);
    }
    return true;
  }
  UniqueFd fd_;
  bool connected_ = false;
};

class DnsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/md-dns-server-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    hosts_ = dir_ + "/hosts";
    ASSERT_TRUE(write_file_atomic(hosts_, "10.89.0.2 web web-alias\n10.89.0.3 db\n"));
  }

  void TearDown() override {
    Stop();
    (void)remove_tree(dir_);
  }

  void Start(std::vector<Endpoint> upstreams = {}, std::chrono::milliseconds forward_timeout = std::chrono::milliseconds(2500),
             std::chrono::milliseconds tcp_idle_timeout = std::chrono::milliseconds(10000)) {
    ServerOptions o;
    o.listen = Loopback(0);
    o.upstreams = std::move(upstreams);
    o.hosts_path = hosts_;
    o.forward_timeout = forward_timeout;
    o.tcp_idle_timeout = tcp_idle_timeout;
    o.log = [this](const std::string& line) { logs_.push_back(line); };
    auto s = DnsServer::create(std::move(o));
    ASSERT_TRUE(s) << s.error().message;
    server_ = std::move(*s);
    at_ = server_->local_endpoint();
    ASSERT_NE(at_.port(), 0);
    stop_.reset(::eventfd(0, EFD_CLOEXEC));
    thread_ = std::thread([this] { result_ = server_->run(stop_.get()); });
  }

  void Stop() {
    if (!thread_.joinable()) return;
    uint64_t one = 1;
    ASSERT_EQ(::write(stop_.get(), &one, sizeof one), 8);
    thread_.join();
    EXPECT_TRUE(result_) << result_.error().message;
  }

  // Sends `query` over UDP and returns the first datagram back (empty on timeout).
  std::vector<uint8_t> Udp(std::span<const uint8_t> query) {
    UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    SetReceiveTimeout(fd.get());
    ::sendto(fd.get(), query.data(), query.size(), 0, at_.addr(), at_.length);
    std::vector<uint8_t> buf(65536);
    ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
    buf.resize(n < 0 ? 0 : static_cast<size_t>(n));
    return buf;
  }

  std::vector<uint8_t> UdpQuery(std::string_view name, uint16_t type = kTypeA, uint16_t id = 0x7777) {
    return Udp(*build_query(id, name, type));
  }

  // The IPv4 addresses in a response's answer section, as text.
  static std::vector<std::string> Addresses(std::span<const uint8_t> r) {
    std::vector<std::string> out;
    auto h = parse_header(r);
    if (!h) return out;
    size_t pos = kHeaderSize;
    auto name = read_name(r, pos);
    if (!name) return out;
    pos += 4;
    for (int i = 0; i < h->ancount; ++i) {
      if (!read_name(r, pos) || pos + 10 > r.size()) return out;
      uint16_t type = get16(r, pos), len = get16(r, pos + 8);
      pos += 10;
      if (type == kTypeA && len == 4 && pos + 4 <= r.size()) {
        char text[INET_ADDRSTRLEN];
        ::inet_ntop(AF_INET, r.data() + pos, text, sizeof text);
        out.push_back(text);
      }
      pos += len;
    }
    return out;
  }

  static int Rcode(std::span<const uint8_t> r) {
    auto h = parse_header(r);
    return h ? h->rcode() : -1;
  }

  std::string dir_, hosts_;
  std::vector<std::string> logs_;  // written by the server thread; read after Stop()
  std::unique_ptr<DnsServer> server_;
  Endpoint at_;
  UniqueFd stop_;
  std::thread thread_;
  Status result_;
};

TEST_F(DnsServerTest, AnswersFromHostsFile) {
  Start();
  auto r = UdpQuery("web", kTypeA, 0x1234);
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(get16(r, 0), 0x1234);
  EXPECT_EQ(Rcode(r), 0);
  EXPECT_EQ(Addresses(r), std::vector<std::string>{"10.89.0.2"});
  EXPECT_EQ(Addresses(UdpQuery("WEB-alias.dns.minidocker.")), std::vector<std::string>{"10.89.0.2"});
  auto aaaa = UdpQuery("db", kTypeAaaa);
  EXPECT_EQ(Rcode(aaaa), 0);
  EXPECT_EQ(parse_header(aaaa)->ancount, 0);
}

TEST_F(DnsServerTest, SeesReplacedHostsFileAtOnce) {
  Start();
  EXPECT_EQ(Rcode(UdpQuery("cache")), 3);
  ASSERT_TRUE(write_file_atomic(hosts_, "10.89.0.2 web\n10.89.0.7 cache\n"));
  EXPECT_EQ(Addresses(UdpQuery("cache")), std::vector<std::string>{"10.89.0.7"});
  EXPECT_EQ(Rcode(UdpQuery("db")), 3) << "db is gone";
  ASSERT_TRUE(write_file_atomic(hosts_, "10.89.0.9 web\n"));
  EXPECT_EQ(Addresses(UdpQuery("web")), std::vector<std::string>{"10.89.0.9"});
}

TEST_F(DnsServerTest, NxdomainWithoutUpstreams) {
  Start();
  auto r = UdpQuery("example.com", kTypeA, 0x4321);
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(get16(r, 0), 0x4321);
  EXPECT_EQ(Rcode(r), 3);
}

TEST_F(DnsServerTest, ForwardsUnknownNamesAndRelaysWithClientId) {
  FakeUpstream up;
  Start({up.at});
  UniqueFd client(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  SetReceiveTimeout(client.get());
  auto query = *build_query(0xbeef, "Example.COM", kTypeA);
  ::sendto(client.get(), query.data(), query.size(), 0, at_.addr(), at_.length);
  auto forwarded = up.AnswerOne(0, {93, 184, 216, 34});
  ASSERT_FALSE(forwarded.empty()) << "the upstream got nothing";
  EXPECT_EQ(std::vector<uint8_t>(forwarded.begin() + 2, forwarded.end()),
            std::vector<uint8_t>(query.begin() + 2, query.end()))
      << "forwarded as sent, only the id replaced";
  std::vector<uint8_t> r(65536);
  ssize_t n = ::recv(client.get(), r.data(), r.size(), 0);
  ASSERT_GT(n, 0);
  r.resize(static_cast<size_t>(n));
  EXPECT_EQ(get16(r, 0), 0xbeef);
  EXPECT_EQ(Addresses(r), std::vector<std::string>{"93.184.216.34"});
  // Local names are still answered locally.
  EXPECT_EQ(Addresses(UdpQuery("db")), std::vector<std::string>{"10.89.0.3"});
}

TEST_F(DnsServerTest, TriesTheNextUpstreamAfterServfail) {
  FakeUpstream first, second;
  Start({first.at, second.at});
  UniqueFd client(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  SetReceiveTimeout(client.get());
  auto query = *build_query(0x0101, "example.org", kTypeA);
  ::sendto(client.get(), query.data(), query.size(), 0, at_.addr(), at_.length);
  ASSERT_FALSE(first.AnswerOne(2, {0, 0, 0, 0}).empty());
  ASSERT_FALSE(second.AnswerOne(0, {192, 0, 2, 1}).empty());
  std::vector<uint8_t> r(65536);
  ssize_t n = ::recv(client.get(), r.data(), r.size(), 0);
  ASSERT_GT(n, 0);
  r.resize(static_cast<size_t>(n));
  EXPECT_EQ(get16(r, 0), 0x0101);
  EXPECT_EQ(Rcode(r), 0);
  EXPECT_EQ(Addresses(r), std::vector<std::string>{"192.0.2.1"});
}

TEST_F(DnsServerTest, SkipsAnUnreachableUpstream) {
  Endpoint closed;
  {
    FakeUpstream gone;  // bound, then closed: the port answers ICMP unreachable
    closed = gone.at;
  }
  FakeUpstream up;
  Start({closed, up.at});
  UniqueFd client(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  SetReceiveTimeout(client.get());
  auto query = *build_query(0x0202, "example.net", kTypeA);
  ::sendto(client.get(), query.data(), query.size(), 0, at_.addr(), at_.length);
  ASSERT_FALSE(up.AnswerOne(0, {192, 0, 2, 2}).empty());
  std::vector<uint8_t> r(65536);
  ssize_t n = ::recv(client.get(), r.data(), r.size(), 0);
  ASSERT_GT(n, 0);
  r.resize(static_cast<size_t>(n));
  EXPECT_EQ(Addresses(r), std::vector<std::string>{"192.0.2.2"});
}

TEST_F(DnsServerTest, ServfailWhenUpstreamNeverAnswers) {
  FakeUpstream silent;  // receives, never replies
  Start({silent.at}, std::chrono::milliseconds(200));
  auto r = UdpQuery("example.com", kTypeA, 0x5555);
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(get16(r, 0), 0x5555);
  EXPECT_EQ(Rcode(r), 2);
}

TEST_F(DnsServerTest, PendingForwardsNeverDelayOtherClients) {
  FakeUpstream silent;
  Start({silent.at}, std::chrono::minutes(10));  // the forward stays pending for the whole test
  UniqueFd waiting(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  auto slow = *build_query(0x0606, "slow.example", kTypeA);
  ::sendto(waiting.get(), slow.data(), slow.size(), 0, at_.addr(), at_.length);
  std::vector<uint8_t> got(512);
  ASSERT_GT(::recv(silent.fd.get(), got.data(), got.size(), 0), 0) << "forwarded";
  EXPECT_EQ(Addresses(UdpQuery("db")), std::vector<std::string>{"10.89.0.3"});
  TcpClient c(at_);
  ASSERT_TRUE(c.connected());
  c.Send(*build_query(7, "web", kTypeA));
  EXPECT_EQ(Addresses(c.Receive()), std::vector<std::string>{"10.89.0.2"});
  // TearDown stops the server with the forward still pending.
}

TEST_F(DnsServerTest, IgnoresForgedUpstreamAnswers) {
  FakeUpstream up;
  Start({up.at});
  UniqueFd client(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  SetReceiveTimeout(client.get());
  auto query = *build_query(0x0303, "example.com", kTypeA);
  ::sendto(client.get(), query.data(), query.size(), 0, at_.addr(), at_.length);
  // Receive the forwarded query, answer first with a wrong id, then properly.
  std::vector<uint8_t> q(65536);
  sockaddr_storage from{};
  socklen_t from_len = sizeof from;
  ssize_t n = ::recvfrom(up.fd.get(), q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&from), &from_len);
  ASSERT_GT(n, 0);
  q.resize(static_cast<size_t>(n));
  auto forged = q;
  forged[2] |= 0x80;
  set16(forged, 0, static_cast<uint16_t>(get16(q, 0) + 1));
  set16(forged, 2, static_cast<uint16_t>(get16(forged, 2) | 3));  // NXDOMAIN
  ::sendto(up.fd.get(), forged.data(), forged.size(), 0, reinterpret_cast<sockaddr*>(&from), from_len);
  auto good = q;
  good[2] |= 0x80;
  ::sendto(up.fd.get(), good.data(), good.size(), 0, reinterpret_cast<sockaddr*>(&from), from_len);
  std::vector<uint8_t> r(65536);
  n = ::recv(client.get(), r.data(), r.size(), 0);
  ASSERT_GT(n, 0);
  r.resize(static_cast<size_t>(n));
  EXPECT_EQ(get16(r, 0), 0x0303);
  EXPECT_EQ(Rcode(r), 0) << "the forged NXDOMAIN was dropped";
}

TEST_F(DnsServerTest, DropsMalformedPacketsAndKeepsServing) {
  Start();
  UniqueFd client(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  SetReceiveTimeout(client.get());
  std::vector<std::vector<uint8_t>> junk = {
      {1, 2, 3},
      {0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1},  // pointer loop
      {0, 2, 0x81, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1},  // a response
  };
  for (const auto& j : junk) ::sendto(client.get(), j.data(), j.size(), 0, at_.addr(), at_.length);
  auto query = *build_query(0x0404, "web", kTypeA);
  ::sendto(client.get(), query.data(), query.size(), 0, at_.addr(), at_.length);
  std::vector<uint8_t> r(65536);
  ssize_t n = ::recv(client.get(), r.data(), r.size(), 0);
  ASSERT_GT(n, 0);
  r.resize(static_cast<size_t>(n));
  EXPECT_EQ(get16(r, 0), 0x0404) << "the first reply is to the valid query: junk got none";
  EXPECT_EQ(Addresses(r), std::vector<std::string>{"10.89.0.2"});
}

TEST_F(DnsServerTest, AnswersOverTcpIncludingPipelinedQueries) {
  Start();
  TcpClient c(at_);
  ASSERT_TRUE(c.connected());
  c.Send(*build_query(1, "web", kTypeA));
  auto r = c.Receive();
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(get16(r, 0), 1);
  EXPECT_EQ(Addresses(r), std::vector<std::string>{"10.89.0.2"});
  // Two queries in one write; a query split across writes.
  auto a = *build_query(2, "db", kTypeA), b = *build_query(3, "nosuch.dns.minidocker", kTypeA);
  std::vector<uint8_t> both;
  put16(both, static_cast<uint16_t>(a.size()));
  both.insert(both.end(), a.begin(), a.end());
  put16(both, static_cast<uint16_t>(b.size()));
  both.insert(both.end(), b.begin(), b.end());
  ASSERT_EQ(::send(c.fd(), both.data(), both.size(), MSG_NOSIGNAL), static_cast<ssize_t>(both.size()));
  auto ra = c.Receive(), rb = c.Receive();
  EXPECT_EQ(get16(ra, 0), 2);
  EXPECT_EQ(Addresses(ra), std::vector<std::string>{"10.89.0.3"});
  EXPECT_EQ(get16(rb, 0), 3);
  EXPECT_EQ(Rcode(rb), 3);
  auto d = *build_query(4, "web-alias", kTypeA);
  std::vector<uint8_t> framed;
  put16(framed, static_cast<uint16_t>(d.size()));
  framed.insert(framed.end(), d.begin(), d.end());
  ASSERT_EQ(::send(c.fd(), framed.data(), 5, MSG_NOSIGNAL), 5);
  ASSERT_EQ(::send(c.fd(), framed.data() + 5, framed.size() - 5, MSG_NOSIGNAL), static_cast<ssize_t>(framed.size() - 5));
  auto rd = c.Receive();
  EXPECT_EQ(get16(rd, 0), 4);
  EXPECT_EQ(Addresses(rd), std::vector<std::string>{"10.89.0.2"});
}

TEST_F(DnsServerTest, ForwardsTcpQueriesAndAnswersOverTcp) {
  FakeUpstream up;
  Start({up.at});
  TcpClient c(at_);
  ASSERT_TRUE(c.connected());
  c.Send(*build_query(0x0909, "example.com", kTypeA));
  ASSERT_FALSE(up.AnswerOne(0, {198, 51, 100, 7}).empty());
  auto r = c.Receive();
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(get16(r, 0), 0x0909);
  EXPECT_EQ(Addresses(r), std::vector<std::string>{"198.51.100.7"});
}

TEST_F(DnsServerTest, ClosesTcpConnectionOnGarbageFrame) {
  Start();
  TcpClient c(at_);
  ASSERT_TRUE(c.connected());
  uint8_t junk[] = {0, 3, 1, 2, 3};
  ASSERT_EQ(::send(c.fd(), junk, sizeof junk, MSG_NOSIGNAL), 5);
  EXPECT_TRUE(c.Receive().empty()) << "closed without an answer";
  // The server still works.
  EXPECT_EQ(Addresses(UdpQuery("web")), std::vector<std::string>{"10.89.0.2"});
}

TEST_F(DnsServerTest, ClosesIdleTcpConnections) {
  Start({}, std::chrono::milliseconds(2500), std::chrono::milliseconds(100));
  TcpClient c(at_);
  ASSERT_TRUE(c.connected());
  c.Send(*build_query(1, "web", kTypeA));
  EXPECT_FALSE(c.Receive().empty());
  EXPECT_TRUE(c.Receive().empty()) << "closed by the server once idle";
}

TEST_F(DnsServerTest, RefusesToForwardToItself) {
  ServerOptions o;
  o.listen = Loopback(5353);
  o.upstreams = {Loopback(5353)};
  o.hosts_path = hosts_;
  auto s = DnsServer::create(std::move(o));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, "upstream 127.0.0.1:5353 is the listen address itself");
}

TEST_F(DnsServerTest, LogsHostsFileProblems) {
  ASSERT_TRUE(write_file_atomic(hosts_, "10.89.0.2 web\nnot-an-ip x\n"));
  Start();
  EXPECT_EQ(Addresses(UdpQuery("web")), std::vector<std::string>{"10.89.0.2"});
  Stop();
  ASSERT_EQ(logs_.size(), 1u);
  EXPECT_EQ(logs_[0], "hosts file " + hosts_ + ": line 2: `not-an-ip` is not an IP address");
}

}  // namespace
}  // namespace md::dns
