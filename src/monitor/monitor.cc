#include "monitor/monitor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "base/explain.h"
#include "base/file_util.h"
#include "base/scope_guard.h"
#include "base/unique_fd.h"
#include "cgroups/cgroup.h"
#include "monitor/attach.h"
#include "monitor/events.h"
#include "monitor/exit_command.h"
#include "monitor/health.h"
#include "monitor/json_log.h"
#include "monitor/memory.h"
#include "monitor/restart.h"
#include "monitor/status_file.h"
#include "monitor/tty.h"
#include "runtime/container.h"
#include "runtime/state_store.h"

namespace md::monitor {

namespace {

// epoll tags (data.u64); the low byte says what, Attach's own are 0x10-0x13.
enum : uint64_t {
  kTagOut = 1,
  kTagErr,
  kTagPty,
  kTagPidfd,
  kTagBackoff,
  kTagInotify,
  kTagHealthTimer,
  kTagProbeOut,
  kTagProbeExit,
  kTagChild,
};

constexpr int kAttachFlushMs = 10'000;      // the end: how long clients get to take their output
constexpr int kExitCommandMs = 60'000;      // how long we wait for --exit-command
constexpr int kConsoleTimeoutMs = 10'000;   // the pty master is queued once create returned
constexpr int kIdleShedMs = 1'000;          // quiet this long after activity: shed_memory()

// The container's output is read through this (static: no allocation, pages touched
// only as far as reads reach).
char g_io[16384];

// SIGCHLD → one byte on this pipe (watched by the loop): no wakeup can be lost between a
// check and epoll_wait, and no signal needs blocking (a blocked mask would be inherited by
// the container).
int g_child_pipe_w = -1;
void ignore_signal(int) {}
void note_child(int) {
  int saved = errno;
  if (g_child_pipe_w >= 0) (void)!::write(g_child_pipe_w, "c", 1);
  errno = saved;
}

// SIGTERM, SIGINT, SIGHUP do not end the monitor: it is the container's supervisor and
// the container must not lose it. Handlers, not SIG_IGN: whatever we start (the container,
// probes, the exit command) gets the default dispositions back at exec. SIGPIPE likewise:
// writes to a gone client or stdin return EPIPE. SIGCHLD (only in the loop) wakes the
// loop to reap processes re-parented to us: a zombie left in the container's pid
// namespace would keep its init from ever finishing its exit.
void install_handlers(bool in_loop) {
  struct sigaction sa = {};
  sa.sa_handler = ignore_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGPIPE}) ::sigaction(s, &sa, nullptr);
  sa.sa_handler = in_loop ? note_child : SIG_DFL;
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  ::sigaction(SIGCHLD, &sa, nullptr);
}

int64_t now_ns() {
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Reads "key value" lines of a cgroup file; nullopt when absent.
std::optional<uint64_t> read_key(const std::string& path, const char* key) {
  auto text = read_file(path);
  if (!text) return std::nullopt;
  size_t kl = std::strlen(key);
  size_t pos = 0;
  while (pos < text->size()) {
    size_t eol = text->find('\n', pos);
    if (eol == std::string::npos) eol = text->size();
    std::string_view line(text->data() + pos, eol - pos);
    if (line.size() > kl && line.compare(0, kl, key) == 0 && line[kl] == ' ')
      return std::strtoull(std::string(line.substr(kl + 1)).c_str(), nullptr, 10);
    pos = eol + 1;
  }
  return std::nullopt;
}

// oom_kill count of the container's cgroup (v2 memory.events, v1 memory.oom_control).
// 0 when unknown.
uint64_t oom_kills(const std::string& cgroup_path) {
  if (cgroup_path.empty()) return 0;
  auto cg = cgroups::Cgroup::open(cgroup_path);
  if (!cg) return 0;
  for (auto& [name, dir] : cg->mount_sources()) {
    if (name == "memory") {
      if (auto v = read_key(dir + "/memory.oom_control", "oom_kill")) return *v;
    } else if (name.empty() || name == "unified") {
      if (auto v = read_key(dir + "/memory.events", "oom_kill")) return *v;
    }
  }
  return 0;
}

void warn(const std::string& msg) { std::fprintf(stderr, "minidocker-monitor: %s\n", msg.c_str()); }

void write_exit_file(const std::string& path, const std::string& text) {
  if (auto st = write_file_atomic(path, text); !st) warn("exit file: " + st.error().message);
}

Status make_pipe(UniqueFd& r, UniqueFd& w, const char* what) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return fail_errno(std::string("create the ") + what + " pipe");
  r = UniqueFd(p[0]);
  w = UniqueFd(p[1]);
  return {};
}

