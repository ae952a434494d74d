// The HTTP side of the API server: Boost.Beast over Asio unix sockets.
//
// Threading model. The engine library is single-threaded per Engine object (each owns a
// SQLite connection; docs/engine.md), and its operations block (start waits for the
// monitor, stop for the container to exit). So:
//   - one I/O thread runs the io_context: accept, read, parse, route, write. It never calls
//     the engine. Unknown paths and the Engine-free routes (/_ping, /version) are answered
//     right there, so they come back at once even when every worker is busy;
//   - a pool of `workers` threads, each owning its own Engine (Engine::open on the thread's
//     first job), runs the other handlers from a FIFO queue and posts the response back to
//     the I/O thread;
//   - handlers that may block for long (wait, stop, restart) get a thread of their own
//     with an Engine of its own, so `docker wait` never holds a pool worker. These are
//     bounded by the number of such requests in flight.
// Different processes (the CLI, other servers) are serialised by the engine's own
// per-container locks, exactly as between two CLI commands.
//
// One request at a time per connection (HTTP/1.1 keep-alive, no pipelining in parallel).
// Sockets are close-on-exec so the monitors the engine forks never inherit them.
#include "api/server.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
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
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "api/handlers.h"
#include "api/router.h"

namespace md::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using local = asio::local::stream_protocol;

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

struct Server;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(local::socket s, Server& srv) : socket_(std::move(s)), server_(srv) {}
  void start() { read(); }
  // Gives the connection up to a handler (Response::hijack): a blocking dup of the socket
  // and the bytes already read past the request; the session then ends. I/O thread only.
  Hijacked take_over();
  void close() {
    beast::error_code ec;
    socket_.shutdown(local::socket::shutdown_both, ec);
    socket_.close(ec);
  }

 private:
  void read();
  void on_header(beast::error_code ec);
  void on_read(beast::error_code ec);
  void respond(const Request& q, Response r, bool keep_alive, unsigned version);
  // Streamed answers: raw bytes written in order; after the `last` piece the connection
  // reads the next request (keep_alive) or closes.
  void send_raw(std::string data, bool last, bool keep_alive);
  void write_next();
  std::deque<std::pair<std::string, bool>> raw_out_;
  bool raw_writing_ = false, raw_keep_alive_ = false;

  local::socket socket_;
  Server& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<http::response<http::string_body>> res_;
  std::optional<Router<Route>::Match> match_;  // the route found from the header
  uint64_t limit_ = 0;                          // its body limit
};

struct Server {
  asio::io_context io{1};
  ServeOptions options;
  Router<Route> router;
  std::unique_ptr<WorkerPool> pool;
  std::vector<std::unique_ptr<local::acceptor>> acceptors;
  std::vector<std::weak_ptr<Session>> sessions;
  bool stopping = false;

  void accept(local::acceptor& a) {
    a.async_accept([this, &a](beast::error_code ec, local::socket s) {
      if (ec) {
        if (ec == asio::error::operation_aborted || stopping) return;
      } else {
        set_cloexec(s.native_handle());
        auto session = std::make_shared<Session>(std::move(s), *this);
        std::erase_if(sessions, [](auto& w) { return w.expired(); });
        sessions.push_back(session);
        session->start();
      }
      if (!stopping) accept(a);
    });
  }
};

