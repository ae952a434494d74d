// System endpoints: /_ping, /version, /info, /system/df.
#include <sys/utsname.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "api/http_util.h"
#include "engine/core/system.h"

namespace md::api {
namespace {

using nlohmann::json;

std::string kernel_version() {
  struct utsname u {};
  if (::uname(&u) != 0) return "";
  return u.release;
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

// GET /system/df?type=: engine::disk_usage (LayersSize, Images with SharedSize and
// Containers, Containers with SizeRw/SizeRootFs, Volumes with UsageData, BuildCache []).
// Every part is computed whatever `type` asks for (Docker ≥ 1.42 may leave some out).
Response system_df(engine::Engine* e, const Request&) {
  auto j = engine::disk_usage(*e);
  if (!j) return error_response(j.error());
  return json_response(200, *j);
}

}  // namespace

void add_system_routes(Router<Route>& r) {
  r.add("GET", "/_ping", {ping, RunOn::kInline});
  r.add("GET", "/version", {version, RunOn::kInline});
  r.add("GET", "/info", {info, RunOn::kPool});
  r.add("GET", "/system/df", {system_df, RunOn::kPool});
}

}  // namespace md::api