class Monitor {
 public:
  explicit Monitor(const MonitorOptions& o) : o_(o), g_{o.runtime_root}, restart_(o.restart) {}
  int run(int ready_fd);
  bool foreground_client_holds_lock() const;

 private:
  int fail_early(const std::string& msg);
  void report_ready(char c);
  Status setup();
  Status launch();
  // The per-line path is [[gnu::hot]]: GCC puts it in .text.hot, which the linker groups,
  // so logging a line faults in few 64 KiB windows of the binary (docs/monitor.md, Memory).
  [[gnu::hot]] void loop();
  void watch(int fd, uint64_t tag, uint32_t events = EPOLLIN);
  void unwatch(UniqueFd& fd);
  [[gnu::hot]] void pump(uint64_t tag);
  void drain_outputs();
  void on_pidfd();
  void on_container_exit(int wait_status, int64_t finished);
  void on_backoff_timer();
  void on_inotify();
  void on_health(HealthChecker::Outcome out);
  void restart_now();
  void finish_for_good();
  void reap_strays();
  bool stop_marker_exists() const { return !o_.stop_marker.empty() && ::access(o_.stop_marker.c_str(), F_OK) == 0; }
  void write_status();
  void emit_exit_events();
  void log_write_failed(const Status& st);

  const MonitorOptions& o_;
  runtime::GlobalOptions g_;
  int ready_fd_ = -1;
  std::optional<JsonLogWriter> log_;
  bool log_error_reported_ = false;
  UniqueFd ep_;
  std::unique_ptr<Attach> attach_;
  std::unique_ptr<HealthChecker> health_;
  EventLog events_;
  RestartTracker restart_;
  ContainerStatusInfo st_;
  ExitInfo last_exit_;
  bool exit_events_pending_ = false;
  // The running container.
  pid_t pid_ = 0;
  std::string cgroup_path_;
  UniqueFd pidfd_, out_, err_, master_;
  bool running_ = false;
  bool deleted_ = true;  // no runtime container to delete
  // Between an exit and the restart.
  UniqueFd child_pipe_r_, child_pipe_w_;
  UniqueFd backoff_timer_, inotify_;
  int inotify_wd_ = -1;
  bool in_backoff_ = false;
  bool done_ = false;
};

void Monitor::report_ready(char c) {
  if (ready_fd_ < 0) return;
  (void)!::write(ready_fd_, &c, 1);
  ::close(ready_fd_);
  ready_fd_ = -1;
}

void Monitor::write_status() {
  if (o_.status_file.empty()) return;
  if (auto s = write_status_file(o_.status_file, st_, health_ ? &health_->state() : nullptr); !s)
    warn("status file: " + s.error().message);
}

void Monitor::log_write_failed(const Status& st) {
  if (st || log_error_reported_) return;
  log_error_reported_ = true;  // once: the container's output keeps being drained regardless
  warn("log " + o_.log_path + ": " + st.error().message);
}

