// minidocker-monitor (docs/monitor.md): logs in Docker's json-file format, rotation, the
// exit and status files, detaching, attach (ptys, stdin, the attach socket), restart
// policies with back-off, health checks, events, the exit command, signals and RSS. The
// monitor binary sits next to the runtime under test (the build directory); tests are
// skipped when it is not there (e.g. when MD_RUNTIME is runc).
//
// No timed assertions: every wait polls a condition (mostly the status file) with a
// generous deadline.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <functional>
#include <set>
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

// One frame of the attach protocol: stream (1 stdout, 2 stderr) and payload.
struct Frame {
  int stream;
  std::string data;
};

std::string Joined(const std::vector<Frame>& frames, int stream = 0) {
  std::string s;
  for (auto& f : frames)
    if (!stream || f.stream == stream) s += f.data;
  return s;
}

// Reads frames until EOF (true) or the deadline (false). `on_data` sees the bytes so far.
bool ReadFrames(int fd, std::vector<Frame>& frames, std::chrono::seconds bound = 60s,
                const std::function<void(const std::string&)>& on_data = nullptr) {
  std::string buf;
  auto deadline = std::chrono::steady_clock::now() + bound;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char tmp[65536];
    ssize_t n = read(fd, tmp, sizeof tmp);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      EXPECT_TRUE(buf.empty()) << "partial frame at EOF: " << buf.size() << " bytes";
      return true;
    }
    buf.append(tmp, static_cast<size_t>(n));
    while (buf.size() >= 8) {
      uint32_t len = (uint32_t(uint8_t(buf[4])) << 24) | (uint32_t(uint8_t(buf[5])) << 16) |
                     (uint32_t(uint8_t(buf[6])) << 8) | uint32_t(uint8_t(buf[7]));
      if (buf.size() < 8 + len) break;
      EXPECT_TRUE(buf[0] == 1 || buf[0] == 2) << "stream byte " << int(buf[0]);
      EXPECT_EQ(buf[1] | buf[2] | buf[3], 0);
      frames.push_back({buf[0], buf.substr(8, len)});
      buf.erase(0, 8 + len);
    }
    if (on_data) on_data(Joined(frames));
  }
}

int ConnectUnix(const std::string& path, int type = SOCK_STREAM) {
  int s = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  if (connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ADD_FAILURE() << "connect " << path << ": " << strerror(errno);
    close(s);
    return -1;
  }
  return s;
}

void WriteAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    ASSERT_GT(n, 0) << strerror(errno);
    off += static_cast<size_t>(n);
  }
}

