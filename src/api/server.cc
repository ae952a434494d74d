// The HTTP side of the API server: Boost.Beast over Asio, on unix sockets, TCP and TLS
// (docs/api-server.md).
//
// Threading model. The engine library is single-threaded per Engine object (each owns a
// SQLite connection; docs/engine.md), and its operations block (start waits for the
// monitor, stop for the container to exit). So:
//   - one I/O thread runs the io_context: accept, TLS, read, parse, authenticate, route,
//     write. It never calls the engine. Unknown paths and the Engine-free routes (/_ping,
//     /version) are answered right there, so they come back at once even when every
//     worker is busy;
//   - a pool of `workers` threads, each owning its own Engine (Engine::open on the thread's
//     first job), runs the other handlers from a FIFO queue and posts the response back to
//     the I/O thread;
//   - handlers that may block for long (wait, stop, streams, WebSockets) get a thread of
//     their own with an Engine of its own, so `docker wait` never holds a pool worker.
//     At most max_own_threads of them run at once; more get 503.
// Different processes (the CLI, other servers) are serialised by the engine's own
// per-container locks, exactly as between two CLI commands.
//
// One request at a time per connection (HTTP/1.1 keep-alive, no pipelining in parallel).
// A connection waiting for its next request is closed after idle_timeout_s; a request's
// header must arrive within header_timeout_s of its first byte (slow-header clients do not
// hold connections forever). Sockets are close-on-exec so the monitors the engine forks
// never inherit them.
//
// Hijacked connections (Response::hijack): on plain sockets the handler's thread gets a
// blocking dup of the socket. A TLS connection has no fd that carries plaintext, so the
// handler gets one end of a socketpair and this session pumps bytes between the other end
// and the TLS stream on the I/O thread — streams and WebSockets work over TLS too.
#include "api/server.h"

#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <future>
#include <limits>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "api/handlers.h"
#include "api/listen.h"
#include "api/router.h"
#include "api/seed_hub.h"

namespace md::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using local = asio::local::stream_protocol;
using TlsStream = ssl::stream<GenericSocket>;

std::string_view sv(beast::string_view s) { return {s.data(), s.size()}; }

