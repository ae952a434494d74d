#include "monitor/json_log.h"

#include <gtest/gtest.h>
#include <time.h>

#include <cstdlib>

namespace md::monitor {
namespace {

TEST(MonitorJsonLog, Rfc3339NanoMatchesGmtime) {
  char buf[32];
  for (int64_t t : {0LL, 951782400LL /*2000-02-29*/, 1795456800LL, 4102444799LL, 1234567890LL}) {
    format_rfc3339_nano(buf, t, 123456789);
    time_t tt = static_cast<time_t>(t);
    struct tm tm;
    gmtime_r(&tt, &tm);
    char want[64];
    strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S.123456789Z", &tm);
    EXPECT_STREQ(buf, want) << t;
  }
  format_rfc3339_nano(buf, 1795456800, 5);
  EXPECT_STREQ(buf + 19, ".000000005Z");
}

TEST(MonitorJsonLog, EscapesLikeDocker) {
  std::string in = "a\"b\\c\n\t\x01<>&\xc3\xa9";
  char out[256];
  size_t n = json_escape(in.data(), in.size(), out);
  EXPECT_EQ(std::string(out, n), "a\\\"b\\\\c\\n\\t\\u0001\\u003c\\u003e\\u0026\xc3\xa9");
}

}  // namespace
}  // namespace md::monitor
