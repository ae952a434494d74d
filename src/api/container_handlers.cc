// Container endpoints: list (filters: engine/core/container_filter.h), create, inspect,
// lifecycle, wait, logs.
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "api/http_util.h"
#include "api/stream_attach.h"
#include "api/stream_util.h"
#include "engine/core/container_filter.h"
#include "engine/core/logs.h"
#include "engine/core/networks.h"
#include "engine/core/system.h"
#include "engine/store/ids.h"

namespace md::api {
namespace {

using nlohmann::json;
using store::ContainerState;

// The summary's Ports: [{IP, PrivatePort, PublicPort, Type}], exposed-only ports without
// IP and PublicPort (as Docker's types.Port with omitempty).
json summary_ports(engine::Engine& e, const store::Container& c) {
  json out = json::array();
  for (auto& p : engine::container_port_entries(e, c)) {
    json j = {{"PrivatePort", p.private_port}, {"Type", p.type}};
    if (!p.ip.empty()) {
      j["IP"] = p.ip;
      j["PublicPort"] = p.public_port;
    }
    out.push_back(j);
  }
  return out;
}

// Docker's container summary (types.Container). `size`: SizeRw (the writable layer) and
// SizeRootFs (it plus the image), as ?size=1 asks.
json container_summary(engine::Engine& e, const store::Container& c, int64_t now, bool size) {
  // The pieces of inspect the summary shows, not the whole inspect (a list is called
  // often: compose lists its project's containers before every step).
  json networks = engine::network_settings_json(e, c).value("Networks", json::object());
  if (!networks.is_object()) networks = json::object();
  json mounts = json::array();
  for (auto& m : c.host_config.value("MountPoints", json::array())) {
    if (!m.is_object()) continue;
    json o = {{"Type", m.value("Type", "")},          {"Source", m.value("Source", "")},
              {"Destination", m.value("Destination", "")}, {"Mode", m.value("Mode", "")},
              {"RW", m.value("RW", true)},             {"Propagation", m.value("Propagation", "")}};
    if (o["Type"] == "volume") {
      o["Name"] = m.value("Name", "");
      o["Driver"] = "local";
    }
    mounts.push_back(o);
  }
  json out = {{"Id", c.id},
              {"Names", json::array({"/" + c.name})},
              {"Image", c.config.value("Image", c.image)},
              {"ImageID", c.image},
              {"Command", engine::summary_command(c)},
              {"Created", c.created / 1000000000},
              {"Ports", summary_ports(e, c)},
              {"Labels", c.labels},
              {"State", store::state_name(c.state)},
              {"Status", engine::status_text(c, now)},
              {"HostConfig", {{"NetworkMode", c.host_config.value("NetworkMode", "default")}}},
              {"NetworkSettings", {{"Networks", networks}}},
              {"Mounts", mounts}};
  if (size) {
    int64_t rw = engine::tree_bytes(e.paths().upper(c.id));
    int64_t image = 0;
    if (auto img = e.images().get(c.image)) image = img->size;
    out["SizeRw"] = rw;
    out["SizeRootFs"] = rw + image;
  }
  return out;
}

// GET /containers/json?all=&limit=&size=&filters=: the filters are the engine's
// (engine/core/container_filter.h), the same code as `minidocker ps`.
Response containers_list(engine::Engine* e, const Request& q) {
  auto raw = parse_filters(query_value(q, "filters"));
  if (!raw) return error_response(400, raw.error().message);
  auto limit = query_int(q, "limit");
  if (!limit) return error_response(400, limit.error().message);
  engine::ContainerListOptions o;
  o.all = query_bool(q, "all");
  if (*limit) o.limit = **limit;
  auto filters = engine::parse_container_filters(*e, *raw);
  if (!filters) return error_response(filters.error());
  o.filters = std::move(*filters);
  auto list = engine::list_containers(*e, o);
  if (!list) return error_response(list.error());
  int64_t now = store::now_unix_nanos();
  bool size = query_bool(q, "size");
  json out = json::array();
  for (auto& c : *list) out.push_back(container_summary(*e, c, now, size));
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
  json j = engine::inspect_json(*e, *c);
  if (query_bool(q, "size")) {  // `docker inspect --size`: as the summary's ?size=1
    int64_t rw = engine::tree_bytes(e->paths().upper(c->id));
    int64_t image = 0;
    if (auto img = e->images().get(c->image)) image = img->size;
    j["SizeRw"] = rw;
    j["SizeRootFs"] = rw + image;
  }
  return json_response(200, j);
}

Response container_start(engine::Engine* e, const Request& q) {
  auto c = lookup(*e, q.params.at("id"));
  if (!c) return error_response(c.error());
  if (c->state == ContainerState::kRunning || c->state == ContainerState::kPaused) return no_content(304);
  // A client attached before the start (docker run, start -a) gets every byte: the
  // monitor inherits its socket (api/stream_attach.h).
  AttachClaim attach = claim_pending_attach(c->id);
  auto s = engine::start_container(*e, c->id, attach.start);
  if (!s) {
    // As dockerd: an --rm container that cannot start is removed (`docker run --rm`
    // waits for condition=removed after a failed start).
    if (c->host_config.value("AutoRemove", false)) (void)engine::remove_container(*e, c->id, true, true);
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

Response container_logs(engine::Engine* e, const Request& q) {
  auto c = lookup(*e, q.params.at("id"));
  if (!c) return error_response(c.error());
  engine::LogOptions o;
  o.follow = query_bool(q, "follow");
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
  if (o.follow) return logs_follow_response(*e, *c, o, timestamps);  // stream_util.cc
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

}  // namespace

void add_container_routes(Router<Route>& r) {
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
}

}  // namespace md::api
