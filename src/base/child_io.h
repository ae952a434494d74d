// Async-signal-safe helpers for code that runs after clone() and before exec().
//
// Nothing here allocates, locks or throws: only raw syscalls on caller-provided
// fixed buffers. The parent prepares every string the child needs; the child uses
// these helpers to format error and --explain lines and to talk over the sync socket.
#pragma once

#include <cstddef>
#include <cstdint>

namespace md::child {

// A fixed-capacity text buffer. Appends silently truncate at capacity.
class LineBuffer {
 public:
  LineBuffer& add(const char* s);
  LineBuffer& add(const char* s, size_t n);
  LineBuffer& add_int(long long v);
  LineBuffer& add_hex(unsigned long long v);
  const char* data() const { return buf_; }
  size_t size() const { return len_; }
  void clear() { len_ = 0; buf_[0] = 0; }

 private:
  char buf_[512] = {0};
  size_t len_ = 0;
};

// Writes all bytes, retrying on EINTR; ignores errors (best effort diagnostics).
void write_all(int fd, const void* data, size_t len);
size_t str_len(const char* s);
// Monotonic clock in nanoseconds (clock_gettime is async-signal-safe).
int64_t now_ns();

}  // namespace md::child