long VmRssKb(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

// VmRSS once the monitor is idle: polled until it is within the 1 MiB budget (it sheds
// what activity faulted in after a quiet second) or a generous deadline passes; returns
// the lowest value seen.
long IdleRssKb(pid_t pid) {
  long best = VmRssKb(pid);
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (best > 1024 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    long now = VmRssKb(pid);
    if (now >= 0 && now < best) best = now;
  }
  return best;
}

class Monitor : public RuntimeTest {
 protected:
  void SetUp() override {
    RuntimeTest::SetUp();
    if (access(MonitorPath().c_str(), X_OK) != 0) GTEST_SKIP() << "no minidocker-monitor at " << MonitorPath();
    log_ = tmp_ + "/ctr.log";
    exit_file_ = tmp_ + "/exit.json";
    pid_file_ = tmp_ + "/monitor.pid";
    status_file_ = tmp_ + "/status.json";
    events_file_ = tmp_ + "/events.jsonl";
  }
  void TearDown() override {
    for (int fd : fds_) close(fd);
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
                                     "--log-path", log_, "--exit-file", exit_file_, "--pid-file", pid_file_,
                                     "--status-file", status_file_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }
  json ExitFile() { return json::parse(ReadFile(exit_file_), nullptr, false); }
  json StatusFile() { return json::parse(ReadFile(status_file_), nullptr, false); }
  std::vector<json> Events() { return JsonLines(ReadFile(events_file_)); }
  std::vector<std::string> EventActions() {
    std::vector<std::string> out;
    for (auto& e : Events()) out.push_back(e.value("Action", "?"));
    return out;
  }
  pid_t MonitorPid() {
    EXPECT_TRUE(WaitForFile(pid_file_));
    return std::stoi(Trim(ReadFile(pid_file_)));
  }

  // Polls the status file until `pred` holds (generous deadline); returns the last one seen.
  json WaitStatusFile(const std::function<bool(const json&)>& pred, std::chrono::seconds bound = 60s) {
    auto deadline = std::chrono::steady_clock::now() + bound;
    json j;
    for (;;) {
      j = StatusFile();
      if (j.is_object() && pred(j)) return j;
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "status file never reached the expected state; last: " << ReadFile(status_file_);
        return j;
      }
      std::this_thread::sleep_for(10ms);
    }
  }
  json WaitExited() {
    return WaitStatusFile([](const json& j) { return j["state"] == "exited"; });
  }

  // Runs the (detaching) monitor with `fd` as its fd 3; returns its exit code (it exits
  // once the container started). -1: no fd.
  int RunMonitorWithFd(const std::vector<std::string>& argv, int fd) {
    std::vector<std::string> env_strs;
    for (char** e = environ; e && *e; ++e)
      if (strncmp(*e, "MD_TEST_TAG=", 12) != 0) env_strs.push_back(*e);
    env_strs.push_back("MD_TEST_TAG=" + tag_);
    std::vector<char*> cargv, cenv;
    for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    for (const auto& e : env_strs) cenv.push_back(const_cast<char*>(e.c_str()));
    cenv.push_back(nullptr);
    std::string err_path = tmp_ + "/monitor.err";
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    pid_t pid = fork();
    if (pid == 0) {
      int moved = fd >= 0 ? fcntl(fd, F_DUPFD, 100) : -1;
      int null = open("/dev/null", O_RDWR);
      dup2(null, 0);
      dup2(null, 1);
      dup2(err, 2);
      if (moved >= 0) dup2(moved, 3);
      syscall(SYS_close_range, moved >= 0 ? 4 : 3, ~0U, 0);
      signal(SIGPIPE, SIG_DFL);
      execve(cargv[0], cargv.data(), cenv.data());
      _exit(127);
    }
    close(err);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (fd >= 0) close(fd);  // the monitor holds the only other end now
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  // A connected pair: the client end (ours, tracked for cleanup) and the monitor's end.
  std::pair<int, int> ClientPair() {
    int sv[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0) << strerror(errno);
    fds_.push_back(sv[0]);
    return {sv[0], sv[1]};
  }

  std::string log_, exit_file_, pid_file_, status_file_, events_file_;
  std::vector<std::string> started_;
  std::vector<int> fds_;
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
  // RSS goal: <= 1 MiB while idle (docs/monitor.md). The line was logged: once the
  // container is quiet the monitor gives back what logging faulted in (after ~1 s).
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (ReadFile(log_).find("started") == std::string::npos && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  long rss = IdleRssKb(mon);
  std::cout << "monitor VmRSS (idle, one line logged): " << rss << " kB" << std::endl;
#if !defined(__SANITIZE_ADDRESS__)  // the debug preset's ASan shadow memory is not the monitor's
  EXPECT_LE(rss, 1024);
#endif

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

TEST_F(Monitor, StatusFileShapeAndTransitions) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"sleep", "1000"};
  Result r = Exec(MonitorArgs(bundle_, id));
  ASSERT_TRUE(r.ok()) << r;
  // Written before the monitor reports "started": it is there as soon as we return.
  json s = StatusFile();
  ASSERT_TRUE(s.is_object()) << ReadFile(status_file_);
  std::set<std::string> keys;
  for (auto& [k, v] : s.items()) keys.insert(k);
  EXPECT_EQ(keys, (std::set<std::string>{"state", "monitor_pid", "pid", "pid_start_time", "started_at", "finished_at",
                                         "exit_code", "oom_killed", "restart_count", "exit_count", "error", "health"}))
      << s.dump();
  EXPECT_EQ(s["state"], "running");
  EXPECT_EQ(s["monitor_pid"], MonitorPid());
  auto st = State(id);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(s["pid"], (*st)["pid"]);
  // pid_start_time is field 22 of /proc/PID/stat.
  std::string stat = ReadFile("/proc/" + std::to_string(s["pid"].get<int>()) + "/stat");
  unsigned long long start_time = 0;
  ASSERT_EQ(sscanf(stat.c_str() + stat.rfind(')') + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
                   &start_time), 1);
  EXPECT_EQ(s["pid_start_time"].get<unsigned long long>(), start_time);
  EXPECT_GT(s["started_at"].get<int64_t>(), 1'600'000'000'000'000'000);
  EXPECT_EQ(s["finished_at"], 0);
  EXPECT_EQ(s["exit_count"], 0);
  EXPECT_EQ(s["restart_count"], 0);
  EXPECT_EQ(s["error"], "");
  EXPECT_TRUE(s["health"].is_null());

  ASSERT_TRUE(Rt({"kill", id, "KILL"}).ok());
  json e = WaitExited();
  EXPECT_EQ(e["pid"], 0);
  EXPECT_EQ(e["exit_code"], 137);
  EXPECT_EQ(e["exit_count"], 1);
  EXPECT_EQ(e["oom_killed"], false);
  EXPECT_GE(e["finished_at"].get<int64_t>(), e["started_at"].get<int64_t>());
  // "exited" comes after the exit file, and after the container is gone.
  EXPECT_EQ(ExitFile()["exit_code"], 137);
  EXPECT_FALSE(StateDirExists(id));
  ReapOrphans();
}

TEST_F(Monitor, StartFailureInStatusFile) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"/does-not-exist"};
  Result r = Exec(MonitorArgs(bundle_, id));
  EXPECT_EQ(r.exit_code, 1) << r;
  json s = StatusFile();
  ASSERT_TRUE(s.is_object()) << ReadFile(status_file_);
  EXPECT_EQ(s["state"], "exited");
  EXPECT_NE(s["error"].get<std::string>().find("does-not-exist"), std::string::npos) << s.dump();
  EXPECT_EQ(s["pid"], 0);
}

