// create / start / run: the parent side of bringing a container to life.
//
// Flow (see docs/architecture.md): read config.json → validate and prepare the plan →
// mkdir the state dir (id uniqueness) → cgroup → clone(CLONE_NEW*) → maps, cgroup.procs,
// oom_score_adj → kGo → hooks on request → kReady → state.json + pid file. Any failure
// rolls back everything created so far (process, cgroup, state dir).
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <optional>

#include "base/explain.h"
#include "base/file_util.h"
#include "base/scope_guard.h"
#include "cgroups/cgroup.h"
#include "runtime/container.h"
#include "runtime/hooks.h"
#include "runtime/lifecycle.h"
#include "runtime/unix_socket.h"
#include "runtime/prepare.h"
#include "runtime/proc_ns.h"
#include "runtime/state_store.h"
#include "runtime/sync_channel.h"
#include "runtime/terminal_proxy.h"

namespace md::runtime {

using nlohmann::json;

namespace {

std::string rfc3339_now() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char buf[64];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[96];
  snprintf(out, sizeof out, "%s.%09ldZ", buf, ts.tv_nsec);
  return out;
}

std::string clone_flags_text(int flags) {
  std::string s;
  const std::pair<int, const char*> names[] = {{CLONE_NEWPID, "CLONE_NEWPID"}, {CLONE_NEWNET, "CLONE_NEWNET"},
                                               {CLONE_NEWNS, "CLONE_NEWNS"},   {CLONE_NEWIPC, "CLONE_NEWIPC"},
                                               {CLONE_NEWUTS, "CLONE_NEWUTS"}, {CLONE_NEWUSER, "CLONE_NEWUSER"},
                                               {CLONE_NEWCGROUP, "CLONE_NEWCGROUP"}};
  for (auto& [f, n] : names)
    if (flags & f) s += (s.empty() ? "" : "|") + std::string(n);
  return s.empty() ? "0" : s;
}

Status write_id_map(pid_t pid, const char* file, const std::vector<oci::IdMapping>& maps) {
  std::string text;
  for (auto& m : maps)
    text += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " + std::to_string(m.size) + "\n";
  return write_existing_file("/proc/" + std::to_string(pid) + "/" + file, text);
}

// Forks an intermediate that joins plan.joins[0] (a user namespace), becomes root in it and
// clones the init with `flags`; the init skips that join. Returns the init's pid or -errno.
long clone_via_user_namespace(ChildPlan& plan, int flags) {
  JoinNamespace user = std::move(plan.joins.front());
  plan.joins.erase(plan.joins.begin());
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  int pp[2];
  if (::pipe2(pp, O_CLOEXEC) != 0) return -errno;
  UniqueFd rd(pp[0]), wr(pp[1]);
  long mid = clone_process(0);
  if (mid == 0) {
    // The intermediate: async-signal-safe only, like the init.
    int32_t result;
    if (::setns(user.fd.get(), CLONE_NEWUSER) != 0 || ::setresgid(0, 0, 0) != 0 || ::setresuid(0, 0, 0) != 0) {
      result = -errno;
    } else {
      long init = clone_process(flags);
      if (init == 0) child_main(plan);
      result = init < 0 ? -errno : static_cast<int32_t>(init);
    }
    (void)!::write(wr.get(), &result, sizeof result);
    _exit(0);
  }
  if (mid < 0) return -errno;
  wr.reset();
  int32_t result = -ECHILD;
  if (::read(rd.get(), &result, sizeof result) != sizeof result) result = -ECHILD;
  ::waitpid(static_cast<pid_t>(mid), nullptr, 0);
  return result;
}

struct Launched {
  pid_t pid = 0;
  UniqueFd sync;
  UniqueFd console_peer;  // our end of an internal console socket (`run` with a terminal)
  ContainerRecord record;
  std::optional<cgroups::Cgroup> cgroup;
};

// Everything up to kReady. On error nothing is left: no process, cgroup or state dir.
Result<Launched> launch(const GlobalOptions& g, const CreateOptions& o, bool run_mode, bool foreground = false) {
  TRY(StateStore::validate_id(o.id));
  StateStore store(g.root);
  std::string bundle = absolute_path(o.bundle);
  auto text = read_file(join_path(bundle, "config.json"));
  if (!text) return fail("cannot read " + join_path(bundle, "config.json") + ": " + text.error().message, text.error().errno_value);
  json config = json::parse(*text, nullptr, false);
  auto spec = config.is_discarded() ? oci::parse_spec(*text) : oci::parse_spec_json(config);
  if (!spec) return std::unexpected(spec.error());
  Explain::step("parse " + join_path(bundle, "config.json"));

  TRY(store.create_dir(o.id));
  bool keep = false;
  ScopeGuard remove_dir([&] {
    if (!keep) (void)store.remove(o.id);
  });

  Launched out;
  std::string cgroup_path = cgroup_path_for(*spec, o.id);
  // Until state.json exists, a symlink names the cgroup (one syscall, no file write): a
  // create killed half-way stays cleanable by `delete --force`. Its init exits by itself
  // when the sync socket closes.
  if (::symlink(cgroup_path.c_str(), (store.dir(o.id) + "/cgroup").c_str()) != 0)
    return fail_errno("record the cgroup of " + o.id);
  // Device rules are applied once the init has made its device nodes (mknod is itself
  // subject to them), just before it may exec — as runc does.
  auto resources = effective_resources(*spec);
  oci::Resources device_rules;
  device_rules.devices = std::move(resources.devices);
  resources.devices.clear();
  // One rollback for the process and the cgroup, in that order (a cgroup with a live
  // process in it cannot be removed).
  ScopeGuard rollback([&] {
    if (keep) return;
    if (out.pid > 0) {
      ::kill(out.pid, SIGKILL);
      ::waitpid(out.pid, nullptr, 0);
    }
    if (out.cgroup) (void)out.cgroup->destroy();
  });

  PrepareOptions popts;
  popts.bundle = bundle;
  popts.no_pivot = o.no_pivot;
  popts.preserve_fds = o.preserve_fds;
  // Foreground `run` with a terminal and no --console-socket: keep the master ourselves.
  bool own_console = foreground && spec->process && spec->process->terminal && o.console_socket.empty();
  popts.has_console_socket = !o.console_socket.empty() || own_console;
  popts.seccomp_cache_dir = g.root + "/.seccomp-cache";
  auto prepared = TRY(prepare_container(*spec, popts, TRY(cgroup_mount_sources(cgroup_path))));
  ChildPlan& plan = prepared.plan;
  Explain::step("plan: " + std::to_string(plan.mounts.size()) + " mounts, " + std::to_string(plan.devices.size()) +
                " devices, " + std::to_string(plan.masked_paths.size()) + " masked paths");

  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return fail_errno("socketpair");
  UniqueFd parent_end(sv[0]), child_end(sv[1]);
  UniqueFd listen_fd, console_fd;
  if (!run_mode) listen_fd = TRY(listen_start_socket(store.dir(o.id)));
  if (!o.console_socket.empty()) console_fd = TRY_CTX(connect_unix(o.console_socket, SOCK_STREAM), "--console-socket");
  if (own_console) {
    int cs[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cs) != 0) return fail_errno("socketpair for the terminal");
    out.console_peer = UniqueFd(cs[0]);
    console_fd = UniqueFd(cs[1]);
  }
  plan.sync_fd = child_end.get();
  plan.start_listen_fd = listen_fd.get();
  plan.console_socket_fd = console_fd.get();
  plan.run_mode = run_mode;
  // A private copy of the explain fd: the child's stdio may become a pty (dup2 over 2).
  UniqueFd explain_copy;
  if (Explain::enabled()) {
    explain_copy = UniqueFd(::fcntl(Explain::fd(), F_DUPFD_CLOEXEC, 3));
    plan.explain_fd = explain_copy.get();
  }

