// The seeds' REST API (docs/api-seeds.md): containers as the seeds' dashboards see them.
// This file: list, get, create, lifecycle, delete, export/import; add_seed_routes
// registers every /api/* route (seed_routes.h).
#include <cerrno>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "api/http_util.h"
#include "api/seed_model.h"
#include "api/seed_routes.h"
#include "engine/core/containers.h"

namespace md::api {
namespace {

using nlohmann::json;
using store::ContainerState;

Response container_object(engine::Engine& e, const std::string& id, int status = 200) {
  auto c = lookup(e, id);
  if (!c) return error_response(c.error());
  return json_response(status, seed_container_json(e, *c));
}

Response list(engine::Engine* e, const Request&) {
  (void)engine::reconcile_all(*e);
  // One read transaction for the whole list: a consistent snapshot, and one WAL read
  // lock instead of one per query (a few queries per container).
  auto out = e->db().read_transaction([&]() -> Result<json> {
    store::ContainerFilter f;
    f.all = true;
    auto rows = TRY(e->containers().list(f));
    json list = json::array();
    for (auto& c : rows) list.push_back(seed_container_json(*e, c));
    return list;
  });
  if (!out) return error_response(out.error());
  return json_response(200, *out);
}

Response get(engine::Engine* e, const Request& q) { return container_object(*e, q.params.at("name")); }

}  // namespace

// Creates (and by default starts) a container from the seeds' object. A start that fails
// removes the container again: the caller gets the error and nothing is left behind.
Response seed_create_from(engine::Engine& e, const json& in) {
  auto sc = seed_create_body(in);
  if (!sc) return error_response(400, sc.error().message);
  engine::CreateRequest r;
  r.body = sc->body;
  r.name = sc->name;
  auto c = engine::create_container(e, r);
  if (!c) {
    Response bad = error_response(c.error());
    if (c.error().errno_value == EINVAL) bad.status = 400;
    return bad;
  }
  if (sc->start) {
    if (auto s = engine::start_container(e, c->id); !s) {
      (void)engine::remove_container(e, c->id, true, true);
      int err = s.error().errno_value;
      return error_response(err == ENOENT || err == EACCES || err == EINVAL ? 400 : 500, s.error().message);
    }
  }
  return container_object(e, c->id, 201);
}

namespace {

Result<json> body_object(const Request& q) {
  json in = json::parse(q.body.empty() ? std::string("{}") : q.body, nullptr, false);
  if (in.is_discarded()) return fail("invalid JSON in the request body", EINVAL);
  if (!in.is_object()) return fail("the request body must be a JSON object", EINVAL);
  return in;
}

Response create(engine::Engine* e, const Request& q) {
  auto in = body_object(q);
  if (!in) return error_response(400, in.error().message);
  return seed_create_from(*e, *in);
}

// import: the export object, maybe renamed; "start" defaults to true as for create.
Response import(engine::Engine* e, const Request& q) {
  auto in = body_object(q);
  if (!in) return error_response(400, in.error().message);
  in->erase("id");
  return seed_create_from(*e, *in);
}

Response export_config(engine::Engine* e, const Request& q) {
  auto c = lookup(*e, q.params.at("name"));
  if (!c) return error_response(c.error());
  Response r;
  r.body = seed_export(*c).dump(2) + "\n";
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + c->name + ".json\"");
  return r;
}

// Engine errors of lifecycle verbs: "is not running", "is already paused" are state
// conflicts (409).
Response lifecycle_error(const Error& err) {
  Response r = error_response(err);
  if (err.errno_value == EINVAL) r.status = 409;
  return r;
}

Response start(engine::Engine* e, const Request& q) {
  auto c = lookup(*e, q.params.at("name"));
  if (!c) return error_response(c.error());
  if (c->state == ContainerState::kPaused) return error_response(409, "container " + c->name + " is paused; resume it");
  if (c->state != ContainerState::kRunning) {
    auto s = engine::start_container(*e, c->id);
    if (!s) {
      int err = s.error().errno_value;
      return error_response(err == ENOENT || err == EACCES || err == EINVAL ? 400 : 500, s.error().message);
    }
  }
  return container_object(*e, c->id);
}

Response stop(engine::Engine* e, const Request& q) {
  auto c = lookup(*e, q.params.at("name"));
  if (!c) return error_response(c.error());
  auto t = query_int(q, "t");
  if (!t) return error_response(400, t.error().message);
  std::optional<int> timeout;
  if (*t) timeout = int(**t);
  if (is_up(c->state))
    if (auto s = engine::stop_container(*e, c->id, timeout); !s) return lifecycle_error(s.error());
  return container_object(*e, c->id);
}

Response restart(engine::Engine* e, const Request& q) {
  auto c = lookup(*e, q.params.at("name"));
  if (!c) return error_response(c.error());
  auto t = query_int(q, "t");
  if (!t) return error_response(400, t.error().message);
  std::optional<int> timeout;
  if (*t) timeout = int(**t);
  if (auto s = engine::restart_container(*e, c->id, timeout); !s) return lifecycle_error(s.error());
  return container_object(*e, c->id);
}

Response pause(engine::Engine* e, const Request& q) {
  auto c = lookup(*e, q.params.at("name"));
  if (!c) return error_response(c.error());
  if (auto s = engine::pause_container(*e, c->id); !s) return lifecycle_error(s.error());
  return container_object(*e, c->id);
}

Response resume(engine::Engine* e, const Request& q) {
  auto c = lookup(*e, q.params.at("name"));
  if (!c) return error_response(c.error());
  if (auto s = engine::unpause_container(*e, c->id); !s) return lifecycle_error(s.error());
  return container_object(*e, c->id);
}

Response remove(engine::Engine* e, const Request& q) {
  const std::string& name = q.params.at("name");
  auto c = lookup(*e, name);
  if (!c) return error_response(c.error());
  if (auto s = engine::remove_container(*e, c->id, query_bool(q, "force"), false); !s) {
    Response r = error_response(s.error());
    // "You cannot remove a running container … Stop the container before attempting
    // removal or force remove": a conflict, as Docker answers it.
    if (s.error().errno_value == EINVAL || s.error().errno_value == EBUSY) r.status = 409;
    return r;
  }
  return json_response(200, {{"deleted", name}});
}

}  // namespace

void add_seed_container_routes(Router<Route>& r) {
  r.add("GET", "/api/containers", {list, RunOn::kPool});
  r.add("POST", "/api/containers", {create, RunOn::kOwnThread});  // start waits for the container
  r.add("POST", "/api/containers/import", {import, RunOn::kOwnThread});
  r.add("GET", "/api/containers/{name}", {get, RunOn::kPool});
  r.add("DELETE", "/api/containers/{name}", {remove, RunOn::kOwnThread});  // force waits for the kill
  r.add("GET", "/api/containers/{name}/export", {export_config, RunOn::kPool});
  r.add("POST", "/api/containers/{name}/start", {start, RunOn::kOwnThread});
  r.add("POST", "/api/containers/{name}/stop", {stop, RunOn::kOwnThread});
  r.add("POST", "/api/containers/{name}/restart", {restart, RunOn::kOwnThread});
  r.add("POST", "/api/containers/{name}/pause", {pause, RunOn::kPool});
  r.add("POST", "/api/containers/{name}/resume", {resume, RunOn::kPool});
}

void add_seed_routes(Router<Route>& r) {
  add_seed_container_routes(r);
  add_seed_info_routes(r);
  add_seed_isolation_routes(r);
  add_seed_ws_routes(r);
}

}  // namespace md::api