TEST_F(Monitor, TtyOutputIsLoggedAndAttached) {
  std::string id = NewId();
  bundle_.config["process"]["terminal"] = true;
  bundle_.config["process"]["args"] = {"sh", "-c", "tty; stty size; echo done"};
  auto [client, theirs] = ClientPair();
  ASSERT_EQ(RunMonitorWithFd(MonitorArgs(bundle_, id, {"--tty", "--tty-size", "30x100", "--attach-fd", "3"}), theirs), 0)
      << ReadFile(tmp_ + "/monitor.err");
  std::vector<Frame> frames;
  ASSERT_TRUE(ReadFrames(client, frames)) << "no EOF; got: " << Joined(frames);
  for (auto& f : frames) EXPECT_EQ(f.stream, 1) << "with a terminal everything is stdout";
  std::string out = Joined(frames);
  EXPECT_NE(out.find("/dev/pts/"), std::string::npos) << out;
  EXPECT_NE(out.find("30 100\r\n"), std::string::npos) << out;  // --tty-size, and the pty's \r\n
  EXPECT_NE(out.find("done\r\n"), std::string::npos) << out;
  // The log has the same bytes, as stdout.
  std::string logged;
  for (auto& j : JsonLines(ReadFile(log_))) {
    EXPECT_EQ(j["stream"], "stdout");
    logged += j["log"].get<std::string>();
  }
  EXPECT_EQ(logged, out);
  EXPECT_EQ(WaitExited()["exit_code"], 0);
}

