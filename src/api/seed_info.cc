// The seeds' REST API (docs/api-seeds.md), the read side and small actions: health, logs,
// stats, exec, rootfs, templates, topology.
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/http_util.h"
#include "api/seed_model.h"
#include "api/seed_pty.h"
#include "api/seed_routes.h"
#include "api/seed_stats.h"
#include "api/seed_templates.h"
#include "engine/core/containers.h"
#include "engine/core/logs.h"

namespace md::api {
namespace {

using nlohmann::json;
using store::ContainerState;

constexpr size_t kExecOutputCap = 1 << 20;

Response health(engine::Engine* e, const Request&) {
  (void)engine::reconcile_all(*e);
  store::ContainerFilter f;
  f.all = true;
  auto rows = e->containers().list(f);
  if (!rows) return error_response(rows.error());
  int running = 0;
  for (auto& c : *rows) running += c.state == ContainerState::kRunning;
  return json_response(200, {{"status", "ok"}, {"version", kVersion}, {"containers", rows->size()}, {"running", running}});
}

Response logs(engine::Engine* e, const Request& q) {
  auto c = lookup(*e, q.params.at("name"));
  if (!c) return error_response(c.error());
  auto tail = query_int(q, "tail");
  if (!tail) return error_response(400, tail.error().message);
  engine::LogOptions o;
  o.tail = *tail && **tail >= 0 ? **tail : -1;
  o.since_ns = unix_ns(query_value(q, "since"));
  json lines = json::array();
  auto s = engine::read_logs(*e, c->id, o, [&](const engine::LogLine& l) {
    std::string text = l.text;
    if (!text.empty() && text.back() == '\n') text.pop_back();
    lines.push_back({{"time", l.time}, {"stream", l.is_stderr ? "stderr" : "stdout"}, {"text", text}});
    return true;
  });
  if (!s) return error_response(s.error());
  return json_response(200, {{"logs", lines}});
}

Response stats(engine::Engine* e, const Request& q) {
  auto c = lookup(*e, q.params.at("name"));
  if (!c) return error_response(c.error());
  auto s = seed_sample(*e, *c);
  if (!s) return error_response(s.error());
  return json_response(200, seed_stats_json(*s));
}

// Runs the command with a pty (stdout and stderr arrive merged, as a terminal shows them),
// collects up to 1 MiB of output, and kills it after `?timeout=` seconds (default 60) so
// a command that waits for input cannot hold the thread forever.
Response exec(engine::Engine* e, const Request& q) {
  json in = json::parse(q.body.empty() ? std::string("{}") : q.body, nullptr, false);
  if (in.is_discarded() || !in.is_object()) return error_response(400, "invalid JSON: the body must be an object");
  std::vector<std::string> argv;
  json cmd = in.value("command", json());
  if (cmd.is_string()) {
    if (!cmd.get<std::string>().empty()) argv = {"sh", "-c", cmd.get<std::string>()};
  } else if (cmd.is_array()) {
    for (auto& a : cmd) {
      if (!a.is_string()) return error_response(400, "command: expected a string or a list of strings");
      argv.push_back(a.get<std::string>());
    }
  } else if (!cmd.is_null()) {
    return error_response(400, "command: expected a string or a list of strings");
  }
  if (argv.empty()) return error_response(400, "command: required");
  auto timeout = query_int(q, "timeout");
  if (!timeout) return error_response(400, timeout.error().message);
  int64_t limit_s = *timeout && **timeout > 0 ? **timeout : 60;
  auto c = lookup(*e, q.params.at("name"));
  if (!c) return error_response(c.error());
  auto p = start_pty_exec(*e, c->id, argv, 200, 50);
  if (!p) {
    int err = p.error().errno_value;
    return error_response(err == EINVAL ? 409 : err == ENOENT || err == EACCES ? 400 : 500, p.error().message);
  }
  std::string out;
  bool truncated = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(limit_s);
  char buf[16384];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      ::kill(p->pid, SIGKILL);
      truncated = true;
      break;
    }
    pollfd pfd{p->master.get(), POLLIN, 0};
    int n = ::poll(&pfd, 1, int(std::min<int64_t>(left, 1000)));
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) continue;
    ssize_t r = ::read(p->master.get(), buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;  // EIO: every slave end is closed (the process exited)
    if (out.size() < kExecOutputCap) out.append(buf, std::min<size_t>(size_t(r), kExecOutputCap - out.size()));
  }
  int code = pty_wait(p->pid);
  // The pty's output processing turns "\n" into "\r\n": give back what the program wrote.
  std::string clean;
  clean.reserve(out.size());
  for (size_t i = 0; i < out.size(); ++i)
    if (!(out[i] == '\r' && i + 1 < out.size() && out[i + 1] == '\n')) clean += out[i];
  json res = {{"exit_code", code}, {"output", clean}};
  if (truncated) res["timed_out"] = true;
  return json_response(200, res);
}

