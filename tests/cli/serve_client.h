// Test clients for `minidocker serve` (serve_server_test.cc, serve_seed_test.cc): raw
// HTTP/1.1 over unix or TCP sockets, and a minimal RFC 6455 WebSocket client (masked client
// frames, unmasked server frames, no extensions), plus a fixture that starts the server
// with extra flags and learns its TCP port from its log.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "cli_harness.h"

namespace mdcli::serve_client {

inline int connect_unix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline int connect_tcp(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline bool send_all(int fd, const std::string& data) {
  for (size_t off = 0; off < data.size();) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += size_t(n);
  }
  return true;
}

struct HttpReply {
  int status = 0;
  std::string head, body;
  json j() const { return json::parse(body, nullptr, false); }
};

// Sends `request` (which should say "Connection: close") and reads until EOF (≤ 30 s).
inline HttpReply http_on(int fd, const std::string& request) {
  HttpReply r;
  if (fd < 0) return r;
  send_all(fd, request);
  std::string out;
  pollfd p{fd, POLLIN, 0};
  char buf[65536];
  while (::poll(&p, 1, 30000) > 0) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, size_t(n));
  }
  ::close(fd);
  auto end = out.find("\r\n\r\n");
  if (out.rfind("HTTP/1.", 0) != 0 || end == std::string::npos) return r;
  r.status = std::atoi(out.c_str() + 9);
  r.head = out.substr(0, end);
  r.body = out.substr(end + 4);
  if (r.head.find("Transfer-Encoding: chunked") != std::string::npos) {  // de-chunk
    std::string body, &in = r.body;
    size_t pos = 0;
    while (pos < in.size()) {
      size_t nl = in.find("\r\n", pos);
      if (nl == std::string::npos) break;
      size_t n = std::strtoul(in.substr(pos, nl - pos).c_str(), nullptr, 16);
      if (n == 0) break;
      body += in.substr(nl + 2, n);
      pos = nl + 2 + n + 2;
    }
    r.body = body;
  }
  return r;
}

inline std::string request(const std::string& method, const std::string& target, const std::string& body = "",
                           const std::string& extra_headers = "") {
  std::string r = method + " " + target + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n" + extra_headers;
  if (!body.empty() || method == "POST") r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  return r + "\r\n" + body;
}

// A WebSocket client over an already connected socket.
class WsClient {
 public:
  struct Msg {
    int op = -1;  // 1 text, 2 binary, 8 close, 9 ping, 10 pong; -1 none (timeout/EOF)
    std::string data;
    int close_code = 0;
  };
  // Performs the handshake for `target`; ok() tells whether the server answered 101.
  WsClient(int fd, const std::string& target, const std::string& extra_headers = "") : fd_(fd) {
    if (fd_ < 0) return;
    std::string req = "GET " + target +
                      " HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
                      extra_headers + "\r\n";
    send_all(fd_, req);
    std::string head;
    char c;
    pollfd p{fd_, POLLIN, 0};
    while (head.find("\r\n\r\n") == std::string::npos && ::poll(&p, 1, 30000) > 0 && ::read(fd_, &c, 1) == 1) head += c;
    response_ = head;
    // RFC 6455's example key gives this accept value.
    ok_ = head.rfind("HTTP/1.1 101", 0) == 0 && head.find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") != std::string::npos;
  }
  ~WsClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  WsClient(const WsClient&) = delete;
  bool ok() const { return ok_; }
  const std::string& response() const { return response_; }
  int fd() const { return fd_; }

  static std::string frame(int op, const std::string& payload, bool fin = true) {
    std::string f;
    f += char((fin ? 0x80 : 0) | op);
    size_t n = payload.size();
    if (n < 126) {
      f += char(0x80 | n);
    } else if (n <= 0xffff) {
      f += char(0x80 | 126);
      f += char(n >> 8);
      f += char(n & 0xff);
    } else {
      f += char(0x80 | 127);
      for (int i = 7; i >= 0; --i) f += char((uint64_t(n) >> (8 * i)) & 0xff);
    }
    static std::mt19937 rng(42);
    unsigned char mask[4];
    for (auto& m : mask) m = static_cast<unsigned char>(rng());
    f.append(reinterpret_cast<char*>(mask), 4);
    for (size_t i = 0; i < n; ++i) f += char(payload[i] ^ mask[i % 4]);
    return f;
  }
  bool send(int op, const std::string& payload) { return send_all(fd_, frame(op, payload)); }
  bool send_text(const std::string& s) { return send(1, s); }

  // The next frame (≤ timeout_ms); pings are answered.
  Msg next(int timeout_ms = 30000) {
    for (;;) {
      Msg m = read_frame(timeout_ms);
      if (m.op == 9) {
        send(10, m.data);
        continue;
      }
      return m;
    }
  }
  // The next text message whose JSON "type" is `type` (others skipped), or null.
  json next_of_type(const std::string& type, int timeout_ms = 30000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      int left = int(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
      Msg m = next(std::max(left, 1));
      if (m.op == -1 || m.op == 8) return nullptr;
      if (m.op != 1) continue;
      json j = json::parse(m.data, nullptr, false);
      if (j.is_object() && j.value("type", "") == type) return j;
    }
    return nullptr;
  }