TEST_F(Monitor, StdinFromAttachFdAndEofClosesIt) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"cat"};
  auto [client, theirs] = ClientPair();
  ASSERT_EQ(RunMonitorWithFd(MonitorArgs(bundle_, id, {"--stdin", "--attach-fd", "3"}), theirs), 0)
      << ReadFile(tmp_ + "/monitor.err");
  WriteAll(client, "hello\nworld\n");
  ASSERT_EQ(shutdown(client, SHUT_WR), 0);  // stdin-once: the container's stdin closes, cat exits
  std::vector<Frame> frames;
  ASSERT_TRUE(ReadFrames(client, frames)) << "no EOF; got: " << Joined(frames);
  EXPECT_EQ(Joined(frames, 1), "hello\nworld\n");
  EXPECT_EQ(Joined(frames, 2), "");
  json s = WaitExited();
  EXPECT_EQ(s["exit_code"], 0) << s.dump();
  EXPECT_EQ(ExitFile()["exit_code"], 0);
}

TEST_F(Monitor, StreamsAreFramedSeparately) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"sh", "-c", "echo out; echo err >&2; exit 4"};
  auto [client, theirs] = ClientPair();
  ASSERT_EQ(RunMonitorWithFd(MonitorArgs(bundle_, id, {"--attach-fd", "3"}), theirs), 0) << ReadFile(tmp_ + "/monitor.err");
  std::vector<Frame> frames;
  ASSERT_TRUE(ReadFrames(client, frames));
  EXPECT_EQ(Joined(frames, 1), "out\n");
  EXPECT_EQ(Joined(frames, 2), "err\n");
  // EOF comes after the exit file and the final status.
  EXPECT_EQ(ExitFile()["exit_code"], 4) << ReadFile(exit_file_);
  EXPECT_EQ(StatusFile()["state"], "exited");
}

