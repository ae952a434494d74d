// API endpoints that stream (docs/api-streams.md): attach and resize (stream_attach.cc),
// stats, events; logs follow is container_logs' (stream_util.cc).
#include <poll.h>

#include <chrono>
#include <set>
#include <thread>

#include "api/http_util.h"
#include "api/stream_util.h"
#include "engine/core/containers.h"
#include "engine/core/events.h"
#include "engine/core/follow.h"
#include "engine/core/stats.h"
#include "engine/store/ids.h"

namespace md::api {

namespace {

using nlohmann::json;

engine::ContainerStats sample(engine::Engine& e, const store::Container& c) {
  engine::ContainerStats s;
  if (auto r = engine::sample_container_stats(e, c)) s = std::move(*r);
  if (s.id.empty()) s.id = c.id;
  if (s.name.empty()) s.name = c.name;
  return s;
}

// Waits `ms` unless the client goes away first (then true).
bool wait_or_gone(int fd, int ms) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, POLLIN | POLLRDHUP, 0};
    if (::poll(&p, 1, int(left)) > 0 && client_gone(fd)) return true;
  }
}

// GET /containers/{id}/stats?stream=&one-shot=: Docker's stats JSON. stream (the default)
// sends one object at once and then one per second, chunked, until the client leaves or
// the container is removed; stream=0 one object whose precpu_stats is a sample taken
// 500 ms before (so CPU % means something), or with one-shot=1 a single sample.
Response container_stats(engine::Engine* e, const Request& q) {
  auto c = lookup(*e, q.params.at("id"));
  if (!c) return error_response(c.error());
  bool stream = q.query.count("stream") ? query_bool(q, "stream") : true;
  bool one_shot = query_bool(q, "one-shot");
  if (stream && one_shot) return error_response(400, "cannot have stream=true and one-shot=true");
  if (!stream) {
    engine::ContainerStats prev;
    if (!one_shot && is_up(c->state)) {
      prev = sample(*e, *c);
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      if (auto again = engine::reconcile_container(*e, c->id)) *c = std::move(*again);
    }
    return json_response(200, engine::stats_api_json(sample(*e, *c), prev));
  }
  Response r;
  r.headers = {{"Transfer-Encoding", "chunked"}};
  r.hijack = [e, id = c->id](Hijacked& h) {
    engine::ContainerStats prev;
    for (;;) {
      auto c = engine::reconcile_container(*e, id);
      if (!c) break;  // removed
      engine::ContainerStats cur = sample(*e, *c);
      if (!write_all(h.fd, http_chunk(engine::stats_api_json(cur, prev).dump() + "\n"))) return;
      prev = std::move(cur);
      if (wait_or_gone(h.fd, 1000)) return;
    }
    write_all(h.fd, kLastChunk);
  };
  return r;
}

// GET /events?since=&until=&filters=: the events in range, then (until `until` passes,
// forever without it) the new ones as they happen; chunked JSON objects, one per line.
// Without since, only events from now on.
Response events(engine::Engine* e, const Request& q) {
  auto filters = parse_filters(query_value(q, "filters"));
  if (!filters) return error_response(400, filters.error().message);
  static const std::set<std::string> kKnown = {"config", "container", "daemon", "event", "image", "label", "network",
                                               "node", "plugin", "scope", "secret", "service", "type", "volume"};
  for (auto& [key, values] : *filters)
    if (!kKnown.count(key)) return error_response(400, "invalid filter '" + key + "'");
  engine::EventQuery eq;
  eq.filters = std::move(*filters);
  eq.filters.erase("scope");   // everything here is "local"
  eq.filters.erase("daemon");  // one daemon
  int64_t now = store::now_unix_nanos();
  std::string since = query_value(q, "since"), until = query_value(q, "until");
  eq.since_ns = since.empty() ? now : unix_ns(since);
  eq.until_ns = unix_ns(until);
  if (eq.until_ns && eq.since_ns && eq.until_ns < eq.since_ns)
    return error_response(400, "since time (" + since + ") cannot be after until time (" + until + ")");
  eq.follow = true;
  Response r;
  r.headers = {{"Transfer-Encoding", "chunked"}};
  r.hijack = [file = e->paths().events_file(), eq](Hijacked& h) {
    bool ok = true;
    engine::FollowCancel cancel{h.fd, [fd = h.fd] { return client_gone(fd); }};
    (void)engine::follow_events(file, eq, [&](const json& ev) { return ok = write_all(h.fd, http_chunk(ev.dump() + "\n")); },
                                cancel);
    if (ok) write_all(h.fd, kLastChunk);
  };
  return r;
}

}  // namespace

void add_stream_routes(Router<Route>& r) {
  add_attach_routes(r);
  r.add("GET", "/containers/{id}/stats", {container_stats, RunOn::kOwnThread});
  r.add("GET", "/events", {events, RunOn::kOwnThread});
}

}  // namespace md::api
