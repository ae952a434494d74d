// The monitor's command line (docs/monitor.md, "Usage"): one struct, parsed once at start.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace md::monitor {

// Docker's restart policies. kUnlessStopped behaves as kAlways here: the stop marker is
// how a manual stop reaches the monitor, and it cancels every policy.
enum class RestartKind { kNo, kAlways, kUnlessStopped, kOnFailure };

struct RestartPolicy {
  RestartKind kind = RestartKind::kNo;
  int max_retries = 0;  // on-failure:N; 0 = unlimited
};

// "no", "always", "unless-stopped", "on-failure", "on-failure:N".
Result<RestartPolicy> parse_restart_policy(const std::string& text);

// Docker's HEALTHCHECK, already resolved to the argv run inside the container.
struct HealthConfig {
  std::vector<std::string> argv;          // empty: no health check
  int64_t interval_ns = 30'000'000'000;   // Docker's defaults
  int64_t timeout_ns = 30'000'000'000;
  int retries = 3;
  int64_t start_period_ns = 0;
};

// Docker's Test array (JSON text): ["CMD-SHELL", "cmd"] → /bin/sh -c cmd, ["CMD", argv...],
// ["NONE"] or [] → no check.
Result<std::vector<std::string>> parse_health_cmd(const std::string& json_text);

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

  std::string status_file;
  bool tty = false;
  unsigned short tty_rows = 0, tty_cols = 0;  // --tty-size; 0x0: leave the pty's default
  bool stdin_open = false;                    // --stdin
  int attach_fd = -1;                         // --attach-fd: connected stdin-once client
  std::string attach_socket;                  // --attach-socket: listening, for `attach`
  std::string control_socket;                 // --control-socket: datagrams ("resize R C")
  RestartPolicy restart;
  std::string stop_marker;
  HealthConfig health;
  std::string events_file, name, image;
  std::string exit_command;
  std::vector<std::string> exit_command_args;
};

// Parses argv (without argv[0]). Errors name the flag and the value.
Result<MonitorOptions> parse_args(int argc, char** argv);

// The usage text printed on a usage error.
const char* usage_text();

}  // namespace md::monitor
