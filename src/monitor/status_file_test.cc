// The status file, event lines and the command line.
#include "monitor/status_file.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "monitor/events.h"
#include "monitor/health.h"
#include "monitor/json_out.h"
#include "monitor/options.h"

namespace md::monitor {
namespace {

TEST(MonitorStatusFile, ExactKeys) {
  ContainerStatusInfo s;
  s.state = "restarting";
  s.monitor_pid = 10;
  s.pid = 0;
  s.started_at = 1'700'000'000'123'456'789;
  s.finished_at = 1'700'000'001'000'000'000;
  s.exit_code = 137;
  s.oom_killed = true;
  s.restart_count = 2;
  s.exit_count = 3;
  s.error = "bad \"thing\"";
  auto j = nlohmann::json::parse(status_json(s, nullptr));
  EXPECT_EQ(j, nlohmann::json::parse(R"({"state":"restarting","monitor_pid":10,"pid":0,"pid_start_time":0,
    "started_at":1700000000123456789,"finished_at":1700000001000000000,"exit_code":137,"oom_killed":true,
    "restart_count":2,"exit_count":3,"error":"bad \"thing\"","health":null})"));
  HealthState h(3, 0);
  auto k = nlohmann::json::parse(status_json(s, &h));
  EXPECT_EQ(k["health"], nlohmann::json::parse(R"({"Status":"starting","FailingStreak":0,"Log":[]})"));
}

TEST(MonitorEvents, DockerShape) {
  auto die = nlohmann::json::parse(event_line("die", "abc", "web", "busybox", 3, 1'700'000'000'123'456'789));
  EXPECT_EQ(die, nlohmann::json::parse(R"({"status":"die","id":"abc","from":"busybox","Type":"container",
    "Action":"die","Actor":{"ID":"abc","Attributes":{"exitCode":"3","image":"busybox","name":"web"}},
    "scope":"local","time":1700000000,"timeNano":1700000000123456789})"));
  std::string line = event_line("health_status: healthy", "abc", "web", "busybox", -1, 5);
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line";
  auto h = nlohmann::json::parse(line);
  EXPECT_EQ(h["Action"], "health_status: healthy");
  EXPECT_FALSE(h["Actor"]["Attributes"].contains("exitCode"));
}

TEST(MonitorJsonOut, Rfc3339Go) {
  char buf[40];
  EXPECT_EQ(std::string(buf, format_rfc3339_go(buf, 0)), "1970-01-01T00:00:00Z");
  EXPECT_EQ(std::string(buf, format_rfc3339_go(buf, 1'100'000'000)), "1970-01-01T00:00:01.1Z");
  EXPECT_EQ(std::string(buf, format_rfc3339_go(buf, 123)), "1970-01-01T00:00:00.000000123Z");
  char n[24];
  EXPECT_EQ(std::string(n, format_int(n, -9'223'372'036'854'775'807LL - 1)), "-9223372036854775808");
  EXPECT_EQ(std::string(n, format_int(n, 0)), "0");
}

Result<MonitorOptions> Parse(std::vector<std::string> extra) {
  std::vector<std::string> args = {"--root", "/r", "--id", "x", "--bundle", "/b", "--log-path", "/l", "--exit-file", "/e"};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return parse_args(static_cast<int>(argv.size()), argv.data());
}

TEST(MonitorOptions, Flags) {
  auto o = Parse({"--status-file", "/s", "--tty", "--tty-size", "30x100", "--stdin", "--attach-socket", "/a",
                  "--control-socket", "/c", "--restart", "on-failure:3", "--stop-marker", "/m", "--health-cmd",
                  R"(["CMD","true"])", "--health-interval", "1000000", "--health-timeout=0", "--health-retries", "0",
                  "--health-start-period", "5000000", "--events-file", "/ev", "--name", "n", "--image", "i",
                  "--exit-command", "cleanup", "--exit-command-arg", "a", "--exit-command-arg", "b"});
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_TRUE(o->tty);
  EXPECT_EQ(o->tty_rows, 30);
  EXPECT_EQ(o->tty_cols, 100);
  EXPECT_TRUE(o->stdin_open);
  EXPECT_EQ(o->restart.max_retries, 3);
  EXPECT_EQ(o->health.argv, (std::vector<std::string>{"true"}));
  EXPECT_EQ(o->health.interval_ns, 1'000'000);
  EXPECT_EQ(o->health.timeout_ns, 30'000'000'000) << "0 means Docker's default";
  EXPECT_EQ(o->health.retries, 3);
  EXPECT_EQ(o->health.start_period_ns, 5'000'000);
  EXPECT_EQ(o->exit_command, "cleanup") << "no slash: looked up in PATH";
  EXPECT_EQ(o->exit_command_args, (std::vector<std::string>{"a", "b"}));
}

TEST(MonitorOptions, ErrorsNameFlagAndValue) {
  struct Case {
    std::vector<std::string> args;
    const char* want;
  } cases[] = {
      {{"--tty-size", "30"}, "\"30\""},
      {{"--tty", "--tty-size", "30xx"}, "\"30xx\""},
      {{"--tty-size", "3x4"}, "--tty-size needs --tty"},
      {{"--restart", "maybe"}, "\"maybe\""},
      {{"--health-interval", "10"}, "--health-interval"},
      {{"--health-retries", "-1"}, "\"-1\""},
      {{"--health-cmd", "[\"BAD\"]"}, "\"BAD\""},
      {{"--attach-fd", "1"}, "\"1\""},
      {{"--attach-fd", "987"}, "--attach-fd 987"},
      {{"--exit-command-arg", "x"}, "--exit-command"},
      {{"--stdin=yes"}, "\"yes\""},
      {{"--bogus"}, "\"--bogus\""},
  };
  for (auto& c : cases) {
    auto o = Parse(c.args);
    ASSERT_FALSE(o) << c.args[0];
    EXPECT_NE(o.error().message.find(c.want), std::string::npos) << o.error().message;
  }
}

}  // namespace
}  // namespace md::monitor
