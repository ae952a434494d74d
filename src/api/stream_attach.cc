// POST /containers/{id}/attach and /resize (docs/api-streams.md).
//
// The monitor owns the container's stdio (docs/monitor.md) and speaks Docker's
// multiplexed stream to its clients, so attaching is relaying between the hijacked
// connection and a monitor client: the --attach-fd socketpair for a client that came
// before the start (stream_attach.h), the attach socket for one that comes while it runs.
#include "api/stream_attach.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <deque>
#include <map>
#include <memory>
#include <mutex>

#include "api/http_util.h"
#include "api/stream_util.h"
#include "engine/core/attach.h"
#include "engine/core/follow.h"
#include "engine/core/logs.h"

namespace md::api {

namespace {

using store::ContainerState;

// ---- clients waiting for a start

struct Pending {
  UniqueFd theirs;  // the end the monitor will inherit
  bool claimed = false;
};

std::mutex g_mu;
std::map<std::string, std::deque<std::shared_ptr<Pending>>> g_pending;  // container id → oldest first

std::shared_ptr<Pending> register_pending(const std::string& id, UniqueFd theirs) {
  auto p = std::make_shared<Pending>();
  p->theirs = std::move(theirs);
  std::lock_guard l(g_mu);
  g_pending[id].push_back(p);
  return p;
}

// Takes `p` back unless a start claimed it; true when it was still waiting.
bool withdraw(const std::string& id, const std::shared_ptr<Pending>& p) {
  std::lock_guard l(g_mu);
  if (p->claimed) return false;
  auto it = g_pending.find(id);
  if (it != g_pending.end()) {
    std::erase(it->second, p);
    if (it->second.empty()) g_pending.erase(it);
  }
  p->claimed = true;  // nobody may claim it any more
  p->theirs.reset();
  return true;
}

bool is_claimed(const std::shared_ptr<Pending>& p) {
  std::lock_guard l(g_mu);
  return p->claimed;
}

// ---- the relay

struct AttachParams {
  std::string id;
  bool tty = false, stdin_once = false;
  bool in = false, out = false, err = false;
  bool logs = false, stream = false;
  DetachKeys keys;
};

void set_nonblock(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// The monitor client of one attach request, set up by the handler before its answer goes
// out (a start may follow right after the client read it): a connection to the attach
// socket of a running container, or a socketpair whose other end waits for the start.
struct MonitorLink {
  std::string id;
  UniqueFd mon;
  std::shared_ptr<Pending> pending;  // non-null while no start claimed it
  MonitorLink() = default;
  MonitorLink(const MonitorLink&) = delete;
  ~MonitorLink() {
    if (pending) withdraw(id, pending);
  }
};

Status link_monitor(const engine::Paths& paths, MonitorLink& l) {
  if (engine::monitor_says_up(paths, l.id))
    if (auto s = engine::connect_attach(paths, l.id)) l.mon = std::move(*s);
  if (!l.mon) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return fail_errno("socketpair");
    l.mon = UniqueFd(sv[0]);
    l.pending = register_pending(l.id, UniqueFd(sv[1]));
  }
  set_nonblock(l.mon.get());
  return {};
}

void relay(engine::Engine& e, Hijacked& h, AttachParams& a, MonitorLink& link) {
  const engine::Paths& paths = e.paths();
  auto send = [&](int stream, const std::string& payload) -> bool {
    if (payload.empty() || (stream == 2 ? !a.err : !a.out)) return true;
    if (a.tty) return write_all(h.fd, payload);
    std::string f;
    put_frame(f, stream == 2, payload);
    return write_all(h.fd, f);
  };
  if (a.logs && (a.out || a.err)) {
    engine::LogOptions o;
    o.stdout_stream = a.out;
    o.stderr_stream = a.err;
    bool ok = true;
    (void)engine::read_logs(e, a.id, o, [&](const engine::LogLine& l) { return ok = send(l.is_stderr ? 2 : 1, l.text); });
    if (!ok) return;
  }
  if (!a.stream) return;
  UniqueFd& mon = link.mon;
  std::shared_ptr<Pending>& pending = link.pending;

  std::string to_mon;  // client input not yet taken by the monitor
  if (a.in && a.keys.scan(h.pending, to_mon)) return;
  bool client_reading = true;  // the client's input side is open
  bool mon_shut = false;       // we sent the monitor our EOF
  FrameReader frames;
  char buf[65536];
  int ticks = 0;
  for (;;) {
    if (!client_reading && to_mon.empty() && !mon_shut && a.in && a.stdin_once) {
      ::shutdown(mon.get(), SHUT_WR);  // stdin-once: the container's stdin closes
      mon_shut = true;
    }
    pollfd p[2] = {
        {h.fd, short(client_reading && to_mon.size() < (1u << 20) ? POLLIN : 0), 0},
        {mon.get(), short(POLLIN | (to_mon.empty() || mon_shut ? 0 : POLLOUT)), 0},
    };
    int r = ::poll(p, 2, pending ? 250 : -1);
    if (r < 0 && errno != EINTR) break;
    if (r <= 0) {
      if (!pending) continue;
      // Nobody claimed us yet: a start by someone else (a restart policy, the CLI) means
      // we join through the attach socket; a removed container ends the wait.
      if (is_claimed(pending)) {
        pending.reset();
      } else if (engine::monitor_says_up(paths, a.id)) {
        if (withdraw(a.id, pending)) {
          auto s = engine::connect_attach(paths, a.id);
          if (!s) break;
          mon = std::move(*s);
          set_nonblock(mon.get());
        }
        pending.reset();
      } else if (++ticks % 4 == 0 && !e.containers().resolve(a.id)) {
        break;
      }
      continue;
    }
    if (p[1].revents & POLLOUT) {
      ssize_t n = ::send(mon.get(), to_mon.data(), to_mon.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) to_mon.erase(0, size_t(n));
      else if (n < 0 && errno != EAGAIN && errno != EINTR) to_mon.clear();
    }
    if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::read(mon.get(), buf, sizeof buf);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) break;  // the container is done
      if (n > 0) {
        frames.feed(buf, size_t(n));
        int stream;
        std::string payload;
        bool ok = true;
        while (ok && frames.next(&stream, &payload)) ok = send(stream, payload);
        if (!ok) break;  // the client is gone
      }
    }
    if (p[0].revents & POLLIN) {
      ssize_t n = ::read(h.fd, buf, sizeof buf);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n < 0) break;
      if (n == 0) {
        client_reading = false;  // half-closed: its input ended, output still goes out
      } else if (a.in && a.keys.scan(std::string_view(buf, size_t(n)), to_mon)) {
        break;  // the detach keys: the container keeps running
      }
    }
    if (p[0].revents & (POLLHUP | POLLERR | POLLNVAL)) break;
  }
}

