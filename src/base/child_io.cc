#include "base/child_io.h"

#include <time.h>
#include <unistd.h>

#include <cerrno>

namespace md::child {

size_t str_len(const char* s) {
  size_t n = 0;
  while (s && s[n]) ++n;
  return n;
}

LineBuffer& LineBuffer::add(const char* s) { return add(s, str_len(s)); }

LineBuffer& LineBuffer::add(const char* s, size_t n) {
  for (size_t i = 0; i < n && len_ + 1 < sizeof buf_; ++i) buf_[len_++] = s[i];
  buf_[len_] = 0;
  return *this;
}

LineBuffer& LineBuffer::add_int(long long v) {
  char tmp[24];
  int i = 0;
  bool neg = v < 0;
  unsigned long long u = neg ? 0ULL - static_cast<unsigned long long>(v) : static_cast<unsigned long long>(v);
  do {
    tmp[i++] = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u);
  if (neg) tmp[i++] = '-';
  while (i) add(&tmp[--i], 1);
  return *this;
}

LineBuffer& LineBuffer::add_hex(unsigned long long v) {
  char tmp[20];
  int i = 0;
  do {
    tmp[i++] = "0123456789abcdef"[v & 15];
    v >>= 4;
  } while (v);
  add("0x", 2);
  while (i) add(&tmp[--i], 1);
  return *this;
}

void write_all(int fd, const void* data, size_t len) {
  const char* p = static_cast<const char*>(data);
  while (len) {
    ssize_t n = ::write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    p += n;
    len -= static_cast<size_t>(n);
  }
}

int64_t now_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

}  // namespace md::child