  // Joined pid and new/joined time namespaces only change where our children go; the
  // guards restore ours right after clone (and on every error).
  std::optional<ChildrenNamespace> pid_for_child, time_for_child;
  if (prepared.join_pid_ns)
    pid_for_child = TRY_CTX(ChildrenNamespace::enter(CLONE_NEWPID, prepared.join_pid_ns.get()), "linux.namespaces");
  if (prepared.new_time_ns || prepared.join_time_ns) {
    time_for_child = TRY_CTX(ChildrenNamespace::enter(CLONE_NEWTIME, prepared.join_time_ns.get()), "linux.namespaces");
    Explain::step(prepared.new_time_ns ? "unshare(CLONE_NEWTIME) for the child" : "setns(time) for the child");
  }
  Explain::step("clone(" + clone_flags_text(prepared.clone_flags) + ")");
  long pid;
  int clone_errno = 0;
  if (!plan.joins.empty() && plan.joins.front().clone_flag == CLONE_NEWUSER && (prepared.clone_flags & CLONE_NEWPID)) {
    // A new pid namespace must be owned by the joined user namespace, so it has to be
    // created by a process already inside it: an intermediate joins the user namespace,
    // clones the init and exits. We become the init's subreaper so `run` can wait for it.
    pid = clone_via_user_namespace(plan, prepared.clone_flags);
    clone_errno = pid < 0 ? static_cast<int>(-pid) : 0;
  } else {
    pid = clone_process(prepared.clone_flags);
    if (pid == 0) child_main(plan);
    clone_errno = errno;
  }
  pid_for_child.reset();
  time_for_child.reset();
  if (pid < 0) return fail_errno("clone(" + clone_flags_text(prepared.clone_flags) + ")", clone_errno);
  child_end.reset();
  console_fd.reset();
  out.pid = static_cast<pid_t>(pid);

