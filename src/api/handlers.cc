// The route table and Docker's error shape; the endpoints live in one file per area
// (handlers.h lists them).
#include "api/handlers.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstdio>

#include "api/http_util.h"

namespace md::api {

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

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(size_t(n));
  }
  return true;
}

std::string http_chunk(std::string_view data) {
  if (data.empty()) return "";
  char n[32];
  std::snprintf(n, sizeof n, "%zx\r\n", data.size());
  std::string out(n);
  out += data;
  out += "\r\n";
  return out;
}

void add_docker_routes(Router<Route>& r) {
  add_system_routes(r);
  add_container_routes(r);
  add_container_extra_routes(r);
  add_stream_routes(r);
  add_exec_routes(r);
  add_image_routes(r);
  add_network_routes(r);
  add_volume_routes(r);
  add_seed_routes(r);
  add_metrics_routes(r);
  add_web_routes(r);
  add_build_routes(r);
}

}  // namespace md::api
