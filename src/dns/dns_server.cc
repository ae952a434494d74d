#include "dns/dns_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdio>

namespace md::dns {

namespace {

// Frames read from one TCP connection per wakeup, and output buffered for a client
// that does not read: beyond these the connection stops being read.
constexpr size_t kTcpReadChunk = 16384;
constexpr size_t kTcpMaxBufferedOutput = 256 * 1024;
constexpr size_t kTcpMaxPendingPerConnection = 32;
// Datagrams handled per wakeup, so one busy client cannot starve TCP or upstreams.
constexpr int kUdpBatch = 64;

bool ascii_iequal(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    uint8_t x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x += 'a' - 'A';
    if (y >= 'A' && y <= 'Z') y += 'a' - 'A';
    if (x != y) return false;
  }
  return true;
}

// Whether `answer` is the upstream's response to `request` (which we sent): same id
// and opcode, QR set, same question. Some servers leave the question out of an
// error response, which is accepted.
bool answers_request(std::span<const uint8_t> answer, std::span<const uint8_t> request, size_t question_end) {
  auto a = parse_header(answer);
  auto r = parse_header(request);
  if (!a || !r || !a->is_response() || a->id != r->id || a->opcode() != r->opcode()) return false;
  if (a->qdcount == 0) return a->rcode() != 0;
  if (a->qdcount != 1 || answer.size() < question_end) return false;
  return ascii_iequal(answer.subspan(kHeaderSize, question_end - kHeaderSize),
                      request.subspan(kHeaderSize, question_end - kHeaderSize));
}

Result<UniqueFd> bound_socket(const Endpoint& at, int type) {
  const char* proto = type == SOCK_DGRAM ? "udp" : "tcp";
  UniqueFd fd(::socket(at.family(), type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return fail_errno(std::string("create ") + proto + " socket for " + to_string(at));
  int one = 1;
  if (at.family() == AF_INET6) ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  // A restarted server must not wait for the old one's TIME_WAIT connections.
  if (type == SOCK_STREAM) ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd.get(), at.addr(), at.length) != 0)
    return fail_errno(std::string("bind ") + proto + " " + to_string(at));
  return fd;
}

}  // namespace

struct DnsServer::Client {
  Transport transport = Transport::kUdp;
  Endpoint peer;            // kUdp
  uint64_t connection = 0;  // kTcp
};

struct DnsServer::TcpConnection {
  uint64_t id = 0;
  UniqueFd fd;
  std::vector<uint8_t> in;   // bytes of frames not yet complete
  std::vector<uint8_t> out;  // length-prefixed answers not yet written
  size_t out_sent = 0;
  Clock::time_point last_active;
  size_t pending = 0;  // forwarded queries whose answers go here
  bool read_closed = false;
  bool closed = false;
};

struct DnsServer::Pending {
  UniqueFd fd;  // connected to the upstream being tried
  Client client;
  Query query;                   // the client's, for a SERVFAIL of our own
  std::vector<uint8_t> request;  // as sent upstream: the client's bytes, our id
  size_t next_upstream = 0;
  Clock::time_point attempt_deadline;
  Clock::time_point deadline;
  bool done = false;
};

DnsServer::DnsServer(ServerOptions options)
    : options_(std::move(options)), hosts_(options_.hosts_path) {
  policy_.domain = options_.domain;
  policy_.ttl = options_.ttl;
  policy_.have_upstreams = !options_.upstreams.empty();
}

DnsServer::~DnsServer() = default;

Result<std::unique_ptr<DnsServer>> DnsServer::create(ServerOptions options) {
  for (const Endpoint& up : options.upstreams)
    if (same_endpoint(up, options.listen))
      return fail("upstream " + to_string(up) + " is the listen address itself", EINVAL);
  std::unique_ptr<DnsServer> s(new DnsServer(std::move(options)));
  std::vector<std::string> problems;
  TRY(s->hosts_.refresh(&problems));
  for (const std::string& p : problems) s->log("hosts file " + s->hosts_.path() + ": " + p);

  // With port 0 the kernel picks the UDP port; TCP must get the same one, which
  // another program may hold: pick again a few times.
  const bool ephemeral = s->options_.listen.port() == 0;
  for (int attempt = 0;; ++attempt) {
    Endpoint at = s->options_.listen;
    s->udp_ = TRY(bound_socket(at, SOCK_DGRAM));
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(s->udp_.get(), reinterpret_cast<sockaddr*>(&ss), &len) != 0)
      return fail_errno("getsockname udp " + to_string(at));
    at.set_port(endpoint_from(ss, len).port());
    auto tcp = bound_socket(at, SOCK_STREAM);
    if (!tcp && ephemeral && tcp.error().errno_value == EADDRINUSE && attempt < 8) continue;
    s->tcp_ = TRY(std::move(tcp));
    if (::listen(s->tcp_.get(), 64) != 0) return fail_errno("listen tcp " + to_string(at));
    s->local_ = at;
    break;
  }
  return s;
}

