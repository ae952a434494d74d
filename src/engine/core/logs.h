// Reading a container's json-file log (written by its monitor; docs/monitor.md) for
// `minidocker logs`: rotated files oldest first, --tail, --since/--until, and --follow
// (inotify on the log directory until the container is no longer running).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/result.h"
#include "engine/core/engine.h"

namespace md::engine {

struct LogOptions {
  bool follow = false;
  bool stdout_stream = true, stderr_stream = true;
  int64_t since_ns = 0, until_ns = 0;  // 0: unbounded
  int64_t tail = -1;                   // -1: all lines
};

struct LogLine {
  bool is_stderr = false;
  std::string text;  // the bytes as the container wrote them, with the "\n" if there was one
  int64_t time_ns = 0;
  std::string time;  // RFC3339Nano as stored
};

// Calls `sink` for each line; stops early when it returns false.
Status read_logs(Engine& e, const std::string& ref, const LogOptions& o,
                 const std::function<bool(const LogLine&)>& sink);

int64_t parse_rfc3339_nano(const std::string& s);

}  // namespace md::engine
