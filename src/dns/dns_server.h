// The per-network DNS server: one UDP and one TCP socket on the network's gateway
// address, a poll() loop, no threads. Answers come from the hosts file (re-read when
// it changes, checked before every answer); other names are relayed to upstream
// servers over UDP without blocking: each forwarded query has its own socket (a fresh
// source port) and a random id, sits in a pending table, and is answered SERVFAIL
// when no upstream replied in time.
//
// Not thread-safe: one thread calls run(). Every fd is owned here and O_CLOEXEC.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "dns/dns_answer.h"
#include "dns/hosts_table.h"
#include "dns/ip_address.h"

namespace md::dns {

struct ServerOptions {
  Endpoint listen;  // port 0: an ephemeral port (the same one for UDP and TCP)
  std::vector<Endpoint> upstreams;
  std::string hosts_path;
  std::string domain = "dns.minidocker";  // see AnswerPolicy::domain
  uint32_t ttl = 0;
  // A forwarded query is answered SERVFAIL after this long; the upstreams are tried
  // in order, each for an equal share of it (or until it answers SERVFAIL/REFUSED).
  std::chrono::milliseconds forward_timeout{2500};
  size_t max_pending = 256;  // forwarded queries in flight (each holds a socket)
  size_t max_tcp_connections = 16;  // at the limit, the least recently active is closed
  std::chrono::milliseconds tcp_idle_timeout{10000};
  // Where errors and hosts-file problems go, one line each, no newline. Default:
  // "minidocker-dns: <line>" on stderr.
  std::function<void(const std::string&)> log;
};

class DnsServer {
 public:
  // Binds the sockets. Errors name the address: "bind udp 10.89.0.1:53: ...".
  // Fails if an upstream is the listen address itself (a forwarding loop).
  // A missing hosts file is fine (empty table); an unreadable one is an error.
  static Result<std::unique_ptr<DnsServer>> create(ServerOptions options);
  ~DnsServer();

  // The bound address (with the real port when options.listen had port 0).
  const Endpoint& local_endpoint() const { return local_; }

  // Serves until `stop_fd` is readable (a signalfd, eventfd or pipe; it is not
  // read). Returns an error only when poll() itself fails.
  Status run(int stop_fd);

 private:
  using Clock = std::chrono::steady_clock;
  struct TcpConnection;
  struct Pending;
  struct Client;

  explicit DnsServer(ServerOptions options);

  void refresh_hosts();
  void handle_udp();
  void accept_tcp();
  void read_tcp(TcpConnection& c);
  void write_tcp(TcpConnection& c);
  void handle_request(std::span<const uint8_t> request, const Client& client);
  void forward(Query query, std::span<const uint8_t> request, const Client& client);
  bool send_to_next_upstream(Pending& p);
  void read_upstream(Pending& p);
  void finish(Pending& p, std::span<const uint8_t> answer);
  void reply(const Client& client, std::span<const uint8_t> message);
  void expire(Clock::time_point now);
  TcpConnection* find_connection(uint64_t id);
  void log(const std::string& line);

  ServerOptions options_;
  AnswerPolicy policy_;
  HostsFile hosts_;
  std::string last_hosts_error_;  // logged once until it changes
  Endpoint local_;
  UniqueFd udp_;
  UniqueFd tcp_;
  std::list<TcpConnection> connections_;
  std::list<Pending> pending_;
  uint64_t next_connection_id_ = 1;
  std::vector<uint8_t> buffer_ = std::vector<uint8_t>(kMaxMessageSize + 1);  // one datagram
};

}  // namespace md::dns
