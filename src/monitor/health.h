// Health checks (Docker's HEALTHCHECK), driven by the monitor's epoll loop.
//
// One timerfd serves both deadlines: the next probe while idle, the probe's timeout while
// one runs. A probe is a forked child of the monitor that runs the command inside the
// container with md::runtime::exec_in_container (the child does the heavy work, the
// monitor stays small); the command's stdout+stderr come back through a pipe (first 4096
// bytes kept), its exit code through a second pipe. On timeout the child's process group
// (the child and the process it exec'd in the container) is SIGKILLed.
//
// Docker's rules: "starting" until the first success (→ healthy) or until `retries`
// consecutive failures (→ unhealthy); a failure that starts within the start period does
// not count while the status is still "starting"; the log keeps the last 5 results.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/unique_fd.h"
#include "monitor/json_out.h"
#include "monitor/options.h"

namespace md::monitor {

enum class HealthStatus { kStarting, kHealthy, kUnhealthy };
const char* health_status_name(HealthStatus s);

inline constexpr size_t kHealthOutputMax = 4096;  // Docker's maxOutputLen
inline constexpr int kHealthLogMax = 5;           // Docker's maxLogEntries

struct HealthResult {
  int64_t start_ns = 0, end_ns = 0;  // Unix nanoseconds
  int exit_code = 0;
  size_t output_len = 0;
  char output[kHealthOutputMax];
};

// The status, streak and log: Docker's rules without any I/O (unit-tested).
class HealthState {
 public:
  explicit HealthState(int retries, int64_t start_period_ns) : retries_(retries), start_period_ns_(start_period_ns) {}
  // The container (re)started: "starting", streak 0; the log is kept.
  void reset();
  // Records a probe result; returns true when the status changed.
  bool record(const HealthResult& r, int64_t container_started_ns);
  HealthStatus status() const { return status_; }
  int failing_streak() const { return failing_streak_; }
  int log_size() const { return log_len_; }
  const HealthResult& log_entry(int i) const { return log_[(log_first_ + i) % kHealthLogMax]; }
  // {"Status":...,"FailingStreak":N,"Log":[{"Start","End","ExitCode","Output"}...]}
  void write_json(JsonOut& j) const;

 private:
  int retries_;
  int64_t start_period_ns_;
  HealthStatus status_ = HealthStatus::kStarting;
  int failing_streak_ = 0;
  HealthResult log_[kHealthLogMax];
  int log_first_ = 0, log_len_ = 0;
};

// Go's time.Duration.String(): "30s", "1.5s", "500ms", "1m30s", "1h0m0s".
std::string go_duration(int64_t ns);

class HealthChecker {
 public:
  // `epfd` and the three epoll tags are the loop's: the checker registers its own fds.
  HealthChecker(const HealthConfig& c, std::string runtime_root, std::string id, int epfd, uint64_t tag_timer,
                uint64_t tag_out, uint64_t tag_exit);
  ~HealthChecker();

  enum class Outcome { kNothing, kResult, kStatusChanged };

  // The container runs (first start or restart): status "starting", first probe after one
  // interval.
  void on_started(int64_t started_ns);
  // The container exited: a running probe is killed, no further probe.
  void on_exited();
  // The timerfd fired: starts a probe, or times out the running one.
  Outcome on_timer();
  // The probe's output pipe is readable.
  void on_output();
  // The probe child exited (its pidfd is readable).
  Outcome on_probe_exit();

  bool valid() const { return timer_.valid(); }
  const HealthState& state() const { return state_; }
  pid_t probe_pid() const { return probe_pid_; }

 private:
  void arm(int64_t ns);
  Outcome start_probe();
  void kill_probe();
  void close_probe();
  Outcome finish(int exit_code, const char* output, size_t len);

  HealthConfig config_;
  std::string root_, id_;
  int epfd_;
  uint64_t tag_timer_, tag_out_, tag_exit_;
  UniqueFd timer_;
  HealthState state_;
  int64_t started_ns_ = 0;
  bool active_ = false;  // the container runs
  // The probe in flight.
  pid_t probe_pid_ = -1;
  UniqueFd probe_pidfd_, probe_out_, probe_result_;
  HealthResult current_;  // the result in flight
};

}  // namespace md::monitor
