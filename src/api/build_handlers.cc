// Build endpoints. minidocker has no image builder behind the API; `/build/prune` still
// answers (the docker CLI's `system prune` and `builder prune` call it) with an empty
// cache, and `/build` says plainly what is missing instead of a bare 404.
#include "api/http_util.h"

namespace md::api {
namespace {

Response build_prune(engine::Engine*, const Request&) {
  return json_response(200, {{"CachesDeleted", nlohmann::json::array()}, {"SpaceReclaimed", 0}});
}

Response build(engine::Engine*, const Request&) {
  return error_response(501, "minidocker serve has no image builder (POST /build): build the image elsewhere "
                             "and `docker load` it, or commit a container (`docker commit`)");
}

}  // namespace

void add_build_routes(Router<Route>& r) {
  r.add("POST", "/build/prune", {build_prune, RunOn::kInline});
  r.add("POST", "/build", {build, RunOn::kInline});
}

}  // namespace md::api
