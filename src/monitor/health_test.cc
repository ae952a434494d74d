#include "monitor/health.h"

#include <gtest/gtest.h>

#include <cstring>

#include <nlohmann/json.hpp>

namespace md::monitor {
namespace {

constexpr int64_t kSec = 1'000'000'000;

HealthResult R(int exit_code, int64_t start, const char* out = "") {
  HealthResult r;
  r.exit_code = exit_code;
  r.start_ns = start;
  r.end_ns = start + 1000;
  r.output_len = std::strlen(out);
  std::memcpy(r.output, out, r.output_len);
  return r;
}

TEST(MonitorHealth, ParseTest) {
  EXPECT_EQ(*parse_health_cmd(R"(["CMD-SHELL","curl -f x || exit 1"])"),
            (std::vector<std::string>{"/bin/sh", "-c", "curl -f x || exit 1"}));
  EXPECT_EQ(*parse_health_cmd(R"(["CMD","/bin/check","--fast"])"), (std::vector<std::string>{"/bin/check", "--fast"}));
  EXPECT_TRUE(parse_health_cmd(R"(["NONE"])")->empty());
  EXPECT_TRUE(parse_health_cmd("[]")->empty());
  for (const char* bad : {"", "{}", "[1]", R"(["CMD"])", R"(["SHELL","x"])", R"(["CMD-SHELL","a","b"])"}) {
    auto r = parse_health_cmd(bad);
    EXPECT_FALSE(r) << bad;
  }
}

TEST(MonitorHealth, FirstSuccessIsHealthy) {
  HealthState h(3, 0);
  EXPECT_EQ(h.status(), HealthStatus::kStarting);
  EXPECT_TRUE(h.record(R(0, kSec), 0));
  EXPECT_EQ(h.status(), HealthStatus::kHealthy);
  EXPECT_FALSE(h.record(R(0, 2 * kSec), 0)) << "no change, no event";
}

TEST(MonitorHealth, UnhealthyAfterRetriesConsecutiveFailures) {
  HealthState h(3, 0);
  EXPECT_FALSE(h.record(R(1, kSec), 0));
  EXPECT_FALSE(h.record(R(1, kSec), 0));
  EXPECT_EQ(h.failing_streak(), 2);
  EXPECT_EQ(h.status(), HealthStatus::kStarting);
  EXPECT_TRUE(h.record(R(2, kSec), 0)) << "any non-zero code is a failure";
  EXPECT_EQ(h.status(), HealthStatus::kUnhealthy);
  EXPECT_TRUE(h.record(R(0, kSec), 0));
  EXPECT_EQ(h.status(), HealthStatus::kHealthy);
  EXPECT_EQ(h.failing_streak(), 0);
  // A healthy container needs `retries` failures again.
  h.record(R(1, kSec), 0);
  h.record(R(1, kSec), 0);
  EXPECT_EQ(h.status(), HealthStatus::kHealthy);
}

TEST(MonitorHealth, StartPeriod) {
  HealthState h(1, 10 * kSec);
  // Started at 100 s; failures before 110 s do not count while starting.
  EXPECT_FALSE(h.record(R(1, 105 * kSec), 100 * kSec));
  EXPECT_EQ(h.failing_streak(), 0);
  EXPECT_EQ(h.status(), HealthStatus::kStarting);
  EXPECT_TRUE(h.record(R(1, 111 * kSec), 100 * kSec));
  EXPECT_EQ(h.status(), HealthStatus::kUnhealthy);
  // A success ends the start period: then failures count even inside it.
  HealthState g(1, 10 * kSec);
  g.record(R(0, 101 * kSec), 100 * kSec);
  EXPECT_TRUE(g.record(R(1, 102 * kSec), 100 * kSec));
  EXPECT_EQ(g.status(), HealthStatus::kUnhealthy);
}

TEST(MonitorHealth, ResetKeepsTheLog) {
  HealthState h(1, 0);
  h.record(R(1, kSec, "x"), 0);
  h.reset();
  EXPECT_EQ(h.status(), HealthStatus::kStarting);
  EXPECT_EQ(h.failing_streak(), 0);
  EXPECT_EQ(h.log_size(), 1);
}

TEST(MonitorHealth, JsonKeepsLastFive) {
  HealthState h(3, 0);
  for (int i = 0; i < 7; i++) h.record(R(i == 6 ? 0 : 1, (i + 1) * kSec + 500'000'000, i == 6 ? "ok \"<\n" : "bad"), 0);
  JsonOut out;
  h.write_json(out);
  auto j = nlohmann::json::parse(out.view());
  EXPECT_EQ(j["Status"], "healthy");
  EXPECT_EQ(j["FailingStreak"], 0);
  ASSERT_EQ(j["Log"].size(), 5u);
  EXPECT_EQ(j["Log"][0]["Start"], "1970-01-01T00:00:03.5Z");  // entries 3..7 kept, oldest first
  EXPECT_EQ(j["Log"][4]["Start"], "1970-01-01T00:00:07.5Z");
  EXPECT_EQ(j["Log"][4]["End"], "1970-01-01T00:00:07.500001Z");
  EXPECT_EQ(j["Log"][4]["ExitCode"], 0);
  EXPECT_EQ(j["Log"][4]["Output"], "ok \"<\n");
  EXPECT_NE(std::string(out.view()).find("\\u003c"), std::string::npos) << "Go's escaping";
}

TEST(MonitorHealth, GoDuration) {
  EXPECT_EQ(go_duration(0), "0s");
  EXPECT_EQ(go_duration(30 * kSec), "30s");
  EXPECT_EQ(go_duration(1500 * 1'000'000LL), "1.5s");
  EXPECT_EQ(go_duration(200'000'000), "200ms");
  EXPECT_EQ(go_duration(1'500'000), "1.5ms");
  EXPECT_EQ(go_duration(1'500), "1.5\xc2\xb5s");
  EXPECT_EQ(go_duration(15), "15ns");
  EXPECT_EQ(go_duration(90 * kSec), "1m30s");
  EXPECT_EQ(go_duration(3600 * kSec), "1h0m0s");
  EXPECT_EQ(go_duration(3661 * kSec + 1), "1h1m1.000000001s");
}

}  // namespace
}  // namespace md::monitor
