#include "monitor/monitor.h"

#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <nlohmann/json.hpp>

#include "base/file_util.h"
#include "base/unique_fd.h"
#include "cgroups/cgroup.h"
#include "monitor/json_log.h"
#include "runtime/container.h"

namespace md::monitor {

namespace {

Result<int64_t> parse_int(const std::string& flag, const std::string& v) {
  char* end = nullptr;
  errno = 0;
  long long n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end || errno) return fail(flag + ": not a number: \"" + v + "\"", EINVAL);
  return static_cast<int64_t>(n);
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

// oom_kill count of the container's cgroup (v2 memory.events, v1 memory.oom_control),
// found through the <root>/<id>/cgroup symlink the runtime keeps. 0 when unknown.
uint64_t oom_kills(const MonitorOptions& o) {
  char target[4096];
  std::string link = join_path(join_path(o.runtime_root, o.id), "cgroup");
  ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
  if (n <= 0) return 0;
  target[n] = 0;
  auto cg = cgroups::Cgroup::open(target);
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

// Drops from our RSS the clean file-backed pages (mostly the runtime library's code, used
// once to launch the container): read-only private mappings of files with no anonymous
// (copy-on-write) page. They stay in the page cache, shared by every monitor; the few the
// log loop needs fault back in. Not done for writable or COW'd mappings (data, RELRO).
void drop_clean_file_pages() {
  auto smaps = read_file("/proc/self/smaps");
  if (!smaps) return;
  // Collected first and dropped at the end: the parsing code below would fault back in.
  struct Range {
    uintptr_t start, len;
  } ranges[64];
  size_t nranges = 0;
  uintptr_t start = 0, end = 0;
  bool candidate = false;
  size_t pos = 0;
  const std::string& t = *smaps;
  while (pos < t.size()) {
    size_t eol = t.find('\n', pos);
    if (eol == std::string::npos) eol = t.size();
    std::string_view line(t.data() + pos, eol - pos);
    pos = eol + 1;
    if (!line.empty() && std::isxdigit(static_cast<unsigned char>(line[0])) && line.find('-') < 17) {
      // "start-end perms offset dev inode path"
      char perms[8] = {};
      unsigned long inode = 0;
      unsigned long s = 0, e = 0;
      std::string l(line);
      if (std::sscanf(l.c_str(), "%lx-%lx %4s %*s %*s %lu", &s, &e, perms, &inode) == 4) {
        start = s;
        end = e;
        candidate = inode != 0 && perms[1] == '-' && perms[3] == 'p';
      } else {
        candidate = false;
      }
    } else if (candidate && line.rfind("Anonymous:", 0) == 0) {
      if (std::strtoul(std::string(line.substr(10)).c_str(), nullptr, 10) == 0)
        if (nranges < 64) ranges[nranges++] = {start, end - start};
      candidate = false;
    }
  }
  smaps = {};
  for (size_t i = 0; i < nranges; i++)
    ::madvise(reinterpret_cast<void*>(ranges[i].start), ranges[i].len, MADV_DONTNEED);
}

int open_devnull() { return ::open("/dev/null", O_RDWR | O_CLOEXEC); }

void write_exit_file(const std::string& path, const std::string& text) {
  if (auto st = write_file_atomic(path, text); !st)
    std::fprintf(stderr, "minidocker-monitor: exit file: %s\n", st.error().message.c_str());
}

// Everything after detaching. `ready_fd` (or -1) gets one byte, 0 = started, 1 = failed.
int monitor_main(const MonitorOptions& o, int ready_fd) {
  auto report_ready = [&](char c) {
    if (ready_fd >= 0) {
      (void)!::write(ready_fd, &c, 1);
      ::close(ready_fd);
      ready_fd = -1;
    }
  };
  auto fail_early = [&](const std::string& msg) {
    write_exit_file(o.exit_file, error_json(msg));
    std::fprintf(stderr, "minidocker-monitor: %s\n", msg.c_str());
    report_ready(1);
    return 1;
  };

  if (!o.pid_file.empty())
    if (auto st = write_file_atomic(o.pid_file, std::to_string(::getpid())); !st)
      return fail_early("--pid-file: " + st.error().message);
  ::signal(SIGPIPE, SIG_IGN);
  // The init is our child (or is re-parented to us when the runtime clones it through an
  // intermediate): either way we can waitpid it.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

  auto log = JsonLogWriter::open(o.log_path, o.log_max_size, o.log_max_files);
  if (!log) return fail_early(log.error().message);

  int outp[2], errp[2];
  if (::pipe2(outp, O_CLOEXEC) != 0 || ::pipe2(errp, O_CLOEXEC) != 0) return fail_early(std::string("pipe: ") + std::strerror(errno));
  UniqueFd out_r(outp[0]), out_w(outp[1]), err_r(errp[0]), err_w(errp[1]);
  UniqueFd devnull(open_devnull());
  // Our own stderr, kept for diagnostics while fds 0-2 belong to the container.
  UniqueFd saved_err(::fcntl(2, F_DUPFD_CLOEXEC, 3));

  // The container inherits fds 0/1/2 of the process calling the runtime library.
  ::dup2(devnull.get(), 0);
  ::dup2(out_w.get(), 1);
  ::dup2(err_w.get(), 2);
  out_w.reset();
  err_w.reset();
  runtime::GlobalOptions g{o.runtime_root};
  runtime::CreateOptions co;
  co.id = o.id;
  co.bundle = o.bundle;
  auto started = runtime::run_container(g, co, /*detach=*/true);
  // Give our 1/2 back: the pipes' only writers are now the container's.
  ::dup2(devnull.get(), 1);
  ::dup2(saved_err ? saved_err.get() : devnull.get(), 2);
  if (!started) return fail_early(started.error().message);

  pid_t pid = 0;
  if (auto st = runtime::container_state(g, o.id); st && st->contains("pid")) pid = (*st)["pid"].get<int>();
  if (pid <= 0) {
    (void)runtime::delete_container(g, o.id, true);
    return fail_early("container " + o.id + ": no pid after start");
  }
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    (void)runtime::delete_container(g, o.id, true);
    return fail_early(std::string("pidfd_open: ") + std::strerror(errno));
  }
  UniqueFd pidfd_owner(pidfd);
  saved_err.reset();
  if (!o.foreground) ::dup2(devnull.get(), 2);
  devnull.reset();
  // What launching allocated (config JSON, plan, seccomp) is garbage now.
  ::malloc_trim(0);
  drop_clean_file_pages();
  report_ready(0);

  UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
  struct epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u32 = 0;
  ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, out_r.get(), &ev);
  ev.data.u32 = 1;
  ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, err_r.get(), &ev);
  ev.data.u32 = 2;
  ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, pidfd, &ev);
  UniqueFd* pipes[2] = {&out_r, &err_r};

  int status = 0;
  bool exited = false;
  struct timespec finished{};
  while (!exited) {
    struct epoll_event evs[4];
    int n = ::epoll_wait(ep.get(), evs, 4, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < n; i++) {
      uint32_t which = evs[i].data.u32;
      if (which == 2) {
        pid_t r;
        do {
          r = ::waitpid(pid, &status, WNOHANG);
        } while (r < 0 && errno == EINTR);
        if (r == pid || (r < 0 && errno == ECHILD)) {
          exited = true;
          ::clock_gettime(CLOCK_REALTIME, &finished);
        }
        continue;
      }
      UniqueFd& fd = *pipes[which];
      if (!fd) continue;
      ssize_t got = log->read_from(static_cast<Stream>(which), fd.get());
      if (got == 0 || (got < 0 && errno != EAGAIN)) {
        ::epoll_ctl(ep.get(), EPOLL_CTL_DEL, fd.get(), nullptr);
        (void)log->flush(static_cast<Stream>(which));
        fd.reset();
      }
    }
  }
  // Whatever the container wrote before exiting is in the pipes: drain without blocking
  // (a process that escaped the container could hold a write end open forever).
  for (int s = 0; s < 2; s++) {
    UniqueFd& fd = *pipes[s];
    if (!fd) continue;
    ::fcntl(fd.get(), F_SETFL, O_NONBLOCK);
    while (log->read_from(static_cast<Stream>(s), fd.get()) > 0) {
    }
    (void)log->flush(static_cast<Stream>(s));
    fd.reset();
  }
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {  // re-parented helpers, if any
  }

  ExitInfo info;
  if (WIFSIGNALED(status)) {
    info.signal = WTERMSIG(status);
    info.exit_code = 128 + info.signal;
  } else {
    info.exit_code = WEXITSTATUS(status);
  }
  info.oom_killed = oom_kills(o) > 0;
  char ts[32];
  info.finished_at.assign(ts, format_rfc3339_nano(ts, finished.tv_sec, finished.tv_nsec));
  // Delete before writing the exit file: a reader that sees the file finds nothing left.
  if (auto st = runtime::delete_container(g, o.id, /*force=*/true); !st)
    std::fprintf(stderr, "minidocker-monitor: %s\n", st.error().message.c_str());
  write_exit_file(o.exit_file, exit_json(info));
  return 0;
}

}  // namespace

