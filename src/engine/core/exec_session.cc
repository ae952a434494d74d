#include "engine/core/exec_session.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "base/file_util.h"
#include "engine/core/spec_builder.h"
#include "runtime/state_store.h"
#include "runtime/terminal_proxy.h"

extern char** environ;

namespace md::engine {

using nlohmann::json;

namespace {

std::string lower(std::string s) {
  for (auto& ch : s) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

// <dir>/<name> as a sockaddr, through /proc/self/fd/<dirfd> (no sun_path length limit).
sockaddr_un dir_address(int dirfd, const char* name) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::snprintf(a.sun_path, sizeof a.sun_path, "/proc/self/fd/%d/%s", dirfd, name);
  return a;
}

Status make_pipe(UniqueFd& r, UniqueFd& w) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return fail_errno("pipe");
  r = UniqueFd(p[0]);
  w = UniqueFd(p[1]);
  return {};
}

void set_nonblock(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

}  // namespace

std::string runtime_binary(const Engine& e) {
  for (const std::string& near : {e.monitor_path(), e.self_path()}) {
    auto slash = near.rfind('/');
    if (slash == std::string::npos) continue;
    std::string candidate = near.substr(0, slash) + "/minidocker-runtime";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "minidocker-runtime";
}

Result<json> exec_process_json(Engine& e, const store::Container& c, const json& config) {
  if (c.state == store::ContainerState::kPaused)
    return fail("Container " + c.id + " is paused, unpause the container before exec", EINVAL);
  if (c.state != store::ContainerState::kRunning) return fail("Container " + c.id + " is not running", EINVAL);
  auto rec = TRY(runtime::StateStore(e.paths().runtime_root()).load(c.id));
  if (!rec.config.contains("process") || !rec.config["process"].is_object())
    return fail("container " + c.id + " has no process in its config", EINVAL);
  json proc = rec.config["process"];
  json args = json::array();
  if (config.contains("Cmd") && config["Cmd"].is_array())
    for (auto& a : config["Cmd"])
      if (a.is_string()) args.push_back(a);
  if (args.empty()) return fail("No exec command specified", EINVAL);
  proc["args"] = args;
  json env = proc.value("env", json::array());
  if (config.contains("Env") && config["Env"].is_array())
    for (auto& v : config["Env"]) {
      if (!v.is_string()) continue;
      std::string kv = v.get<std::string>();
      std::string key = kv.substr(0, kv.find('='));
      json kept = json::array();
      for (auto& x : env)
        if (x.get<std::string>().substr(0, x.get<std::string>().find('=')) != key) kept.push_back(x);
      kept.push_back(kv);
      env = std::move(kept);
    }
  bool tty = config.value("Tty", false);
  if (tty) {
    bool had_term = false;
    for (auto& v : env) had_term |= v.get<std::string>().rfind("TERM=", 0) == 0;
    if (!had_term) env.push_back("TERM=xterm");
  }
  proc["env"] = env;
  proc["terminal"] = tty;
  proc.erase("consoleSize");
  std::string wd = config.value("WorkingDir", "");
  if (!wd.empty()) proc["cwd"] = wd;
  std::string user = config.value("User", "");
  if (!user.empty()) {
    auto u = TRY(lookup_user(e.paths().merged(c.id), user));
    proc["user"] = {{"uid", u.uid}, {"gid", u.gid}};
    if (!u.additional.empty()) proc["user"]["additionalGids"] = u.additional;
  }
  if (config.value("Privileged", false)) {
    // Everything the container's own bounding set allows (privileged exec cannot exceed it).
    json bounding = proc.contains("capabilities") ? proc["capabilities"].value("bounding", json::array()) : json::array();
    proc["capabilities"] = {{"bounding", bounding}, {"effective", bounding}, {"permitted", bounding}};
  }
  return proc;
}

ExecProcess& ExecProcess::operator=(ExecProcess&& o) noexcept {
  if (this != &o) {
    cleanup();
    runtime_pid = std::exchange(o.runtime_pid, -1);
    pidfd = std::move(o.pidfd);
    tty = o.tty;
    stdin_w = std::move(o.stdin_w);
    stdout_r = std::move(o.stdout_r);
    stderr_r = std::move(o.stderr_r);
    master = std::move(o.master);
    dir = std::exchange(o.dir, std::string());
  }
  return *this;
}

ExecProcess::~ExecProcess() { cleanup(); }

void ExecProcess::cleanup() {
  if (runtime_pid > 0) {
    ::kill(runtime_pid, SIGKILL);
    while (::waitpid(runtime_pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  runtime_pid = -1;
  if (!dir.empty()) (void)remove_tree(dir);
  dir.clear();
}

Result<ExecProcess> spawn_exec(Engine& e, const std::string& id, const json& process, const ExecStdio& io) {
  ExecProcess p;
  p.tty = io.tty;
  std::string base = e.paths().run_root + "/exec";
  TRY(make_directories(base, 0700));
  std::string tmpl = base + "/XXXXXX";
  if (!::mkdtemp(tmpl.data())) return fail_errno("mkdtemp " + base);
  p.dir = tmpl;
  TRY(write_file_atomic(p.dir + "/process.json", process.dump(), 0600));

  UniqueFd dirfd(::open(p.dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dirfd) return fail_errno("open " + p.dir);
  UniqueFd listener;
  if (io.tty) {
    listener = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    sockaddr_un a = dir_address(dirfd.get(), "console.sock");
    if (!listener || ::bind(listener.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listener.get(), 1) != 0)
      return fail_errno("console socket in " + p.dir);
  }
  UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!devnull) return fail_errno("open /dev/null");
  UniqueFd in_r, out_w, err_w;
  if (!io.tty) {
    TRY(make_pipe(p.stdout_r, out_w));
    if (io.stdin_open) TRY(make_pipe(in_r, p.stdin_w));
  }
  TRY(make_pipe(p.stderr_r, err_w));  // tty: the runtime's own messages

  std::vector<std::string> args = {runtime_binary(e),  "--root", e.paths().runtime_root(), "--log",
                                   p.dir + "/runtime.log", "--log-format", "json", "exec", "--process",
                                   p.dir + "/process.json", "--pid-file", p.dir + "/pid"};
  if (io.tty) {
    args.push_back("--console-socket");
    args.push_back(p.dir + "/console.sock");
  }
  args.push_back(id);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  // posix_spawn: nothing but exec in the child, safe in a multi-threaded process; the fds
  // not dup2'ed onto 0/1/2 are close-on-exec.
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in_r ? in_r.get() : devnull.get(), 0);
  posix_spawn_file_actions_adddup2(&fa, out_w ? out_w.get() : devnull.get(), 1);
  posix_spawn_file_actions_adddup2(&fa, err_w.get(), 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, argv[0], &fa, &attr, argv.data(), environ);
  if (rc != 0 && argv[0] == std::string("minidocker-runtime"))
    rc = ::posix_spawnp(&pid, argv[0], &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return fail_errno("cannot execute the runtime " + args[0], rc);
  p.runtime_pid = pid;
  in_r.reset();
  out_w.reset();
  err_w.reset();
  p.pidfd = UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!p.pidfd) return fail_errno("pidfd_open of the runtime");
  for (UniqueFd* fd : {&p.stdin_w, &p.stdout_r, &p.stderr_r})
    if (*fd) set_nonblock(fd->get());

  if (io.tty) {
    // The runtime connects and sends the master before the process runs; if it fails
    // before that, its exit ends the wait.
    pollfd w[2] = {{listener.get(), POLLIN, 0}, {p.pidfd.get(), POLLIN, 0}};
    int r;
    do {
      r = ::poll(w, 2, 30000);
    } while (r < 0 && errno == EINTR);
    if (r <= 0 || !(w[0].revents & POLLIN)) {
      if (r > 0) return p;  // the runtime is gone: wait_exec reports its error
      return fail("exec: no terminal from the runtime", EIO);
    }
    UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn) return fail_errno("accept the console socket");
    ::fcntl(conn.get(), F_SETFL, ::fcntl(conn.get(), F_GETFL) & ~O_NONBLOCK);
    timeval tv{30, 0};
    ::setsockopt(conn.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    auto master = runtime::receive_pty_master(conn.get());
    if (!master) {
      if (::poll(&w[1], 1, 0) > 0) return p;  // the runtime failed: its message is in the log
      return std::unexpected(master.error());
    }
    p.master = UniqueFd(*master);
    if (io.rows > 0 && io.cols > 0) {
      winsize ws{};
      ws.ws_row = static_cast<unsigned short>(io.rows);
      ws.ws_col = static_cast<unsigned short>(io.cols);
      ::ioctl(p.master.get(), TIOCSWINSZ, &ws);
    }
    set_nonblock(p.master.get());
  }
  return p;
}

pid_t exec_pid(const ExecProcess& p) {
  if (p.dir.empty()) return 0;
  auto text = read_file(p.dir + "/pid");
  return text ? pid_t(std::atoi(text->c_str())) : 0;
}

int wait_exec(ExecProcess& p, std::string* error) {
  int status = 0;
  if (p.runtime_pid > 0) {
    while (::waitpid(p.runtime_pid, &status, 0) < 0 && errno == EINTR) {
    }
    p.runtime_pid = -1;
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 0;
  // The runtime logs its own failures (--log, JSON lines): then the process never ran.
  if (auto log = read_file(p.dir + "/runtime.log"); log && !log->empty()) {
    std::string message;
    size_t pos = 0, eol;
    while ((eol = log->find('\n', pos)) != std::string::npos) {
      json j = json::parse(log->substr(pos, eol - pos), nullptr, false);
      if (j.is_object() && j.value("level", "") == "error") message = j.value("msg", "");
      pos = eol + 1;
    }
    if (!message.empty()) {
      std::string m = lower(message);
      code = m.find("not found") != std::string::npos || m.find("no such file") != std::string::npos ? 127 : 126;
      if (error) *error = message;
    }
  }
  if (!p.dir.empty()) (void)remove_tree(p.dir);
  p.dir.clear();
  return code;
}

}  // namespace md::engine
