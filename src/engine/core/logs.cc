#include "engine/core/logs.h"

#include <ctime>

#include "engine/core/follow.h"

namespace md::engine {

int64_t parse_rfc3339_nano(const std::string& s) {
  struct tm tm {};
  const char* rest = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!rest) return 0;
  int64_t secs = timegm(&tm);
  int64_t frac = 0;
  if (*rest == '.') {
    ++rest;
    int digits = 0;
    while (*rest >= '0' && *rest <= '9') {
      if (digits < 9) {
        frac = frac * 10 + (*rest - '0');
        ++digits;
      }
      ++rest;
    }
    while (digits++ < 9) frac *= 10;
  }
  return secs * 1000000000 + frac;
}

// One reader for the CLI and the API server (follow.cc): rotated files, tail, since,
// until, streams, then with follow the growing file until the container stops.
Status read_logs(Engine& e, const std::string& ref, const LogOptions& o,
                 const std::function<bool(const LogLine&)>& sink) {
  store::Container c = TRY(e.containers().get(ref));
  return follow_logs(e.paths(), c.id, o, sink, FollowCancel{});
}

}  // namespace md::engine
