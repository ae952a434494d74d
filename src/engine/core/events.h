// Events: what happened to containers and images, in Docker's /events shape.
//
// One append-only file, <root>/events.log, one JSON object per line. Every writer (the
// CLI, monitors, later the API server) opens it O_APPEND and writes a whole line with one
// write(2), so lines from concurrent processes never interleave (a regular-file append
// is atomic with respect to other appends). Readers (`minidocker events`) read it and,
// with follow, wait for more with inotify. No daemon needs to be running to record them.
//
// Appending never fails the operation that caused the event: an error is ignored (an
// event log is not worth failing a `stop` for).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace md::engine {

struct Event {
  std::string type = "container";  // container | image | volume | network
  std::string action;              // create, start, die, stop, kill, destroy, …
  std::string id;                  // container id, image id or name
  std::map<std::string, std::string> attributes;  // name, image, exitCode, signal …
  std::string from;                // the container's image (status-era field)
};

// The Docker JSON of an event at `time_ns` (status/id/from only for containers and images,
// as Docker does).
nlohmann::json event_json(const Event& e, int64_t time_ns);

// Appends `e` stamped now. Best effort (see above).
void append_event(const std::string& events_file, const Event& e);

struct EventQuery {
  int64_t since_ns = 0;   // 0: from the beginning
  int64_t until_ns = 0;   // 0: no end (with follow: forever)
  bool follow = false;
  // Docker's filters: type, event/action, container (id or name), image, label.
  std::map<std::string, std::vector<std::string>> filters;
};

// Calls `sink` for each matching event in order. Without follow returns at the end of the
// file (or at until); with follow waits for new lines until until_ns passes or sink
// returns false.
Status read_events(const std::string& events_file, const EventQuery& q,
                   const std::function<bool(const nlohmann::json&)>& sink);

}  // namespace md::engine