TEST_F(Monitor, AttachSocketLateClientGetsLaterOutputAndSendsStdin) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"sh", "-c", "echo early; read x; echo got-$x; read y; echo got-$y"};
  std::string sock = tmp_ + "/attach.sock";
  ASSERT_EQ(RunMonitorWithFd(MonitorArgs(bundle_, id, {"--stdin", "--attach-socket", sock}), -1), 0)
      << ReadFile(tmp_ + "/monitor.err");
  struct stat st;
  ASSERT_EQ(stat(sock.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Connect once "early" was logged: the client must not get it.
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (ReadFile(log_).find("early") == std::string::npos && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  int c1 = ConnectUnix(sock);
  ASSERT_GE(c1, 0);
  fds_.push_back(c1);
  WriteAll(c1, "one\n");
  // Its EOF only ends its input: stdin stays open for the next client.
  ASSERT_EQ(shutdown(c1, SHUT_WR), 0);
  std::vector<Frame> f1;
  bool got_one = false;
  auto until_one = [&](const std::string& s) { got_one = s.find("got-one\n") != std::string::npos; };
  // Read until "got-one" shows up, then a second client finishes the job.
  std::thread reader([&] { ReadFrames(c1, f1, 60s, until_one); });
  while (!got_one && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(got_one);
  int c2 = ConnectUnix(sock);
  ASSERT_GE(c2, 0);
  fds_.push_back(c2);
  WriteAll(c2, "two\n");
  std::vector<Frame> f2;
  EXPECT_TRUE(ReadFrames(c2, f2));
  reader.join();
  EXPECT_EQ(Joined(f1), "got-one\ngot-two\n");
  EXPECT_EQ(Joined(f2), "got-two\n");
  EXPECT_EQ(WaitExited()["exit_code"], 0);
  EXPECT_NE(access(sock.c_str(), F_OK), 0) << "the attach socket is removed at the end";
}

TEST_F(Monitor, ResizeThroughControlSocket) {
  std::string id = NewId();
  bundle_.config["process"]["terminal"] = true;
  bundle_.config["process"]["args"] = {"sh", "-c", "stty size; while read x; do stty size; done"};
  std::string ctl = tmp_ + "/ctl.sock";
  auto [client, theirs] = ClientPair();
  ASSERT_EQ(RunMonitorWithFd(MonitorArgs(bundle_, id, {"--tty", "--tty-size", "24x80", "--stdin", "--attach-fd", "3",
                                                       "--control-socket", ctl}),
                             theirs),
            0)
      << ReadFile(tmp_ + "/monitor.err");
  std::vector<Frame> frames;
  std::atomic<bool> first = false, resized = false;
  std::thread reader([&] {
    ReadFrames(client, frames, 60s, [&](const std::string& s) {
      first = s.find("24 80") != std::string::npos;
      resized = s.find("40 120") != std::string::npos;
    });
  });
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!first && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
  int c = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  fds_.push_back(c);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", ctl.c_str());
  std::string msg = "resize 40 120";
  ASSERT_EQ(sendto(c, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr),
            static_cast<ssize_t>(msg.size()))
      << strerror(errno);
  // The datagram and stdin are separate sockets: ask again until the new size shows.
  while (!resized && std::chrono::steady_clock::now() < deadline) {
    WriteAll(client, "\n");
    std::this_thread::sleep_for(20ms);
  }
  WriteAll(client, "\x04");  // ^D as a user types it: the terminal's EOF ends the loop
  reader.join();
  EXPECT_TRUE(resized) << Joined(frames);
  EXPECT_EQ(WaitExited()["exit_code"], 0);
}

TEST_F(Monitor, SlowClientIsDroppedAndNeverBlocksTheContainer) {
  std::string id = NewId();
  // 4 MB of output while the client reads nothing.
  bundle_.config["process"]["args"] = {"sh", "-c", "head -c 4000000 /dev/zero | tr '\\0' x; echo; echo end"};
  auto [client, theirs] = ClientPair();
  int small = 4096;
  setsockopt(client, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  ASSERT_EQ(RunMonitorWithFd(MonitorArgs(bundle_, id, {"--attach-fd", "3"}), theirs), 0) << ReadFile(tmp_ + "/monitor.err");
  json s = WaitExited();
  EXPECT_EQ(s["exit_code"], 0);
  auto lines = JsonLines(ReadFile(log_));
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back()["log"], "end\n");
  // The client was dropped: reading gives what it had buffered, then EOF.
  std::vector<Frame> frames;
  EXPECT_TRUE(ReadFrames(client, frames));
  EXPECT_LT(Joined(frames).size(), 4000000u);
}

TEST_F(Monitor, RestartOnFailureTwiceThenExited) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"sh", "-c", "echo run; exit 3"};
  Result r = Exec(MonitorArgs(bundle_, id, {"--restart", "on-failure:2", "--events-file", events_file_, "--name", "web",
                                            "--image", "busybox:latest"}));
  ASSERT_TRUE(r.ok()) << r;
  json s = WaitExited();
  EXPECT_EQ(s["restart_count"], 2) << s.dump();
  EXPECT_EQ(s["exit_count"], 3) << s.dump();
  EXPECT_EQ(s["exit_code"], 3);
  EXPECT_EQ(ExitFile()["exit_code"], 3);
  EXPECT_TRUE(WaitProcessGone(MonitorPid()));
  // The engine emits the first start; the monitor the restarts and every exit.
  EXPECT_EQ(EventActions(), (std::vector<std::string>{"die", "start", "die", "start", "die"}));
  for (auto& e : Events()) {
    EXPECT_EQ(e["Type"], "container");
    EXPECT_EQ(e["id"], id);
    EXPECT_EQ(e["from"], "busybox:latest");
    EXPECT_EQ(e["scope"], "local");
    EXPECT_EQ(e["status"], e["Action"]);
    EXPECT_EQ(e["Actor"]["ID"], id);
    EXPECT_EQ(e["Actor"]["Attributes"]["name"], "web");
    EXPECT_EQ(e["Actor"]["Attributes"]["image"], "busybox:latest");
    EXPECT_EQ(e["time"].get<int64_t>(), e["timeNano"].get<int64_t>() / 1000000000);
    if (e["Action"] == "die") EXPECT_EQ(e["Actor"]["Attributes"]["exitCode"], "3") << e.dump();
    else EXPECT_FALSE(e["Actor"]["Attributes"].contains("exitCode")) << e.dump();
  }
  // Logs continue in the same file.
  int runs = 0;
  for (auto& j : JsonLines(ReadFile(log_))) runs += j["log"] == "run\n";
  EXPECT_EQ(runs, 3);
  EXPECT_FALSE(StateDirExists(id));
}

TEST_F(Monitor, OnFailureDoesNotRestartASuccess) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"true"};
  Result r = Exec(MonitorArgs(bundle_, id, {"--restart", "on-failure"}));
  ASSERT_TRUE(r.ok()) << r;
  json s = WaitExited();
  EXPECT_EQ(s["restart_count"], 0);
  EXPECT_EQ(s["exit_count"], 1);
}