// The container never started: the error goes to the exit and status files.
int Monitor::fail_early(const std::string& msg) {
  write_exit_file(o_.exit_file, error_json(msg));
  st_.state = "exited";
  st_.error = msg;
  st_.pid = 0;
  write_status();
  warn(msg);
  report_ready(1);
  if (attach_) attach_->finish(kAttachFlushMs);
  if (!o_.exit_command.empty()) run_exit_command(o_.exit_command, o_.exit_command_args, kExitCommandMs);
  return 1;
}

void Monitor::watch(int fd, uint64_t tag, uint32_t events) {
  struct epoll_event ev{};
  ev.events = events;
  ev.data.u64 = tag;
  ::epoll_ctl(ep_.get(), EPOLL_CTL_ADD, fd, &ev);
}

void Monitor::unwatch(UniqueFd& fd) {
  if (fd) ::epoll_ctl(ep_.get(), EPOLL_CTL_DEL, fd.get(), nullptr);
}

Status Monitor::setup() {
  ep_ = UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
  if (!ep_) return fail_errno("epoll_create1");
  auto log = JsonLogWriter::open(o_.log_path, o_.log_max_size, o_.log_max_files);
  if (!log) return std::unexpected(log.error());
  log_.emplace(std::move(*log));
  int cp[2];
  if (::pipe2(cp, O_CLOEXEC | O_NONBLOCK) != 0) return fail_errno("create the SIGCHLD pipe");
  child_pipe_r_ = UniqueFd(cp[0]);
  child_pipe_w_ = UniqueFd(cp[1]);
  g_child_pipe_w = cp[1];
  watch(child_pipe_r_.get(), kTagChild);
  attach_ = std::make_unique<Attach>(ep_.get());
  // The run client is attached before anything can be written: it misses nothing.
  if (o_.attach_fd >= 0) attach_->add_client(o_.attach_fd, /*stdin_once=*/true);
  TRY(attach_->listen(o_.attach_socket, o_.control_socket));
  if (!o_.events_file.empty()) events_ = TRY(EventLog::open(o_.events_file, o_.id, o_.name, o_.image));
  if (!o_.health.argv.empty())
    health_ = std::make_unique<HealthChecker>(o_.health, o_.runtime_root, o_.id, ep_.get(), kTagHealthTimer,
                                              kTagProbeOut, kTagProbeExit);
  if (health_ && !health_->valid()) return fail_errno("timerfd_create for health checks");
  if (o_.restart.kind != RestartKind::kNo) {
    backoff_timer_ = UniqueFd(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (!backoff_timer_) return fail_errno("timerfd_create for the restart back-off");
    watch(backoff_timer_.get(), kTagBackoff);
  }
  return {};
}

// One start of the container (the first, or a restart): create with our pipes (or the
// console socket) as its stdio, receive the pty, start. On error nothing is left.
Status Monitor::launch() {
  UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!devnull) return fail_errno("open /dev/null");
  UniqueFd out_r, out_w, err_r, err_w, in_r, in_w;
  std::optional<ConsoleSocket> console;
  if (o_.tty) {
    console.emplace(TRY(ConsoleSocket::create(dir_of(o_.status_file.empty() ? o_.exit_file : o_.status_file))));
  } else {
    TRY(make_pipe(out_r, out_w, "stdout"));
    TRY(make_pipe(err_r, err_w, "stderr"));
  }
  if (o_.stdin_open && !o_.tty) TRY(make_pipe(in_r, in_w, "stdin"));

  // The container inherits fds 0/1/2 of the process calling the runtime library.
  UniqueFd saved_err(::fcntl(2, F_DUPFD_CLOEXEC, 3));
  int err_target = saved_err ? saved_err.get() : devnull.get();
  ::dup2(in_r ? in_r.get() : devnull.get(), 0);
  ::dup2(out_w ? out_w.get() : devnull.get(), 1);
  ::dup2(err_w ? err_w.get() : err_target, 2);
  in_r.reset();
  out_w.reset();
  err_w.reset();
  runtime::CreateOptions co;
  co.id = o_.id;
  co.bundle = o_.bundle;
  if (console) co.console_socket = console->path();
  install_handlers(/*in_loop=*/false);
  auto created = runtime::create_container(g_, co);
  // Give our 0/1/2 back: the container's processes are now the pipes' only users.
  ::dup2(devnull.get(), 0);
  ::dup2(devnull.get(), 1);
  ::dup2(err_target, 2);
  install_handlers(false);  // the runtime's hooks may have set SIGPIPE to SIG_IGN
  if (!created) return std::unexpected(created.error());

  ScopeGuard rollback([&] { (void)runtime::delete_container(g_, o_.id, /*force=*/true); });
  auto rec = TRY_CTX(runtime::StateStore(o_.runtime_root).load(o_.id), "container " + o_.id);
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, rec.pid, 0)));
  if (!pidfd) return fail_errno("pidfd_open of container " + o_.id + " init (pid " + std::to_string(rec.pid) + ")");
  UniqueFd master;
  if (console) {
    master = TRY_CTX(console->receive_master(kConsoleTimeoutMs), "container " + o_.id + " terminal");
    if (o_.tty_rows || o_.tty_cols) TRY(set_window_size(master.get(), o_.tty_rows, o_.tty_cols));
  }
  TRY(runtime::start_container(g_, o_.id));
  rollback.cancel();
  deleted_ = false;

  int64_t started = now_ns();
  pid_ = rec.pid;
  cgroup_path_ = rec.cgroup_path;
  st_.pid = rec.pid;
  st_.pid_start_time = rec.pid_start_time;
  st_.started_at = started;
  st_.error.clear();
  pidfd_ = std::move(pidfd);
  watch(pidfd_.get(), kTagPidfd);
  if (master) {
    master_ = std::move(master);
    ::fcntl(master_.get(), F_SETFL, ::fcntl(master_.get(), F_GETFL) | O_NONBLOCK);
    watch(master_.get(), kTagPty);
    attach_->set_terminal(master_.get());
    if (o_.stdin_open) attach_->set_stdin(::fcntl(master_.get(), F_DUPFD_CLOEXEC, 3), /*tty=*/true);
  } else {
    out_ = std::move(out_r);
    err_ = std::move(err_r);
    ::fcntl(out_.get(), F_SETFL, O_NONBLOCK);  // our read ends only: the container's ends block
    ::fcntl(err_.get(), F_SETFL, O_NONBLOCK);
    watch(out_.get(), kTagOut);
    watch(err_.get(), kTagErr);
    if (in_w) attach_->set_stdin(in_w.release(), /*tty=*/false);
  }
  running_ = true;
  if (health_) health_->on_started(started);
  install_handlers(/*in_loop=*/true);
  return {};
}