void Session::read() {
  parser_.emplace();
  // Beast checks Content-Length against the limit while it parses the header, before we
  // know the route: no limit there, the route's own is applied in on_header.
  parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  parser_->header_limit(64 * 1024);
  match_.reset();
  http::async_read_header(socket_, buffer_, *parser_,
                          [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
}

// The route is known from the header: read the body with that route's size limit.
void Session::on_header(beast::error_code ec) {
  if (ec) {
    on_read(ec);
    return;
  }
  auto& req = parser_->get();
  std::string target(req.target());
  auto [path, v] = strip_version(target.substr(0, target.find('?')));
  (void)v;
  match_ = server_.router.match(std::string(req.method_string()), path);
  limit_ = match_ && match_->handler->body_limit > 0 ? match_->handler->body_limit : server_.options.body_limit;
  if (auto n = parser_->content_length(); n && *n > limit_) {
    on_read(http::error::body_limit);
    return;
  }
  parser_->body_limit(limit_);
  http::async_read(socket_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
}

Hijacked Session::take_over() {
  Hijacked h;
  h.fd = ::fcntl(socket_.native_handle(), F_DUPFD_CLOEXEC, 3);
  if (h.fd >= 0) {
    int fl = ::fcntl(h.fd, F_GETFL);
    ::fcntl(h.fd, F_SETFL, fl & ~O_NONBLOCK);
  }
  h.pending = beast::buffers_to_string(buffer_.data());
  buffer_.consume(buffer_.size());
  beast::error_code ec;
  socket_.close(ec);  // the dup keeps the connection open
  return h;
}

void Session::on_read(beast::error_code ec) {
  if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::operation_aborted ||
      ec == asio::error::connection_reset) {
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
  if (qm != std::string::npos) q.query = parse_query(std::string_view(target).substr(qm + 1));
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
  auto job = [self = shared_from_this(), route, q, keep_alive, version](engine::Engine* e, const Error* err) {
    Response r;
    try {
      r = err ? error_response(500, "cannot open the engine: " + err->message) : route.fn(e, q);
    } catch (const std::exception& ex) {
      r = error_response(500, std::string("internal error: ") + ex.what());
    }
    if (r.hijack) {
      std::promise<Hijacked> taken;
      auto fut = taken.get_future();
      asio::post(self->server_.io, [self, &taken] { taken.set_value(self->take_over()); });
      Hijacked h = fut.get();
      if (h.fd < 0) return;
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
      ::close(h.fd);
      return;
    }
    if (!r.rest) {
      asio::post(self->server_.io, [self, q, r = std::move(r), keep_alive, version]() mutable {
        self->respond(q, std::move(r), keep_alive, version);
      });
      return;
    }
    // Streamed: headers (and any first bytes) now, the rest when it is ready.
    std::string head = "HTTP/1.1 " + std::to_string(r.status) + " OK\r\nServer: minidocker/" + kVersion +
                       " (linux)\r\nApi-Version: " + kApiVersion + "\r\nOstype: linux\r\nContent-Type: " +
                       r.content_type + "\r\nTransfer-Encoding: chunked\r\n" +
                       (keep_alive ? "" : "Connection: close\r\n") + "\r\n";
    auto chunk = [](const std::string& data) {
      char n[32];
      std::snprintf(n, sizeof n, "%zx\r\n", data.size());
      return std::string(n) + data + "\r\n";
    };
    if (!r.body.empty()) head += chunk(r.body);
    asio::post(self->server_.io, [self, head] { self->send_raw(head, false, true); });
    std::string tail;
    try {
      tail = r.rest();
    } catch (const std::exception& ex) {
      tail = "";
    }
    std::string end = (tail.empty() ? "" : chunk(tail)) + "0\r\n\r\n";
    asio::post(self->server_.io, [self, end, keep_alive] { self->send_raw(end, true, keep_alive); });
  };
  if (route.run_on == RunOn::kOwnThread) server_.pool->spawn(std::move(job));
  else server_.pool->submit(std::move(job));
}

void Session::respond(const Request& q, Response r, bool keep_alive, unsigned version) {
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
  http::async_write(socket_, *res_, [self = shared_from_this(), head](beast::error_code ec, size_t) {
    if (ec || !self->res_->keep_alive()) {
      self->close();
      return;
    }
    self->res_.reset();
    self->read();
  });
  (void)head;
}

void Session::send_raw(std::string data, bool last, bool keep_alive) {
  if (last) raw_keep_alive_ = keep_alive && !server_.stopping;
  raw_out_.emplace_back(std::move(data), last);
  if (!raw_writing_) write_next();
}

void Session::write_next() {
  if (raw_out_.empty()) {
    raw_writing_ = false;
    return;
  }
  raw_writing_ = true;
  auto piece = std::make_shared<std::pair<std::string, bool>>(std::move(raw_out_.front()));
  raw_out_.pop_front();
  asio::async_write(socket_, asio::buffer(piece->first), [self = shared_from_this(), piece](beast::error_code ec, size_t) {
    if (ec) {
      self->raw_out_.clear();
      self->raw_writing_ = false;
      self->close();
      return;
    }
    if (piece->second) {
      self->raw_writing_ = false;
      if (self->raw_keep_alive_) self->read();
      else self->close();
      return;
    }
    self->write_next();
  });
}

// Binds `path` 0660 root:root, replacing a stale socket (one nobody answers on); refuses
// one a live server is listening on.
Result<std::unique_ptr<local::acceptor>> listen_unix(asio::io_context& io, const std::string& path) {
  if (path.size() >= sizeof(sockaddr_un{}.sun_path))
    return fail("socket path too long (" + std::to_string(path.size()) + " bytes, max 107): " + path, ENAMETOOLONG);
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return fail(path + " exists and is not a socket", EEXIST);
    local::socket probe(io);
    beast::error_code ec;
    probe.connect(local::endpoint(path), ec);
    if (!ec) return fail("another server is listening on " + path, EADDRINUSE);
    ::unlink(path.c_str());
  }
  auto slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    std::string dir = path.substr(0, slash);
    ::mkdir(dir.c_str(), 0755);  // one level, e.g. /run/minidocker
  }
  auto a = std::make_unique<local::acceptor>(io);
  beast::error_code ec;
  a->open(local(), ec);
  if (!ec) set_cloexec(a->native_handle());
  mode_t old = ::umask(0117);  // the socket is created 0660
  if (!ec) a->bind(local::endpoint(path), ec);
  ::umask(old);
  if (!ec) a->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("cannot listen on " + path + ": " + ec.message(), ec.value());
  if (::chmod(path.c_str(), 0660) != 0 || ::chown(path.c_str(), 0, 0) != 0)
    return fail("cannot set the mode of " + path, errno);
  return a;
}

}  // namespace

