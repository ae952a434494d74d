// minidocker-monitor (docs/monitor.md): logs in Docker's json-file format, rotation, the
// exit file, detaching. The monitor binary sits next to the runtime under test (the build
// directory); tests are skipped when it is not there (e.g. when MD_RUNTIME is runc).
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "harness.h"

namespace mdtest {
namespace {

using namespace std::chrono_literals;

std::string MonitorPath() {
  std::string rt = GetConfig().runtime;
  auto slash = rt.rfind('/');
  return (slash == std::string::npos ? std::string(".") : rt.substr(0, slash)) + "/minidocker-monitor";
}

std::vector<json> JsonLines(const std::string& text) {
  std::vector<json> out;
  for (const auto& l : SplitLines(text)) out.push_back(json::parse(l, nullptr, false));
  return out;
}

class Monitor : public RuntimeTest {
 protected:
  void SetUp() override {
    RuntimeTest::SetUp();
    if (access(MonitorPath().c_str(), X_OK) != 0) GTEST_SKIP() << "no minidocker-monitor at " << MonitorPath();
    log_ = tmp_ + "/ctr.log";
    exit_file_ = tmp_ + "/exit.json";
    pid_file_ = tmp_ + "/monitor.pid";
  }
  void TearDown() override {
    // Even on failure: the monitor first (it would delete the container itself), then
    // the container through the runtime; the fixture then kills whatever carries our tag.
    std::string pid = Trim(ReadFile(pid_file_));
    if (!pid.empty()) kill(std::stoi(pid), SIGKILL);
    for (const auto& id : started_) Rt({"delete", "--force", id});
    RuntimeTest::TearDown();
  }
  std::vector<std::string> MonitorArgs(Bundle& b, const std::string& id, std::vector<std::string> extra = {}) {
    b.Save();
    started_.push_back(id);
    std::vector<std::string> argv = {MonitorPath(), "--root", state_, "--id", id, "--bundle", b.dir,
                                     "--log-path", log_, "--exit-file", exit_file_, "--pid-file", pid_file_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }
  json ExitFile() { return json::parse(ReadFile(exit_file_), nullptr, false); }

  std::string log_, exit_file_, pid_file_;
  std::vector<std::string> started_;
};

TEST_F(Monitor, ForegroundLogsStreamsAndExitCode) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {
      "sh", "-c", "echo out1; echo err1 >&2; echo 'q\"<t>'; printf 'no newline'; exit 3"};
  Result r = Exec(MonitorArgs(bundle_, id, {"--foreground"}));
  ASSERT_TRUE(r.ok()) << r;
  auto lines = JsonLines(ReadFile(log_));
  std::vector<std::pair<std::string, std::string>> got;
  for (auto& j : lines) {
    ASSERT_TRUE(j.is_object()) << ReadFile(log_);
    ASSERT_TRUE(j["time"].is_string());
    std::string t = j["time"];
    EXPECT_EQ(t.size(), 30u) << t;  // 2026-11-23T18:00:00.123456789Z
    EXPECT_EQ(t.back(), 'Z');
    got.emplace_back(j["stream"], j["log"]);
  }
  // stdout and stderr are separate pipes: order only within one stream.
  std::vector<std::pair<std::string, std::string>> out, err;
  for (auto& g : got) (g.first == "stdout" ? out : err).push_back(g);
  EXPECT_EQ(out, (std::vector<std::pair<std::string, std::string>>{
                     {"stdout", "out1\n"}, {"stdout", "q\"<t>\n"}, {"stdout", "no newline"}}));
  EXPECT_EQ(err, (std::vector<std::pair<std::string, std::string>>{{"stderr", "err1\n"}}));
  // Docker's encoder escapes < and >.
  EXPECT_NE(ReadFile(log_).find("\\u003ct\\u003e"), std::string::npos) << ReadFile(log_);

