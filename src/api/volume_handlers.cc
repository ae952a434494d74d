// Volume endpoints: list, create, inspect, remove, prune — the engine's volumes.h (local
// volumes: a directory each) in Docker's HTTP shapes. docker-compose v1 inspects
// <project>_<name>, creates it with its labels when missing, and removes it on `down -v`.
// docs/api-objects.md.
#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/http_util.h"
#include "api/prune_filter.h"
#include "engine/core/container_filter.h"
#include "engine/core/system.h"
#include "engine/core/volumes.h"

namespace md::api {
namespace {

using nlohmann::json;

std::map<std::string, std::string> labels_of(const json& v) {
  std::map<std::string, std::string> out;
  if (v.is_object())
    for (auto& [k, val] : v.items())
      if (val.is_string()) out[k] = val.get<std::string>();
  return out;
}

// GET /volumes?filters= (name, label, driver, dangling) → {"Volumes": [...], "Warnings": null}.
Response volumes_list(engine::Engine* e, const Request& q) {
  auto raw = parse_filters(query_value(q, "filters"));
  if (!raw) return error_response(400, raw.error().message);
  static const std::vector<std::string> kKeys = {"dangling", "driver", "label", "name"};
  for (auto& [key, values] : *raw) {
    if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end()) return error_response(400, "invalid filter '" + key + "'");
    if (key == "dangling")
      for (auto& v : values)
        if (v != "true" && v != "false" && v != "1" && v != "0")
          return error_response(400, "invalid filter 'dangling=" + v + "'");
  }
  auto list = engine::list_volumes(*e);
  if (!list) return error_response(list.error());
  auto any = [&](const std::string& key, auto pred) {
    auto it = raw->find(key);
    if (it == raw->end() || it->second.empty()) return true;
    return std::any_of(it->second.begin(), it->second.end(), pred);
  };
  json out = json::array();
  for (auto& v : *list) {
    std::string name = v.value("Name", "");
    bool ok = any("name", [&](auto& f) { return engine::regex_search_match(f, name); }) &&
              any("driver", [&](auto& f) { return f == v.value("Driver", "local"); }) &&
              (!raw->count("label") || engine::labels_match(raw->at("label"), labels_of(v.value("Labels", json()))));
    if (ok && raw->count("dangling")) {
      bool used = !engine::volume_users(*e, name).value_or(std::vector<std::string>{}).empty();
      ok = any("dangling", [&](auto& f) { return (f == "true" || f == "1") == !used; });
    }
    if (ok) out.push_back(v);
  }
  return json_response(200, {{"Volumes", out}, {"Warnings", nullptr}});
}

// POST /volumes/create: {Name, Driver, DriverOpts, Labels} → 201 Volume. An existing
// volume of that name is returned as it is (Docker's behaviour).
Response volume_create(engine::Engine* e, const Request& q) {
  json b = json::parse(q.body.empty() ? std::string("{}") : q.body, nullptr, false);
  if (b.is_discarded() || !b.is_object()) return error_response(400, "invalid JSON: the body is not a JSON object");
  engine::VolumeCreate v;
  for (auto k : {"Name", "Driver"})
    if (b.contains(k) && !b[k].is_null() && !b[k].is_string()) return error_response(400, std::string(k) + " must be a string");
  v.name = b.value("Name", json("")).is_string() ? b.value("Name", "") : "";
  std::string driver = b.value("Driver", json("")).is_string() ? b.value("Driver", "") : "";
  if (!driver.empty() && driver != "local")
    return error_response(404, "create " + v.name + ": error looking up volume plugin " + driver + ": plugin \"" + driver +
                                   "\" not found");
  for (auto k : {"Labels", "DriverOpts"}) {
    json m = b.value(k, json());
    if (m.is_null()) continue;
    if (!m.is_object()) return error_response(400, std::string(k) + " must be a map of strings");
    for (auto& [key, val] : m.items()) {
      if (!val.is_string()) return error_response(400, std::string(k) + " must be a map of strings");
      (std::string(k) == "Labels" ? v.labels : v.options)[key] = val.get<std::string>();
    }
  }
  if (!v.options.empty())
    return error_response(400, "create " + v.name + ": volume options are not supported by this engine yet (got \"" +
                                   v.options.begin()->first + "\"); the local driver creates plain directories");
  auto j = engine::create_volume(*e, v);
  if (!j) return error_response(j.error());
  return json_response(201, *j);
}

// GET /volumes/{name}
Response volume_inspect(engine::Engine* e, const Request& q) {
  auto j = engine::inspect_volume(*e, q.params.at("name"));
  if (!j) return error_response(j.error());
  return json_response(200, *j);
}

// DELETE /volumes/{name}?force= → 204; 409 while a container uses it (unless force).
Response volume_delete(engine::Engine* e, const Request& q) {
  const std::string& name = q.params.at("name");
  bool force = query_bool(q, "force");
  auto s = engine::remove_volume(*e, name, force);
  if (!s) {
    if (force && s.error().errno_value == ENOENT) return no_content();
    return error_response(s.error());
  }
  return no_content();
}

// POST /volumes/prune?filters={"label":…,"label!":…,"all":["true"]} → {VolumesDeleted, SpaceReclaimed}.
// Anonymous volumes only unless all=true (API ≥ 1.42, Docker 23+).
Response volumes_prune(engine::Engine* e, const Request& q) {
  auto raw = parse_filters(query_value(q, "filters"));
  if (!raw) return error_response(400, raw.error().message);
  bool all = false;
  auto f = prune_filter_from(*raw, {"label", "label!", "all"}, &all);
  if (!f) return error_response(400, f.error().message);
  auto rep = engine::prune_unused_volumes(*e, all, *f);
  if (!rep) return error_response(rep.error());
  return json_response(200, {{"VolumesDeleted", rep->deleted}, {"SpaceReclaimed", rep->reclaimed}});
}

}  // namespace

void add_volume_routes(Router<Route>& r) {
  r.add("GET", "/volumes", {volumes_list, RunOn::kPool});
  r.add("POST", "/volumes/create", {volume_create, RunOn::kPool});
  r.add("POST", "/volumes/prune", {volumes_prune, RunOn::kPool});
  r.add("GET", "/volumes/{name}", {volume_inspect, RunOn::kPool});
  r.add("DELETE", "/volumes/{name}", {volume_delete, RunOn::kPool});
}

}  // namespace md::api