void DnsServer::log(const std::string& line) {
  if (options_.log)
    options_.log(line);
  else
    std::fprintf(stderr, "minidocker-dns: %s\n", line.c_str());
}

void DnsServer::refresh_hosts() {
  std::vector<std::string> problems;
  auto r = hosts_.refresh(&problems);
  if (!r) {
    // Logged once: every query would otherwise repeat it.
    if (r.error().message != last_hosts_error_) log(r.error().message + " (keeping the previous names)");
    last_hosts_error_ = r.error().message;
    return;
  }
  last_hosts_error_.clear();
  for (const std::string& p : problems) log("hosts file " + hosts_.path() + ": " + p);
}

void DnsServer::handle_request(std::span<const uint8_t> request, const Client& client) {
  refresh_hosts();  // one stat(): containers started a moment ago must resolve
  Decision d = decide(request, hosts_.table(), policy_, client.transport);
  switch (d.disposition) {
    case Disposition::kReply:
      reply(client, d.reply);
      break;
    case Disposition::kForward:
      forward(std::move(d.query), request, client);
      break;
    case Disposition::kDrop:
      break;  // untrusted input: not worth a log line each
  }
}

void DnsServer::reply(const Client& client, std::span<const uint8_t> message) {
  if (client.transport == Transport::kUdp) {
    // Best effort, like UDP itself: a full socket buffer drops the answer and the
    // client retries.
    ::sendto(udp_.get(), message.data(), message.size(), MSG_DONTWAIT | MSG_NOSIGNAL, client.peer.addr(),
             client.peer.length);
    return;
  }
  TcpConnection* c = find_connection(client.connection);
  if (!c || message.size() > kMaxMessageSize) return;
  put16(c->out, static_cast<uint16_t>(message.size()));
  c->out.insert(c->out.end(), message.begin(), message.end());
  write_tcp(*c);
}

void DnsServer::forward(Query query, std::span<const uint8_t> request, const Client& client) {
  if (pending_.size() >= options_.max_pending) {
    reply(client, build_response(query, {}, {Rcode::kServFail, false, true, kClassicUdpSize}));
    return;
  }
  Pending& p = pending_.emplace_back();
  p.client = client;
  p.query = std::move(query);
  p.request.assign(request.begin(), request.end());
  // A random id (and, below, a fresh source port) so that an off-path attacker
  // cannot easily forge the upstream's answer.
  set16(p.request, 0, static_cast<uint16_t>(::arc4random()));
  p.deadline = Clock::now() + options_.forward_timeout;
  if (client.transport == Transport::kTcp)
    if (TcpConnection* c = find_connection(client.connection)) ++c->pending;
  if (!send_to_next_upstream(p)) finish(p, {});
}

