// --explain: one line per kernel-level step with its duration.
//
// Enabled by --explain or MINIDOCKER_EXPLAIN=1. Lines go to the explain fd (stderr
// by default) as "[explain] +  0.123 ms  <what>". The parent uses Explain::step(),
// the cloned child formats its own lines with child::LineBuffer (see runtime/child.cc).
// Not thread-safe; the runtime is single-threaded.
#pragma once

#include <cstdint>
#include <string>

namespace md {

class Explain {
 public:
  static bool enabled() { return enabled_; }
  static void enable(int fd);
  // Stops explaining (the fd is the caller's to close).
  static void disable() {
    enabled_ = false;
    fd_ = 2;
  }
  static int fd() { return fd_; }
  // Logs `what` with the time since the previous step (or since enable()).
  static void step(const std::string& what);
  // Logs without a duration column (a fact, not a timed step).
  static void note(const std::string& what);
  // Nanoseconds of the previous mark; the child continues the clock from here.
  static int64_t last_mark() { return last_ns_; }

 private:
  static inline bool enabled_ = false;
  static inline int fd_ = 2;
  static inline int64_t last_ns_ = 0;
};

// Formats one explain line into a caller buffer (shared by parent and child).
// Async-signal-safe.
void format_explain_line(char* out, unsigned long cap, int64_t elapsed_ns, const char* what);

}  // namespace md
