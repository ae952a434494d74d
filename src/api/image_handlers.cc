// Image endpoints: list, inspect, history, tag, delete, prune, search; the uploads and
// downloads (create, load, get, commit) are in image_transfer_handlers.cc. Names may hold
// slashes and colons ("localhost:5000/a/b:tag"): the routes use the router's "{name*}".
// See docs/api-images.md.
#include <cerrno>
#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "api/http_util.h"
#include "api/image_transfer.h"
#include "api/image_util.h"
#include "engine/core/system.h"
#include "engine/image/image_config.h"
#include "engine/image/image_filter.h"

namespace md::api {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

json labels_json(const store::Image& img) {
  json labels = json::object();
  for (auto& [k, v] : image::image_labels(img)) labels[k] = v;
  return labels;
}

// GET /images/json?all=&filters=&shared-size=&digests=
Response images_list(engine::Engine* e, const Request& q) {
  auto filters = parse_filters(query_value(q, "filters"));
  if (!filters) return error_response(filters.error());
  auto f = image::parse_image_list_filter(e->images(), *filters, image::unix_nanos_now());
  if (!f) return error_response(f.error());
  auto list = e->images().list();
  if (!list) return error_response(list.error());
  store::ContainerFilter every;
  every.all = true;
  std::map<std::string, int> containers;
  if (auto cs = e->containers().list(every))
    for (auto& c : *cs) ++containers[c.image];
  // SharedSize: bytes of this image's layers that other images use too (only on request,
  // as Docker: -1 otherwise).
  const bool shared_size = query_bool(q, "shared-size");
  std::map<std::string, int> layer_users;
  if (shared_size)
    for (auto& img : *list)
      for (auto& l : img.layers) ++layer_users[l];
  auto layers = image_service(*e);
  json out = json::array();
  for (auto& img : *list) {
    auto tags = image::filter_image(*f, img);
    if (!tags) continue;
    int64_t shared = -1;
    if (shared_size) {
      shared = 0;
      for (auto& l : img.layers)
        if (layer_users[l] > 1)
          if (auto sz = layers.layers().size(l)) shared += *sz;
    }
    out.push_back({{"Id", img.id},
                   {"ParentId", ""},
                   {"RepoTags", *tags},
                   {"RepoDigests", json::array()},
                   {"Created", img.created / 1000000000},
                   {"Size", img.size},
                   {"SharedSize", shared},
                   {"VirtualSize", img.size},
                   {"Labels", labels_json(img)},
                   {"Containers", containers[img.id]}});
  }
  return json_response(200, out);
}

// GET /images/{name}/json: the engine's inspect object plus the fields API 1.43 still has
// (Container, ContainerConfig, VirtualSize; docker-compose v1 reads ContainerConfig).
Response image_inspect(engine::Engine* e, const Request& q) {
  const std::string& name = q.params.at("name");
  auto svc = image_service(*e);
  auto j = svc.inspect(name);
  if (!j) return error_response(image_error(j.error(), name));
  auto img = svc.get(name);
  json config = img ? json::parse(img->config, nullptr, false) : json();
  if (!config.is_object()) config = json::object();
  // Loaded images may carry anything here (null, missing): never trust the types.
  auto field = [&](const char* key) {
    auto it = config.find(key);
    return it != config.end() ? *it : json();
  };
  json container_config = field("container_config").is_object() ? field("container_config") : field("config");
  json container = field("container");
  ordered_json out;
  for (auto& [k, v] : j->items()) {
    out[k] = v;
    if (k == "Created") {
      out["Container"] = container.is_string() ? container.get<std::string>() : "";
      out["ContainerConfig"] = image::inspect_container_config(container_config);
    } else if (k == "Size") {
      out["VirtualSize"] = v;
    }
  }
  Response r;
  r.body = out.dump() + "\n";
  return r;
}

// GET /images/{name}/history: newest step first; Id "<missing>" below the top.
Response image_history(engine::Engine* e, const Request& q) {
  const std::string& name = q.params.at("name");
  auto rows = image_service(*e).history(name);
  if (!rows) return error_response(image_error(rows.error(), name));
  json out = json::array();
  for (auto& r : *rows)
    out.push_back({{"Id", r.id},
                   {"Created", r.created / 1000000000},
                   {"CreatedBy", r.created_by},
                   {"Tags", r.tags.empty() ? json(nullptr) : json(r.tags)},
                   {"Size", r.size},
                   {"Comment", r.comment}});
  return json_response(200, out);
}

// POST /images/{name}/tag?repo=&tag= → 201.
Response image_tag(engine::Engine* e, const Request& q) {
  const std::string& name = q.params.at("name");
  std::string repo = query_value(q, "repo"), tag = query_value(q, "tag");
  if (repo.empty()) return error_response(400, "repository name must be given (repo=)");
  auto img = lookup_image(*e, name);
  if (!img) return error_response(img.error());
  std::string target = repo + (tag.empty() ? "" : ":" + tag);
  auto normalized = store::normalize_tag(target);
  if (!normalized) return error_response(400, "invalid reference format: " + normalized.error().message);
  if (auto st = e->images().tag(img->id, *normalized); !st) return error_response(st.error());
  e->emit({.type = "image", .action = "tag", .id = img->id, .attributes = {{"name", *normalized}}});
  return no_content(201);
}

// DELETE /images/{name}?force=&noprune= → [{"Untagged": …}, {"Deleted": …}].
Response image_delete(engine::Engine* e, const Request& q) {
  const std::string& name = q.params.at("name");
  auto img = lookup_image(*e, name);
  if (!img) return error_response(img.error());
  auto users = image_users(*e, img->id);
  auto r = image_service(*e).remove(name, query_bool(q, "force"), users);
  if (!r) return error_response(image_error(r.error(), name));
  json out = json::array();
  for (auto& rec : r->records) {
    bool untag = rec.kind == image::DeleteRecord::Kind::kUntagged;
    out.push_back({{untag ? "Untagged" : "Deleted", rec.value}});
    // Docker's events: one untag per tag and one delete for the image (none for its
    // layers), both naming the image id.
    if (untag || rec.value == img->id)
      e->emit({.type = "image", .action = untag ? "untag" : "delete", .id = img->id, .attributes = {{"name", img->id}}});
  }
  return json_response(200, out);
}

// POST /images/prune?filters= with dangling (default true), until, label, label!.
Response images_prune(engine::Engine* e, const Request& q) {
  auto filters = parse_filters(query_value(q, "filters"));
  if (!filters) return error_response(filters.error());
  bool all = false;
  engine::PruneFilter pf;
  for (auto& [k, vs] : *filters) {
    for (auto& v : vs) {
      if (k == "dangling") {
        if (v == "false" || v == "0") all = true;
        else if (v != "true" && v != "1") return error_response(400, "invalid filter 'dangling=" + v + "'");
      } else if (k == "until") {
        auto t = image::parse_filter_time(v, image::unix_nanos_now());
        if (!t) return error_response(t.error());
        if (!pf.until_ns || *t < *pf.until_ns) pf.until_ns = *t;
      } else if (k == "label") {
        pf.labels.push_back(v);
      } else if (k == "label!") {
        pf.not_labels.push_back(v);
      } else {
        return error_response(400, "invalid filter '" + k + "'");
      }
    }
  }
  auto rep = engine::prune_images(*e, all, pf);
  if (!rep) return error_response(rep.error());
  json deleted = json(nullptr);  // dockerd: null when nothing was deleted
  for (auto& [kind, value] : rep->records) {
    if (deleted.is_null()) deleted = json::array();
    deleted.push_back({{kind == "untagged" ? "Untagged" : "Deleted", value}});
  }
  e->emit({.type = "image", .action = "prune", .attributes = {{"reclaimed", std::to_string(rep->reclaimed)}}});
  return json_response(200, {{"ImagesDeleted", deleted}, {"SpaceReclaimed", rep->reclaimed}});
}

// GET /images/search: there is no registry to search.
Response images_search(engine::Engine*, const Request& q) {
  return error_response(501, "image search is not supported: minidocker has no registry client (searched for \"" +
                                 query_value(q, "term") + "\"); images come from `docker load` or `docker import`");
}

// POST /images/{name}/push: nowhere to push to.
Response image_push(engine::Engine*, const Request& q) {
  std::string ref = q.params.at("name"), tag = query_value(q, "tag");
  if (!tag.empty()) ref += ":" + tag;
  auto shown = store::normalize_tag(ref);  // the CLI sends docker.io/library/…
  return error_response(501, "push of " + (shown ? *shown : ref) +
                                 " is not supported: minidocker has no registry client; use `docker save` to "
                                 "move images");
}

}  // namespace

void add_image_routes(Router<Route>& r) {
  // Literal routes first: "/images/json" must not be taken for an image named "json".
  r.add("GET", "/images/json", {images_list, RunOn::kPool});
  r.add("GET", "/images/search", {images_search, RunOn::kPool});
  r.add("POST", "/images/prune", {images_prune, RunOn::kPool});
  add_image_transfer_routes(r);
  r.add("GET", "/images/{name*}/json", {image_inspect, RunOn::kPool});
  r.add("GET", "/images/{name*}/history", {image_history, RunOn::kPool});
  r.add("POST", "/images/{name*}/tag", {image_tag, RunOn::kPool});
  r.add("POST", "/images/{name*}/push", {image_push, RunOn::kPool});
  r.add("DELETE", "/images/{name*}", {image_delete, RunOn::kPool});
}

}  // namespace md::api
