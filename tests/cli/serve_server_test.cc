// `minidocker serve` as a server (docs/api-server.md): TCP listeners and their token,
// refusing insecure listeners, SIGTERM with open connections, body limits, bad JSON, and a
// WebSocket client that floods the server.
#include <fstream>

#include "serve_client.h"

namespace mdcli {
namespace {

using namespace serve_client;

constexpr const char* kToken = "s3cret-token-for-tests";

class ServeTcp : public ServeFixture {
 protected:
  std::vector<std::string> serve_flags() override { return {"-H", "tcp://127.0.0.1:0", "--token", kToken}; }
  HttpReply tcp(const std::string& target, const std::string& headers = "") {
    return http_on(connect_tcp(port_), request("GET", target, "", headers));
  }
};

TEST_F(ServeTcp, TokenRequiredOnTcp) {
  ASSERT_GT(port_, 0) << read_text(log_);
  HttpReply none = tcp("/api/health");
  EXPECT_EQ(none.status, 401) << none.head << none.body;
  EXPECT_TRUE(none.j().contains("message")) << none.body;
  EXPECT_EQ(tcp("/api/health", "Authorization: Bearer wrong-token-of-same-len\r\n").status, 401);
  EXPECT_EQ(tcp("/_ping").status, 401);  // every route, the Docker API too

  HttpReply bearer = tcp("/api/health", std::string("Authorization: Bearer ") + kToken + "\r\n");
  EXPECT_EQ(bearer.status, 200) << bearer.body;
  EXPECT_EQ(bearer.j().value("status", ""), "ok") << bearer.body;
  EXPECT_EQ(tcp("/api/health", std::string("Cookie: theme=dark; md_token=") + kToken + "\r\n").status, 200);
  EXPECT_EQ(tcp(std::string("/api/health?token=") + kToken).status, 200);
  EXPECT_EQ(tcp(std::string("/v1.43/version?token=") + kToken).status, 200);

  // The unix socket (root-only by its mode) needs none.
  EXPECT_EQ(api("GET", "/api/health").status, 200);
}

TEST_F(ServeTcp, WebSocketNeedsTheTokenToo) {
  ASSERT_GT(port_, 0);
  WsClient denied(connect_tcp(port_), "/api/ws");
  EXPECT_FALSE(denied.ok());
  EXPECT_EQ(denied.response().rfind("HTTP/1.1 401", 0), 0u) << denied.response();
  WsClient allowed(connect_tcp(port_), std::string("/api/ws?token=") + kToken);
  EXPECT_TRUE(allowed.ok()) << allowed.response();
}

// TLS on the TCP listener: plain requests and a hijacked one (exec runs on its own thread,
// a WebSocket upgrade goes through the socketpair bridge) over HTTPS.
class ServeTls : public ServeFixture {
 protected:
  std::vector<std::string> serve_flags() override {
    cert_ = root_ + "/cert.pem";
    key_ = root_ + "/key.pem";
    Out gen = run_process({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key_, "-out", cert_,
                           "-days", "1", "-subj", "/CN=localhost"});
    EXPECT_TRUE(gen.ok()) << gen;
    return {"-H", "tcp://127.0.0.1:0", "--tls-cert", cert_, "--tls-key", key_};
  }
  std::string cert_, key_;
};

TEST_F(ServeTls, HttpsAndWebSocketOverTls) {
  ASSERT_GT(port_, 0) << read_text(log_);
  std::string base = "https://127.0.0.1:" + std::to_string(port_);
  Out health = run_process({"curl", "-sS", "--cacert", cert_, "--resolve", "localhost:" + std::to_string(port_) + ":127.0.0.1",
                            "https://localhost:" + std::to_string(port_) + "/api/health"});
  ASSERT_TRUE(health.ok()) << health;
  EXPECT_EQ(json::parse(health.out, nullptr, false).value("status", ""), "ok") << health.out;
  Out plain = run_process({"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:" + std::to_string(port_) + "/api/health"});
  EXPECT_NE(plain.out, "200") << "plain HTTP must not be served on a TLS listener";
  // The upgrade's 101 and the first status_update frame arrive through TLS.
  Out ws = run_process({"curl", "-sk", "-i", "-N", "--max-time", "5", "--http1.1", "-H", "Connection: Upgrade", "-H",
                        "Upgrade: websocket", "-H", "Sec-WebSocket-Version: 13", "-H",
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", base + "/api/ws"});
  EXPECT_NE(ws.out.find("HTTP/1.1 101"), std::string::npos) << ws;
  EXPECT_NE(ws.out.find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), std::string::npos) << ws;
  EXPECT_NE(ws.out.find("status_update"), std::string::npos) << ws;
}

class ServeServer : public ServeFixture {};

TEST_F(ServeServer, NonLoopbackListenerWithoutTokenIsRefused) {
  for (auto flags : std::vector<std::vector<std::string>>{{"-H", "tcp://0.0.0.0:0"}, {"--web", "0.0.0.0:0"}}) {
    std::vector<std::string> args = {"serve", "-H", "unix://" + root_ + "/other.sock"};
    args.insert(args.end(), flags.begin(), flags.end());
    Out r = md(args, "", std::chrono::seconds(20));
    EXPECT_EQ(r.code, 1) << r;
    EXPECT_NE(r.err.find("not a loopback address"), std::string::npos) << r;
    EXPECT_NE(::access((root_ + "/other.sock").c_str(), F_OK), 0) << "a refused server left its socket";
  }
  Out bad = md({"serve", "-H", "tcp://127.0.0.1"}, "", std::chrono::seconds(20));
  EXPECT_NE(bad.code, 0) << bad;
}

TEST_F(ServeServer, BodyOverTheLimitIs413) {
  std::string req = "POST /api/containers HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: application/json\r\n"
                    "Content-Length: " + std::to_string(17 << 20) + "\r\n\r\n{";
  HttpReply r = http_on(connect_unix(sock_), req);
  EXPECT_EQ(r.status, 413) << r.head << r.body;
}

TEST_F(ServeServer, MalformedJsonIs400AndCreatesNothing) {
  HttpReply r = api("POST", "/api/containers", "{not json");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_TRUE(r.j().contains("message")) << r.body;
  r = api("POST", "/api/containers", "[1,2]");
  EXPECT_EQ(r.status, 400) << r.body;
  r = api("POST", "/api/containers", R"({"name":")" + unique("bad") + R"(","mem_limit":"lots"})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.j().value("message", "").find("mem_limit"), std::string::npos) << r.body;
  HttpReply list = api("GET", "/api/containers");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.j(), json::array()) << list.body;
}

TEST_F(ServeServer, UnknownPathIs404InDockersShape) {
  HttpReply r = api("GET", "/api/nothing-here");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.j().value("message", ""), "page not found");
}

// A client that sends a flood of frames is served in bounded steps: thousands of control
// and data frames, then one frame over the message limit (closed with 1009); the server
// stays up and its memory does not follow the flood.
TEST_F(ServeServer, WebSocketFloodIsSurvived) {
  WsClient ws(connect_unix(sock_), "/api/ws");
  ASSERT_TRUE(ws.ok()) << ws.response();
  std::string burst;
  for (int i = 0; i < 20000; ++i) burst += WsClient::frame(10, "unsolicited pong");  // no answer expected
  for (int i = 0; i < 2000; ++i) burst += WsClient::frame(1, R"({"type":"ping"})");
  ASSERT_TRUE(send_all(ws.fd(), burst));
  int pongs = 0;
  while (pongs < 2000) {
    json j = ws.next_of_type("pong", 30000);
    if (j.is_null()) break;
    ++pongs;
  }
  EXPECT_EQ(pongs, 2000);
  // 2 MiB announced: over the 1 MiB limit, refused from the header alone.
  std::string big;
  big += char(0x82);
  big += char(0x80 | 127);
  for (int i = 7; i >= 0; --i) big += char((uint64_t(2 << 20) >> (8 * i)) & 0xff);
  big += std::string(4, '\0');
  big += std::string(64 * 1024, 'x');
  send_all(ws.fd(), big);
  WsClient::Msg m;
  do m = ws.next(30000);
  while (m.op != -1 && m.op != 8);
  EXPECT_EQ(m.op, 8);
  EXPECT_EQ(m.close_code, 1009);

  // Still serving, and not holding the flood in memory.
  EXPECT_EQ(api("GET", "/api/health").status, 200);
  std::ifstream status("/proc/" + std::to_string(server_) + "/status");
  std::string line;
  long rss_kb = 0;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) rss_kb = std::atol(line.c_str() + 6);
  EXPECT_GT(rss_kb, 0);
  EXPECT_LT(rss_kb, 200 * 1024) << "VmRSS " << rss_kb << " kB after the flood";
}

// SIGTERM with an idle keep-alive connection, a half-sent request and a WebSocket open:
// the server closes them all and exits 0 (TearDown checks the status and the socket).
TEST_F(ServeServer, SigtermWithOpenConnections) {
  int idle = connect_unix(sock_);
  ASSERT_GE(idle, 0);
  int partial = connect_unix(sock_);
  ASSERT_TRUE(send_all(partial, "GET /api/health HTTP/1.1\r\nHost: t\r\n"));  // header never finished
  WsClient ws(connect_unix(sock_), "/api/ws");
  ASSERT_TRUE(ws.ok()) << ws.response();
  EXPECT_EQ(stop_server(), 0) << read_text(log_);
  EXPECT_NE(::access(sock_.c_str(), F_OK), 0) << "the socket was left behind";
  // Each connection sees the end.
  char c;
  pollfd p{idle, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 5000), 1);
  EXPECT_LE(::read(idle, &c, 1), 0);
  ::close(idle);
  ::close(partial);
  WsClient::Msg m = ws.next(5000);
  EXPECT_TRUE(m.op == -1 || m.op == 8);
}

}  // namespace
}  // namespace mdcli
