// The Docker Engine API endpoints (docs/api.md), as plain functions of a Request and the
// calling thread's Engine: no Beast here, the server (server.cc) does the HTTP.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "api/router.h"
#include "base/result.h"
#include "engine/core/engine.h"

namespace md::api {

// The API version we speak (current clients negotiate down to it) and the oldest one.
inline constexpr const char* kApiVersion = "1.43";
inline constexpr const char* kMinApiVersion = "1.24";
inline constexpr const char* kVersion = "0.1.0";

struct Request {
  std::string method;
  std::string path;     // without the version prefix and the query string
  std::string version;  // "1.43" from "/v1.43/…", "" when not given
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> params;  // path parameters ({id})
  std::string body;
};

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  // Streamed answers (wait): the status line, headers and `body` go out at once with
  // chunked encoding, then `rest()` runs on the same thread and its result is the last
  // chunk. Docker's clients rely on this: `docker run` waits for the headers of its
  // POST /wait before it sends POST /start.
  std::function<std::string()> rest;
};

// How a route runs (see server.cc for the threading model):
//   kInline   on the I/O thread, no Engine (/_ping, /version): must never block
//   kPool     on a worker thread of the pool, with that worker's Engine
//   kOwnThread on a thread of its own with its own Engine: may block for long (wait)
enum class RunOn { kInline, kPool, kOwnThread };

using HandlerFn = Response (*)(engine::Engine*, const Request&);
struct Route {
  HandlerFn fn = nullptr;
  RunOn run_on = RunOn::kPool;
};

// Docker's error body {"message": "..."} with `status`.
Response error_response(int status, const std::string& message);
// An engine error with the status Docker gives it: ENOENT 404, EEXIST/EBUSY 409,
// EINVAL 400, anything else 500.
Response error_response(const Error& e);
// The answer for a path no route knows: 404 {"message":"page not found"}.
Response not_found_response();

// Every endpoint of docs/api.md.
void add_docker_routes(Router<Route>& r);

}  // namespace md::api
