// Container endpoints beyond the lifecycle: rename, update, top, changes and prune here;
// export and archive (docker cp) in container_archive_handlers.cc. The work is the
// engine's (ops.cc rename, update.h, top.h, container_files.h, system.h prune); these
// files are Docker's HTTP shapes and status codes.
// docs/api-objects.md describes each endpoint.

#include <cerrno>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "api/container_archive_handlers.h"
#include "api/http_util.h"
#include "api/prune_filter.h"
#include "engine/core/container_files.h"
#include "engine/core/system.h"
#include "engine/core/top.h"
#include "engine/core/update.h"

namespace md::api {
namespace {

using nlohmann::json;

// POST /containers/{id}/rename?name=NEW → 204. 409 when the name is taken.
Response container_rename(engine::Engine* e, const Request& q) {
  const std::string& ref = q.params.at("id");
  auto c = lookup(*e, ref);
  if (!c) return error_response(c.error());
  std::string name = query_value(q, "name");
  if (!name.empty() && name[0] == '/') name.erase(0, 1);
  if (name.empty()) return error_response(400, "Neither old nor new names may be empty");
  auto s = engine::rename_container(*e, c->id, name);
  if (!s) return error_response(s.error());
  return no_content();
}

// POST /containers/{id}/update, body: Docker's UpdateConfig (Resources + RestartPolicy).
Response container_update(engine::Engine* e, const Request& q) {
  auto c = lookup(*e, q.params.at("id"));
  if (!c) return error_response(c.error());
  json body = json::parse(q.body.empty() ? std::string("{}") : q.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return error_response(400, "invalid JSON: the body is not a JSON object");
  auto r = engine::parse_update_body(body);
  if (!r) return error_response(400, r.error().message);
  auto warnings = engine::update_container(*e, c->id, *r);
  if (!warnings) {
    int err = warnings.error().errno_value;
    // Docker's update errors are bad parameters (limits, conflicts), not server faults.
    return error_response(err == ENOENT ? 404 : err == EINVAL || err == ERANGE ? 400 : error_response(warnings.error()).status,
                          warnings.error().message);
  }
  return json_response(200, {{"Warnings", *warnings}});
}

// GET /containers/{id}/top?ps_args=-ef → {"Titles": [...], "Processes": [[...]]}.
Response container_top(engine::Engine* e, const Request& q) {
  const std::string& ref = q.params.at("id");
  auto c = lookup(*e, ref);
  if (!c) return error_response(c.error());
  if (c->state != store::ContainerState::kRunning && c->state != store::ContainerState::kPaused)
    return error_response(409, "Container " + c->id + " is not running");
  std::string args = query_value(q, "ps_args", "-ef");
  if (args.empty()) args = "-ef";
  auto t = engine::top_container(*e, c->id, args);
  if (!t) {
    int err = t.error().errno_value;
    if (err == EINVAL && t.error().message.find("is not running") != std::string::npos)
      return error_response(409, "Container " + c->id + " is not running");
    // EINVAL: ps_args Docker refuses ("specifying \"user=PID\" is not allowed") or ps
    // rejected them; anything else is ours.
    return error_response(err == ENOENT ? 404 : err == EINVAL ? 400 : 500, t.error().message);
  }
  return json_response(200, {{"Titles", t->titles}, {"Processes", t->processes}});
}

// GET /containers/{id}/changes → [{"Path": "/tmp", "Kind": 0}, …] (0 changed, 1 added, 2 deleted).
Response container_changes(engine::Engine* e, const Request& q) {
  auto c = lookup(*e, q.params.at("id"));
  if (!c) return error_response(c.error());
  auto changes = engine::container_changes(*e, c->id);
  if (!changes) return error_response(changes.error());
  json out = json::array();
  for (auto& ch : *changes) out.push_back({{"Path", ch.path}, {"Kind", ch.kind}});
  return json_response(200, out);
}

// POST /containers/prune?filters={"until":[…],"label":[…],"label!":[…]}.
Response containers_prune(engine::Engine* e, const Request& q) {
  auto raw = parse_filters(query_value(q, "filters"));
  if (!raw) return error_response(400, raw.error().message);
  auto f = prune_filter_from(*raw, {"until", "label", "label!"});
  if (!f) return error_response(400, f.error().message);
  auto rep = engine::prune_containers(*e, *f);
  if (!rep) return error_response(rep.error());
  return json_response(200, {{"ContainersDeleted", rep->deleted}, {"SpaceReclaimed", rep->reclaimed}});
}

}  // namespace

void add_container_extra_routes(Router<Route>& r) {
  r.add("POST", "/containers/{id}/rename", {container_rename, RunOn::kPool});
  r.add("POST", "/containers/{id}/update", {container_update, RunOn::kPool});
  r.add("GET", "/containers/{id}/top", {container_top, RunOn::kPool});
  r.add("GET", "/containers/{id}/changes", {container_changes, RunOn::kPool});
  add_container_archive_routes(r);  // export, archive: container_archive_handlers.cc
  r.add("POST", "/containers/prune", {containers_prune, RunOn::kPool});
}

}  // namespace md::api