// Container output: to the log and to every attached client.
void Monitor::pump(uint64_t tag) {
  UniqueFd& fd = tag == kTagOut ? out_ : tag == kTagErr ? err_ : master_;
  if (!fd) return;
  Stream s = tag == kTagErr ? Stream::kStderr : Stream::kStdout;
  ssize_t n;
  do {
    n = ::read(fd.get(), g_io, sizeof g_io);
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    log_write_failed(log_->feed(s, g_io, static_cast<size_t>(n)));
    attach_->broadcast(tag == kTagErr ? 2 : 1, g_io, static_cast<size_t>(n));
    return;
  }
  if (n < 0 && errno == EAGAIN) return;
  // EOF, or EIO from a pty whose every slave fd is closed. The master stays open (resize,
  // stdin) until the exit; it is only no longer watched.
  ::epoll_ctl(ep_.get(), EPOLL_CTL_DEL, fd.get(), nullptr);
  log_write_failed(log_->flush(s));
  if (tag != kTagPty) fd.reset();
}

// After the exit, whatever the container wrote is in the pipes (or the pty): read it
// without blocking (a process that escaped the container could hold a write end forever).
void Monitor::drain_outputs() {
  for (uint64_t tag : {kTagOut, kTagErr, kTagPty}) {
    UniqueFd& fd = tag == kTagOut ? out_ : tag == kTagErr ? err_ : master_;
    if (!fd) continue;
    Stream s = tag == kTagErr ? Stream::kStderr : Stream::kStdout;
    for (;;) {
      ssize_t n = ::read(fd.get(), g_io, sizeof g_io);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      log_write_failed(log_->feed(s, g_io, static_cast<size_t>(n)));
      attach_->broadcast(tag == kTagErr ? 2 : 1, g_io, static_cast<size_t>(n));
    }
    log_write_failed(log_->flush(s));
    unwatch(fd);
    fd.reset();
  }
}