bool DnsServer::send_to_next_upstream(Pending& p) {
  const Clock::duration share =
      options_.forward_timeout / static_cast<long>(std::max<size_t>(options_.upstreams.size(), 1));
  p.fd.reset();
  while (p.next_upstream < options_.upstreams.size()) {
    const Endpoint& up = options_.upstreams[p.next_upstream++];
    // Connected: the kernel drops datagrams from anyone else, and an ICMP
    // unreachable shows up as ECONNREFUSED so the next upstream is tried at once.
    UniqueFd fd(::socket(up.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd || ::connect(fd.get(), up.addr(), up.length) != 0) continue;
    if (::send(fd.get(), p.request.data(), p.request.size(), MSG_NOSIGNAL) < 0) continue;
    p.fd = std::move(fd);
    p.attempt_deadline = std::min(Clock::now() + share, p.deadline);
    return true;
  }
  return false;
}

void DnsServer::read_upstream(Pending& p) {
  for (;;) {
    if (p.done || !p.fd) return;
    ssize_t n = ::recv(p.fd.get(), buffer_.data(), buffer_.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EINTR) continue;
      if (!send_to_next_upstream(p)) finish(p, {});  // refused or unreachable
      return;
    }
    std::span<const uint8_t> answer(buffer_.data(), static_cast<size_t>(n));
    if (!answers_request(answer, p.request, p.query.question_end)) continue;  // stray or forged
    uint8_t rcode = answer[3] & 0xf;
    bool try_next = (rcode == static_cast<uint8_t>(Rcode::kServFail) || rcode == static_cast<uint8_t>(Rcode::kRefused)) &&
                    p.next_upstream < options_.upstreams.size();
    if (try_next) {
      // Keep this answer in case no other upstream can be reached.
      std::vector<uint8_t> fallback(answer.begin(), answer.end());
      if (!send_to_next_upstream(p)) finish(p, fallback);
      return;
    }
    finish(p, answer);
    return;
  }
}

void DnsServer::finish(Pending& p, std::span<const uint8_t> answer) {
  p.done = true;
  p.fd.reset();
  if (answer.empty()) {
    reply(p.client, build_response(p.query, {}, {Rcode::kServFail, false, true, kClassicUdpSize}));
  } else {
    std::vector<uint8_t> out(answer.begin(), answer.end());
    set16(out, 0, p.query.header.id);  // the client's id back in place of ours
    reply(p.client, out);
  }
  if (p.client.transport == Transport::kTcp)
    if (TcpConnection* c = find_connection(p.client.connection); c && c->pending > 0) --c->pending;
}

void DnsServer::handle_udp() {
  for (int i = 0; i < kUdpBatch; ++i) {
    sockaddr_storage peer{};
    socklen_t peer_len = sizeof peer;
    ssize_t n = ::recvfrom(udp_.get(), buffer_.data(), buffer_.size(), MSG_DONTWAIT,
                           reinterpret_cast<sockaddr*>(&peer), &peer_len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // EAGAIN, or an ICMP error from an earlier reply: nothing to do
    }
    Client client;
    client.peer = endpoint_from(peer, peer_len);
    // handle_request() never touches buffer_ (only read_upstream() does).
    handle_request(std::span<const uint8_t>(buffer_.data(), static_cast<size_t>(n)), client);
  }
}

void DnsServer::accept_tcp() {
  for (int i = 0; i < 16; ++i) {
    UniqueFd fd(::accept4(tcp_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd) return;
    size_t open = 0;
    TcpConnection* oldest = nullptr;
    for (TcpConnection& c : connections_) {
      if (c.closed) continue;
      ++open;
      if (!oldest || c.last_active < oldest->last_active) oldest = &c;
    }
    // At the limit the least recently active connection makes room: idle clients
    // cannot lock everyone else out of TCP.
    if (open >= options_.max_tcp_connections && oldest) {
      oldest->closed = true;
      oldest->fd.reset();
    }
    // Pipelined answers are separate writes: Nagle would hold each behind the
    // client's delayed ACK.
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    TcpConnection& c = connections_.emplace_back();
    c.id = next_connection_id_++;
    c.fd = std::move(fd);
    c.last_active = Clock::now();
  }
}

void DnsServer::read_tcp(TcpConnection& c) {
  size_t old = c.in.size();
  c.in.resize(old + kTcpReadChunk);
  ssize_t n = ::recv(c.fd.get(), c.in.data() + old, kTcpReadChunk, MSG_DONTWAIT);
  if (n < 0) {
    c.in.resize(old);
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
    c.closed = true;
    return;
  }
  c.in.resize(old + static_cast<size_t>(n));
  if (n == 0) {
    c.read_closed = true;  // answers to queries already read are still sent
    return;
  }
  c.last_active = Clock::now();
  size_t used = 0;
  while (!c.closed && c.in.size() - used >= 2) {
    size_t len = get16(c.in, used);
    if (len < kHeaderSize) {  // not a DNS message: the stream cannot be trusted further
      c.closed = true;
      return;
    }
    if (c.in.size() - used < 2 + len) break;
    // Answering appends to c.out, never to c.in: the span stays valid.
    std::span<const uint8_t> request(c.in.data() + used + 2, len);
    used += 2 + len;
    handle_request(request, Client{Transport::kTcp, {}, c.id});
  }
  c.in.erase(c.in.begin(), c.in.begin() + used);
}

void DnsServer::write_tcp(TcpConnection& c) {
  while (!c.closed && c.out_sent < c.out.size()) {
    ssize_t n = ::send(c.fd.get(), c.out.data() + c.out_sent, c.out.size() - c.out_sent, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) c.closed = true;
      return;
    }
    c.out_sent += static_cast<size_t>(n);
    c.last_active = Clock::now();
  }
  c.out.clear();
  c.out_sent = 0;
}

