// Listeners and the listener security rules (listen.h, server.h).
#include "api/listen.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <cerrno>
#include <cstdlib>

#include "api/router.h"
#include "api/server.h"

namespace md::api {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;
using generic = asio::generic::stream_protocol;

namespace {

void set_cloexec(int fd) {
  int fl = ::fcntl(fd, F_GETFD);
  if (fl >= 0) ::fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

bool same_secret(std::string_view a, const std::string& b) {
  if (a.size() != b.size() || b.empty()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), b.size()) == 0;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool is_loopback_address(const std::string& host) {
  if (host == "localhost") return true;
  in_addr a4{};
  if (::inet_pton(AF_INET, host.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
  in6_addr a6{};
  if (::inet_pton(AF_INET6, host.c_str(), &a6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&a6)) return true;
    if (IN6_IS_ADDR_V4MAPPED(&a6)) return a6.s6_addr[12] == 127;
  }
  return false;
}

bool split_host_port(const std::string& s, std::string* host, int* port) {
  std::string h, p;
  if (!s.empty() && s[0] == '[') {
    auto close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') return false;
    h = s.substr(1, close - 1);
    p = s.substr(close + 2);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string::npos) return false;
    h = s.substr(0, colon);
    p = s.substr(colon + 1);
    if (h.find(':') != std::string::npos) return false;  // a bare IPv6 address needs [ ]
  }
  if (p.empty()) return false;
  char* end = nullptr;
  long n = std::strtol(p.c_str(), &end, 10);
  if (*end != '\0' || n < 0 || n > 65535) return false;
  *host = h.empty() ? "127.0.0.1" : h;
  *port = int(n);
  return true;
}

std::string check_listener_security(const ServeOptions& o) {
  bool protected_ = !o.token.empty() || (!o.tls_cert.empty() && !o.tls_key.empty());
  if ((o.tls_cert.empty()) != (o.tls_key.empty())) return "--tls-cert and --tls-key go together";
  for (auto* list : {&o.tcp, &o.web})
    for (auto& l : *list) {
      std::string host;
      int port = 0;
      if (!split_host_port(l, &host, &port)) return "invalid listen address \"" + l + "\" (expected ADDR:PORT)";
      if (!is_loopback_address(host) && !protected_)
        return "refusing to listen on " + l + ": it is not a loopback address, and without --token or TLS anyone "
               "who can reach it could run containers as root (use 127.0.0.1, or add --token / --tls-cert and --tls-key)";
    }
  return "";
}

bool request_has_token(const std::string& token, std::string_view authorization, std::string_view cookie,
                       std::string_view query_string) {
  if (token.empty()) return true;
  bool ok = false;  // every source is checked, whatever matched first
  std::string_view a = trim(authorization);
  if (a.size() > 7 && (a.substr(0, 7) == "Bearer " || a.substr(0, 7) == "bearer ")) ok |= same_secret(trim(a.substr(7)), token);
  while (!cookie.empty()) {
    auto semi = cookie.find(';');
    std::string_view c = trim(cookie.substr(0, semi));
    if (c.substr(0, 9) == "md_token=") ok |= same_secret(c.substr(9), token);
    if (semi == std::string_view::npos) break;
    cookie.remove_prefix(semi + 1);
  }
  if (!query_string.empty()) {
    auto q = parse_query(query_string);
    if (auto it = q.find("token"); it != q.end()) ok |= same_secret(it->second, token);
  }
  return ok;
}

Result<std::unique_ptr<GenericAcceptor>> listen_unix(asio::io_context& io, const std::string& path) {
  if (path.size() >= sizeof(sockaddr_un{}.sun_path))
    return fail("socket path too long (" + std::to_string(path.size()) + " bytes, max 107): " + path, ENAMETOOLONG);
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return fail(path + " exists and is not a socket", EEXIST);
    local::socket probe(io);
    boost::system::error_code ec;
    probe.connect(local::endpoint(path), ec);
    if (!ec) return fail("another server is listening on " + path, EADDRINUSE);
    ::unlink(path.c_str());
  }
  auto slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    std::string dir = path.substr(0, slash);
    ::mkdir(dir.c_str(), 0755);  // one level, e.g. /run/minidocker
  }
  auto a = std::make_unique<GenericAcceptor>(io);
  boost::system::error_code ec;
  generic::endpoint ep{local::endpoint(path)};
  a->open(ep.protocol(), ec);
  if (!ec) set_cloexec(a->native_handle());
  mode_t old = ::umask(0117);  // the socket is created 0660
  if (!ec) a->bind(ep, ec);
  ::umask(old);
  if (!ec) a->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("cannot listen on " + path + ": " + ec.message(), ec.value());
  if (::chmod(path.c_str(), 0660) != 0 || ::chown(path.c_str(), 0, 0) != 0)
    return fail("cannot set the mode of " + path, errno);
  return a;
}

Result<std::unique_ptr<GenericAcceptor>> listen_tcp(asio::io_context& io, const std::string& host, int port,
                                                    std::string* bound) {
  boost::system::error_code ec;
  std::string h = host == "localhost" ? "127.0.0.1" : host;
  auto addr = asio::ip::make_address(h, ec);
  if (ec) return fail("invalid listen address \"" + host + "\" (a numeric IPv4/IPv6 address or localhost)", EINVAL);
  asio::ip::tcp::endpoint tep(addr, static_cast<unsigned short>(port));
  generic::endpoint ep(tep);
  auto a = std::make_unique<GenericAcceptor>(io);
  a->open(ep.protocol(), ec);
  if (!ec) {
    set_cloexec(a->native_handle());
    a->set_option(asio::socket_base::reuse_address(true), ec);
    a->bind(ep, ec);
  }
  if (!ec) a->listen(asio::socket_base::max_listen_connections, ec);
  std::string shown = addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string();
  if (ec) return fail("cannot listen on " + shown + ":" + std::to_string(port) + ": " + ec.message(), ec.value());
  // The port actually bound (port 0 = the kernel's choice).
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  int bound_port = port;
  if (::getsockname(a->native_handle(), reinterpret_cast<sockaddr*>(&ss), &len) == 0)
    bound_port = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                          : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  if (bound) *bound = shown + ":" + std::to_string(bound_port);
  return a;
}

}  // namespace md::api
