#include "monitor/restart.h"

#include <gtest/gtest.h>

namespace md::monitor {
namespace {

RestartPolicy P(const char* text) { return *parse_restart_policy(text); }

TEST(MonitorRestart, ParsePolicies) {
  EXPECT_EQ(P("no").kind, RestartKind::kNo);
  EXPECT_EQ(P("always").kind, RestartKind::kAlways);
  EXPECT_EQ(P("unless-stopped").kind, RestartKind::kUnlessStopped);
  EXPECT_EQ(P("on-failure").kind, RestartKind::kOnFailure);
  EXPECT_EQ(P("on-failure").max_retries, 0);
  EXPECT_EQ(P("on-failure:5").max_retries, 5);
  for (const char* bad : {"sometimes", "on-failure:", "on-failure:x", "on-failure:-1", "always:3"}) {
    auto r = parse_restart_policy(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find(bad), std::string::npos) << r.error().message;
  }
}

TEST(MonitorRestart, NoNeverRestarts) {
  RestartTracker t(P("no"));
  EXPECT_FALSE(t.on_exit(1, false, 0).restart);
}

TEST(MonitorRestart, OnFailureCountsAndStops) {
  RestartTracker t(P("on-failure:2"));
  EXPECT_FALSE(t.on_exit(0, false, 0).restart) << "a success is not a failure";
  auto a = t.on_exit(3, false, 0), b = t.on_exit(3, false, 0), c = t.on_exit(3, false, 0);
  EXPECT_TRUE(a.restart);
  EXPECT_TRUE(b.restart);
  EXPECT_FALSE(c.restart);
  EXPECT_EQ(t.restart_count(), 2);
}

TEST(MonitorRestart, OnFailureUnlimited) {
  RestartTracker t(P("on-failure"));
  for (int i = 0; i < 50; i++) EXPECT_TRUE(t.on_exit(1, false, 0).restart);
  EXPECT_EQ(t.restart_count(), 50);
}

TEST(MonitorRestart, StopMarkerCancelsEveryPolicy) {
  for (const char* p : {"always", "unless-stopped", "on-failure"}) {
    RestartTracker t(P(p));
    EXPECT_FALSE(t.on_exit(1, true, 0).restart) << p;
    EXPECT_EQ(t.restart_count(), 0);
  }
}

TEST(MonitorRestart, BackoffDoublesCapsAndResets) {
  RestartTracker t(P("always"));
  int64_t want = kBackoffInitialNs;
  for (int i = 0; i < 12; i++) {
    auto d = t.on_exit(0, false, 1'000'000);
    ASSERT_TRUE(d.restart);
    EXPECT_EQ(d.delay_ns, std::min(want, kBackoffMaxNs)) << i;
    want *= 2;
  }
  EXPECT_EQ(t.on_exit(0, false, 0).delay_ns, kBackoffMaxNs);
  // Ran for 10 s: back to the start.
  EXPECT_EQ(t.on_exit(0, false, kBackoffResetAfterNs).delay_ns, kBackoffInitialNs);
  EXPECT_EQ(t.on_exit(0, false, 0).delay_ns, 2 * kBackoffInitialNs);
}

}  // namespace
}  // namespace md::monitor
