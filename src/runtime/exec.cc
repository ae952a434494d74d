// exec: start another process inside a running container.
//
// The runtime joins the container's pid namespace for its children (setns on
// pid_for_children), clones once, and the child joins the remaining namespaces
// (user first), enters the container's cgroup (written by the parent) and then
// applies the process spec exactly like the container init does.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <optional>

#include "base/explain.h"
#include "base/file_util.h"
#include "cgroups/cgroup.h"
#include "runtime/container.h"
#include "runtime/prepare.h"
#include "runtime/proc_ns.h"
#include "runtime/state_store.h"
#include "runtime/sync_channel.h"
#include "runtime/unix_socket.h"

namespace md::runtime {

using nlohmann::json;

Result<oci::Process> container_process_template(const GlobalOptions& g, const std::string& id) {
  StateStore store(g.root);
  auto r = TRY(store.load(id));
  if (!r.config.contains("process")) return fail("container " + id + " has no process in its config", EINVAL);
  return oci::parse_process(r.config["process"]);
}

Result<int> exec_in_container(const GlobalOptions& g, const ExecOptions& o) {
  StateStore store(g.root);
  auto r = TRY(store.load(o.id));
  auto status = current_status(store, r);
  if (status == ContainerStatus::kStopped) return fail("cannot exec in a stopped container " + o.id, EINVAL);
  if (status == ContainerStatus::kPaused) return fail("cannot exec in a paused container " + o.id, EINVAL);
  auto spec = TRY_CTX(oci::parse_spec_json(r.config), "container " + o.id + " config");
  if (o.process.terminal && o.console_socket.empty())
    return fail("exec with a terminal needs --console-socket", EINVAL);
  if (!o.process.terminal && !o.console_socket.empty())
    return fail("--console-socket was given but the process has no terminal (use -t)", EINVAL);

  ChildPlan plan;
  plan.is_exec = true;
  plan.run_mode = true;
  plan.preserve_fds = o.preserve_fds;
  TRY(prepare_process(o.process, spec, plan, g.root + "/.seccomp-cache"));

  const std::pair<const char*, int> kinds[] = {{"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS}, {"ipc", CLONE_NEWIPC},
                                               {"uts", CLONE_NEWUTS},   {"net", CLONE_NEWNET}, {"cgroup", CLONE_NEWCGROUP}};
  for (auto& [name, flag] : kinds) {
    if (shares_namespace_with_self(r.pid, name)) continue;
    std::string path = "/proc/" + std::to_string(r.pid) + "/ns/" + name;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail_errno("exec: open " + path);
    JoinNamespace j;
    j.clone_flag = flag;
    j.fd = UniqueFd(fd);
    j.path = path;
    plan.joins.push_back(std::move(j));
  }
  // pid and time namespaces apply to children: we join them for the clone only.
  UniqueFd their_pidns, their_timens;
  if (!shares_namespace_with_self(r.pid, "pid")) {
    their_pidns = UniqueFd(::open(("/proc/" + std::to_string(r.pid) + "/ns/pid").c_str(), O_RDONLY | O_CLOEXEC));
    if (!their_pidns) return fail_errno("exec: open pid namespace of " + o.id);
  }
  if (!shares_namespace_with_self(r.pid, "time")) {
    their_timens = UniqueFd(::open(("/proc/" + std::to_string(r.pid) + "/ns/time").c_str(), O_RDONLY | O_CLOEXEC));
    if (!their_timens) return fail_errno("exec: open time namespace of " + o.id);
  }
  auto cg = TRY_CTX(cgroups::Cgroup::open(r.cgroup_path), "exec: cgroup of " + o.id);

  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return fail_errno("socketpair");
  UniqueFd parent_end(sv[0]), child_end(sv[1]);
  UniqueFd console_fd;
  if (!o.console_socket.empty()) console_fd = TRY_CTX(connect_unix(o.console_socket, SOCK_STREAM), "--console-socket");
  plan.sync_fd = child_end.get();
  plan.console_socket_fd = console_fd.get();
  UniqueFd explain_copy;  // stdio may become a pty: keep --explain on the real stderr
  if (Explain::enabled()) {
    explain_copy = UniqueFd(::fcntl(Explain::fd(), F_DUPFD_CLOEXEC, 3));
    plan.explain_fd = explain_copy.get();
  }

  std::optional<ChildrenNamespace> time_for_child, pid_for_child;
  if (their_timens) time_for_child = TRY_CTX(ChildrenNamespace::enter(CLONE_NEWTIME, their_timens.get()), "exec");
  if (their_pidns) pid_for_child = TRY_CTX(ChildrenNamespace::enter(CLONE_NEWPID, their_pidns.get()), "exec");
  long pid = clone_process(0);
  if (pid == 0) child_main(plan);
  int err = errno;
  pid_for_child.reset();
  time_for_child.reset();
  if (pid < 0) return fail_errno("exec: clone", err);
  child_end.reset();
  console_fd.reset();
  auto abort_child = [&] {
    ::kill(static_cast<pid_t>(pid), SIGKILL);
    ::waitpid(static_cast<pid_t>(pid), nullptr, 0);
  };
  if (auto st = cg.add_process(static_cast<pid_t>(pid)); !st) {
    abort_child();
    return std::unexpected(with_context(st.error(), "exec: join cgroup"));
  }
  auto started = [&]() -> Status {
    TRY(send_message(parent_end.get(), MessageType::kGo));
    TRY(send_message(parent_end.get(), MessageType::kCgroupJoined));
    TRY(expect_message(parent_end.get(), MessageType::kReady, "exec child"));
    if (!o.detach) forward_signals_to(static_cast<pid_t>(pid));
    return release_process(parent_end.get(), oci_state(r, ContainerStatus::kRunning), true);
  }();
  if (!started) {
    abort_child();
    return std::unexpected(with_context(started.error(), "exec in container " + o.id));
  }
  if (!o.pid_file.empty()) TRY_CTX(write_file_atomic(absolute_path(o.pid_file), std::to_string(pid)), "--pid-file");
  if (o.detach) return 0;
  int wstatus = 0;
  while (::waitpid(static_cast<pid_t>(pid), &wstatus, 0) < 0 && errno == EINTR) {
  }
  return exit_code_of(wstatus);
}

}  // namespace md::runtime
