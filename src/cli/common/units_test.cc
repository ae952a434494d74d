#include "cli/common/units.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace md::cli {
namespace {

std::string err(const auto& r) { return r ? std::string("<ok>") : r.error().message; }

TEST(Units, RamInBytes) {
  struct {
    const char* in;
    int64_t want;
  } ok[] = {{"512m", 512ll << 20}, {"1g", 1ll << 30},     {"64M", 64ll << 20},
            {"1024", 1024},        {"1.5g", 1610612736},  {"64mb", 64ll << 20},
            {"64MB", 64ll << 20},  {"1KiB", 1024},        {"1kib", 1024},
            {"1mib", 1 << 20},     {"1 m", 1 << 20},      {"1b", 1},
            {"1B", 1},             {"0.5k", 512},         {".5k", 512},
            {"1.", 1},             {"1 ", 1},             {"1e3", 1000},
            {"2t", 2ll << 40},     {"1p", 1ll << 50},     {"0", 0}};
  for (auto& c : ok) {
    auto r = parse_ram_bytes(c.in);
    ASSERT_TRUE(r) << c.in << ": " << r.error().message;
    EXPECT_EQ(*r, c.want) << c.in;
  }
  EXPECT_EQ(*parse_ram_bytes("9e30"), INT64_MIN);  // Go's float→int64 overflow

  EXPECT_EQ(err(parse_ram_bytes("abc")), "invalid size: 'abc'");
  EXPECT_EQ(err(parse_ram_bytes("")), "invalid size: ''");
  EXPECT_EQ(err(parse_ram_bytes("-5")), "invalid size: '-5'");
  EXPECT_EQ(err(parse_ram_bytes("1x")), "invalid suffix: 'x'");
  EXPECT_EQ(err(parse_ram_bytes("1bb")), "invalid suffix: 'bb'");
  EXPECT_EQ(err(parse_ram_bytes("1kbb")), "invalid suffix: 'kbb'");
  EXPECT_EQ(err(parse_ram_bytes("1kx")), "invalid suffix: 'kx'");
  EXPECT_EQ(err(parse_ram_bytes("1e")), "invalid suffix: 'e'");
  EXPECT_EQ(err(parse_ram_bytes("1MX")), "invalid suffix: 'mx'");
  EXPECT_EQ(err(parse_ram_bytes("1.2.3")),
            "strconv.ParseFloat: parsing \"1.2.3\": invalid syntax");
  EXPECT_EQ(err(parse_ram_bytes("x1")), "strconv.ParseFloat: parsing \"x1\": invalid syntax");
  EXPECT_EQ(err(parse_ram_bytes(" 1")), "strconv.ParseFloat: parsing \" 1\": invalid syntax");

  EXPECT_EQ(*parse_human_size("1k"), 1000);
  EXPECT_EQ(*parse_human_size("1.5MB"), 1500000);
}

TEST(Units, Cpus) {
  struct {
    const char* in;
    int64_t want;
  } ok[] = {{"1.5", 1500000000}, {"1/2", 500000000},  {"1e-3", 1000000}, {"+1", 1000000000},
            {"-0.5", -500000000}, {".5", 500000000},  {"5.", 5000000000}, {"1.5e1", 15000000000},
            {"0", 0},             {"0.000000001", 1}, {"2", 2000000000}, {"0.0000000010", 1}};
  for (auto& c : ok) {
    auto r = parse_cpus(c.in);
    ASSERT_TRUE(r) << c.in << ": " << r.error().message;
    EXPECT_EQ(*r, c.want) << c.in;
  }
  EXPECT_EQ(err(parse_cpus("1.x")), "failed to parse 1.x as a rational number");
  EXPECT_EQ(err(parse_cpus("abc")), "failed to parse abc as a rational number");
  EXPECT_EQ(err(parse_cpus("")), "failed to parse  as a rational number");
  EXPECT_EQ(err(parse_cpus(" 1")), "failed to parse  1 as a rational number");
  EXPECT_EQ(err(parse_cpus("1/0")), "failed to parse 1/0 as a rational number");
  EXPECT_EQ(err(parse_cpus("3/-2")), "failed to parse 3/-2 as a rational number");
  EXPECT_EQ(err(parse_cpus("1/3")), "value is too precise");
  EXPECT_EQ(err(parse_cpus("0.0000000001")), "value is too precise");
}

TEST(Units, GoDuration) {
  constexpr int64_t s = 1'000'000'000;
  struct {
    const char* in;
    int64_t want;
  } ok[] = {{"1m30s", 90 * s}, {"500ms", s / 2},          {"2h", 7200 * s},
            {"0", 0},          {"-1.5h", -5400 * s},      {"+5s", 5 * s},
            {"1us", 1000},     {"1\xc2\xb5s", 1000},      {"1\xce\xbcs", 1000},
            {"10ns", 10},      {".5s", s / 2},            {"1.s", s},
            {"2h45m", (2 * 3600 + 45 * 60) * s},          {"0s", 0},
            {"1.0000000001s", s}};
  for (auto& c : ok) {
    auto r = parse_go_duration(c.in);
    ASSERT_TRUE(r) << c.in << ": " << r.error().message;
    EXPECT_EQ(*r, c.want) << c.in;
  }
  EXPECT_EQ(err(parse_go_duration("x")), "time: invalid duration \"x\"");
  EXPECT_EQ(err(parse_go_duration("")), "time: invalid duration \"\"");
  EXPECT_EQ(err(parse_go_duration("-")), "time: invalid duration \"-\"");
  EXPECT_EQ(err(parse_go_duration(".s")), "time: invalid duration \".s\"");
  EXPECT_EQ(err(parse_go_duration("10")), "time: missing unit in duration \"10\"");
  EXPECT_EQ(err(parse_go_duration("1s2")), "time: missing unit in duration \"1s2\"");
  EXPECT_EQ(err(parse_go_duration("10x")), "time: unknown unit \"x\" in duration \"10x\"");
  EXPECT_EQ(err(parse_go_duration("3000000h")), "time: invalid duration \"3000000h\"");

  EXPECT_EQ(format_go_duration(0), "0s");
  EXPECT_EQ(format_go_duration(90 * s), "1m30s");
  EXPECT_EQ(format_go_duration(s * 3 / 2), "1.5s");
  EXPECT_EQ(format_go_duration(s / 2), "500ms");
  EXPECT_EQ(format_go_duration(1500), "1.5\xc2\xb5s");
  EXPECT_EQ(format_go_duration(7), "7ns");
  EXPECT_EQ(format_go_duration(7200 * s), "2h0m0s");
  EXPECT_EQ(format_go_duration(-61 * s), "-1m1s");
}

TEST(Units, HumanSizes) {
  EXPECT_EQ(human_size(0), "0B");
  EXPECT_EQ(human_size(999), "999B");
  EXPECT_EQ(human_size(1000), "1kB");
  EXPECT_EQ(human_size(4100), "4.1kB");
  EXPECT_EQ(human_size(1234567), "1.235MB");
  EXPECT_EQ(human_size(1230000), "1.23MB");
  EXPECT_EQ(human_size(123456789), "123.5MB");
  EXPECT_EQ(human_size(999999), "1000kB");
  EXPECT_EQ(human_size(4.5e12), "4.5TB");
  EXPECT_EQ(bytes_size(0), "0B");
  EXPECT_EQ(bytes_size(1024), "1KiB");
  EXPECT_EQ(bytes_size(1572864), "1.5MiB");
  EXPECT_EQ(bytes_size(64 << 20), "64MiB");
  EXPECT_EQ(bytes_size(1023), "1023B");
}

TEST(Units, HumanDuration) {
  constexpr int64_t s = 1'000'000'000;
  EXPECT_EQ(human_duration(0), "Less than a second");
  EXPECT_EQ(human_duration(s - 1), "Less than a second");
  EXPECT_EQ(human_duration(s), "1 second");
  EXPECT_EQ(human_duration(5 * s), "5 seconds");
  EXPECT_EQ(human_duration(59 * s), "59 seconds");
  EXPECT_EQ(human_duration(60 * s), "About a minute");
  EXPECT_EQ(human_duration(119 * s), "About a minute");
  EXPECT_EQ(human_duration(180 * s), "3 minutes");
  EXPECT_EQ(human_duration(3599 * s), "59 minutes");
  EXPECT_EQ(human_duration(3600 * s), "About an hour");
  EXPECT_EQ(human_duration(5399 * s), "About an hour");
  EXPECT_EQ(human_duration(5400 * s), "2 hours");
  EXPECT_EQ(human_duration(47 * 3600 * s), "47 hours");
  EXPECT_EQ(human_duration(48 * 3600 * s), "2 days");
  EXPECT_EQ(human_duration(21 * 86400 * s), "3 weeks");
  EXPECT_EQ(human_duration(150 * 86400 * s), "5 months");
  EXPECT_EQ(human_duration(800 * 86400 * s), "2 years");
}

TEST(Units, Rfc3339) {
  EXPECT_EQ(format_rfc3339_nano(0), "0001-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339_nano(1700000000ll * 1'000'000'000), "2023-11-14T22:13:20Z");
  EXPECT_EQ(format_rfc3339_nano(1700000000ll * 1'000'000'000 + 500'000'000),
            "2023-11-14T22:13:20.5Z");
  EXPECT_EQ(format_rfc3339_nano(1795461255473689359ll), "2026-11-23T19:14:15.473689359Z");
  EXPECT_EQ(format_rfc3339_nano(1795461255473689000ll), "2026-11-23T19:14:15.473689Z");
  EXPECT_EQ(format_rfc3339_nano(-1), "1969-12-31T23:59:59.999999999Z");

  EXPECT_EQ(*parse_rfc3339_nano("2026-11-23T19:14:15.473689359Z"), 1795461255473689359ll);
  EXPECT_EQ(*parse_rfc3339_nano("2023-11-14T22:13:20Z"), 1700000000ll * 1'000'000'000);
  EXPECT_EQ(*parse_rfc3339_nano("2023-11-15T00:13:20+02:00"), 1700000000ll * 1'000'000'000);
  EXPECT_EQ(*parse_rfc3339_nano("2023-11-14T22:13:20.5Z"),
            1700000000ll * 1'000'000'000 + 500'000'000);
  EXPECT_EQ(*parse_rfc3339_nano("0001-01-01T00:00:00Z"), 0);
  for (int64_t ns : {1795461255473689359ll, 1ll, 1700000000ll * 1'000'000'000})
    EXPECT_EQ(*parse_rfc3339_nano(format_rfc3339_nano(ns)), ns);

  EXPECT_EQ(err(parse_rfc3339_nano("x")),
            "parsing time \"x\" as \"2006-01-02T15:04:05.999999999Z07:00\": cannot parse \"x\" as "
            "\"2006\"");
  EXPECT_EQ(err(parse_rfc3339_nano("2023-1-01T00:00:00Z")),
            "parsing time \"2023-1-01T00:00:00Z\" as \"2006-01-02T15:04:05.999999999Z07:00\": "
            "cannot parse \"1-01T00:00:00Z\" as \"01\"");
  EXPECT_EQ(err(parse_rfc3339_nano("2023-13-01T00:00:00Z")),
            "parsing time \"2023-13-01T00:00:00Z\": month out of range");
  EXPECT_EQ(err(parse_rfc3339_nano("2023-02-30T00:00:00Z")),
            "parsing time \"2023-02-30T00:00:00Z\": day out of range");
  EXPECT_EQ(err(parse_rfc3339_nano("2023-01-01T00:00:00Zx")),
            "parsing time \"2023-01-01T00:00:00Zx\": extra text: \"x\"");
}

// Sets TZ for the test's lifetime and restores the previous value.
struct ScopedTz {
  explicit ScopedTz(const char* tz) {
    if (const char* old = getenv("TZ")) saved = old, had = true;
    set(tz);
  }
  ~ScopedTz() {
    if (had) setenv("TZ", saved.c_str(), 1);
    else unsetenv("TZ");
    tzset();
  }
  void set(const char* tz) {
    setenv("TZ", tz, 1);
    tzset();
  }
  std::string saved;
  bool had = false;
};

TEST(Units, TimeFilter) {
  ScopedTz tz("UTC");
  constexpr int64_t s = 1'000'000'000;
  const int64_t now = 1700000000 * s;
  EXPECT_EQ(*parse_time_filter("10m", now), now - 600 * s);
  EXPECT_EQ(*parse_time_filter("-5s", now), now + 5 * s);
  EXPECT_EQ(*parse_time_filter("1700000000", now), 1700000000 * s);
  EXPECT_EQ(*parse_time_filter("1700000000.5", now), 1700000000 * s + s / 2);
  EXPECT_EQ(*parse_time_filter("0", now), 0);
  EXPECT_EQ(*parse_time_filter("2023-11-14", now), (1700000000 - 22 * 3600 - 13 * 60 - 20) * s);
  EXPECT_EQ(*parse_time_filter("2023-11-14T22:13:20Z", now), now);
  EXPECT_EQ(*parse_time_filter("2023-11-14T22:13:20", now), now);
  EXPECT_EQ(*parse_time_filter("2023-11-14T22:13", now), now - 20 * s);
  EXPECT_EQ(*parse_time_filter("2023-11-14T22", now), now - (13 * 60 + 20) * s);
  EXPECT_EQ(*parse_time_filter("2023-11-15T00:13:20+02:00", now), now);
  EXPECT_EQ(*parse_time_filter("2023-11-14T22:13:20.25Z", now), now + s / 4);
  EXPECT_EQ(*parse_time_filter("2023-11-14T22:13:20.25", now), now + s / 4);

  tz.set("Europe/Paris");  // UTC+1 in November
  EXPECT_EQ(*parse_time_filter("2023-11-14T23:13:20", now), now);
  EXPECT_EQ(*parse_time_filter("2023-11-14T22:13:20Z", now), now);
  tz.set("UTC");

  EXPECT_EQ(err(parse_time_filter("abc", now)),
            "failed to parse value as time or duration: \"abc\"");
  EXPECT_EQ(err(parse_time_filter("2023-13-01", now)),
            "parsing time \"2023-13-01\": month out of range");
}

}  // namespace
}  // namespace md::cli