Result<MonitorOptions> parse_args(int argc, char** argv) {
  MonitorOptions o;
  for (int i = 0; i < argc; i++) {
    std::string a = argv[i];
    std::string value;
    bool has_value = false;
    if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
      has_value = true;
    }
    auto next = [&]() -> Result<std::string> {
      if (has_value) return value;
      if (i + 1 >= argc) return fail(a + ": missing value", EINVAL);
      return std::string(argv[++i]);
    };
    if (a == "--foreground") o.foreground = true;
    else if (a == "--root") o.runtime_root = TRY(next());
    else if (a == "--id") o.id = TRY(next());
    else if (a == "--bundle") o.bundle = TRY(next());
    else if (a == "--log-path") o.log_path = TRY(next());
    else if (a == "--exit-file") o.exit_file = TRY(next());
    else if (a == "--pid-file") o.pid_file = TRY(next());
    else if (a == "--log-max-size") o.log_max_size = TRY(parse_int(a, TRY(next())));
    else if (a == "--log-max-files") o.log_max_files = static_cast<int>(TRY(parse_int(a, TRY(next()))));
    else return fail("unknown argument \"" + a + "\"", EINVAL);
  }
  for (auto [flag, v] : {std::pair{"--root", &o.runtime_root}, {"--id", &o.id}, {"--bundle", &o.bundle},
                         {"--log-path", &o.log_path}, {"--exit-file", &o.exit_file}})
    if (v->empty()) return fail(std::string(flag) + " is required", EINVAL);
  if (o.log_max_files < 1) return fail("--log-max-files must be >= 1", EINVAL);
  // Paths become absolute before we chdir("/").
  o.runtime_root = absolute_path(o.runtime_root);
  o.bundle = absolute_path(o.bundle);
  o.log_path = absolute_path(o.log_path);
  o.exit_file = absolute_path(o.exit_file);
  if (!o.pid_file.empty()) o.pid_file = absolute_path(o.pid_file);
  return o;
}

std::string exit_json(const ExitInfo& e) {
  nlohmann::json j;
  j["exit_code"] = e.exit_code;
  j["signal"] = e.signal ? nlohmann::json(e.signal) : nlohmann::json(nullptr);
  j["oom_killed"] = e.oom_killed;
  j["finished_at"] = e.finished_at;
  return j.dump() + "\n";
}

std::string error_json(const std::string& message) {
  nlohmann::json j;
  j["error"] = message;
  return j.dump() + "\n";
}

int run_monitor(const MonitorOptions& o) {
  if (o.foreground) return monitor_main(o, -1);
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
  _exit(monitor_main(o, rp[1]));
}

}  // namespace md::monitor