Response container_attach(engine::Engine* e, const Request& q) {
  auto c = lookup(*e, q.params.at("id"));
  if (!c) return error_response(c.error());
  if (c->state == ContainerState::kRemoving || c->state == ContainerState::kDead)
    return error_response(409, "container " + c->id + " is marked for removal and cannot be attached to");
  AttachParams a;
  a.id = c->id;
  a.tty = c->config.value("Tty", false);
  a.stdin_once = c->config.value("StdinOnce", false);
  a.in = query_bool(q, "stdin") && c->config.value("OpenStdin", false);
  a.out = query_bool(q, "stdout");
  a.err = query_bool(q, "stderr");
  a.logs = query_bool(q, "logs");
  a.stream = query_bool(q, "stream");
  std::string keys = query_value(q, "detachKeys");
  if (!a.keys.parse(keys)) return error_response(400, "Invalid detach keys (" + keys + ") provided");
  auto link = std::make_shared<MonitorLink>();
  link->id = c->id;
  if (a.stream)
    if (auto s = link_monitor(e->paths(), *link); !s) return error_response(s.error());
  Response r = attach_stream_response(q, a.tty);
  r.hijack = [e, a, link](Hijacked& h) mutable { relay(*e, h, a, *link); };
  return r;
}

// POST /containers/{id}/resize?h=&w=: the monitor's control socket.
Response container_resize(engine::Engine* e, const Request& q) {
  auto c = lookup(*e, q.params.at("id"));
  if (!c) return error_response(c.error());
  auto h = query_int(q, "h");
  if (!h) return error_response(400, h.error().message);
  auto w = query_int(q, "w");
  if (!w) return error_response(400, w.error().message);
  if (!is_up(c->state) || c->state == ContainerState::kRestarting)
    return error_response(409, "Container " + c->id + " is not running");
  auto s = engine::resize_tty(e->paths(), c->id, int(h->value_or(0)), int(w->value_or(0)));
  if (!s) return error_response(s.error().errno_value == EINVAL ? 400 : 500, s.error().message);
  Response r;
  r.content_type = "text/plain; charset=utf-8";
  return r;
}

}  // namespace

AttachClaim claim_pending_attach(const std::string& container_id) {
  std::lock_guard l(g_mu);
  auto it = g_pending.find(container_id);
  if (it == g_pending.end() || it->second.empty()) return {};
  auto p = it->second.front();
  it->second.pop_front();
  if (it->second.empty()) g_pending.erase(it);
  p->claimed = true;
  return AttachClaim(std::move(p->theirs));
}

void add_attach_routes(Router<Route>& r) {
  r.add("POST", "/containers/{id}/attach", {container_attach, RunOn::kOwnThread});
  r.add("POST", "/containers/{id}/resize", {container_resize, RunOn::kPool});
}

}  // namespace md::api
