// The seeds' WebSockets (docs/api-seeds.md):
//   GET /api/ws                            live events, status and subscribed logs (seed_hub.h)
//   GET /api/containers/<name>/terminal    a shell with a pty (seed_pty.h)
// Each connection runs on a thread of its own (RunOn::kOwnThread) after the server hands
// the socket over (Response::hijack); the thread polls the socket and its other source
// (the hub's eventfd, the pty master) and never blocks on one of them alone.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/http_util.h"
#include "api/seed_hub.h"
#include "api/seed_pty.h"
#include "api/seed_routes.h"
#include "api/websocket.h"

namespace md::api {
namespace {

using nlohmann::json;

constexpr int kPingEveryMs = 30000;  // dead peers are found by a failing ping write

std::string error_message(const std::string& text) { return json{{"type", "error"}, {"message", text}}.dump(); }

void handle_client_message(engine::Engine& e, ws::Connection& conn, const std::shared_ptr<HubClient>& client,
                           const ws::Message& m) {
  json j = json::parse(m.data, nullptr, false);
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) {
    conn.send_text(error_message("expected a JSON object with a \"type\""));
    return;
  }
  std::string type = j["type"].get<std::string>();
  std::string name = j.value("name", "");
  if (j.contains("name") && !j["name"].is_string()) name.clear();
  if (type == "subscribe_logs" || type == "unsubscribe_logs") {
    if (name.empty()) {
      conn.send_text(error_message(type + ": \"name\" required"));
      return;
    }
    auto id = e.containers().resolve(name);
    if (!id) {
      conn.send_text(error_message("No such container: " + name));
      return;
    }
    if (type == "unsubscribe_logs") {
      Hub::instance().unsubscribe_logs(client, *id);
      return;
    }
    auto c = e.containers().get_by_id(*id);
    if (!c) return;
    if (!Hub::instance().subscribe_logs(client, *id, c->name, e.paths().log_file(*id)))
      conn.send_text(error_message("too many log subscriptions (at most " + std::to_string(HubClient::kMaxSubscriptions) + ")"));
    return;
  }
  if (type == "ping") {
    conn.send_text(json{{"type", "pong"}}.dump());
    return;
  }
  conn.send_text(error_message("unknown message type \"" + type + "\""));
}

void events_session(engine::Engine& e, const Request& q, Hijacked& h) {
  if (!write_all(h.fd, ws::handshake_response(q))) return;
  ws::Connection conn(h.fd, std::move(h.pending));
  auto client = Hub::instance().join();
  for (auto& m : conn.take_pending())
    if (m.op == ws::Opcode::kText) handle_client_message(e, conn, client, m);
  while (!conn.closed()) {
    pollfd fds[2] = {{h.fd, POLLIN, 0}, {client->wake_fd(), POLLIN, 0}};
    int n = ::poll(fds, 2, kPingEveryMs);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    if (n == 0) {
      conn.send(ws::Opcode::kPing, "");
      continue;
    }
    if (fds[1].revents) {
      if (client->dropped()) {
        conn.close(ws::kPolicy, "too slow: messages were dropped");
        break;
      }
      for (auto& msg : client->take())
        if (!conn.send_text(msg)) break;
    }
    if (fds[0].revents)
      for (auto& m : conn.read_available())
        if (m.op == ws::Opcode::kText) handle_client_message(e, conn, client, m);
  }
  Hub::instance().leave(client);
}

Response ws_events(engine::Engine* e, const Request& q) {
  if (auto p = ws::upgrade_problem(q); !p.empty()) return error_response(400, p);
  Response r;
  r.status = 0;  // the hijack writes the 101 itself
  r.hijack = [e, q](Hijacked& h) { events_session(*e, q, h); };
  return r;
}

std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

int query_dim(const Request& q, const char* key, int def) {
  auto v = query_int(q, key);
  if (!v || !*v || **v < 1 || **v > 1000) return def;
  return int(**v);
}

void terminal_session(engine::Engine& e, const Request& q, const std::string& id, Hijacked& h) {
  if (!write_all(h.fd, ws::handshake_response(q))) return;
  ws::Connection conn(h.fd, std::move(h.pending));
  std::vector<std::string> argv = split_words(query_value(q, "cmd", "sh"));
  if (argv.empty()) argv = {"sh"};
  auto p = start_pty_exec(e, id, argv, query_dim(q, "cols", 80), query_dim(q, "rows", 24));
  if (!p) {
    conn.close(ws::kInternal, p.error().message);
    return;
  }
  int master = p->master.get();
  int fl = ::fcntl(master, F_GETFL);
  ::fcntl(master, F_SETFL, fl | O_NONBLOCK);
  auto input = [&](const ws::Message& m) {
    if (m.op == ws::Opcode::kText && !m.data.empty() && m.data[0] == '{') {
      json j = json::parse(m.data, nullptr, false);
      if (j.is_object() && j.value("type", "") == "resize") {
        pty_resize(master, j.value("cols", 0), j.value("rows", 0));
        return;
      }
    }
    std::string_view rest = m.data;
    while (!rest.empty()) {
      ssize_t n = ::write(master, rest.data(), rest.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // the process does not read: input is dropped rather than queued
      rest.remove_prefix(size_t(n));
    }
  };
  for (auto& m : conn.take_pending()) input(m);
  bool exited = false;
  char buf[65536];
  while (!conn.closed()) {
    pollfd fds[2] = {{h.fd, POLLIN, 0}, {master, POLLIN, 0}};
    int n = ::poll(fds, 2, kPingEveryMs);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    if (n == 0) {
      conn.send(ws::Opcode::kPing, "");
      continue;
    }
    if (fds[1].revents) {
      ssize_t r = ::read(master, buf, sizeof buf);
      if (r > 0) {
        conn.send_binary(std::string_view(buf, size_t(r)));
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        exited = true;  // EIO: the process (and everything holding the slave) is gone
        break;
      }
    }
    if (fds[0].revents)
      for (auto& m : conn.read_available()) input(m);
  }
  if (!exited) ::kill(p->pid, SIGKILL);  // the browser went away: end the shell
  int code = pty_wait(p->pid);
  conn.close(ws::kNormal, std::to_string(code));
}

Response ws_terminal(engine::Engine* e, const Request& q) {
  if (auto p = ws::upgrade_problem(q); !p.empty()) return error_response(400, p);
  auto c = lookup(*e, q.params.at("name"));
  if (!c) return error_response(c.error());
  if (c->state != store::ContainerState::kRunning) return error_response(409, "container " + c->name + " is not running");
  Response r;
  r.status = 0;
  r.hijack = [e, q, id = c->id](Hijacked& h) { terminal_session(*e, q, id, h); };
  return r;
}

}  // namespace

void add_seed_ws_routes(Router<Route>& r) {
  r.add("GET", "/api/ws", {ws_events, RunOn::kOwnThread});
  r.add("GET", "/api/containers/{name}/terminal", {ws_terminal, RunOn::kOwnThread});
}

}  // namespace md::api
