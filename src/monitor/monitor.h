// The per-container monitor (conmon's job): launches one container with the runtime
// library in-process, holds its stdio (pipes or a pty), writes Docker json-file logs,
// serves attached clients, runs health checks, restarts the container by its policy,
// records every transition in a status file and the end in an exit file, and deletes the
// runtime container. See docs/monitor.md.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "monitor/options.h"

namespace md::monitor {

// What the exit file records.
struct ExitInfo {
  int exit_code = 0;    // 128+signal when killed
  int signal = 0;       // 0: exited normally
  bool oom_killed = false;
  std::string finished_at;
  std::string error;    // a restart that failed; "" otherwise
};

// The exit file's JSON text.
std::string exit_json(const ExitInfo& e);
std::string error_json(const std::string& message);

// Runs the monitor. Unless o.foreground, detaches first (fork, setsid, fork): the calling
// process returns once the container has started (0) or failed to (1); the monitor itself
// never returns from this call to the caller. Returns the process exit code.
int run_monitor(const MonitorOptions& o);

}  // namespace md::monitor
