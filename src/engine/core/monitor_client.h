// The engine's side of minidocker-monitor (docs/monitor.md): starting one for a container
// and reading what it reports in <run root>/<id>/status.json.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "engine/core/engine.h"

namespace md::engine {

struct MonitorStatus {
  std::string state;  // running | restarting | exited
  pid_t monitor_pid = 0;
  pid_t pid = 0;
  uint64_t pid_start_time = 0;
  int64_t started_at = 0;
  int64_t finished_at = 0;
  int exit_code = 0;
  bool oom_killed = false;
  int restart_count = 0;
  int exit_count = 0;
  std::string error;
  nlohmann::json health;  // null or Docker's Health object
};

// nullopt when there is no status file (or it cannot be parsed).
std::optional<MonitorStatus> read_monitor_status(const Paths& paths, const std::string& id);

struct MonitorStart {
  int attach_fd = -1;       // connected socket inherited by the monitor (run/start -a)
  int tty_rows = 0, tty_cols = 0;
};

// Starts the monitor for `c` (bundle = its container dir) and waits until it reports the
// container started (0) or failed (the error from its exit file). The monitor detaches
// and outlives the caller.
Status spawn_monitor(Engine& e, const store::Container& c, const MonitorStart& o);

// Whether a process with this pid and start time (/proc/pid/stat field 22; 0 = any) still
// exists and is not a zombie.
bool process_alive(pid_t pid, uint64_t start_time);

}  // namespace md::engine
