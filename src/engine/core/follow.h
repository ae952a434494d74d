// Followers a caller can stop from outside: a container's log and the event log as
// streams for a client that may go away at any time (the API server's `logs?follow=1` and
// `/events`). A sink is only called when something new arrives, so a client that
// disconnects during a quiet spell would hold its thread until the next line; these also
// watch the client. logs.h's read_logs is follow_logs without a cancel.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "engine/core/events.h"
#include "engine/core/logs.h"
#include "engine/core/paths.h"

namespace md::engine {

// What ends a follower besides its own end: `fd` (a client's socket; -1: none) is polled
// together with the follower's own wait, and `stop()` is asked each time the follower
// wakes up (when `fd` is readable or hangs up, on new data, and at least every 500 ms);
// true ends it at once (without an error).
struct FollowCancel {
  int fd = -1;
  std::function<bool()> stop;
};

// A container's json-file log (rotated files first, tail, since,
// until, the streams), then with o.follow the lines the container writes next, until it
// is no longer running (its monitor's status file says "exited", is gone, or names a dead
// monitor), until o.until_ns passes, the sink returns false or `cancel` says so. Needs no
// Engine (no database): `p` and the id are enough.
Status follow_logs(const Paths& p, const std::string& id, const LogOptions& o,
                   const std::function<bool(const LogLine&)>& sink, const FollowCancel& cancel);

// Whether the monitor of `id` says the container is running or restarting (and is alive).
bool monitor_says_up(const Paths& p, const std::string& id);

// The events log: matching events from q.since_ns to the end of the file, then with
// q.follow new ones as they are appended, until q.until_ns passes (never when 0), the sink
// returns false or `cancel` says so. events.h's read_events is this without a cancel. Filters: type, event/action, container (id prefix or name), image, label
// (key or key=value), network and volume (the actor's id or name); others are ignored.
Status follow_events(const std::string& events_file, const EventQuery& q,
                     const std::function<bool(const nlohmann::json&)>& sink, const FollowCancel& cancel);

// Whether event `ev` passes the query's since/until and filters.
bool event_matches(const nlohmann::json& ev, const EventQuery& q);

}  // namespace md::engine