// Processes re-parented to us (we are a child subreaper): reaped, except the ones whose
// pidfd tells us (the init, a health probe).
void Monitor::reap_strays() {
  for (;;) {
    siginfo_t si = {};
    if (::waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid == 0) return;
    if ((running_ && si.si_pid == pid_) || (health_ && si.si_pid == health_->probe_pid())) return;
    ::waitpid(si.si_pid, nullptr, WNOHANG);
  }
}

void Monitor::on_pidfd() {
  if (!running_) return;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return;
  // ECHILD: reaped elsewhere (cannot happen: only we wait for it); treat as an exit.
  on_container_exit(r == pid_ ? status : 0, now_ns());
}

void Monitor::emit_exit_events() {
  if (!exit_events_pending_) return;
  exit_events_pending_ = false;
  if (last_exit_.oom_killed) events_.emit("oom");
  events_.emit("die", last_exit_.exit_code);
}

void Monitor::on_container_exit(int wait_status, int64_t finished) {
  running_ = false;
  unwatch(pidfd_);
  pidfd_.reset();
  drain_outputs();
  attach_->container_gone();
  if (health_) health_->on_exited();
  reap_strays();

  last_exit_ = {};
  if (WIFSIGNALED(wait_status)) {
    last_exit_.signal = WTERMSIG(wait_status);
    last_exit_.exit_code = 128 + last_exit_.signal;
  } else {
    last_exit_.exit_code = WEXITSTATUS(wait_status);
  }
  last_exit_.oom_killed = oom_kills(cgroup_path_) > 0;  // before the cgroup is removed
  char ts[32];
  last_exit_.finished_at.assign(ts, format_rfc3339_nano(ts, finished / 1'000'000'000, finished % 1'000'000'000));
  exit_events_pending_ = true;
  st_.pid = 0;
  st_.pid_start_time = 0;
  st_.finished_at = finished;
  st_.exit_code = last_exit_.exit_code;
  st_.oom_killed = last_exit_.oom_killed;
  st_.exit_count++;

  auto d = restart_.on_exit(last_exit_.exit_code, stop_marker_exists(), finished - st_.started_at);
  if (!d.restart) {
    finish_for_good();
    return;
  }
  st_.state = "restarting";
  write_status();
  emit_exit_events();
  if (auto s = runtime::delete_container(g_, o_.id, /*force=*/true); !s) warn(s.error().message);
  deleted_ = true;
  shed_memory();
  // Wait, unless the stop marker appears meanwhile (inotify on its directory).
  in_backoff_ = true;
  if (!o_.stop_marker.empty()) {
    if (!inotify_) {
      inotify_ = UniqueFd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
      if (inotify_) watch(inotify_.get(), kTagInotify);
    }
    if (inotify_)
      inotify_wd_ = ::inotify_add_watch(inotify_.get(), dir_of(o_.stop_marker).c_str(), IN_CREATE | IN_MOVED_TO);
    if (stop_marker_exists()) {  // created before the watch was in place
      in_backoff_ = false;
      finish_for_good();
      return;
    }
  }
  struct itimerspec its{};
  its.it_value.tv_sec = d.delay_ns / 1'000'000'000;
  its.it_value.tv_nsec = d.delay_ns % 1'000'000'000;
  ::timerfd_settime(backoff_timer_.get(), 0, &its, nullptr);
}