int serve(const ServeOptions& o) {
  Server srv;
  srv.options = o;
  add_docker_routes(srv.router);
  // Open one Engine up front (it creates the roots) so a broken root is reported now,
  // not on the first request.
  if (auto e = engine::Engine::open(o.engine); !e) {
    std::fprintf(stderr, "Error: %s\n", e.error().message.c_str());
    return 1;
  }
  for (auto& path : o.unix_sockets) {
    auto a = listen_unix(srv.io, path);
    if (!a) {
      std::fprintf(stderr, "Error: %s\n", a.error().message.c_str());
      for (auto& p : o.unix_sockets) {
        if (&p == &path) break;
        ::unlink(p.c_str());
      }
      return 1;
    }
    srv.acceptors.push_back(std::move(*a));
  }
  srv.pool = std::make_unique<WorkerPool>(o.workers, o.engine);
  for (auto& a : srv.acceptors) srv.accept(*a);

  asio::signal_set signals(srv.io, SIGTERM, SIGINT);
  signals.async_wait([&](beast::error_code ec, int) {
    if (ec) return;
    srv.stopping = true;
    for (auto& a : srv.acceptors) {
      beast::error_code ignored;
      a->close(ignored);
    }
    for (auto& p : o.unix_sockets) ::unlink(p.c_str());
    // Let the requests being handled finish and their answers go out, then stop.
    std::thread([&srv] {
      srv.pool->stop();
      for (int i = 0; i < 50 && srv.pool->detached() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the last answers go out
      asio::post(srv.io, [&srv] {
        for (auto& w : srv.sessions)
          if (auto s = w.lock()) s->close();
        asio::post(srv.io, [&srv] { srv.io.stop(); });
      });
    }).detach();
  });
  for (auto& p : o.unix_sockets) std::fprintf(stderr, "minidocker: API listening on unix://%s\n", p.c_str());
  std::fflush(stderr);
  srv.io.run();
  std::fflush(stdout);
  std::fflush(stderr);
  // Threads still blocked in a wait (detached) would outlive `srv`: leave without
  // running destructors under them.
  if (srv.pool->detached() > 0) ::_exit(0);
  return 0;
}

}  // namespace md::api