 private:
  bool read_exact(std::string& out, size_t n, int timeout_ms) {
    while (buf_.size() < n) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) return false;
      char b[65536];
      ssize_t r = ::read(fd_, b, sizeof b);
      if (r <= 0) return false;
      buf_.append(b, size_t(r));
    }
    out = buf_.substr(0, n);
    buf_.erase(0, n);
    return true;
  }
  Msg read_frame(int timeout_ms) {
    Msg m;
    std::string h;
    if (!read_exact(h, 2, timeout_ms)) return m;
    int op = h[0] & 0x0f;
    uint64_t len = uint8_t(h[1]) & 0x7f;
    if (len == 126) {
      std::string e;
      if (!read_exact(e, 2, timeout_ms)) return m;
      len = (uint64_t(uint8_t(e[0])) << 8) | uint8_t(e[1]);
    } else if (len == 127) {
      std::string e;
      if (!read_exact(e, 8, timeout_ms)) return m;
      len = 0;
      for (char c : e) len = (len << 8) | uint8_t(c);
    }
    std::string payload;
    if (!read_exact(payload, size_t(len), timeout_ms)) return m;
    m.op = op;
    if (op == 8 && payload.size() >= 2) {
      m.close_code = (uint8_t(payload[0]) << 8) | uint8_t(payload[1]);
      m.data = payload.substr(2);
    } else {
      m.data = payload;
    }
    return m;
  }
  int fd_ = -1;
  bool ok_ = false;
  std::string response_, buf_;
};

// The server (`minidocker --root R serve -H unix://R/api.sock <extra>`) for one test.
inline constexpr const char* kDockerCli = "/usr/local/bin/docker";

// A `minidocker serve` of the test's own root on <root>/api.sock, and the real docker CLI
// pointed at it (DOCKER_CONFIG in the root, so the host's ~/.docker is never touched).
class ServeFixture : public Cli {
 protected:
  // Flags after `serve` besides the unix socket (e.g. {"-H", "tcp://127.0.0.1:0", "--token", "t"}).
  virtual std::vector<std::string> serve_flags() { return {}; }
  // Fixtures whose tests drive the docker CLI say so: they skip where it is not installed.
  virtual bool needs_docker() { return false; }

  void SetUp() override {
    Cli::SetUp();
    if (skip_ || HasFatalFailure()) return;
    if (needs_docker() && ::access(kDockerCli, X_OK) != 0) GTEST_SKIP() << kDockerCli << " not installed";
    config_ = root_ + "/docker-config";
    ::mkdir(config_.c_str(), 0700);
    sock_ = root_ + "/api.sock";
    log_ = root_ + "/serve.log";
    server_ = start_server(serve_flags());
    ASSERT_GT(server_, 0);
    ASSERT_TRUE(eventually([&] {
      int fd = connect_unix(sock_);
      if (fd >= 0) ::close(fd);
      return fd >= 0;
    }, std::chrono::seconds(20))) << "the server did not listen: " << read_text(log_);
    // "minidocker: API listening on tcp://127.0.0.1:43210 (token required)"
    std::smatch m;
    std::string text = read_text(log_);
    static const std::regex re(R"(listening on (?:tcp|http|https)://127\.0\.0\.1:(\d+))");
    if (std::regex_search(text, m, re)) port_ = std::stoi(m[1]);
  }

  pid_t start_server(const std::vector<std::string>& flags) {
    pid_t pid = ::fork();
    if (pid == 0) {
      int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::vector<std::string> args = {"minidocker", "--root", root_, "serve", "-H", "unix://" + sock_};
      args.insert(args.end(), flags.begin(), flags.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(cli_binary().c_str(), argv.data());
      ::_exit(127);
    }
    return pid;
  }

  // SIGTERM, then the exit status (-1 when it had to be killed after 15 s).
  int stop_server() {
    if (server_ <= 0) return 0;
    ::kill(server_, SIGTERM);
    int status = 0;
    bool exited = eventually([&] { return ::waitpid(server_, &status, WNOHANG) == server_; }, std::chrono::seconds(15));
    if (!exited) {
      ::kill(server_, SIGKILL);
      ::waitpid(server_, &status, 0);
    }
    server_ = -1;
    return exited && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  void TearDown() override {
    if (server_ > 0) EXPECT_EQ(stop_server(), 0) << "the server did not exit cleanly on SIGTERM: " << read_text(log_);
    Cli::TearDown();
  }

  HttpReply api(const std::string& method, const std::string& target, const std::string& body = "") {
    return http_on(connect_unix(sock_), request(method, target, body));
  }

  std::vector<std::string> docker_argv(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"/usr/bin/env", "DOCKER_CONFIG=" + config_, kDockerCli, "-H", "unix://" + sock_};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
  Out docker(const std::vector<std::string>& args, const std::string& input = "",
             std::chrono::seconds timeout = std::chrono::seconds(120)) {
    return run_process(docker_argv(args), input, timeout);
  }
  // docker(), expected to succeed; its stdout without trailing newlines.
  std::string docker_ok(const std::vector<std::string>& args, const std::string& input = "") {
    Out r = docker(args, input);
    EXPECT_TRUE(r.ok()) << r;
    std::string s = r.out;
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
  }

  pid_t server_ = -1;
  int port_ = 0;
  std::string sock_, log_, config_;
};

}  // namespace mdcli::serve_client