void Monitor::on_backoff_timer() {
  uint64_t expirations;
  (void)!::read(backoff_timer_.get(), &expirations, sizeof expirations);
  if (!in_backoff_) return;
  restart_now();
}

void Monitor::on_inotify() {
  alignas(struct inotify_event) char buf[4096];
  while (::read(inotify_.get(), buf, sizeof buf) > 0) {
  }
  if (in_backoff_ && stop_marker_exists()) {
    struct itimerspec off{};
    ::timerfd_settime(backoff_timer_.get(), 0, &off, nullptr);
    in_backoff_ = false;
    finish_for_good();
  }
}

void Monitor::restart_now() {
  in_backoff_ = false;
  if (inotify_wd_ >= 0) ::inotify_rm_watch(inotify_.get(), inotify_wd_);
  inotify_wd_ = -1;
  if (stop_marker_exists()) {
    finish_for_good();
    return;
  }
  st_.restart_count = restart_.restart_count();
  if (auto s = launch(); !s) {
    st_.error = s.error().message;
    last_exit_.error = s.error().message;
    warn(s.error().message);
    finish_for_good();
    return;
  }
  st_.state = "running";
  write_status();
  events_.emit("start");
  shed_memory();  // the runtime library's code and heap are not needed until the next launch
}

// Done for good: nothing of the container left, then the exit file and the final status,
// then the attached clients get their last bytes and EOF.
void Monitor::finish_for_good() {
  attach_->stop_listening();  // nothing to attach to any more
  if (inotify_wd_ >= 0) ::inotify_rm_watch(inotify_.get(), inotify_wd_);
  inotify_wd_ = -1;
  if (!deleted_) {
    if (auto s = runtime::delete_container(g_, o_.id, /*force=*/true); !s) warn(s.error().message);
    deleted_ = true;
  }
  write_exit_file(o_.exit_file, exit_json(last_exit_));
  st_.state = "exited";
  write_status();
  emit_exit_events();
  attach_->finish(kAttachFlushMs);
  done_ = true;
}

void Monitor::on_health(HealthChecker::Outcome out) {
  if (out == HealthChecker::Outcome::kNothing) return;
  write_status();
  if (out == HealthChecker::Outcome::kStatusChanged) {
    char action[40] = "health_status: ";
    std::strcat(action, health_status_name(health_->state().status()));
    events_.emit(action);
  }
  shed_memory();
}

// Activity faults code and data back in (the kernel maps up to 64 KiB around each fault);
// once the container has been quiet for kIdleShedMs they are given back again, so an idle
// monitor stays at its floor whatever it did before.
void Monitor::loop() {
  bool active = false;
  while (!done_) {
    struct epoll_event evs[16];
    int n = ::epoll_wait(ep_.get(), evs, 16, active ? kIdleShedMs : -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      warn(std::string("epoll_wait: ") + std::strerror(errno));
      return;
    }
    if (n == 0) {
      shed_memory();
      active = false;
      continue;
    }
    active = true;
    for (int i = 0; i < n && !done_; i++) {
      uint64_t tag = evs[i].data.u64;
      switch (tag & 0xff) {
        case kTagOut:
        case kTagErr:
        case kTagPty: pump(tag & 0xff); break;
        case kTagPidfd: on_pidfd(); break;
        case kTagBackoff: on_backoff_timer(); break;
        case kTagInotify: on_inotify(); break;
        case kTagHealthTimer: on_health(health_->on_timer()); break;
        case kTagProbeOut: health_->on_output(); break;
        case kTagProbeExit: on_health(health_->on_probe_exit()); break;
        case kTagChild: {
          char buf[64];
          while (::read(child_pipe_r_.get(), buf, sizeof buf) > 0) {
          }
          reap_strays();
          break;
        }
        default:
          if (Attach::owns(tag)) attach_->on_event(tag, evs[i].events);
      }
    }
  }
}

