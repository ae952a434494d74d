// The status file: the monitor's view of its container, replaced atomically (temporary
// file + rename) at every transition. Exactly these keys (docs/monitor.md, "Status file"):
//   {"state":"running"|"restarting"|"exited","monitor_pid":N,"pid":N,"pid_start_time":N,
//    "started_at":NS,"finished_at":NS,"exit_code":N,"oom_killed":bool,"restart_count":N,
//    "exit_count":N,"error":"...","health":null|{"Status":...,"FailingStreak":N,"Log":[...]}}
// Written by hand into a static buffer (no allocation, no nlohmann: RSS).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "base/result.h"

namespace md::monitor {

class HealthState;

struct ContainerStatusInfo {
  const char* state = "running";  // "running", "restarting", "exited"
  pid_t monitor_pid = 0;
  pid_t pid = 0;                  // the container's init on the host; 0 when none
  unsigned long long pid_start_time = 0;
  int64_t started_at = 0, finished_at = 0;  // Unix ns; 0 = never
  int exit_code = 0;
  bool oom_killed = false;
  int restart_count = 0;
  int exit_count = 0;
  std::string error;
};

// The JSON text (with a trailing newline). `health` may be null.
std::string status_json(const ContainerStatusInfo& s, const HealthState* health);
// Writes it to `path` atomically: path.tmp.<pid>, then rename.
Status write_status_file(const std::string& path, const ContainerStatusInfo& s, const HealthState* health);

}  // namespace md::monitor