TEST_F(Monitor, AlwaysWithStopMarkerDoesNotRestart) {
  std::string id = NewId();
  std::string marker = tmp_ + "/stopped";
  bundle_.config["process"]["args"] = {"sleep", "1000"};
  Result r = Exec(MonitorArgs(bundle_, id, {"--restart", "always", "--stop-marker", marker, "--events-file", events_file_}));
  ASSERT_TRUE(r.ok()) << r;
  WriteFile(marker, "");  // what the engine does before `stop`/`kill`
  ASSERT_TRUE(Rt({"kill", id, "KILL"}).ok());
  json s = WaitExited();
  EXPECT_EQ(s["restart_count"], 0) << s.dump();
  EXPECT_EQ(s["exit_count"], 1);
  EXPECT_EQ(s["exit_code"], 137);
  EXPECT_EQ(EventActions(), (std::vector<std::string>{"die"}));
}

TEST_F(Monitor, BackoffIsVisibleAndStopMarkerEndsIt) {
  std::string id = NewId();
  std::string marker = tmp_ + "/stopped";
  bundle_.config["process"]["args"] = {"sh", "-c", "exit 1"};
  Result r = Exec(MonitorArgs(bundle_, id, {"--restart", "always", "--stop-marker", marker}));
  ASSERT_TRUE(r.ok()) << r;
  // Back-off doubles from 100 ms: by the 5th exit the wait is 1.6 s, long enough to see.
  json s = WaitStatusFile([](const json& j) { return j["state"] == "restarting" && j["exit_count"] >= 5; });
  EXPECT_EQ(s["pid"], 0);
  EXPECT_EQ(s["exit_code"], 1);
  EXPECT_EQ(s["restart_count"].get<int>(), s["exit_count"].get<int>() - 1) << s.dump();
  int seen = s["exit_count"];
  // The marker appearing during the wait ends it: no more restarts.
  WriteFile(marker, "");
  json e = WaitExited();
  EXPECT_LE(e["exit_count"].get<int>(), seen + 1) << e.dump();
  EXPECT_EQ(ExitFile()["exit_code"], 1);
  EXPECT_TRUE(WaitProcessGone(MonitorPid()));
  EXPECT_FALSE(StateDirExists(id));
}

std::vector<std::string> HealthArgs(const std::string& cmd_json, std::vector<std::string> more) {
  std::vector<std::string> v = {"--health-cmd", cmd_json, "--health-interval", "100000000"};
  v.insert(v.end(), more.begin(), more.end());
  return v;
}

TEST_F(Monitor, HealthBecomesHealthy) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"sleep", "1000"};
  auto args = HealthArgs(R"(["CMD-SHELL","echo ok; exit 0"])", {"--events-file", events_file_, "--name", "h"});
  Result r = Exec(MonitorArgs(bundle_, id, args));
  ASSERT_TRUE(r.ok()) << r;
  // Before the first result.
  json s0 = StatusFile();
  ASSERT_TRUE(s0["health"].is_object()) << s0.dump();
  EXPECT_EQ(s0["health"]["Status"], "starting");
  EXPECT_EQ(s0["health"]["FailingStreak"], 0);
  json s = WaitStatusFile([](const json& j) { return j["health"]["Status"] == "healthy"; });
  auto& log = s["health"]["Log"];
  ASSERT_GE(log.size(), 1u);
  EXPECT_EQ(log[0]["ExitCode"], 0);
  EXPECT_EQ(log[0]["Output"], "ok\n");
  EXPECT_TRUE(log[0]["Start"].is_string());
  EXPECT_EQ(log[0]["End"].get<std::string>().back(), 'Z');
  // Never more than 5 entries.
  json later = WaitStatusFile([](const json& j) { return j["health"]["Log"].size() == 5; });
  json after = WaitStatusFile([&](const json& j) { return j["health"]["Log"][4]["Start"] != later["health"]["Log"][4]["Start"]; });
  EXPECT_EQ(after["health"]["Log"].size(), 5u);
  // One event per change.
  auto actions = EventActions();
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "health_status: healthy"), 1) << ReadFile(events_file_);
  pid_t mon = MonitorPid();
  long rss = IdleRssKb(mon);
  std::cout << "monitor VmRSS (health checks every 100 ms): " << rss << " kB" << std::endl;