  if (!prepared.uid_mappings.empty()) {
    TRY_CTX(write_id_map(out.pid, "uid_map", prepared.uid_mappings), "linux.uidMappings");
    TRY_CTX(write_id_map(out.pid, "gid_map", prepared.gid_mappings), "linux.gidMappings");
    Explain::step("write uid_map/gid_map of the new user namespace");
  }
  out.record.id = o.id;
  out.record.pid = out.pid;
  out.record.pid_start_time = process_start_time(out.pid).value_or(0);
  out.record.bundle = bundle;
  out.record.rootfs = plan.rootfs;
  out.record.created = rfc3339_now();
  out.record.owner = ::geteuid() == 0 ? "root" : std::to_string(::geteuid());
  out.record.cgroup_path = cgroup_path;
  out.record.own_pid_namespace = prepared.own_pid_namespace;
  for (auto& [k, v] : spec->annotations) out.record.annotations[k] = v;
  out.record.config = config.is_discarded() ? json::object() : config;
  TRY(send_message(parent_end.get(), MessageType::kGo));
  Explain::step("sync: go (the child sets up its mounts while we create its cgroup and move it in)");
  // If the child failed meanwhile, its own error says more than ours about a dead pid.
  // A failure here may be the child's fault: its own error explains more.
  auto prefer_child_error = [&](Error e) { return child_error_or(parent_end.get(), std::move(e)); };

  auto cg = cgroups::Cgroup::create(cgroup_path, &resources);
  if (!cg) return std::unexpected(prefer_child_error(with_context(cg.error(), "cgroup " + cgroup_path)));
  out.cgroup = std::move(*cg);
  Explain::step("cgroup " + cgroup_path + " created (" + cgroups::layout_name(out.cgroup->layout()) + ")");
  if (auto st = out.cgroup->add_process(out.pid); !st)
    return std::unexpected(prefer_child_error(with_context(st.error(), "join cgroup " + cgroup_path)));
  Explain::step("cgroup.procs <- " + std::to_string(out.pid));
  if (prepared.oom_score_adj)
    if (auto st = write_existing_file("/proc/" + std::to_string(out.pid) + "/oom_score_adj",
                                      std::to_string(*prepared.oom_score_adj));
        !st)
      return std::unexpected(prefer_child_error(with_context(st.error(), "process.oomScoreAdj")));
  if (auto st = send_message(parent_end.get(), MessageType::kCgroupJoined); !st)
    return std::unexpected(prefer_child_error(st.error()));