Response rootfs(engine::Engine* e, const Request& q) {
  auto c = lookup(*e, q.params.at("name"));
  if (!c) return error_response(c.error());
  std::string path = e->paths().merged(c->id);
  bool exists = ::access((path + "/bin").c_str(), F_OK) == 0 || ::access((path + "/etc").c_str(), F_OK) == 0;
  return json_response(200, {{"path", path}, {"exists", exists}, {"upper", e->paths().upper(c->id)}, {"mounted", is_up(c->state)}});
}

Response templates(engine::Engine* e, const Request&) {
  json out = json::array();
  for (auto& t : load_seed_templates(e->paths().root)) {
    json j = {{"name", t.name}, {"description", t.description}, {"config", t.config}};
    if (!t.error.empty()) j["error"] = t.error;
    out.push_back(j);
  }
  return json_response(200, out);
}

Response template_create(engine::Engine* e, const Request& q) {
  std::string name = q.params.at("tname");
  json in = json::parse(q.body.empty() ? std::string("{}") : q.body, nullptr, false);
  if (in.is_discarded() || !in.is_object()) return error_response(400, "invalid JSON: the body must be an object");
  for (auto& t : load_seed_templates(e->paths().root)) {
    if (t.name != name) continue;
    if (!t.error.empty()) return error_response(500, "template " + name + ": " + t.error);
    json config = t.config;
    for (auto& [k, v] : in.items()) config[k] = v;  // {name} and any override
    return seed_create_from(*e, config);
  }
  return error_response(404, "no such template: " + name);
}

Response topology(engine::Engine* e, const Request&) {
  (void)engine::reconcile_all(*e);
  auto nets = e->networks().list();
  if (!nets) return error_response(nets.error());
  json networks = json::array();
  std::map<std::string, std::string> names;
  for (auto& n : *nets) {
    names[n.id] = n.name;
    networks.push_back({{"id", n.id},
                        {"name", n.name},
                        {"driver", n.driver},
                        {"subnet", n.subnet},
                        {"gateway", n.gateway},
                        {"bridge", n.bridge}});
  }
  store::ContainerFilter f;
  f.all = true;
  auto rows = e->containers().list(f);
  if (!rows) return error_response(rows.error());
  json containers = json::array();
  for (auto& c : *rows) {
    json eps = json::array();
    bool up = is_up(c.state);
    for (auto& ep : e->networks().endpoints_of(c.id).value_or(std::vector<store::Endpoint>{}))
      eps.push_back({{"network", names.count(ep.network_id) ? names[ep.network_id] : ep.network_id},
                     {"ip", up ? ep.ip : ""},
                     {"mac", up ? ep.mac : ""}});
    std::string mode = c.host_config.value("NetworkMode", "");
    if (eps.empty() && (mode == "host" || mode == "none")) eps.push_back({{"network", mode}, {"ip", ""}, {"mac", ""}});
    containers.push_back({{"id", c.id}, {"name", c.name}, {"status", store::state_name(c.state)}, {"networks", eps}});
  }
  return json_response(200, {{"networks", networks}, {"containers", containers}});
}

}  // namespace

void add_seed_info_routes(Router<Route>& r) {
  r.add("GET", "/api/health", {health, RunOn::kPool});
  r.add("GET", "/api/containers/{name}/logs", {logs, RunOn::kPool});
  r.add("GET", "/api/containers/{name}/stats", {stats, RunOn::kPool});
  r.add("POST", "/api/containers/{name}/exec", {exec, RunOn::kOwnThread});
  r.add("POST", "/api/containers/{name}/rootfs", {rootfs, RunOn::kPool});
  r.add("GET", "/api/containers/{name}/rootfs", {rootfs, RunOn::kPool});
  r.add("GET", "/api/templates", {templates, RunOn::kPool});
  r.add("POST", "/api/templates/{tname}/create", {template_create, RunOn::kOwnThread});
  r.add("GET", "/api/topology", {topology, RunOn::kPool});
}

}  // namespace md::api