#if !defined(__SANITIZE_ADDRESS__)
  EXPECT_LE(rss, 1024);
#endif
  ASSERT_TRUE(Rt({"kill", id, "KILL"}).ok());
  WaitExited();
}

TEST_F(Monitor, HealthUnhealthyAfterRetries) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"sleep", "1000"};
  auto args = HealthArgs(R"(["CMD","sh","-c","echo bad >&2; exit 1"])", {"--health-retries", "2", "--events-file", events_file_});
  Result r = Exec(MonitorArgs(bundle_, id, args));
  ASSERT_TRUE(r.ok()) << r;
  json s = WaitStatusFile([](const json& j) { return j["health"]["Status"] != "starting"; });
  EXPECT_EQ(s["health"]["Status"], "unhealthy") << s.dump();
  EXPECT_EQ(s["health"]["FailingStreak"], 2);
  EXPECT_EQ(s["health"]["Log"].size(), 2u);
  EXPECT_EQ(s["health"]["Log"][1]["ExitCode"], 1);
  EXPECT_EQ(s["health"]["Log"][1]["Output"], "bad\n");
  EXPECT_EQ(EventActions(), (std::vector<std::string>{"health_status: unhealthy"}));
  ASSERT_TRUE(Rt({"kill", id, "KILL"}).ok());
  WaitExited();
}

TEST_F(Monitor, HealthStartPeriodFailuresDoNotCount) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"sleep", "1000"};
  // Fails during an (effectively endless) start period: stays "starting".
  auto args = HealthArgs(R"(["CMD-SHELL","exit 1"])", {"--health-retries", "1", "--health-start-period", "600000000000"});
  Result r = Exec(MonitorArgs(bundle_, id, args));
  ASSERT_TRUE(r.ok()) << r;
  json s = WaitStatusFile([](const json& j) { return j["health"]["Log"].size() >= 3; });
  EXPECT_EQ(s["health"]["Status"], "starting") << s.dump();
  EXPECT_EQ(s["health"]["FailingStreak"], 0);
  ASSERT_TRUE(Rt({"kill", id, "KILL"}).ok());
  WaitExited();
}

TEST_F(Monitor, HealthTimeout) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"sleep", "1000"};
  auto args = HealthArgs(R"(["CMD","sleep","77"])", {"--health-timeout", "200000000"});
  Result r = Exec(MonitorArgs(bundle_, id, args));
  ASSERT_TRUE(r.ok()) << r;
  json s = WaitStatusFile([](const json& j) { return j["health"]["Log"].size() >= 1; });
  auto& e = s["health"]["Log"][0];
  EXPECT_EQ(e["ExitCode"], -1);
  EXPECT_EQ(e["Output"], "Health check exceeded timeout (200ms)");
  // The probe's process in the container was killed with it.
  auto pids = Rt({"ps", id});
  EXPECT_EQ(pids.out.find("sleep 77"), std::string::npos) << pids.out;
  ASSERT_TRUE(Rt({"kill", id, "KILL"}).ok());
  WaitExited();
}

TEST_F(Monitor, OomKillIsRecordedWithEvents) {
  std::string id = NewId();
  bundle_.config["linux"]["resources"]["memory"] = {{"limit", 16 << 20}, {"swap", 16 << 20}};
  // The shell's string doubles until the cgroup's OOM killer ends it.
  bundle_.config["process"]["args"] = {"sh", "-c", "x=0123456789abcdef; while true; do x=$x$x; done"};
  Result r = Exec(MonitorArgs(bundle_, id, {"--events-file", events_file_}));
  ASSERT_TRUE(r.ok()) << r;
  json s = WaitExited();
  EXPECT_EQ(s["oom_killed"], true) << s.dump();
  EXPECT_EQ(s["exit_code"], 137);
  EXPECT_EQ(ExitFile()["oom_killed"], true);
  EXPECT_EQ(EventActions(), (std::vector<std::string>{"oom", "die"}));
}

