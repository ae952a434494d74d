// The Docker Engine API endpoints. Shapes follow Docker's (API 1.43) so the real `docker`
// CLI and SDKs read them; see docs/api.md for what exists.
#include "api/handlers.h"

#include <sys/utsname.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/core/containers.h"
#include "engine/core/logs.h"
#include "engine/core/system.h"
#include "engine/store/ids.h"

namespace md::api {
namespace {

using nlohmann::json;
using store::ContainerState;

Response json_response(int status, const json& j) {
  Response r;
  r.status = status;
  r.body = j.dump();
  r.body += '\n';
  return r;
}

Response no_content(int status = 204) {
  Response r;
  r.status = status;
  r.content_type.clear();
  return r;
}

bool is_up(ContainerState s) {
  return s == ContainerState::kRunning || s == ContainerState::kPaused || s == ContainerState::kRestarting;
}

// Docker's boolean query values: "1", "true", "True" are true; "", "0", "false" false.
bool query_bool(const Request& q, const std::string& key) {
  auto it = q.query.find(key);
  if (it == q.query.end()) return false;
  const std::string& v = it->second;
  return !(v.empty() || v == "0" || v == "false" || v == "False" || v == "FALSE");
}

std::string query_value(const Request& q, const std::string& key, const std::string& def = "") {
  auto it = q.query.find(key);
  return it == q.query.end() ? def : it->second;
}

// An integer query value; nullopt when absent, an error message when malformed.
Result<std::optional<int64_t>> query_int(const Request& q, const std::string& key) {
  auto it = q.query.find(key);
  if (it == q.query.end() || it->second.empty()) return std::optional<int64_t>{};
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(it->second.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return fail("invalid value for " + key + ": " + it->second, EINVAL);
  return std::optional<int64_t>{v};
}

std::string kernel_version() {
  struct utsname u {};
  if (::uname(&u) != 0) return "";
  return u.release;
}

// The container `ref` names, reconciled; a Docker-shaped 404 when there is none.
Result<store::Container> lookup(engine::Engine& e, const std::string& ref) {
  auto id = e.containers().resolve(ref);
  if (!id) {
    if (id.error().errno_value == ENOENT) return fail("No such container: " + ref, ENOENT);
    return std::unexpected(id.error());
  }
  auto c = engine::reconcile_container(e, *id);
  if (!c && c.error().errno_value == ENOENT) return fail("No such container: " + ref, ENOENT);
  return c;
}

// ---------------------------------------------------------------- system
Response ping(engine::Engine*, const Request& q) {
  Response r;
  r.body = q.method == "HEAD" ? "" : "OK";
  r.content_type = "text/plain; charset=utf-8";
  r.headers = {{"Api-Version", kApiVersion},
               {"Ostype", "linux"},
               {"Docker-Experimental", "false"},
               {"Builder-Version", "1"},
               {"Cache-Control", "no-cache, no-store, must-revalidate"},
               {"Pragma", "no-cache"}};
  return r;
}

Response version(engine::Engine*, const Request&) {
  std::string kernel = kernel_version();
  json details = {{"ApiVersion", kApiVersion}, {"Arch", "amd64"},   {"KernelVersion", kernel},
                  {"MinAPIVersion", kMinApiVersion}, {"Os", "linux"}, {"GitCommit", ""}};
  json j = {{"Platform", {{"Name", "minidocker"}}},
            {"Components", json::array({{{"Name", "Engine"}, {"Version", kVersion}, {"Details", details}}})},
            {"Version", kVersion},
            {"ApiVersion", kApiVersion},
            {"MinAPIVersion", kMinApiVersion},
            {"GitCommit", ""},
            {"GoVersion", ""},
            {"Os", "linux"},
            {"Arch", "amd64"},
            {"KernelVersion", kernel},
            {"BuildTime", ""}};
  return json_response(200, j);
}

Response info(engine::Engine* e, const Request&) {
  (void)engine::reconcile_all(*e);
  auto j = engine::system_info(*e);
  if (!j) return error_response(j.error());
  Response r;
  r.body = j->dump() + "\n";
  return r;
}

// ---------------------------------------------------------------- containers
// Docker's filters query value: {"status":["running"]} or the old {"status":{"running":true}}.
Result<std::map<std::string, std::vector<std::string>>> parse_filters(const std::string& text) {
  std::map<std::string, std::vector<std::string>> out;
  if (text.empty()) return out;
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return fail("invalid filter: " + text, EINVAL);
  for (auto& [key, v] : j.items()) {
    if (v.is_array()) {
      for (auto& x : v)
        if (x.is_string()) out[key].push_back(x.get<std::string>());
    } else if (v.is_object()) {
      for (auto& [k, b] : v.items())
        if (b.is_boolean() && b.get<bool>()) out[key].push_back(k);
    } else {
      return fail("invalid filter: " + text, EINVAL);
    }
  }
  return out;
}

// inspect's NetworkSettings.Ports → the summary's [{IP, PrivatePort, PublicPort, Type}].
json summary_ports(const json& ports) {
  json out = json::array();
  if (!ports.is_object()) return out;
  for (auto& [key, bindings] : ports.items()) {
    auto slash = key.find('/');
    int priv = std::atoi(key.substr(0, slash).c_str());
    std::string type = slash == std::string::npos ? "tcp" : key.substr(slash + 1);
    if (!bindings.is_array() || bindings.empty()) {
      out.push_back({{"PrivatePort", priv}, {"Type", type}});
      continue;
    }
    for (auto& b : bindings)
      out.push_back({{"IP", b.value("HostIp", "")},
                     {"PrivatePort", priv},
                     {"PublicPort", std::atoi(b.value("HostPort", "0").c_str())},
                     {"Type", type}});
  }
  return out;
}

json container_summary(engine::Engine& e, const store::Container& c, int64_t now) {
  json in = engine::inspect_json(e, c);
  std::string command;
  for (auto k : {"Entrypoint", "Cmd"})
    if (c.config.contains(k) && c.config[k].is_array())
      for (auto& a : c.config[k])
        if (a.is_string()) command += (command.empty() ? "" : " ") + a.get<std::string>();
  json ns = in.value("NetworkSettings", json::object());
  json networks = ns.value("Networks", json::object());
  if (!networks.is_object()) networks = json::object();
  json mounts = in.value("Mounts", json::array());
  if (!mounts.is_array()) mounts = json::array();
  return {{"Id", c.id},
          {"Names", json::array({"/" + c.name})},
          {"Image", c.config.value("Image", c.image)},
          {"ImageID", c.image},
          {"Command", command},
          {"Created", c.created / 1000000000},
          {"Ports", is_up(c.state) ? summary_ports(ns.value("Ports", json())) : json::array()},
          {"Labels", c.labels},
          {"State", store::state_name(c.state)},
          {"Status", engine::status_text(c, now)},
          {"HostConfig", {{"NetworkMode", c.host_config.value("NetworkMode", "default")}}},
          {"NetworkSettings", {{"Networks", networks}}},
          {"Mounts", mounts}};
}

Response containers_list(engine::Engine* e, const Request& q) {
  auto filters = parse_filters(query_value(q, "filters"));
  if (!filters) return error_response(400, filters.error().message);
  auto limit = query_int(q, "limit");
  if (!limit) return error_response(400, limit.error().message);
  store::ContainerFilter cf;
  cf.all = query_bool(q, "all") || (*limit && **limit > 0);
  std::vector<int> exited;
  for (auto& [key, values] : *filters) {
    if (key == "status") {
      for (auto& v : values) {
        auto s = store::parse_state(v);
        if (!s)
          return error_response(400, "invalid filter 'status=" + v +
                                         "': Invalid filter 'status=" + v + "'");
        cf.states.push_back(*s);
      }
    } else if (key == "name") {
      for (auto& v : values) cf.names.push_back(!v.empty() && v[0] == '/' ? v.substr(1) : v);
    } else if (key == "id") {
      cf.ids = values;
    } else if (key == "label") {
      cf.labels = values;
    } else if (key == "exited") {
      for (auto& v : values) exited.push_back(std::atoi(v.c_str()));
      cf.all = true;
    } else if (key == "ancestor" || key == "before" || key == "since" || key == "volume" || key == "network" ||
               key == "publish" || key == "expose" || key == "health" || key == "isolation" || key == "is-task") {
      return error_response(400, "filter '" + key + "' is not supported by minidocker's API yet");
    } else {
      return error_response(400, "invalid filter '" + key + "'");
    }
  }
  (void)engine::reconcile_all(*e);
  auto list = e->containers().list(cf);
  if (!list) return error_response(list.error());
  int64_t now = store::now_unix_nanos();
  json out = json::array();
  for (auto& c : *list) {
    if (!exited.empty()) {
      if (c.state != ContainerState::kExited) continue;
      bool hit = false;
      for (int x : exited) hit = hit || x == c.exit_code;
      if (!hit) continue;
    }
    if (*limit && **limit > 0 && int64_t(out.size()) >= **limit) break;
    out.push_back(container_summary(*e, c, now));
  }
  return json_response(200, out);
}

Response container_create(engine::Engine* e, const Request& q) {
  engine::CreateRequest r;
  r.body = json::parse(q.body.empty() ? std::string("{}") : q.body, nullptr, false);
  if (r.body.is_discarded() || !r.body.is_object()) return error_response(400, "invalid JSON: the body is not a JSON object");
  if (!r.body.contains("Image") || !r.body["Image"].is_string() || r.body["Image"].get<std::string>().empty())
    return error_response(400, "config cannot be empty in order to create a container");
  r.name = query_value(q, "name");
  if (!r.name.empty() && r.name[0] == '/') r.name.erase(0, 1);
  auto c = engine::create_container(*e, r);
  if (!c) return error_response(c.error());
  return json_response(201, {{"Id", c->id}, {"Warnings", json::array()}});
}

Response container_inspect(engine::Engine* e, const Request& q) {
  auto c = lookup(*e, q.params.at("id"));
  if (!c) return error_response(c.error());
  return json_response(200, engine::inspect_json(*e, *c));
}

Response container_start(engine::Engine* e, const Request& q) {
  auto c = lookup(*e, q.params.at("id"));
  if (!c) return error_response(c.error());
  if (c->state == ContainerState::kRunning || c->state == ContainerState::kPaused) return no_content(304);
  auto s = engine::start_container(*e, c->id);
  if (!s) {
    // The command could not be executed (ENOENT/EACCES): Docker answers 400.
    int err = s.error().errno_value;
    return error_response(err == ENOENT || err == EACCES || err == EINVAL ? 400 : 500, s.error().message);
  }
  return no_content();
}

Response container_stop(engine::Engine* e, const Request& q) {
  auto c = lookup(*e, q.params.at("id"));
  if (!c) return error_response(c.error());
  auto t = query_int(q, "t");
  if (!t) return error_response(400, t.error().message);
  if (!is_up(c->state)) return no_content(304);
  std::optional<int> timeout;
  if (*t) timeout = int(**t);
  auto s = engine::stop_container(*e, c->id, timeout, query_value(q, "signal"));
  if (!s) return error_response(s.error());
  return no_content();
}

Response container_restart(engine::Engine* e, const Request& q) {
  auto c = lookup(*e, q.params.at("id"));
  if (!c) return error_response(c.error());
  auto t = query_int(q, "t");
  if (!t) return error_response(400, t.error().message);
  std::optional<int> timeout;
  if (*t) timeout = int(**t);
  auto s = engine::restart_container(*e, c->id, timeout);
  if (!s) return error_response(s.error());
  return no_content();
}

Response container_kill(engine::Engine* e, const Request& q) {
  const std::string& ref = q.params.at("id");
  auto c = lookup(*e, ref);
  if (!c) return error_response(c.error());
  if (!is_up(c->state) || c->state == ContainerState::kRestarting)
    return error_response(409, "Cannot kill container: " + ref + ": Container " + c->id + " is not running");
  auto s = engine::kill_container(*e, c->id, query_value(q, "signal", "KILL"));
  if (!s) return error_response(s.error());
  return no_content();
}

// pause/unpause: the engine's EINVAL is a state conflict ("is not running", "is already
// paused"), 409 in Docker's terms.
Response container_pause(engine::Engine* e, const Request& q) {
  auto c = lookup(*e, q.params.at("id"));
  if (!c) return error_response(c.error());
  auto s = engine::pause_container(*e, c->id);
  if (!s) return error_response(s.error().errno_value == EINVAL ? 409 : error_response(s.error()).status, s.error().message);
  return no_content();
}

Response container_unpause(engine::Engine* e, const Request& q) {
  auto c = lookup(*e, q.params.at("id"));
  if (!c) return error_response(c.error());
  auto s = engine::unpause_container(*e, c->id);
  if (!s) return error_response(s.error().errno_value == EINVAL ? 409 : error_response(s.error()).status, s.error().message);
  return no_content();
}

Response container_delete(engine::Engine* e, const Request& q) {
  auto c = lookup(*e, q.params.at("id"));
  if (!c) return error_response(c.error());
  auto s = engine::remove_container(*e, c->id, query_bool(q, "force"), query_bool(q, "v"));
  if (!s) return error_response(s.error());
  return no_content();
}

// Runs on a thread of its own (RunOn::kOwnThread): it blocks until the condition holds.
Response container_wait(engine::Engine* e, const Request& q) {
  std::string cond = query_value(q, "condition", "not-running");
  engine::WaitCondition wc;
  if (cond == "" || cond == "not-running") wc = engine::WaitCondition::kNotRunning;
  else if (cond == "next-exit") wc = engine::WaitCondition::kNextExit;
  else if (cond == "removed") wc = engine::WaitCondition::kRemoved;
  else return error_response(400, "invalid condition: \"" + cond + "\"");
  auto c = lookup(*e, q.params.at("id"));
  if (!c) return error_response(c.error());
  Response r;
  r.rest = [e, id = c->id, wc, last = c->exit_code]() -> std::string {
    auto code = engine::wait_container(*e, id, wc);
    json j;
    if (code) j = {{"StatusCode", *code}, {"Error", nullptr}};
    else if (code.error().errno_value == ENOENT) j = {{"StatusCode", last}, {"Error", nullptr}};
    else j = {{"StatusCode", -1}, {"Error", {{"Message", code.error().message}}}};
    return j.dump() + "\n";
  };
  return r;
}

// Docker's since/until: unix seconds, maybe with a fraction ("1700000000.123456789").
int64_t unix_ns(const std::string& v) {
  if (v.empty()) return 0;
  auto dot = v.find('.');
  int64_t s = std::atoll(v.substr(0, dot).c_str()) * 1000000000LL;
  if (dot != std::string::npos) {
    std::string frac = v.substr(dot + 1, 9);
    frac.resize(9, '0');
    s += std::atoll(frac.c_str());
  }
  return s;
}

void put_frame(std::string& out, bool is_stderr, const std::string& payload) {
  uint32_t n = uint32_t(payload.size());
  char h[8] = {char(is_stderr ? 2 : 1), 0, 0, 0, char(n >> 24), char(n >> 16), char(n >> 8), char(n)};
  out.append(h, 8);
  out += payload;
}

Response container_logs(engine::Engine* e, const Request& q) {
  auto c = lookup(*e, q.params.at("id"));
  if (!c) return error_response(c.error());
  if (query_bool(q, "follow"))
    return error_response(400, "follow is not supported by minidocker's API yet (docs/api.md); use `minidocker logs -f`");
  engine::LogOptions o;
  o.stdout_stream = query_bool(q, "stdout");
  o.stderr_stream = query_bool(q, "stderr");
  if (!o.stdout_stream && !o.stderr_stream)
    return error_response(400, "Bad parameters: you must choose at least one stream");
  std::string tail = query_value(q, "tail", "all");
  if (tail != "all" && !tail.empty()) {
    char* end = nullptr;
    long long n = std::strtoll(tail.c_str(), &end, 10);
    o.tail = (*end == '\0' && n >= 0) ? n : -1;
  }
  o.since_ns = unix_ns(query_value(q, "since"));
  o.until_ns = unix_ns(query_value(q, "until"));
  bool timestamps = query_bool(q, "timestamps");
  bool tty = c->config.value("Tty", false);
  Response r;
  r.content_type = tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream";
  auto s = engine::read_logs(*e, c->id, o, [&](const engine::LogLine& l) {
    std::string text = timestamps ? l.time + " " + l.text : l.text;
    if (tty) r.body += text;
    else put_frame(r.body, l.is_stderr, text);
    return true;
  });
  if (!s) return error_response(s.error());
  return r;
}

// ---------------------------------------------------------------- images
Response images_list(engine::Engine* e, const Request&) {
  auto list = e->images().list();
  if (!list) return error_response(list.error());
  json out = json::array();
  for (auto& img : *list) {
    json labels = nullptr;
    json cfg = json::parse(img.config, nullptr, false);
    if (cfg.is_object() && cfg.contains("config") && cfg["config"].is_object() && cfg["config"].contains("Labels"))
      labels = cfg["config"]["Labels"];
    out.push_back({{"Id", img.id},
                   {"ParentId", ""},
                   {"RepoTags", img.tags},
                   {"RepoDigests", json::array()},
                   {"Created", img.created / 1000000000},
                   {"Size", img.size},
                   {"SharedSize", -1},
                   {"VirtualSize", img.size},
                   {"Labels", labels},
                   {"Containers", -1}});
  }
  return json_response(200, out);
}

}  // namespace

Response error_response(int status, const std::string& message) {
  return json_response(status, {{"message", message}});
}

Response error_response(const Error& e) {
  int status = 500;
  switch (e.errno_value) {
    case ENOENT: status = 404; break;
    case EEXIST:
    case EBUSY: status = 409; break;
    case EINVAL: status = 400; break;
    default: break;
  }
  return error_response(status, e.message);
}

Response not_found_response() { return error_response(404, "page not found"); }

void add_docker_routes(Router<Route>& r) {
  r.add("GET", "/_ping", {ping, RunOn::kInline});
  r.add("GET", "/version", {version, RunOn::kInline});
  r.add("GET", "/info", {info, RunOn::kPool});
  r.add("GET", "/containers/json", {containers_list, RunOn::kPool});
  r.add("POST", "/containers/create", {container_create, RunOn::kPool});
  r.add("GET", "/containers/{id}/json", {container_inspect, RunOn::kPool});
  r.add("POST", "/containers/{id}/start", {container_start, RunOn::kPool});
  r.add("POST", "/containers/{id}/stop", {container_stop, RunOn::kOwnThread});  // up to t seconds
  r.add("POST", "/containers/{id}/restart", {container_restart, RunOn::kOwnThread});
  r.add("POST", "/containers/{id}/kill", {container_kill, RunOn::kPool});
  r.add("POST", "/containers/{id}/pause", {container_pause, RunOn::kPool});
  r.add("POST", "/containers/{id}/unpause", {container_unpause, RunOn::kPool});
  r.add("DELETE", "/containers/{id}", {container_delete, RunOn::kPool});
  r.add("POST", "/containers/{id}/wait", {container_wait, RunOn::kOwnThread});
  r.add("GET", "/containers/{id}/logs", {container_logs, RunOn::kPool});
  r.add("GET", "/images/json", {images_list, RunOn::kPool});
}

}  // namespace md::api