  json e = ExitFile();
  ASSERT_TRUE(e.is_object()) << ReadFile(exit_file_);
  EXPECT_EQ(e["exit_code"], 3);
  EXPECT_TRUE(e["signal"].is_null());
  EXPECT_EQ(e["oom_killed"], false);
  EXPECT_TRUE(e["finished_at"].is_string());
  EXPECT_FALSE(StateDirExists(id));
  EXPECT_FALSE(Rt({"state", id}).ok());
}

TEST_F(Monitor, LongLinesAreSplitAt16KiB) {
  std::string id = NewId();
  // 40000 'x' then a newline: chunks of 16384, 16384 and 7232 + "\n".
  bundle_.config["process"]["args"] = {"sh", "-c", "head -c 40000 /dev/zero | tr '\\0' x; echo"};
  Result r = Exec(MonitorArgs(bundle_, id, {"--foreground"}));
  ASSERT_TRUE(r.ok()) << r;
  auto lines = JsonLines(ReadFile(log_));
  ASSERT_EQ(lines.size(), 3u) << ReadFile(log_).substr(0, 300);
  EXPECT_EQ(lines[0]["log"].get<std::string>(), std::string(16384, 'x'));
  EXPECT_EQ(lines[1]["log"].get<std::string>(), std::string(16384, 'x'));
  EXPECT_EQ(lines[2]["log"].get<std::string>(), std::string(7232, 'x') + "\n");
}

TEST_F(Monitor, Rotation) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"sh", "-c", "i=0; while [ $i -lt 40 ]; do echo line-$i; i=$((i+1)); done"};
  Result r = Exec(MonitorArgs(bundle_, id, {"--foreground", "--log-max-size", "300", "--log-max-files", "3"}));
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(ExitFile()["exit_code"], 0) << ReadFile(exit_file_);
  std::string cur = ReadFile(log_), one = ReadFile(log_ + ".1"), two = ReadFile(log_ + ".2");
  EXPECT_FALSE(cur.empty());
  EXPECT_FALSE(one.empty());
  EXPECT_FALSE(two.empty());
  EXPECT_NE(access((log_ + ".3").c_str(), F_OK), 0) << "only --log-max-files files are kept";
  for (const auto* f : {&cur, &one, &two}) {
    EXPECT_LE(f->size(), 300u);
    for (auto& j : JsonLines(*f)) EXPECT_TRUE(j.is_object());
  }
  // The newest lines are in FILE, the oldest kept in FILE.2, in order.
  auto last = JsonLines(cur);
  ASSERT_FALSE(last.empty());
  EXPECT_EQ(last.back()["log"], "line-39\n");
  auto first_kept = JsonLines(two).front()["log"].get<std::string>();
  auto next = JsonLines(one).front()["log"].get<std::string>();
  EXPECT_LT(std::stoi(first_kept.substr(5)), std::stoi(next.substr(5)));
}

TEST_F(Monitor, ErrorBeforeStartGoesToExitFile) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"/does-not-exist"};
  Result r = Exec(MonitorArgs(bundle_, id, {"--foreground"}));
  EXPECT_EQ(r.exit_code, 1) << r;
  json e = ExitFile();
  ASSERT_TRUE(e.is_object()) << ReadFile(exit_file_);
  ASSERT_TRUE(e.contains("error")) << e.dump();
  EXPECT_NE(e["error"].get<std::string>().find("does-not-exist"), std::string::npos) << e.dump();
  EXPECT_FALSE(StateDirExists(id));
}

TEST_F(Monitor, DetachedSurvivesParentAndRecordsSigkill) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"sh", "-c", "echo started; exec sleep 1000"};
  // The monitor's command returns once the container runs; the monitor stays behind.
  Result r = Exec(MonitorArgs(bundle_, id));
  ASSERT_TRUE(r.ok()) << r;
  ASSERT_TRUE(WaitForFile(pid_file_));
  pid_t mon = std::stoi(Trim(ReadFile(pid_file_)));
  EXPECT_NE(ProcState(mon), "") << "monitor gone after its parent exited";
  EXPECT_NE(ProcState(mon), "Z");
  EXPECT_EQ(WaitStatus(id, "running"), "running");
  auto st = State(id);
  ASSERT_TRUE(st.has_value());
  pid_t init = (*st)["pid"];
  // The container's sleep shows up (after sh exec'd it).
  std::string comm;
  for (int i = 0; i < 300 && comm != "sleep"; i++) {
    comm = Trim(ReadFile("/proc/" + std::to_string(init) + "/comm"));
    if (comm != "sleep") std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(comm, "sleep");
  // Its parent is the monitor (the monitor is the init's parent or subreaper).
  std::string stat = ReadFile("/proc/" + std::to_string(init) + "/stat");
  auto rp = stat.rfind(')');
  int ppid = 0;
  ASSERT_EQ(sscanf(stat.c_str() + rp + 2, "%*c %d", &ppid), 1);
  EXPECT_EQ(ppid, mon);
  // RSS goal: <= 1 MiB while idle (docs/monitor.md).
  std::ifstream status("/proc/" + std::to_string(mon) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) {
      std::cout << "monitor " << line << std::endl;
#if !defined(__SANITIZE_ADDRESS__)  // the debug preset's ASan shadow memory is not the monitor's
      EXPECT_LE(std::stol(line.substr(6)), 1024) << line;
#endif
    }

  ASSERT_EQ(kill(init, SIGKILL), 0);
  ASSERT_TRUE(WaitForFile(exit_file_));
  EXPECT_TRUE(WaitProcessGone(mon));
  json e = ExitFile();
  EXPECT_EQ(e["exit_code"], 137) << e.dump();
  EXPECT_EQ(e["signal"], 9) << e.dump();
  EXPECT_FALSE(StateDirExists(id));
  auto lines = JsonLines(ReadFile(log_));
  ASSERT_EQ(lines.size(), 1u) << ReadFile(log_);
  EXPECT_EQ(lines[0]["log"], "started\n");
  ReapOrphans();
}

}  // namespace
}  // namespace mdtest
