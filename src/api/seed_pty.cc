// A pty process in a running container (seed_pty.h). Mirrors the tty path of
// engine/core/exec.cc, detached: the runtime returns once the process runs, we keep the
// master and reap the child ourselves.
#include "api/seed_pty.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "base/file_util.h"
#include "engine/core/containers.h"
#include "runtime/container.h"
#include "runtime/terminal_proxy.h"

namespace md::api {

Result<PtyProcess> start_pty_exec(engine::Engine& e, const std::string& ref, const std::vector<std::string>& argv,
                                  int cols, int rows) {
  static std::atomic<unsigned> counter{0};
  if (argv.empty()) return fail("No exec command specified", EINVAL);
  std::string id = TRY(e.containers().resolve(ref));
  store::Container c = TRY(engine::reconcile_container(e, id));
  if (c.state == store::ContainerState::kPaused)
    return fail("Container " + id + " is paused, unpause the container before exec", EINVAL);
  if (c.state != store::ContainerState::kRunning) return fail("container " + c.name + " is not running", EINVAL);
  runtime::GlobalOptions g{e.paths().runtime_root()};
  oci::Process proc = TRY(runtime::container_process_template(g, id));
  proc.args = argv;
  proc.terminal = true;
  bool had_term = false;
  for (auto& v : proc.env) had_term |= v.rfind("TERM=", 0) == 0;
  if (!had_term) proc.env.push_back("TERM=xterm");
  if (cols > 0 && rows > 0) {
    proc.console_width = unsigned(cols);
    proc.console_height = unsigned(rows);
  }

  TRY(make_directories(e.paths().monitor_dir(id), 0700));
  std::string base = e.paths().monitor_dir(id) + "/seed-exec-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
  std::string sock_path = base + ".sock";
  ::unlink(sock_path.c_str());
  UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (sock_path.size() >= sizeof addr.sun_path) return fail("console socket path too long: " + sock_path, ENAMETOOLONG);
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock_path.c_str());
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listener.get(), 1) != 0)
    return fail_errno("console socket " + sock_path);

  runtime::ExecOptions o;
  o.id = id;
  o.process = proc;
  o.detach = true;
  o.console_socket = sock_path;
  o.pid_file = base + ".pid";
  e.emit_container(c, "exec_create: " + argv[0]);
  e.emit_container(c, "exec_start: " + argv[0]);
  auto r = runtime::exec_in_container(g, o);
  ::unlink(sock_path.c_str());
  auto pid_text = read_file(o.pid_file);
  ::unlink(o.pid_file.c_str());
  if (!r) return std::unexpected(r.error());
  UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  pid_t pid = pid_text ? pid_t(std::atoi(pid_text->c_str())) : 0;
  if (!conn.valid() || pid <= 0) return fail("exec: no terminal from the runtime", EIO);
  auto master = runtime::receive_pty_master(conn.get());
  if (!master) {
    ::kill(pid, SIGKILL);
    (void)pty_wait(pid);
    return std::unexpected(master.error());
  }
  int fl = ::fcntl(*master, F_GETFD);
  if (fl >= 0) ::fcntl(*master, F_SETFD, fl | FD_CLOEXEC);
  PtyProcess out;
  out.master = UniqueFd(*master);
  out.pid = pid;
  if (cols > 0 && rows > 0) pty_resize(out.master.get(), cols, rows);
  return out;
}

void pty_resize(int master, int cols, int rows) {
  if (cols <= 0 || rows <= 0 || cols > 10000 || rows > 10000) return;
  winsize ws{};
  ws.ws_col = static_cast<unsigned short>(cols);
  ws.ws_row = static_cast<unsigned short>(rows);
  ::ioctl(master, TIOCSWINSZ, &ws);
}

int pty_wait(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 0;
}

}  // namespace md::api
