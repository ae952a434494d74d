// Image endpoints.
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "api/http_util.h"

namespace md::api {
namespace {

using nlohmann::json;

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

void add_image_routes(Router<Route>& r) {
  r.add("GET", "/images/json", {images_list, RunOn::kPool});
}

}  // namespace md::api
