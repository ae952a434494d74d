#include "monitor/health.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "monitor/json_log.h"
#include "runtime/container.h"

namespace md::monitor {

namespace {

int64_t now_realtime_ns() {
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

void write_str(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t w = ::write(fd, s.data() + off, s.size() - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    off += static_cast<size_t>(w);
  }
}

// The probe child: fd 1/2 = the output pipe, fd 3 = the result pipe, nothing else open.
// It reports one of "exit N", "skip" (the container is paused: Docker skips the check),
// or "error MESSAGE" (the exec could not run: Docker's ExitCode -1 with the error).
// A forked copy of the single-threaded monitor: it may allocate and use the runtime library.
[[noreturn]] void probe_child(const std::string& root, const std::string& id, const std::vector<std::string>& argv) {
  runtime::GlobalOptions g{root};
  auto st = runtime::container_state(g, id);
  if (st && st->value("status", "") == "paused") {
    write_str(3, "skip");
    _exit(0);
  }
  auto proc = runtime::container_process_template(g, id);
  if (!proc) {
    write_str(3, "error " + proc.error().message);
    _exit(0);
  }
  runtime::ExecOptions eo;
  eo.id = id;
  eo.process = std::move(*proc);
  eo.process.args = argv;
  eo.process.terminal = false;
  auto r = runtime::exec_in_container(g, eo);
  if (!r) write_str(3, "error " + r.error().message);
  else write_str(3, "exit " + std::to_string(*r));
  _exit(0);
}

}  // namespace

const char* health_status_name(HealthStatus s) {
  switch (s) {
    case HealthStatus::kStarting: return "starting";
    case HealthStatus::kHealthy: return "healthy";
    case HealthStatus::kUnhealthy: return "unhealthy";
  }
  return "starting";
}

void HealthState::reset() {
  status_ = HealthStatus::kStarting;
  failing_streak_ = 0;
}

bool HealthState::record(const HealthResult& r, int64_t container_started_ns) {
  HealthStatus before = status_;
  if (r.exit_code == 0) {
    failing_streak_ = 0;
    status_ = HealthStatus::kHealthy;
  } else {
    // Still "starting" and within the start period: the failure does not count.
    bool counts = !(status_ == HealthStatus::kStarting && r.start_ns - container_started_ns < start_period_ns_);
    if (counts) {
      failing_streak_++;
      if (failing_streak_ >= retries_) status_ = HealthStatus::kUnhealthy;
    }
  }
  int slot;
  if (log_len_ < kHealthLogMax) {
    slot = (log_first_ + log_len_) % kHealthLogMax;
    log_len_++;
  } else {
    slot = log_first_;
    log_first_ = (log_first_ + 1) % kHealthLogMax;
  }
  HealthResult& e = log_[slot];
  e.start_ns = r.start_ns;
  e.end_ns = r.end_ns;
  e.exit_code = r.exit_code;
  e.output_len = r.output_len;
  std::memcpy(e.output, r.output, r.output_len);
  return status_ != before;
}

void HealthState::write_json(JsonOut& j) const {
  j.raw("{").key("Status", true).str(health_status_name(status_)).key("FailingStreak").num(failing_streak_);
  j.key("Log").raw("[");
  char ts[40];
  for (int i = 0; i < log_len_; i++) {
    const HealthResult& e = log_entry(i);
    if (i) j.raw(",");
    j.raw("{").key("Start", true).str(ts, format_rfc3339_go(ts, e.start_ns));
    j.key("End").str(ts, format_rfc3339_go(ts, e.end_ns));
    j.key("ExitCode").num(e.exit_code).key("Output").str(e.output, e.output_len).raw("}");
  }
  j.raw("]}");
}

std::string go_duration(int64_t ns) {
  if (ns == 0) return "0s";
  std::string sign = ns < 0 ? "-" : "";
  uint64_t u = ns < 0 ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
  // "int[.frac]" of u / 10^digits with trailing zeros dropped.
  auto fixed = [](uint64_t v, int digits) {
    uint64_t div = 1;
    for (int i = 0; i < digits; i++) div *= 10;
    std::string s = std::to_string(v / div);
    uint64_t frac = v % div;
    if (frac) {
      std::string f = std::to_string(frac);
      f.insert(0, static_cast<size_t>(digits) - f.size(), '0');
      while (f.back() == '0') f.pop_back();
      s += "." + f;
    }
    return s;
  };
  if (u < 1'000) return sign + std::to_string(u) + "ns";
  if (u < 1'000'000) return sign + fixed(u, 3) + "\xc2\xb5s";  // µs
  if (u < 1'000'000'000) return sign + fixed(u, 6) + "ms";
  uint64_t secs_ns = u % 60'000'000'000ULL;
  uint64_t mins = u / 60'000'000'000ULL;
  uint64_t hours = mins / 60;
  mins %= 60;
  std::string out = sign;
  if (hours) out += std::to_string(hours) + "h";
  if (hours || mins) out += std::to_string(mins) + "m";
  return out + fixed(secs_ns, 9) + "s";
}

HealthChecker::HealthChecker(const HealthConfig& c, std::string runtime_root, std::string id, int epfd,
                             uint64_t tag_timer, uint64_t tag_out, uint64_t tag_exit)
    : config_(c),
      root_(std::move(runtime_root)),
      id_(std::move(id)),
      epfd_(epfd),
      tag_timer_(tag_timer),
      tag_out_(tag_out),
      tag_exit_(tag_exit),
      timer_(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)),
      state_(c.retries, c.start_period_ns) {
  struct epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = tag_timer_;
  if (timer_) ::epoll_ctl(epfd_, EPOLL_CTL_ADD, timer_.get(), &ev);
}

HealthChecker::~HealthChecker() { kill_probe(); }

void HealthChecker::arm(int64_t ns) {
  struct itimerspec its{};
  if (ns > 0) {
    its.it_value.tv_sec = ns / 1'000'000'000;
    its.it_value.tv_nsec = ns % 1'000'000'000;
  }
  ::timerfd_settime(timer_.get(), 0, &its, nullptr);
}

void HealthChecker::on_started(int64_t started_ns) {
  kill_probe();
  state_.reset();
  started_ns_ = started_ns;
  active_ = true;
  arm(config_.interval_ns);
}

void HealthChecker::on_exited() {
  active_ = false;
  arm(0);
  kill_probe();
}

void HealthChecker::close_probe() {
  for (UniqueFd* fd : {&probe_pidfd_, &probe_out_})
    if (*fd) ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd->get(), nullptr);
  probe_pidfd_.reset();
  probe_out_.reset();
  probe_result_.reset();
  probe_pid_ = -1;
}

void HealthChecker::kill_probe() {
  if (probe_pid_ <= 0) return;
  // The child and the process it exec'd in the container share its process group.
  ::kill(-probe_pid_, SIGKILL);
  ::kill(probe_pid_, SIGKILL);
  while (::waitpid(probe_pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  close_probe();
}

HealthChecker::Outcome HealthChecker::start_probe() {
  current_.start_ns = now_realtime_ns();
  current_.output_len = 0;
  auto failed = [&](const char* what) {
    char msg[128];
    int n = std::snprintf(msg, sizeof msg, "health check of %s: %s: %s", id_.c_str(), what, std::strerror(errno));
    return finish(-1, msg, static_cast<size_t>(n > 0 ? n : 0));
  };
  int outp[2], resp[2];
  if (::pipe2(outp, O_CLOEXEC) != 0) return failed("pipe");
  UniqueFd out_r(outp[0]), out_w(outp[1]);
  if (::pipe2(resp, O_CLOEXEC) != 0) return failed("pipe");
  UniqueFd res_r(resp[0]), res_w(resp[1]);
  pid_t pid = ::fork();
  if (pid < 0) return failed("fork");
  if (pid == 0) {
    ::setpgid(0, 0);
    struct sigaction dfl = {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(SIGCHLD, &dfl, nullptr);  // the monitor's handler writes to its own pipe
    int null = ::open("/dev/null", O_RDWR);
    // Move the pipes above 3 first, then onto 1, 2 and 3; close everything else.
    int o = ::fcntl(out_w.get(), F_DUPFD, 10), r = ::fcntl(res_w.get(), F_DUPFD, 10);
    ::dup2(null, 0);
    ::dup2(o, 1);
    ::dup2(o, 2);
    ::dup2(r, 3);
    ::syscall(SYS_close_range, 4, ~0U, 0);
    probe_child(root_, id_, config_.argv);
  }
  ::setpgid(pid, pid);  // also here: we may kill the group before the child ran
  probe_pid_ = pid;
  probe_pidfd_ = UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  ::fcntl(out_r.get(), F_SETFL, O_NONBLOCK);
  ::fcntl(res_r.get(), F_SETFL, O_NONBLOCK);
  probe_out_ = std::move(out_r);
  probe_result_ = std::move(res_r);
  struct epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = tag_out_;
  ::epoll_ctl(epfd_, EPOLL_CTL_ADD, probe_out_.get(), &ev);
  ev.data.u64 = tag_exit_;
  if (probe_pidfd_) ::epoll_ctl(epfd_, EPOLL_CTL_ADD, probe_pidfd_.get(), &ev);
  arm(config_.timeout_ns);
  return Outcome::kNothing;
}

HealthChecker::Outcome HealthChecker::on_timer() {
  uint64_t expirations;
  (void)!::read(timer_.get(), &expirations, sizeof expirations);
  if (!active_) return Outcome::kNothing;
  if (probe_pid_ <= 0) return start_probe();
  // The probe may have finished in the same epoll batch: its result wins.
  siginfo_t si = {};
  if (::waitid(P_PID, static_cast<id_t>(probe_pid_), &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == probe_pid_)
    return on_probe_exit();
  kill_probe();  // keeps nothing of the output: Docker reports only the timeout
  std::string msg = "Health check exceeded timeout (" + go_duration(config_.timeout_ns) + ")";
  return finish(-1, msg.data(), msg.size());
}

void HealthChecker::on_output() {
  if (!probe_out_) return;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(probe_out_.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) {  // EOF: stop watching (the exit comes through the pidfd)
        ::epoll_ctl(epfd_, EPOLL_CTL_DEL, probe_out_.get(), nullptr);
        probe_out_.reset();
      }
      return;
    }
    size_t room = kHealthOutputMax - current_.output_len;
    size_t take = static_cast<size_t>(n) < room ? static_cast<size_t>(n) : room;
    std::memcpy(current_.output + current_.output_len, buf, take);
    current_.output_len += take;
  }
}

HealthChecker::Outcome HealthChecker::on_probe_exit() {
  if (probe_pid_ <= 0) return Outcome::kNothing;
  int status;
  pid_t r;
  do {
    r = ::waitpid(probe_pid_, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return Outcome::kNothing;
  probe_pid_ = -1;
  on_output();  // whatever the command wrote before its exit
  char res[1024];
  ssize_t n;
  do {
    n = ::read(probe_result_.get(), res, sizeof res - 1);
  } while (n < 0 && errno == EINTR);
  res[n > 0 ? n : 0] = 0;
  close_probe();
  if (std::strcmp(res, "skip") == 0) {  // paused: no result, try again next interval
    if (active_) arm(config_.interval_ns);
    return Outcome::kNothing;
  }
  if (std::strncmp(res, "exit ", 5) == 0) return finish(std::atoi(res + 5), nullptr, 0);
  if (std::strncmp(res, "error ", 6) == 0) return finish(-1, res + 6, std::strlen(res + 6));
  char msg[96];
  int m = std::snprintf(msg, sizeof msg, "health check process ended without a result (wait status %d)", status);
  return finish(-1, msg, static_cast<size_t>(m));
}

// Records the result in flight (output given: replaces what was captured).
HealthChecker::Outcome HealthChecker::finish(int exit_code, const char* output, size_t len) {
  current_.end_ns = now_realtime_ns();
  current_.exit_code = exit_code;
  if (output) {
    current_.output_len = len < kHealthOutputMax ? len : kHealthOutputMax;
    std::memcpy(current_.output, output, current_.output_len);
  }
  bool changed = state_.record(current_, started_ns_);
  if (active_) arm(config_.interval_ns);
  return changed ? Outcome::kStatusChanged : Outcome::kResult;
}

}  // namespace md::monitor
