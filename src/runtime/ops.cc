// The verbs that act on an existing container: state, kill, delete, pause, resume,
// ps, list, update. Each begins with "load the record, derive the status, then guard".
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <optional>

#include "base/explain.h"
#include "base/file_util.h"
#include "cgroups/cgroup.h"
#include "runtime/container.h"
#include "runtime/hooks.h"
#include "runtime/lifecycle.h"
#include "runtime/state_store.h"

namespace md::runtime {

using nlohmann::json;

Status teardown_container(const StateStore& store, const ContainerRecord& r, cgroups::Cgroup* cgroup) {
  if (!r.cgroup_path.empty()) {
    std::optional<cgroups::Cgroup> opened;
    if (!cgroup) {
      auto cg = cgroups::Cgroup::open(r.cgroup_path);
      if (cg) opened = std::move(*cg);
      cgroup = opened ? &*opened : nullptr;
    }
    if (cgroup) {
      if (auto pids = cgroup->pids(); pids && !pids->empty()) (void)cgroup->kill_all(SIGKILL);
      TRY_CTX(cgroup->destroy(), "remove cgroup " + r.cgroup_path);
    }
  }
  auto hooks = hooks_from_config(r.config, "poststop");
  if (auto st = run_hooks(hooks, "poststop", oci_state(r, ContainerStatus::kStopped)); !st)
    fprintf(stderr, "warning: %s\n", st.error().message.c_str());
  return store.remove(r.id);
}

namespace {

struct SignalName {
  const char* name;
  int number;
};
constexpr SignalName kSignals[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},       {"QUIT", SIGQUIT},   {"ILL", SIGILL},     {"TRAP", SIGTRAP},
    {"ABRT", SIGABRT}, {"IOT", SIGIOT},       {"BUS", SIGBUS},     {"FPE", SIGFPE},     {"KILL", SIGKILL},
    {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},     {"USR2", SIGUSR2},   {"PIPE", SIGPIPE},   {"ALRM", SIGALRM},
    {"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},   {"CONT", SIGCONT},   {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},     {"TTOU", SIGTTOU},   {"URG", SIGURG},     {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},   {"WINCH", SIGWINCH}, {"IO", SIGIO},
    {"POLL", SIGPOLL}, {"PWR", SIGPWR},       {"SYS", SIGSYS},
};

struct Loaded {
  StateStore store;
  ContainerRecord record;
  ContainerStatus status;
};

Result<Loaded> load(const GlobalOptions& g, const std::string& id) {
  StateStore store(g.root);
  auto r = TRY(store.load(id));
  auto status = current_status(store, r);
  return Loaded{std::move(store), std::move(r), status};
}

// Waits until the process is gone (pidfd becomes readable on exit, child or not).
void wait_for_exit(pid_t pid, unsigned long long start_time) {
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    struct pollfd p = {pidfd, POLLIN, 0};
    ::poll(&p, 1, 10000);
    ::close(pidfd);
    return;
  }
  for (int i = 0; i < 1000; ++i) {
    auto t = process_start_time(pid);
    if (!t || *t != start_time) return;
    ::usleep(10000);
  }
}

Status signal_process(const ContainerRecord& r, int sig) {
  // A pidfd pins the process: no signal to a recycled pid.
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, r.pid, 0));
  if (pidfd < 0) return fail_errno("signal container " + r.id);
  auto start = process_start_time(r.pid);
  int rc = (start && *start == r.pid_start_time) ? static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0)) : -1;
  int err = start ? errno : ESRCH;
  ::close(pidfd);
  if (rc != 0) return fail_errno("signal container " + r.id, err);
  return {};
}

}  // namespace

Result<int> parse_signal(const std::string& s) {
  if (s.empty()) return fail("invalid signal: empty", EINVAL);
  if (std::all_of(s.begin(), s.end(), ::isdigit)) {
    int n = std::atoi(s.c_str());
    if (n <= 0 || n > 64) return fail("invalid signal \"" + s + "\"", EINVAL);
    return n;
  }
  std::string up;
  for (char c : s) up += static_cast<char>(::toupper(static_cast<unsigned char>(c)));
  if (up.rfind("SIG", 0) == 0) up = up.substr(3);
  for (auto& sn : kSignals)
    if (up == sn.name) return sn.number;
  if (up.rfind("RTMIN", 0) == 0 || up.rfind("RTMAX", 0) == 0) {
    bool min = up[3] == 'I';
    int base = min ? SIGRTMIN : SIGRTMAX;
    if (up.size() == 5) return base;
    int off = std::atoi(up.c_str() + 5);
    int n = base + off;
    if (n >= SIGRTMIN && n <= SIGRTMAX) return n;
  }
  return fail("unknown signal \"" + s + "\"", EINVAL);
}