  for (;;) {
    auto msg = TRY(receive_message(parent_end.get()));
    if (!msg) return fail("container init exited before it was ready", ECHILD);
    if (msg->type == MessageType::kError) return std::unexpected(message_error(*msg));
    if (msg->type == MessageType::kReady) break;
    if (msg->type == MessageType::kRunHooks) {
      json state = oci_state(out.record, ContainerStatus::kCreating);
      TRY(run_hooks(spec->hooks.prestart, "prestart", state));
      TRY(run_hooks(spec->hooks.create_runtime, "createRuntime", state));
      TRY(run_hooks(spec->hooks.create_container, "createContainer", state, out.pid));
      TRY(send_message(parent_end.get(), MessageType::kHooksDone));
    }
  }
  if (!device_rules.devices.empty()) TRY_CTX(out.cgroup->apply(device_rules), "cgroup " + cgroup_path + " devices");
  Explain::step("container init ready");
  TRY(store.save(out.record));
  if (!o.pid_file.empty()) TRY_CTX(write_file_atomic(absolute_path(o.pid_file), std::to_string(out.pid)), "--pid-file");
  out.sync = std::move(parent_end);
  keep = true;
  return out;
}

}  // namespace

Status create_container(const GlobalOptions& g, const CreateOptions& o) {
  auto launched = TRY_CTX(launch(g, o, /*run_mode=*/false), "create container " + o.id);
  return {};
}

Status start_container(const GlobalOptions& g, const std::string& id) {
  StateStore store(g.root);
  auto r = TRY(store.load(id));
  auto status = current_status(store, r);
  if (status != ContainerStatus::kCreated)
    return fail("cannot start container " + id + ": it is " + status_name(status) + ", not created", EINVAL);
  auto conn = TRY_CTX(connect_unix(store.dir(id) + "/start.sock", SOCK_SEQPACKET), "start container " + id);
  ::unlink((store.dir(id) + "/start.sock").c_str());
  json state = oci_state(r, ContainerStatus::kRunning);
  TRY_CTX(release_process(conn.get(), state, false), "start container " + id);
  Explain::step("start: container process exec'd");
  auto hooks = hooks_from_config(r.config, "poststart");
  if (auto st = run_hooks(hooks, "poststart", state); !st)
    fprintf(stderr, "warning: %s\n", st.error().message.c_str());
  return {};
}

Result<int> run_container(const GlobalOptions& g, const CreateOptions& o, bool detach) {
  auto launched = TRY_CTX(launch(g, o, /*run_mode=*/true, /*foreground=*/!detach), "run container " + o.id);
  UniqueFd master;
  if (launched.console_peer) {
    auto fd = receive_pty_master(launched.console_peer.get());
    if (!fd) {
      ::kill(launched.pid, SIGKILL);
      ::waitpid(launched.pid, nullptr, 0);
      (void)teardown_container(StateStore(g.root), launched.record);
      return std::unexpected(with_context(fd.error(), "run container " + o.id));
    }
    master = UniqueFd(*fd);
  }
  StateStore store(g.root);
  json state = oci_state(launched.record, ContainerStatus::kRunning);
  if (!detach) forward_signals_to(launched.pid);
  if (auto st = release_process(launched.sync.get(), state, true); !st) {
    ::kill(launched.pid, SIGKILL);
    ::waitpid(launched.pid, nullptr, 0);
    (void)teardown_container(store, launched.record);
    return std::unexpected(with_context(st.error(), "run container " + o.id));
  }
  Explain::step("container process exec'd");
  auto hooks = hooks_from_config(launched.record.config, "poststart");
  if (auto st = run_hooks(hooks, "poststart", state); !st)
    fprintf(stderr, "warning: %s\n", st.error().message.c_str());
  if (detach) return 0;
  if (master) proxy_terminal(master.get(), launched.pid);
  int status = 0;
  while (::waitpid(launched.pid, &status, 0) < 0 && errno == EINTR) {
  }
  Explain::step("container process exited");
  forward_signals_to(0);
  TRY(teardown_container(store, launched.record, launched.cgroup ? &*launched.cgroup : nullptr));
  Explain::step("cgroup removed, state deleted");
  return exit_code_of(status);
}

}  // namespace md::runtime
