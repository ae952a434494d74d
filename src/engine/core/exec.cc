#include "engine/core/exec.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/file_util.h"
#include "base/unique_fd.h"
#include "engine/core/containers.h"
#include "engine/core/spec_builder.h"
#include "engine/store/ids.h"
#include "oci/capabilities.h"
#include "runtime/container.h"
#include "runtime/terminal_proxy.h"

namespace md::engine {

using nlohmann::json;

Result<int> exec_container(Engine& e, const std::string& ref, const json& config) {
  std::string id = TRY(e.containers().resolve(ref));
  store::Container c = TRY(reconcile_container(e, id));
  if (c.state == store::ContainerState::kPaused)
    return fail("Container " + id + " is paused, unpause the container before exec", EINVAL);
  if (c.state != store::ContainerState::kRunning)
    return fail("container " + id + " is not running", EINVAL);
  runtime::GlobalOptions g{e.paths().runtime_root()};
  oci::Process proc = TRY(runtime::container_process_template(g, id));
  proc.args.clear();
  if (config.contains("Cmd") && config["Cmd"].is_array())
    for (auto& a : config["Cmd"]) proc.args.push_back(a.get<std::string>());
  if (proc.args.empty()) return fail("No exec command specified", EINVAL);
  if (config.contains("Env") && config["Env"].is_array())
    for (auto& v : config["Env"]) {
      std::string kv = v.get<std::string>();
      std::string key = kv.substr(0, kv.find('='));
      std::erase_if(proc.env, [&](const std::string& x) { return x.substr(0, x.find('=')) == key; });
      proc.env.push_back(kv);
    }
  std::string wd = config.value("WorkingDir", "");
  if (!wd.empty()) proc.cwd = wd;
  std::string user = config.value("User", "");
  if (!user.empty()) {
    auto u = TRY(lookup_user(e.paths().merged(id), user));
    proc.user.uid = u.uid;
    proc.user.gid = u.gid;
    proc.user.additional_gids.assign(u.additional.begin(), u.additional.end());
  }
  if (config.value("Privileged", false)) {
    oci::Capabilities caps;
    // Everything the container's own bounding set allows (privileged exec cannot exceed it).
    if (proc.capabilities) caps.bounding = proc.capabilities->bounding;
    caps.effective = caps.permitted = caps.bounding;
    proc.capabilities = caps;
  }
  bool tty = config.value("Tty", false);
  bool detach = config.value("Detach", false);
  proc.terminal = tty;
  bool had_term = false;
  for (auto& v : proc.env) had_term |= v.rfind("TERM=", 0) == 0;
  if (tty && !had_term) proc.env.push_back("TERM=xterm");

  runtime::ExecOptions o;
  o.id = id;
  o.process = proc;
  o.detach = detach || tty;

  // stdin: only with -i (Docker gives the process /dev/null otherwise).
  UniqueFd saved_stdin;
  if (!config.value("AttachStdin", false)) {
    saved_stdin = UniqueFd(::fcntl(0, F_DUPFD_CLOEXEC, 3));
    int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null >= 0) {
      ::dup2(null, 0);
      ::close(null);
    }
  }
  auto restore_stdin = [&] {
    if (saved_stdin.valid()) ::dup2(saved_stdin.get(), 0);
  };
  UniqueFd listener;
  std::string sock_path;
  if (tty) {
    // The runtime sends the pty master over a console socket: ours, in the monitor dir.
    TRY(make_directories(e.paths().monitor_dir(id), 0700));
    sock_path = e.paths().monitor_dir(id) + "/exec-" + std::to_string(::getpid()) + ".sock";
    ::unlink(sock_path.c_str());
    listener = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (sock_path.size() >= sizeof addr.sun_path) return fail("console socket path too long: " + sock_path, ENAMETOOLONG);
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock_path.c_str());
    if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listener.get(), 1) != 0)
      return fail_errno("console socket " + sock_path);
    o.console_socket = sock_path;
    o.pid_file = e.paths().monitor_dir(id) + "/exec-" + std::to_string(::getpid()) + ".pid";
  }
  e.emit_container(c, "exec_create: " + proc.args[0]);
  e.emit_container(c, "exec_start: " + proc.args[0]);
  auto r = runtime::exec_in_container(g, o);
  if (!sock_path.empty()) ::unlink(sock_path.c_str());
  restore_stdin();
  if (!r) {
    // The runtime's error keeps the child's errno: ENOENT / EACCES for `exec: "x": …`.
    if (!o.pid_file.empty()) ::unlink(o.pid_file.c_str());
    return std::unexpected(r.error());
  }
  if (!tty) return *r;
  // tty: accept the master, proxy until the process exits, then reap it.
  UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  auto pid_text = read_file(o.pid_file);
  ::unlink(o.pid_file.c_str());
  pid_t pid = pid_text ? pid_t(std::atoi(pid_text->c_str())) : 0;
  if (!conn.valid() || pid <= 0) return fail("exec: no terminal from the runtime", EIO);
  int master = TRY(runtime::receive_pty_master(conn.get()));
  UniqueFd master_fd(master);
  if (detach) return 0;
  runtime::proxy_terminal(master, pid);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 0;
}

}  // namespace md::engine
