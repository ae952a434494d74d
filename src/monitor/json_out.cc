#include "monitor/json_out.h"

#include <sys/mman.h>

#include <cstring>

#include "monitor/json_log.h"

namespace md::monitor {

namespace {

// Big enough for the status file with a full health log: 5 outputs of 4096 bytes, each
// byte escaped to at most 6. Static: its pages are touched only as far as a document
// reaches, and given back by ~JsonOut.
constexpr size_t kCap = 192 * 1024;
alignas(4096) char g_buf[kCap];
// How far the last document reached, for the release in ~JsonOut.
size_t g_high = 0;

}  // namespace

JsonOut::JsonOut() : buf_(g_buf) {}

JsonOut::~JsonOut() {
  if (len_ > g_high) g_high = len_;
  // Keep the first page (every document uses it); drop what a big one touched beyond.
  if (g_high > 4096) {
    ::madvise(g_buf + 4096, (g_high - 4096 + 4095) & ~size_t{4095}, MADV_DONTNEED);
    g_high = 0;
  }
}

JsonOut& JsonOut::raw(std::string_view s) {
  if (len_ + s.size() > kCap) {
    overflow_ = true;
    return *this;
  }
  std::memcpy(buf_ + len_, s.data(), s.size());
  len_ += s.size();
  return *this;
}

JsonOut& JsonOut::str(std::string_view s) {
  if (len_ + 6 * s.size() + 2 > kCap) {
    overflow_ = true;
    return *this;
  }
  buf_[len_++] = '"';
  len_ += json_escape(s.data(), s.size(), buf_ + len_);
  buf_[len_++] = '"';
  return *this;
}

JsonOut& JsonOut::num(int64_t v) {
  char tmp[24];
  return raw(std::string_view(tmp, format_int(tmp, v)));
}

JsonOut& JsonOut::key(std::string_view k, bool first) {
  if (!first) raw(",");
  return str(k).raw(":");
}

size_t format_int(char* out, int64_t v) {
  char tmp[24];
  size_t n = 0;
  uint64_t u = v < 0 ? static_cast<uint64_t>(-(v + 1)) + 1 : static_cast<uint64_t>(v);
  do {
    tmp[n++] = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u);
  size_t len = 0;
  if (v < 0) out[len++] = '-';
  while (n) out[len++] = tmp[--n];
  return len;
}

size_t format_rfc3339_go(char* out, int64_t unix_ns) {
  int64_t sec = unix_ns / 1'000'000'000, nsec = unix_ns % 1'000'000'000;
  if (nsec < 0) {
    sec -= 1;
    nsec += 1'000'000'000;
  }
  size_t n = format_rfc3339_nano(out, sec, static_cast<long>(nsec));  // ...:05.123456789Z
  size_t end = n - 1;                                                  // at 'Z'
  while (out[end - 1] == '0') end--;
  if (out[end - 1] == '.') end--;
  out[end] = 'Z';
  out[end + 1] = 0;
  return end + 1;
}

}  // namespace md::monitor