TEST_F(Monitor, FailedRestartEndsWithTheError) {
  std::string id = NewId();
  // Runs once: the script removes itself, so the restart cannot exec it.
  WriteFile(bundle_.rootfs + "/once.sh", "#!/bin/sh\nrm /once.sh\nexit 2\n", 0755);
  bundle_.config["process"]["args"] = {"/once.sh"};
  bundle_.config["root"]["readonly"] = false;
  Result r = Exec(MonitorArgs(bundle_, id, {"--restart", "always"}));
  ASSERT_TRUE(r.ok()) << r;
  json s = WaitExited();
  EXPECT_EQ(s["restart_count"], 1) << s.dump();
  EXPECT_EQ(s["exit_count"], 1);
  EXPECT_EQ(s["exit_code"], 2);
  EXPECT_NE(s["error"].get<std::string>().find("once.sh"), std::string::npos) << s.dump();
  json e = ExitFile();
  EXPECT_EQ(e["exit_code"], 2) << e.dump();
  EXPECT_NE(e.value("error", "").find("once.sh"), std::string::npos) << e.dump();
  EXPECT_FALSE(StateDirExists(id));
}

TEST_F(Monitor, ExitCommandRunsWithArgsAfterTheExitFile) {
  std::string id = NewId();
  std::string out = tmp_ + "/exit-command.out";
  bundle_.config["process"]["args"] = {"sh", "-c", "exit 5"};
  std::string script = "{ echo \"$1 $2\"; cat " + exit_file_ + "; ls /proc/self/fd | wc -l; } > " + out;
  Result r = Exec(MonitorArgs(bundle_, id, {"--exit-command", "/bin/sh", "--exit-command-arg", "-c",
                                            "--exit-command-arg", script, "--exit-command-arg", "sh",
                                            "--exit-command-arg", "cleanup", "--exit-command-arg", id}));
  ASSERT_TRUE(r.ok()) << r;
  ASSERT_TRUE(WaitForFile(out));
  EXPECT_TRUE(WaitProcessGone(MonitorPid()));
  auto lines = SplitLines(ReadFile(out));
  ASSERT_EQ(lines.size(), 3u) << ReadFile(out);
  EXPECT_EQ(lines[0], "cleanup " + id);
  EXPECT_EQ(json::parse(lines[1], nullptr, false)["exit_code"], 5) << lines[1];
  // stdio only (plus the fd `ls` opens on /proc/self/fd): nothing leaked.
  EXPECT_EQ(lines[2], "4");
}

TEST_F(Monitor, SigtermDoesNotStopMonitorOrContainer) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"sleep", "1000"};
  Result r = Exec(MonitorArgs(bundle_, id));
  ASSERT_TRUE(r.ok()) << r;
  pid_t mon = MonitorPid();
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) ASSERT_EQ(kill(mon, sig), 0);
  // Still there and still doing its job: the kill is recorded.
  EXPECT_EQ(Status(id), "running");
  EXPECT_NE(ProcState(mon), "");
  ASSERT_TRUE(Rt({"kill", id, "KILL"}).ok());
  EXPECT_EQ(WaitExited()["exit_code"], 137);
}

TEST_F(Monitor, ContainerOutlivesAKilledMonitor) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"sleep", "1000"};
  Result r = Exec(MonitorArgs(bundle_, id));
  ASSERT_TRUE(r.ok()) << r;
  pid_t mon = MonitorPid();
  ASSERT_EQ(kill(mon, SIGKILL), 0);
  EXPECT_TRUE(WaitProcessGone(mon));
  EXPECT_EQ(Status(id), "running");
  ReapOrphans();
}

}  // namespace
}  // namespace mdtest
