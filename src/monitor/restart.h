// Docker's restart policy and back-off, as pure logic (no clock, no I/O): the monitor asks
// after every exit whether to restart and how long to wait first.
//
// Back-off: 100 ms before the first restart, doubled for each consecutive restart, at most
// 1 minute; back to 100 ms once the container ran for 10 s or more.
#pragma once

#include <cstdint>

#include "monitor/options.h"

namespace md::monitor {

inline constexpr int64_t kBackoffInitialNs = 100'000'000;
inline constexpr int64_t kBackoffMaxNs = 60'000'000'000;
inline constexpr int64_t kBackoffResetAfterNs = 10'000'000'000;

class RestartTracker {
 public:
  explicit RestartTracker(RestartPolicy p) : policy_(p) {}

  struct Decision {
    bool restart = false;
    int64_t delay_ns = 0;
  };
  // After an exit. `stopped`: the stop marker exists (a manual stop cancels every policy).
  // `ran_ns`: how long the container ran before this exit. A restart counts toward
  // restart_count() at once (the caller then waits delay_ns and starts it again).
  Decision on_exit(int exit_code, bool stopped, int64_t ran_ns);

  int restart_count() const { return restart_count_; }

 private:
  RestartPolicy policy_;
  int restart_count_ = 0;
  int64_t backoff_ns_ = 0;
};

}  // namespace md::monitor
