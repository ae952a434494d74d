// Exec endpoints (docs/api-streams.md): create, start (a hijacked stream like attach, or
// detached), inspect, resize. Exec instances live in this process's memory, as dockerd's
// do: a map keyed by a 64-hex id, under a mutex. The process itself is run by the runtime
// binary with pipes or a pty as its stdio (engine/core/exec_session.h), pumped to and
// from the client's connection; its exit code is recorded before the stream ends, so the
// CLI's inspect right after sees it.
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "api/http_util.h"
#include "api/stream_util.h"
#include "engine/core/events.h"
#include "engine/core/exec_session.h"
#include "engine/store/ids.h"

namespace md::api {

namespace {

using nlohmann::json;

struct ExecRecord {
  std::string id, container_id;
  json config;  // Docker's ExecConfig as created
  // For events: the container's name, image and labels.
  std::string name, image;
  std::map<std::string, std::string> labels;
  // Guarded by g_mu:
  bool started = false, running = false;
  std::optional<int> exit_code;
  pid_t pid = 0;
  int master = -1;  // the running process's pty master (owned by its session): resize
  int64_t ended_ns = 0;
};

std::mutex g_mu;
std::map<std::string, std::shared_ptr<ExecRecord>> g_execs;

constexpr int64_t kKeepEndedNs = 15LL * 60 * 1000000000;  // ended instances stay 15 min
constexpr size_t kMaxRecords = 4096;

std::shared_ptr<ExecRecord> find_exec(const std::string& id) {
  std::lock_guard l(g_mu);
  auto it = g_execs.find(id);
  return it == g_execs.end() ? nullptr : it->second;
}

// Forgets ended instances after a while (dockerd drops them with their container).
void prune_locked(int64_t now) {
  for (auto it = g_execs.begin(); it != g_execs.end();) {
    auto& r = *it->second;
    if (!r.running && r.ended_ns && now - r.ended_ns > kKeepEndedNs) it = g_execs.erase(it);
    else ++it;
  }
  while (g_execs.size() >= kMaxRecords) {
    auto oldest = g_execs.end();
    for (auto it = g_execs.begin(); it != g_execs.end(); ++it)
      if (!it->second->running && (oldest == g_execs.end() || it->second->ended_ns < oldest->second->ended_ns))
        oldest = it;
    if (oldest == g_execs.end()) break;
    g_execs.erase(oldest);
  }
}

std::string command_line(const json& config) {
  std::string s;
  if (config.contains("Cmd") && config["Cmd"].is_array())
    for (auto& a : config["Cmd"])
      if (a.is_string()) s += (s.empty() ? "" : " ") + a.get<std::string>();
  return s;
}

// An exec event with the container's attributes (no Engine needed: detached sessions
// end on threads of their own).
void emit_exec_event(const std::string& events_file, const ExecRecord& r, const std::string& action,
                     std::map<std::string, std::string> extra = {}) {
  engine::Event ev;
  ev.action = action;
  ev.id = r.container_id;
  ev.from = r.image;
  ev.attributes = r.labels;
  ev.attributes["name"] = r.name;
  ev.attributes["image"] = r.image;
  ev.attributes["execID"] = r.id;
  for (auto& [k, v] : extra) ev.attributes[k] = v;
  engine::append_event(events_file, ev);
}

json exec_inspect_json(const ExecRecord& r) {
  json cmd = r.config.value("Cmd", json::array());
  json args = json::array();
  for (size_t i = 1; i < cmd.size(); ++i) args.push_back(cmd[i]);
  return {{"ID", r.id},
          {"Running", r.running},
          {"ExitCode", r.exit_code ? json(*r.exit_code) : json(nullptr)},
          {"ProcessConfig",
           {{"tty", r.config.value("Tty", false)},
            {"entrypoint", cmd.empty() ? json("") : cmd[0]},
            {"arguments", args},
            {"privileged", r.config.value("Privileged", false)},
            {"user", r.config.value("User", "")}}},
          {"OpenStdin", r.config.value("AttachStdin", false)},
          {"OpenStderr", r.config.value("AttachStderr", false)},
          {"OpenStdout", r.config.value("AttachStdout", false)},
          {"CanRemove", false},
          {"ContainerID", r.container_id},
          {"DetachKeys", r.config.value("DetachKeys", "")},
          {"Pid", r.pid}};
}

// ---- the session: pumps the process's stdio to and from the client until it exits

struct Session {
  std::shared_ptr<ExecRecord> rec;
  std::string events_file;
  json process;
  engine::ExecStdio io;
  bool framed_tty = false;  // the start's Tty: raw stream, else multiplexed frames
  bool want_out = true, want_err = true;
  DetachKeys keys;
};

void finish(Session& s, int code) {
  {
    std::lock_guard l(g_mu);
    s.rec->running = false;
    s.rec->exit_code = code;
    s.rec->master = -1;
    s.rec->ended_ns = store::now_unix_nanos();
  }
  emit_exec_event(s.events_file, *s.rec, "exec_die", {{"exitCode", std::to_string(code)}});
}

// `client`: the hijacked connection, -1 for a detached exec (output dropped).
void run_session(engine::Engine& e, Session& s, int client, const std::string& early_input) {
  auto spawned = engine::spawn_exec(e, s.rec->container_id, s.process, s.io);
  auto send = [&](int stream, const char* data, size_t n) -> bool {
    if (client < 0 || n == 0 || (stream == 2 ? !s.want_err : !s.want_out)) return true;
    if (s.framed_tty) return write_all(client, std::string_view(data, n));
    std::string f;
    put_frame(f, stream == 2, std::string(data, n));
    return write_all(client, f);
  };
  if (!spawned) {
    std::string msg = spawned.error().message + "\r\n";
    send(2, msg.data(), msg.size());
    finish(s, 126);
    return;
  }
  engine::ExecProcess& p = *spawned;
  {
    std::lock_guard l(g_mu);
    s.rec->master = p.master.get();
  }
  bool tty = p.tty;
  bool master_live = tty && p.master;  // until EIO: every slave fd is closed
  int in_fd = tty ? p.master.get() : p.stdin_w.get();
  std::string to_proc;
  bool client_ok = client >= 0;
  bool client_reading = client_ok && s.io.stdin_open;
  auto drop_client = [&] {
    if (client >= 0 && client_ok) ::shutdown(client, SHUT_RDWR);  // its stream ends; we wait on
    client_ok = client_reading = false;
  };
  if (client_reading && s.keys.scan(early_input, to_proc)) drop_client();
  bool exited = false;
  char buf[65536];
  // Passes on what `fd` has (one read; everything once the process exited). At EOF (or a
  // pty's EIO: nobody holds its slave any more) the fd is no longer watched.
  auto pump_out = [&](UniqueFd& fd, int stream) {
    for (;;) {
      ssize_t n = ::read(fd.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return;
      if (n <= 0) {  // EOF, or EIO from a pty nobody holds any more
        if (&fd != &p.master) fd.reset();
        else master_live = false;
        return;
      }
      if (client_ok && !send(stream, buf, size_t(n))) drop_client();
      if (!exited) return;
    }
  };
  for (;;) {
    if (!tty && !client_reading && to_proc.empty() && p.stdin_w) {
      p.stdin_w.reset();  // the client's input ended: the process reads EOF
      in_fd = -1;
    }
    if (s.rec->pid == 0)  // only this thread writes it
      if (pid_t found = engine::exec_pid(p)) {
        std::lock_guard l(g_mu);
        s.rec->pid = found;
      }
    bool master_open = master_live;
    pollfd f[6] = {
        {client_reading && to_proc.size() < (1u << 20) ? client : -1, POLLIN, 0},
        {p.stdout_r.get(), POLLIN, 0},
        {p.stderr_r.get(), POLLIN, 0},
        {master_open ? p.master.get() : -1, short(POLLIN | (to_proc.empty() ? 0 : POLLOUT)), 0},
        {!tty && !to_proc.empty() ? in_fd : -1, POLLOUT, 0},
        {p.pidfd.get(), POLLIN, 0},
    };
    // A client that only reads is still watched for hanging up.
    if (f[0].fd < 0 && client_ok) f[0] = {client, 0, 0};
    int r = ::poll(f, 6, s.rec->pid == 0 ? 50 : -1);
    if (r < 0 && errno != EINTR) break;
    if (r <= 0) continue;
    if (f[5].revents & POLLIN) exited = true;
    if (f[1].revents & (POLLIN | POLLHUP | POLLERR) || (exited && p.stdout_r)) pump_out(p.stdout_r, 1);
    if (f[2].revents & (POLLIN | POLLHUP | POLLERR) || (exited && p.stderr_r)) pump_out(p.stderr_r, 2);
    if (f[3].revents & (POLLIN | POLLHUP | POLLERR) || (exited && master_open)) pump_out(p.master, 1);
    if (exited) break;
    if ((f[3].revents & POLLOUT) || (f[4].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t n = ::write(in_fd, to_proc.data(), to_proc.size());
      if (n > 0) to_proc.erase(0, size_t(n));
      else if (n < 0 && errno != EAGAIN && errno != EINTR) to_proc.clear();  // it closed its stdin
    }
    if (f[0].fd == client && client >= 0 && client_ok) {
      if (f[0].revents & POLLIN) {
        ssize_t n = ::read(client, buf, sizeof buf);
        if (n == 0) client_reading = false;  // half-closed: end of its input
        else if (n < 0 && errno != EAGAIN && errno != EINTR) drop_client();
        else if (n > 0 && s.keys.scan(std::string_view(buf, size_t(n)), to_proc)) drop_client();  // detached
      }
      if (f[0].revents & (POLLHUP | POLLERR | POLLNVAL)) drop_client();
    }
  }
  {
    std::lock_guard l(g_mu);
    s.rec->master = -1;
  }
  std::string error;  // the runtime's message: it already reached the client on stderr
  finish(s, engine::wait_exec(p, &error));
}

// ---- handlers

Response exec_create(engine::Engine* e, const Request& q) {
  json body = json::parse(q.body.empty() ? std::string("{}") : q.body, nullptr, false);
  if (!body.is_object()) return error_response(400, "invalid JSON: the body is not a JSON object");
  auto c = lookup(*e, q.params.at("id"));
  if (!c) return error_response(c.error());
  if (c->state == store::ContainerState::kPaused)
    return error_response(409, "Container " + c->id + " is paused, unpause the container before exec");
  if (c->state != store::ContainerState::kRunning) return error_response(409, "Container " + c->id + " is not running");
  if (!body.contains("Cmd") || !body["Cmd"].is_array() || body["Cmd"].empty())
    return error_response(400, "No exec command specified");
  for (auto& a : body["Cmd"])
    if (!a.is_string()) return error_response(400, "invalid Cmd: every element must be a string");
  DetachKeys keys;
  std::string spec = body.value("DetachKeys", "");
  if (!keys.parse(spec)) return error_response(400, "Invalid detach keys (" + spec + ") provided");
  auto id = store::generate_id();
  if (!id) return error_response(id.error());
  auto rec = std::make_shared<ExecRecord>();
  rec->id = *id;
  rec->container_id = c->id;
  rec->config = body;
  rec->name = c->name;
  rec->image = c->config.value("Image", c->image);
  rec->labels = c->labels;
  {
    std::lock_guard l(g_mu);
    prune_locked(store::now_unix_nanos());
    g_execs[*id] = rec;
  }
  emit_exec_event(e->paths().events_file(), *rec, "exec_create: " + command_line(body));
  return json_response(201, {{"Id", *id}});
}

// Runs on a thread of its own: the stream lasts as long as the process.
Response exec_start(engine::Engine* e, const Request& q) {
  json body = json::parse(q.body.empty() ? std::string("{}") : q.body, nullptr, false);
  if (!body.is_object()) return error_response(400, "invalid JSON: the body is not a JSON object");
  const std::string& id = q.params.at("id");
  auto rec = find_exec(id);
  if (!rec) return error_response(404, "No such exec instance: " + id);
  {
    std::lock_guard l(g_mu);
    if (rec->running) return error_response(409, "Error: Exec command " + id + " is already running");
    if (rec->started) return error_response(409, "Error: Exec command " + id + " has already run");
    rec->started = true;
  }
  auto unstart = [&](Response r) {
    std::lock_guard l(g_mu);
    rec->started = false;
    return r;
  };
  auto c = lookup(*e, rec->container_id);
  if (!c) return unstart(error_response(c.error()));
  auto process = engine::exec_process_json(*e, *c, rec->config);
  if (!process) {
    int err = process.error().errno_value;
    return unstart(error_response(err == EINVAL ? 409 : err == ENOENT ? 404 : 500, process.error().message));
  }
  auto s = std::make_shared<Session>();
  s->rec = rec;
  s->events_file = e->paths().events_file();
  s->process = std::move(*process);
  bool detach = body.value("Detach", false);
  s->io.tty = rec->config.value("Tty", false);
  s->io.stdin_open = rec->config.value("AttachStdin", false) && !detach;
  json size = body.contains("ConsoleSize") && body["ConsoleSize"].is_array() ? body["ConsoleSize"]
                                                                             : rec->config.value("ConsoleSize", json());
  if (size.is_array() && size.size() == 2 && size[0].is_number() && size[1].is_number()) {
    s->io.rows = size[0].get<int>();
    s->io.cols = size[1].get<int>();
  }
  s->framed_tty = body.value("Tty", false);
  s->want_out = rec->config.value("AttachStdout", false);
  s->want_err = rec->config.value("AttachStderr", false);
  (void)s->keys.parse(rec->config.value("DetachKeys", ""));
  {
    std::lock_guard l(g_mu);
    rec->running = true;
  }
  emit_exec_event(s->events_file, *rec, "exec_start: " + command_line(rec->config));
  if (detach) {
    // Nobody reads its output: a session without a client, on a thread of its own with
    // an Engine of its own (ours belongs to this request's thread).
    engine::EngineOptions o{e->paths().root, e->paths().run_root, e->monitor_path(), e->self_path()};
    std::thread([s, o] {
      auto eng = engine::Engine::open(o);
      if (!eng) {
        finish(*s, 126);
        return;
      }
      run_session(**eng, *s, -1, "");
    }).detach();
    Response r;
    r.content_type.clear();
    return r;
  }
  Response r = attach_stream_response(q, s->framed_tty);
  r.hijack = [e, s](Hijacked& h) { run_session(*e, *s, h.fd, h.pending); };
  return r;
}

Response exec_inspect(engine::Engine*, const Request& q) {
  const std::string& id = q.params.at("id");
  auto rec = find_exec(id);
  if (!rec) return error_response(404, "No such exec instance: " + id);
  std::lock_guard l(g_mu);
  return json_response(200, exec_inspect_json(*rec));
}

Response exec_resize(engine::Engine*, const Request& q) {
  const std::string& id = q.params.at("id");
  auto rec = find_exec(id);
  if (!rec) return error_response(404, "No such exec instance: " + id);
  auto h = query_int(q, "h");
  if (!h) return error_response(400, h.error().message);
  auto w = query_int(q, "w");
  if (!w) return error_response(400, w.error().message);
  int rows = int(h->value_or(0)), cols = int(w->value_or(0));
  if (rows < 0 || cols < 0 || rows > 65535 || cols > 65535) return error_response(400, "invalid terminal size");
  std::lock_guard l(g_mu);
  if (!rec->running) return error_response(409, "Exec " + id + " is not running");
  if (rec->master >= 0) {
    winsize ws{};
    ws.ws_row = static_cast<unsigned short>(rows);
    ws.ws_col = static_cast<unsigned short>(cols);
    ::ioctl(rec->master, TIOCSWINSZ, &ws);
  }
  Response r;
  r.content_type = "text/plain; charset=utf-8";
  return r;
}

}  // namespace

void add_exec_routes(Router<Route>& r) {
  r.add("POST", "/containers/{id}/exec", {exec_create, RunOn::kPool});
  r.add("POST", "/exec/{id}/start", {exec_start, RunOn::kOwnThread});
  r.add("GET", "/exec/{id}/json", {exec_inspect, RunOn::kInline});
  r.add("POST", "/exec/{id}/resize", {exec_resize, RunOn::kInline});
}

}  // namespace md::api