bool Monitor::foreground_client_holds_lock() const {
  std::string dir = dir_of(o_.status_file.empty() ? o_.exit_file : o_.status_file);
  UniqueFd fd(::open((dir + "/foreground.lock").c_str(), O_RDONLY | O_CLOEXEC));
  return fd && ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0;
}

int Monitor::run(int ready_fd) {
  ready_fd_ = ready_fd;
  st_.monitor_pid = ::getpid();
  if (!o_.pid_file.empty())
    if (auto s = write_file_atomic(o_.pid_file, std::to_string(::getpid())); !s)
      return fail_early("--pid-file: " + s.error().message);
  install_handlers(false);
  // The init is our child (or is re-parented to us when the runtime clones it through an
  // intermediate): either way we can waitpid it.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  if (auto s = setup(); !s) return fail_early(s.error().message);
  if (auto s = launch(); !s) return fail_early(s.error().message);
  st_.state = "running";
  write_status();
  if (Explain::enabled()) {  // the explain fd is the CLI's stderr: let go of it
    Explain::step("container started; the monitor takes over");
    ::close(Explain::fd());
    Explain::disable();
  }
  report_ready(0);
  // What launching allocated (config JSON, plan, seccomp) is garbage now, and the runtime
  // library's code is not needed until a restart: last thing before the loop.
  shed_memory();
  loop();
  install_handlers(/*in_loop=*/false);
  g_child_pipe_w = -1;
  health_.reset();
  attach_.reset();
  // A foreground `minidocker run` holds <dir>/foreground.lock while it waits for the exit:
  // it records the exit and removes an --rm container itself, so the exit command would
  // only compete with it for the CPU (and then find nothing to do). If that CLI dies, the
  // next minidocker command reconciles the container instead.
  if (!o_.exit_command.empty() && !foreground_client_holds_lock())
    run_exit_command(o_.exit_command, o_.exit_command_args, kExitCommandMs);
  return 0;
}

}  // namespace

std::string exit_json(const ExitInfo& e) {
  nlohmann::json j;
  j["exit_code"] = e.exit_code;
  j["signal"] = e.signal ? nlohmann::json(e.signal) : nlohmann::json(nullptr);
  j["oom_killed"] = e.oom_killed;
  j["finished_at"] = e.finished_at;
  if (!e.error.empty()) j["error"] = e.error;
  return j.dump() + "\n";
}

std::string error_json(const std::string& message) {
  nlohmann::json j;
  j["error"] = message;
  return j.dump() + "\n";
}

int run_monitor(const MonitorOptions& o) {
  if (o.foreground) return Monitor(o).run(-1);
  int rp[2];
  if (::pipe2(rp, O_CLOEXEC) != 0) {
    write_exit_file(o.exit_file, error_json(std::string("pipe: ") + std::strerror(errno)));
    return 1;
  }
  pid_t first = ::fork();
  if (first < 0) {
    write_exit_file(o.exit_file, error_json(std::string("fork: ") + std::strerror(errno)));
    return 1;
  }
  if (first > 0) {
    // The caller: wait for the intermediate, then for the monitor's verdict.
    ::close(rp[1]);
    while (::waitpid(first, nullptr, 0) < 0 && errno == EINTR) {
    }
    char c = 1;
    ssize_t r;
    do {
      r = ::read(rp[0], &c, 1);
    } while (r < 0 && errno == EINTR);
    ::close(rp[0]);
    return r == 1 && c == 0 ? 0 : 1;
  }
  ::close(rp[0]);
  ::setsid();
  pid_t second = ::fork();
  if (second != 0) _exit(second < 0 ? 1 : 0);
  if (::chdir("/") != 0) {
  }
  int null = ::open("/dev/null", O_RDWR);
  if (null >= 0) {
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    if (null > 2) ::close(null);
  }
  _exit(Monitor(o).run(rp[1]));
}

}  // namespace md::monitor
