// The Docker Engine API endpoints (docs/api.md), as plain functions of a Request and the
// calling thread's Engine: no Beast here, the server (server.cc) does the HTTP.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
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
  std::map<std::string, std::string> query;      // the last value of each key
  std::multimap<std::string, std::string> query_all;  // every value (repeated keys)
  std::map<std::string, std::string> params;  // path parameters ({id})
  std::string body;
  // Header names lower-cased ("connection", "upgrade", "authorization", …).
  std::map<std::string, std::string> headers;
};

// A connection a handler has taken over (attach, exec start, WebSocket, streamed logs,
// events and stats). `fd` is a blocking, close-on-exec socket the server closes after the
// hijack function returns; `pending` holds bytes the client already sent after the
// request (stdin typed before the upgrade, a first WebSocket frame).
struct Hijacked {
  int fd = -1;
  std::string pending;
};

// Writes all of `data` to a hijacked fd; false when the peer is gone (EPIPE, reset).
bool write_all(int fd, std::string_view data);
// One chunk of HTTP/1.1 chunked encoding ("<hex size>\r\n<data>\r\n"); an empty `data`
// gives nothing (the terminating chunk is kLastChunk).
std::string http_chunk(std::string_view data);
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

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
  // Hijacked answers: the server hands the socket over and then, on the same thread that
  // ran the handler (so the route should be RunOn::kOwnThread), writes the status line
  // and `headers` unless status is 0 (the function writes everything itself, e.g. a
  // WebSocket handshake), and calls `hijack`. Nothing is framed for the handler: add
  // "Transfer-Encoding: chunked" to `headers` and write http_chunk()s for a chunked
  // stream, or status 101 with "Connection: Upgrade", "Upgrade: tcp" for Docker's raw
  // attach stream. Without a Content-Type header the server adds `content_type`. The
  // connection is closed afterwards.
  std::function<void(Hijacked&)> hijack;
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
  // Largest request body this route accepts (bytes); 0 is the server's --body-limit.
  // Uploads (PUT archive, images/load, images/create fromSrc) set a larger one.
  uint64_t body_limit = 0;
};

// Docker's error body {"message": "..."} with `status`.
Response error_response(int status, const std::string& message);
// An engine error with the status Docker gives it: ENOENT 404, EEXIST/EBUSY 409,
// EINVAL 400, anything else 500.
Response error_response(const Error& e);
// The answer for a path no route knows: 404 {"message":"page not found"}.
Response not_found_response();

// Every endpoint of docs/api.md: all of the add_*_routes below.
void add_docker_routes(Router<Route>& r);

// One function per area, each in its own file.
void add_system_routes(Router<Route>& r);     // system_handlers.cc: _ping, version, info, system/df
void add_container_routes(Router<Route>& r);  // container_handlers.cc
void add_container_extra_routes(Router<Route>& r);  // container_extra_handlers.cc: rename, update, top, changes, export, archive, prune
void add_stream_routes(Router<Route>& r);     // stream_handlers.cc: attach, logs follow, stats, resize, events
void add_exec_routes(Router<Route>& r);       // exec_handlers.cc
void add_image_routes(Router<Route>& r);      // image_handlers.cc
void add_network_routes(Router<Route>& r);    // network_handlers.cc
void add_volume_routes(Router<Route>& r);     // volume_handlers.cc
void add_seed_routes(Router<Route>& r);       // seed_api.cc: the seeds' /api/* and the WebSocket
void add_metrics_routes(Router<Route>& r);    // metrics.cc: /metrics (Prometheus)
void add_web_routes(Router<Route>& r);        // web_routes.cc: the dashboard's files
void add_build_routes(Router<Route>& r);      // build_handlers.cc: /build/prune (empty), /build (501)

}  // namespace md::api
