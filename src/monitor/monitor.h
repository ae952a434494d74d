// The per-container monitor (conmon's job): launches one container with the runtime
// library in-process, holds its stdout/stderr pipes, writes them as Docker json-file
// logs, waits for the exit, records it in an exit file and deletes the runtime container.
// See docs/monitor.md.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"

namespace md::monitor {

struct MonitorOptions {
  std::string runtime_root;  // --root of the runtime library
  std::string id;
  std::string bundle;
  std::string log_path;
  std::string exit_file;
  int64_t log_max_size = 0;  // bytes; <= 0: no rotation
  int log_max_files = 1;
  std::string pid_file;      // the monitor's own pid
  bool foreground = false;
};

// What the exit file records.
struct ExitInfo {
  int exit_code = 0;    // 128+signal when killed
  int signal = 0;       // 0: exited normally
  bool oom_killed = false;
  std::string finished_at;
};

// Parses argv (without argv[0]). Errors name the flag.
Result<MonitorOptions> parse_args(int argc, char** argv);

// The exit file's JSON text.
std::string exit_json(const ExitInfo& e);
std::string error_json(const std::string& message);

// Runs the monitor. Unless o.foreground, detaches first (fork, setsid, fork): the calling
// process returns once the container has started (0) or failed to (1); the monitor itself
// never returns from this call to the caller. Returns the process exit code.
int run_monitor(const MonitorOptions& o);

}  // namespace md::monitor