DnsServer::TcpConnection* DnsServer::find_connection(uint64_t id) {
  for (TcpConnection& c : connections_)
    if (c.id == id) return c.closed ? nullptr : &c;
  return nullptr;
}

void DnsServer::expire(Clock::time_point now) {
  for (Pending& p : pending_) {
    if (p.done || now < p.attempt_deadline) continue;
    if (now >= p.deadline || !send_to_next_upstream(p)) finish(p, {});
  }
  for (TcpConnection& c : connections_) {
    if (c.closed || c.pending > 0) continue;
    bool drained = c.out_sent >= c.out.size();
    if ((c.read_closed && drained) || now - c.last_active >= options_.tcp_idle_timeout) c.closed = true;
  }
  pending_.remove_if([](const Pending& p) { return p.done; });
  connections_.remove_if([](const TcpConnection& c) { return c.closed; });
}

Status DnsServer::run(int stop_fd) {
  enum class Kind { kStop, kUdp, kListen, kConnection, kUpstream };
  struct Owner {
    Kind kind;
    void* object;
  };
  std::vector<pollfd> fds;
  std::vector<Owner> owners;
  auto add = [&](int fd, short events, Kind kind, void* object = nullptr) {
    fds.push_back({fd, events, 0});
    owners.push_back({kind, object});
  };
  for (;;) {
    fds.clear();
    owners.clear();
    add(stop_fd, POLLIN, Kind::kStop);
    add(udp_.get(), POLLIN, Kind::kUdp);
    add(tcp_.get(), POLLIN, Kind::kListen);
    Clock::time_point wake = Clock::time_point::max();
    for (TcpConnection& c : connections_) {
      short events = 0;
      bool backlogged = c.pending >= kTcpMaxPendingPerConnection || c.out.size() - c.out_sent > kTcpMaxBufferedOutput;
      if (!c.read_closed && !backlogged) events |= POLLIN;
      if (c.out_sent < c.out.size()) events |= POLLOUT;
      add(c.fd.get(), events, Kind::kConnection, &c);
      wake = std::min(wake, c.last_active + options_.tcp_idle_timeout);
    }
    for (Pending& p : pending_) {
      add(p.fd.get(), POLLIN, Kind::kUpstream, &p);
      wake = std::min(wake, p.attempt_deadline);
    }
    int timeout = -1;
    if (wake != Clock::time_point::max()) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(wake - Clock::now()).count();
      timeout = static_cast<int>(std::clamp<long long>(left, 0, 60'000));
    }
    int n = ::poll(fds.data(), fds.size(), timeout);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("poll");
    }
    for (size_t i = 0; n > 0 && i < fds.size(); ++i) {
      short re = fds[i].revents;
      if (!re) continue;
      switch (owners[i].kind) {
        case Kind::kStop:
          return {};
        case Kind::kUdp:
          handle_udp();
          break;
        case Kind::kListen:
          accept_tcp();
          break;
        case Kind::kConnection: {
          auto& c = *static_cast<TcpConnection*>(owners[i].object);
          if (c.closed) break;
          if (re & POLLOUT) write_tcp(c);
          if (!c.closed && (re & (POLLIN | POLLHUP | POLLERR))) {
            if (c.read_closed) c.closed = true;  // hung up with output still queued
            else read_tcp(c);
          }
          break;
        }
        case Kind::kUpstream:
          read_upstream(*static_cast<Pending*>(owners[i].object));
          break;
      }
    }
    expire(Clock::now());
  }
}

}  // namespace md::dns
