// JsonOut: builds one small JSON document (the status file, an event line) by hand in a
// static buffer: no allocation and no nlohmann in the monitor's loop (RSS, docs/monitor.md).
// Strings are escaped as Go's encoder does (json_escape). Only one JsonOut may be in use at
// a time (single-threaded monitor); release() gives the buffer's touched pages back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace md::monitor {

class JsonOut {
 public:
  JsonOut();
  ~JsonOut();
  JsonOut(const JsonOut&) = delete;
  JsonOut& operator=(const JsonOut&) = delete;

  JsonOut& raw(std::string_view s);                   // as is
  JsonOut& str(std::string_view s);                   // "escaped"
  JsonOut& str(const char* data, size_t len) { return str(std::string_view(data, len)); }
  JsonOut& num(int64_t v);
  JsonOut& boolean(bool v) { return raw(v ? "true" : "false"); }
  // ,"key": (the comma unless first) — for objects written field by field.
  JsonOut& key(std::string_view k, bool first = false);

  std::string_view view() const { return {buf_, len_}; }
  // False when the document did not fit (it is then truncated and must not be used).
  bool ok() const { return !overflow_; }

 private:
  char* buf_;
  size_t len_ = 0;
  bool overflow_ = false;
};

// Appends the decimal text of v to out (at least 21 bytes); returns the length.
size_t format_int(char* out, int64_t v);

// Go's RFC3339Nano (time.Time's JSON form), in UTC: trailing zeros of the fraction are
// dropped, and the fraction with them when it is zero ("...:05Z", "...:05.1Z").
size_t format_rfc3339_go(char* out, int64_t unix_ns);

}  // namespace md::monitor