Result<json> container_state(const GlobalOptions& g, const std::string& id) {
  auto l = TRY(load(g, id));
  return oci_state(l.record, l.status);
}

Status kill_container(const GlobalOptions& g, const std::string& id, int signal, bool all) {
  auto l = TRY(load(g, id));
  if (l.status == ContainerStatus::kStopped && !all) return fail("cannot kill container " + id + ": container not running", ESRCH);
  if (all) {
    auto cg = TRY_CTX(cgroups::Cgroup::open(l.record.cgroup_path), "kill container " + id);
    return cg.kill_all(signal);
  }
  return signal_process(l.record, signal);
}

Status delete_container(const GlobalOptions& g, const std::string& id, bool force) {
  auto loaded = load(g, id);
  if (!loaded && force && loaded.error().errno_value == ENOENT && StateStore::validate_id(id)) {
    // A create that was killed before writing state.json leaves its directory and the
    // symlink naming its cgroup.
    StateStore store(g.root);
    if (is_directory(store.dir(id))) {
      char target[4096];
      ssize_t n = ::readlink((store.dir(id) + "/cgroup").c_str(), target, sizeof target - 1);
      if (n > 0) {
        target[n] = 0;
        if (auto cg = cgroups::Cgroup::open(target); cg) {
          (void)cg->kill_all(SIGKILL);
          TRY_CTX(cg->destroy(), std::string("remove cgroup ") + target);
        }
      }
      return store.remove(id);
    }
  }
  auto l = TRY(std::move(loaded));
  if (l.status == ContainerStatus::kRunning || l.status == ContainerStatus::kPaused) {
    if (!force) return fail("cannot delete container " + id + ": it is " + status_name(l.status) + " (use --force)", EBUSY);
  }
  if (l.status != ContainerStatus::kStopped) {
    // created, running or paused: SIGKILL everything (a frozen task dies once thawed).
    if (auto cg = cgroups::Cgroup::open(l.record.cgroup_path); cg) {
      (void)cg->kill_all(SIGKILL);
      if (l.status == ContainerStatus::kPaused) (void)cg->thaw();
    }
    (void)signal_process(l.record, SIGKILL);
    wait_for_exit(l.record.pid, l.record.pid_start_time);
  } else if (!l.record.own_pid_namespace && !l.record.cgroup_path.empty()) {
    // Shared pid namespace: processes may outlive init; the cgroup still knows them.
    if (auto cg = cgroups::Cgroup::open(l.record.cgroup_path); cg) (void)cg->kill_all(SIGKILL);
  }
  return teardown_container(l.store, l.record);
}

Status pause_container(const GlobalOptions& g, const std::string& id) {
  auto l = TRY(load(g, id));
  if (l.status != ContainerStatus::kRunning && l.status != ContainerStatus::kCreated)
    return fail("cannot pause container " + id + ": it is " + status_name(l.status), EINVAL);
  auto cg = TRY_CTX(cgroups::Cgroup::open(l.record.cgroup_path), "pause container " + id);
  return cg.freeze();
}

Status resume_container(const GlobalOptions& g, const std::string& id) {
  auto l = TRY(load(g, id));
  if (l.status != ContainerStatus::kPaused) return fail("cannot resume container " + id + ": it is not paused", EINVAL);
  auto cg = TRY_CTX(cgroups::Cgroup::open(l.record.cgroup_path), "resume container " + id);
  return cg.thaw();
}

Result<std::vector<int>> container_pids(const GlobalOptions& g, const std::string& id) {
  auto l = TRY(load(g, id));
  auto cg = TRY_CTX(cgroups::Cgroup::open(l.record.cgroup_path), "ps " + id);
  auto pids = TRY(cg.pids());
  return std::vector<int>(pids.begin(), pids.end());
}

Result<std::vector<json>> list_containers(const GlobalOptions& g) {
  StateStore store(g.root);
  std::vector<json> out;
  for (auto& id : TRY(store.list_ids())) {
    auto r = store.load(id);
    if (!r) continue;
    auto st = current_status(store, *r);
    json j = oci_state(*r, st);
    out.push_back(j);
  }
  return out;
}

Status update_container(const GlobalOptions& g, const std::string& id, const oci::Resources& r) {
  auto l = TRY(load(g, id));
  if (l.status == ContainerStatus::kStopped) return fail("cannot update container " + id + ": it is stopped", EINVAL);
  auto cg = TRY_CTX(cgroups::Cgroup::open(l.record.cgroup_path), "update container " + id);
  return cg.apply(r);
}

}  // namespace md::runtime