void set_cloexec(int fd) {
  int fl = ::fcntl(fd, F_GETFD);
  if (fl >= 0) ::fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

// The Engine of the calling thread, opened on first use.
Result<engine::Engine*> thread_engine(const engine::EngineOptions& o) {
  thread_local std::unique_ptr<engine::Engine> e;
  if (!e) e = TRY(engine::Engine::open(o));
  return e.get();
}

class WorkerPool {
 public:
  WorkerPool(int n, engine::EngineOptions o) : options_(std::move(o)) {
    for (int i = 0; i < n; ++i) threads_.emplace_back([this] { loop(); });
  }
  ~WorkerPool() { stop(); }

  void submit(std::function<void(engine::Engine*, const Error*)> job) {
    {
      std::lock_guard l(mu_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
  }

  // Finishes the queued jobs, then joins.
  void stop() {
    {
      std::lock_guard l(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

  // A job on a thread of its own (with its own Engine); detached, counted.
  void spawn(std::function<void(engine::Engine*, const Error*)> job) {
    ++detached_;
    std::thread([this, job = std::move(job)] {
      run(job);
      --detached_;
    }).detach();
  }
  int detached() const { return detached_; }

 private:
  void run(const std::function<void(engine::Engine*, const Error*)>& job) {
    auto e = thread_engine(options_);
    if (e) job(*e, nullptr);
    else job(nullptr, &e.error());
  }
  void loop() {
    for (;;) {
      std::function<void(engine::Engine*, const Error*)> job;
      {
        std::unique_lock l(mu_);
        cv_.wait(l, [&] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      run(job);
    }
  }

  engine::EngineOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void(engine::Engine*, const Error*)>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
  std::atomic<int> detached_{0};
};

struct Listener {
  std::unique_ptr<GenericAcceptor> acceptor;
  std::string name;       // "unix:///run/minidocker.sock", "tcp://127.0.0.1:2375"
  bool tls = false;
  bool need_token = false;
};

// What the server keeps of a session: enough to close it at shutdown.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void close() = 0;
};

struct Server {
  asio::io_context io{1};
  ServeOptions options;
  Router<Route> router;
  std::unique_ptr<WorkerPool> pool;
  std::unique_ptr<ssl::context> tls;
  std::vector<Listener> listeners;
  std::vector<std::weak_ptr<SessionBase>> sessions;
  bool stopping = false;
  // The fds handed to hijack functions: shut down at exit so their threads see EOF.
  std::mutex hijacked_mu;
  std::set<int> hijacked;

  void accept(Listener& l);
  void track(const std::shared_ptr<SessionBase>& s) {
    std::erase_if(sessions, [](auto& w) { return w.expired(); });
    sessions.push_back(s);
  }
};

template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(Stream s, Server& srv, const Listener& l)
      : stream_(std::move(s)), server_(srv), listener_(l), timer_(srv.io) {}
  void start() { read(); }
  void close() override {
    beast::error_code ec;
    timer_.cancel();
    auto& sock = beast::get_lowest_layer(stream_);
    sock.shutdown(asio::socket_base::shutdown_both, ec);
    sock.close(ec);
    if (pair_) pair_->close(ec);
  }
  Stream& stream() { return stream_; }
  // Gives the connection up to a handler (Response::hijack); I/O thread only.
  Hijacked take_over();

 private:
  std::shared_ptr<Session> self() { return this->shared_from_this(); }
  void arm(int seconds);
  void read();
  void read_header();
  void on_header(beast::error_code ec);
  void on_read(beast::error_code ec);
  void dispatch(Request q, Route route, bool keep_alive, unsigned version);
  void respond(const Request& q, Response r, bool keep_alive, unsigned version);
  // Streamed answers: raw bytes written in order; after the `last` piece the connection
  // reads the next request (keep_alive) or closes.
  void send_raw(std::string data, bool last, bool keep_alive);
  void write_next();
  // TLS hijack: bytes between the TLS stream and the handler's end of a socketpair.
  void pump_up();
  void pump_down();

  Stream stream_;
  Server& server_;
  const Listener& listener_;
  asio::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<http::response<http::string_body>> res_;
  std::optional<Router<Route>::Match> match_;  // the route found from the header
  uint64_t limit_ = 0;                          // its body limit
  std::deque<std::pair<std::string, bool>> raw_out_;
  bool raw_writing_ = false, raw_keep_alive_ = false;
  std::unique_ptr<local::socket> pair_;
  std::array<char, 16384> up_{}, down_{};
};

template <class Stream>
void Session<Stream>::arm(int seconds) {
  timer_.expires_after(std::chrono::seconds(seconds));
  timer_.async_wait([w = std::weak_ptr<Session>(self())](beast::error_code ec) {
    if (ec) return;  // cancelled
    if (auto s = w.lock()) s->close();
  });
}

template <class Stream>
void Session<Stream>::read() {
  parser_.emplace();
  // Beast checks Content-Length against the limit while it parses the header, before we
  // know the route: no limit there, the route's own is applied in on_header.
  parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  parser_->header_limit(64 * 1024);
  match_.reset();
  if (buffer_.size() > 0) {
    read_header();
    return;
  }
  if constexpr (!std::is_same_v<Stream, GenericSocket>) {
    // TLS may hold read-ahead bytes the socket no longer shows: read the header at once,
    // with the idle timeout.
    arm(server_.options.idle_timeout_s);
    http::async_read_header(stream_, buffer_, *parser_, [s = self()](beast::error_code ec, size_t) { s->on_header(ec); });
    return;
  }
  // Idle keep-alive: wait for the next request's first byte, at most idle_timeout_s.
  arm(server_.options.idle_timeout_s);
  beast::get_lowest_layer(stream_).async_wait(asio::socket_base::wait_read, [s = self()](beast::error_code ec) {
    if (ec) {
      s->close();
      return;
    }
    s->read_header();
  });
}

template <class Stream>
void Session<Stream>::read_header() {
  arm(server_.options.header_timeout_s);
  http::async_read_header(stream_, buffer_, *parser_, [s = self()](beast::error_code ec, size_t) { s->on_header(ec); });
}

// The route is known from the header: check the token, then read the body with that
// route's size limit.
template <class Stream>
void Session<Stream>::on_header(beast::error_code ec) {
  if (ec) {
    on_read(ec);
    return;
  }
  auto& req = parser_->get();
  std::string target(req.target());
  auto qm = target.find('?');
  if (listener_.need_token &&
      !request_has_token(server_.options.token, sv(req[http::field::authorization]), sv(req[http::field::cookie]),
                         qm == std::string::npos ? std::string_view() : std::string_view(target).substr(qm + 1))) {
    timer_.cancel();
    Request q;
    q.method = std::string(req.method_string());
    respond(q, error_response(401, "unauthorized: this listener needs the server's token (Authorization: Bearer <token>, "
                                   "the md_token cookie, or ?token=)"),
            false, req.version());
    return;
  }
  auto [path, v] = strip_version(target.substr(0, qm));
  (void)v;
  match_ = server_.router.match(std::string(req.method_string()), path);
  limit_ = match_ && match_->handler->body_limit > 0 ? match_->handler->body_limit : server_.options.body_limit;
  if (auto n = parser_->content_length(); n && *n > limit_) {
    on_read(http::error::body_limit);
    return;
  }
  parser_->body_limit(limit_);
  arm(server_.options.idle_timeout_s);  // the body: as long as an idle connection may wait
  http::async_read(stream_, buffer_, *parser_, [s = self()](beast::error_code ec, size_t) { s->on_read(ec); });
}

template <class Stream>
Hijacked Session<Stream>::take_over() {
  Hijacked h;
  h.pending = beast::buffers_to_string(buffer_.data());
  buffer_.consume(buffer_.size());
  timer_.cancel();
  if constexpr (std::is_same_v<Stream, GenericSocket>) {
    h.fd = ::fcntl(stream_.native_handle(), F_DUPFD_CLOEXEC, 3);
    if (h.fd >= 0) {
      int fl = ::fcntl(h.fd, F_GETFL);
      ::fcntl(h.fd, F_SETFL, fl & ~O_NONBLOCK);
    }
    beast::error_code ec;
    stream_.close(ec);  // the dup keeps the connection open
  } else {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return h;
    pair_ = std::make_unique<local::socket>(server_.io);
    beast::error_code ec;
    pair_->assign(local(), sv[1], ec);
    if (ec) {
      ::close(sv[0]);
      ::close(sv[1]);
      return h;
    }
    h.fd = sv[0];
    pump_up();
    pump_down();
  }
  return h;
}

// TLS → handler.
template <class Stream>
void Session<Stream>::pump_up() {
  stream_.async_read_some(asio::buffer(up_), [s = self()](beast::error_code ec, size_t n) {
    if (ec) {
      beast::error_code ignored;
      if (s->pair_) s->pair_->shutdown(asio::socket_base::shutdown_send, ignored);  // EOF for the handler
      return;
    }
    asio::async_write(*s->pair_, asio::buffer(s->up_.data(), n), [s](beast::error_code ec, size_t) {
      if (ec) s->close();
      else s->pump_up();
    });
  });
}

// Handler → TLS; the handler closing its end ends the connection.
template <class Stream>
void Session<Stream>::pump_down() {
  pair_->async_read_some(asio::buffer(down_), [s = self()](beast::error_code ec, size_t n) {
    if (ec) {
      s->close();
      return;
    }
    asio::async_write(s->stream_, asio::buffer(s->down_.data(), n), [s](beast::error_code ec, size_t) {
      if (ec) s->close();
      else s->pump_down();
    });
  });
}

template <class Stream>
void Session<Stream>::on_read(beast::error_code ec) {
  timer_.cancel();
  if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::operation_aborted ||
      ec == asio::error::connection_reset || ec == asio::error::bad_descriptor || ec == ssl::error::stream_truncated) {
    close();
    return;
  }
  if (ec) {
    Request q;
    Response r = error_response(ec == http::error::body_limit ? 413 : 400,
                                ec == http::error::body_limit ? "request body too large (limit " +
                                                                    std::to_string(limit_ ? limit_ : server_.options.body_limit) + " bytes)"
                                                              : "bad request: " + ec.message());
    respond(q, std::move(r), false, 11);
    return;
  }
  auto req = parser_->release();
  Request q;
  q.method = std::string(req.method_string());
  std::string target(req.target());
  auto qm = target.find('?');
  std::string path = target.substr(0, qm);
  if (qm != std::string::npos) {
    q.query = parse_query(std::string_view(target).substr(qm + 1));
    q.query_all = parse_query_all(std::string_view(target).substr(qm + 1));
  }
  auto [p, v] = strip_version(path);
  q.path = p;
  q.version = v;
  q.body = std::move(req.body());
  for (auto& f : req) {
    std::string name(f.name_string());
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
    q.headers[name] = std::string(f.value());
  }
  bool keep_alive = req.keep_alive();
  unsigned version = req.version();

  auto m = std::move(match_);
  if (!m) {
    respond(q, not_found_response(), keep_alive, version);
    return;
  }
  q.params = std::move(m->params);
  Route route = *m->handler;
  if (route.run_on == RunOn::kInline) {
    respond(q, route.fn(nullptr, q), keep_alive, version);
    return;
  }
  if (route.run_on == RunOn::kOwnThread && server_.pool->detached() >= server_.options.max_own_threads) {
    Response busy = error_response(503, "too many long-running requests in progress (" +
                                            std::to_string(server_.options.max_own_threads) + "); try again later");
    busy.headers.emplace_back("Retry-After", "1");
    respond(q, std::move(busy), keep_alive, version);
    return;
  }
  dispatch(std::move(q), route, keep_alive, version);
}

template <class Stream>
void Session<Stream>::dispatch(Request q, Route route, bool keep_alive, unsigned version) {
  auto job = [s = self(), route, q = std::move(q), keep_alive, version](engine::Engine* e, const Error* err) {
    Server& srv = s->server_;
    Response r;
    try {
      r = err ? error_response(500, "cannot open the engine: " + err->message) : route.fn(e, q);
    } catch (const std::exception& ex) {
      r = error_response(500, std::string("internal error: ") + ex.what());
    }
    if (r.hijack) {
      std::promise<Hijacked> taken;
      auto fut = taken.get_future();
      asio::post(srv.io, [s, &taken] { taken.set_value(s->take_over()); });
      Hijacked h = fut.get();
      if (h.fd < 0) return;
      {
        std::lock_guard l(srv.hijacked_mu);
        srv.hijacked.insert(h.fd);
        if (srv.stopping) ::shutdown(h.fd, SHUT_RDWR);
      }
      bool ok = true;
      if (r.status != 0) {
        std::string head = "HTTP/1.1 " + std::to_string(r.status) + " " +
                           std::string(r.status == 101 ? "UPGRADED" : http::obsolete_reason(static_cast<http::status>(r.status))) +
                           "\r\nServer: minidocker/" + kVersion + " (linux)\r\nApi-Version: " + kApiVersion +
                           "\r\nOstype: linux\r\n";
        bool has_type = false;
        for (auto& [k, v] : r.headers) {
          has_type = has_type || beast::iequals(k, "Content-Type");
          head += k + ": " + v + "\r\n";
        }
        if (!has_type && !r.content_type.empty()) head += "Content-Type: " + r.content_type + "\r\n";
        head += "\r\n";
        ok = write_all(h.fd, head);
      }
      if (ok) {
        try {
          r.hijack(h);
        } catch (const std::exception&) {
        }
      }
      {
        std::lock_guard l(srv.hijacked_mu);
        srv.hijacked.erase(h.fd);
      }
      ::close(h.fd);
      return;
    }
    if (!r.rest) {
      // A big answer (a list of 200 containers) leaves its JSON's memory free in this
      // thread's malloc arena: give it back rather than keep it as RSS.
      bool big = r.body.size() > 64 * 1024;
      asio::post(srv.io, [s, q, r = std::move(r), keep_alive, version]() mutable {
        s->respond(q, std::move(r), keep_alive, version);
      });
      if (big) ::malloc_trim(0);
      return;
    }
    // Streamed: headers (and any first bytes) now, the rest when it is ready.
    std::string head = "HTTP/1.1 " + std::to_string(r.status) + " OK\r\nServer: minidocker/" + kVersion +
                       " (linux)\r\nApi-Version: " + kApiVersion + "\r\nOstype: linux\r\nContent-Type: " +
                       r.content_type + "\r\nTransfer-Encoding: chunked\r\n" +
                       (keep_alive ? "" : "Connection: close\r\n") + "\r\n";
    head += http_chunk(r.body);
    asio::post(srv.io, [s, head] { s->send_raw(head, false, true); });
    std::string tail;
    try {
      tail = r.rest();
    } catch (const std::exception&) {
      tail = "";
    }
    std::string end = http_chunk(tail) + std::string(kLastChunk);
    asio::post(srv.io, [s, end, keep_alive] { s->send_raw(end, true, keep_alive); });
  };
  if (route.run_on == RunOn::kOwnThread) server_.pool->spawn(std::move(job));
  else server_.pool->submit(std::move(job));
}

template <class Stream>
void Session<Stream>::respond(const Request& q, Response r, bool keep_alive, unsigned version) {
  res_ = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), version);
  res_->set(http::field::server, std::string("minidocker/") + kVersion + " (linux)");
  res_->set("Api-Version", kApiVersion);
  res_->set("Ostype", "linux");
  for (auto& [k, v] : r.headers) res_->set(k, v);
  if (!r.content_type.empty()) res_->set(http::field::content_type, r.content_type);
  bool head = q.method == "HEAD";
  size_t length = r.body.size();
  if (!head) res_->body() = std::move(r.body);
  res_->keep_alive(keep_alive && !server_.stopping);
  if (r.status == 204 || r.status == 304) {
    res_->content_length(boost::none);
  } else if (head) {
    res_->content_length(length);
  } else {
    res_->prepare_payload();
  }
  http::async_write(stream_, *res_, [s = self()](beast::error_code ec, size_t) {
    if (ec || !s->res_->keep_alive()) {
      s->close();
      return;
    }
    s->res_.reset();
    s->read();
  });
}

template <class Stream>
void Session<Stream>::send_raw(std::string data, bool last, bool keep_alive) {
  if (last) raw_keep_alive_ = keep_alive && !server_.stopping;
  raw_out_.emplace_back(std::move(data), last);
  if (!raw_writing_) write_next();
}

template <class Stream>
void Session<Stream>::write_next() {
  if (raw_out_.empty()) {
    raw_writing_ = false;
    return;
  }
  raw_writing_ = true;
  auto piece = std::make_shared<std::pair<std::string, bool>>(std::move(raw_out_.front()));
  raw_out_.pop_front();
  asio::async_write(stream_, asio::buffer(piece->first), [s = self(), piece](beast::error_code ec, size_t) {
    if (ec) {
      s->raw_out_.clear();
      s->raw_writing_ = false;
      s->close();
      return;
    }
    if (piece->second) {
      s->raw_writing_ = false;
      if (s->raw_keep_alive_) s->read();
      else s->close();
      return;
    }
    s->write_next();
  });
}

void Server::accept(Listener& l) {
  l.acceptor->async_accept([this, &l](beast::error_code ec, GenericSocket sock) {
    if (ec) {
      if (ec == asio::error::operation_aborted || stopping) return;
      // EMFILE and the like: keep accepting (after a breath) rather than stop serving.
      auto t = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(100));
      t->async_wait([this, &l, t](beast::error_code) {
        if (!stopping) accept(l);
      });
      return;
    }
    set_cloexec(sock.native_handle());
    if (sock.local_endpoint().protocol().family() != AF_UNIX) {
      int one = 1;
      ::setsockopt(sock.native_handle(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    if (l.tls) {
      auto s = std::make_shared<Session<TlsStream>>(TlsStream(std::move(sock), *tls), *this, l);
      track(s);
      // The handshake shares the header timeout.
      auto timer = std::make_shared<asio::steady_timer>(io, std::chrono::seconds(options.header_timeout_s));
      timer->async_wait([w = std::weak_ptr(s)](beast::error_code e) {
        if (!e)
          if (auto p = w.lock()) p->close();
      });
      s->stream().async_handshake(ssl::stream_base::server, [s, timer](beast::error_code e) {
        timer->cancel();
        if (e) {
          s->close();
          return;
        }
        s->start();
      });
    } else {
      auto s = std::make_shared<Session<GenericSocket>>(std::move(sock), *this, l);
      track(s);
      s->start();
    }
    if (!stopping) accept(l);
  });
}

Result<std::unique_ptr<ssl::context>> tls_context(const ServeOptions& o) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  beast::error_code ec;
  ctx->use_certificate_chain_file(o.tls_cert, ec);
  if (ec) return fail("--tls-cert " + o.tls_cert + ": " + ec.message(), EINVAL);
  ctx->use_private_key_file(o.tls_key, ssl::context::pem, ec);
  if (ec) return fail("--tls-key " + o.tls_key + ": " + ec.message(), EINVAL);
  return ctx;
}

}  // namespace

int serve(const ServeOptions& o) {
  if (auto problem = check_listener_security(o); !problem.empty()) {
    std::fprintf(stderr, "Error: %s\n", problem.c_str());
    return 1;
  }
  // Few malloc arenas: each worker thread would otherwise keep an arena of its own full
  // of freed pages (RSS) — the server's work is not malloc-bound.
  ::mallopt(M_ARENA_MAX, 2);
  Server srv;
  srv.options = o;
  add_docker_routes(srv.router);
  // Open one Engine up front (it creates the roots) so a broken root is reported now,
  // not on the first request.
  if (auto e = engine::Engine::open(o.engine); !e) {
    std::fprintf(stderr, "Error: %s\n", e.error().message.c_str());
    return 1;
  }
  Hub::instance().configure(o.engine);
  bool use_tls = !o.tls_cert.empty();
  if (use_tls) {
    auto ctx = tls_context(o);
    if (!ctx) {
      std::fprintf(stderr, "Error: %s\n", ctx.error().message.c_str());
      return 1;
    }
    srv.tls = std::move(*ctx);
  }
  auto give_up = [&](const std::string& message) {
    std::fprintf(stderr, "Error: %s\n", message.c_str());
    for (auto& l : srv.listeners)
      if (l.name.rfind("unix://", 0) == 0) ::unlink(l.name.substr(7).c_str());
    return 1;
  };
  srv.listeners.reserve(o.unix_sockets.size() + o.tcp.size() + o.web.size());
  for (auto& path : o.unix_sockets) {
    auto a = listen_unix(srv.io, path);
    if (!a) return give_up(a.error().message);
    srv.listeners.push_back(Listener{std::move(*a), "unix://" + path, false, false});
  }
  for (auto* list : {&o.tcp, &o.web})
    for (auto& addr : *list) {
      std::string host, bound;
      int port = 0;
      split_host_port(addr, &host, &port);  // checked by check_listener_security
      auto a = listen_tcp(srv.io, host, port, &bound);
      if (!a) return give_up(a.error().message);
      std::string scheme = list == &o.web ? (use_tls ? "https://" : "http://") : "tcp://";
      srv.listeners.push_back(Listener{std::move(*a), scheme + bound, use_tls, !o.token.empty()});
    }
  srv.pool = std::make_unique<WorkerPool>(o.workers, o.engine);
  for (auto& l : srv.listeners) srv.accept(l);

  // Requests running in the pool hold no Asio operation: without this guard run() would
  // return as soon as the listeners close at SIGTERM, cutting them off.
  auto work = asio::make_work_guard(srv.io);
  asio::signal_set signals(srv.io, SIGTERM, SIGINT);
  signals.async_wait([&](beast::error_code ec, int) {
    if (ec) return;
    srv.stopping = true;
    for (auto& l : srv.listeners) {
      beast::error_code ignored;
      l.acceptor->close(ignored);
    }
    for (auto& p : o.unix_sockets) ::unlink(p.c_str());
    // Streams and WebSockets never end by themselves: end them now (their threads see EOF
    // or EPIPE and return). Then let the requests being handled finish, up to 5 s, and
    // their answers go out.
    {
      std::lock_guard l(srv.hijacked_mu);
      for (int fd : srv.hijacked) ::shutdown(fd, SHUT_RDWR);
    }
    std::thread([&srv] {
      srv.pool->stop();
      for (int i = 0; i < 50 && srv.pool->detached() > 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        std::lock_guard l(srv.hijacked_mu);
        for (int fd : srv.hijacked) ::shutdown(fd, SHUT_RDWR);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the last answers go out
      asio::post(srv.io, [&srv] {
        for (auto& w : srv.sessions)
          if (auto s = w.lock()) s->close();
        asio::post(srv.io, [&srv] { srv.io.stop(); });
      });
    }).detach();
  });
  for (auto& l : srv.listeners) {
    bool web = l.name.rfind("http", 0) == 0;
    std::fprintf(stderr, "minidocker: %s listening on %s%s\n", web ? "dashboard" : "API", l.name.c_str(),
                 l.need_token ? " (token required)" : l.tls ? " (TLS)" : "");
  }
  std::fflush(stderr);
  srv.io.run();
  std::fflush(stdout);
  std::fflush(stderr);
  // Threads still blocked in a handler (detached) or the hub would outlive `srv`: leave
  // without running destructors under them.
  ::_exit(0);
}

}  // namespace md::api
