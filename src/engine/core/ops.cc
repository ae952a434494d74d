// stop, kill, pause, unpause, restart, rm, rename, wait.
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/file_util.h"
#include "base/unique_fd.h"
#include "engine/core/containers.h"
#include "engine/core/pods.h"
#include "engine/store/container_lock.h"
#include "engine/store/ids.h"
#include "runtime/container.h"

namespace md::engine {

using nlohmann::json;
using store::ContainerState;

Status remove_locked(Engine& e, const store::Container& c, bool volumes);

// Remembered in the row (our own HostConfig key, not shown by inspect) so that
// `unless-stopped` containers stay stopped across a reboot.
Status mark_stopped_by_user(Engine& e, const std::string& id, bool stopped) {
  TRY(e.containers().update(id, [&](store::Container& row) -> Status {
    row.host_config["StoppedByUser"] = stopped;
    return {};
  }));
  return {};
}

namespace {

bool is_up(ContainerState s) {
  return s == ContainerState::kRunning || s == ContainerState::kPaused || s == ContainerState::kRestarting;
}

runtime::GlobalOptions rt(Engine& e) { return runtime::GlobalOptions{e.paths().runtime_root()}; }

// Waits until `pid` (with its start time) is gone or `timeout_ms` passes. True when gone.
bool wait_process_gone(pid_t pid, uint64_t start_time, int timeout_ms) {
  if (!process_alive(pid, start_time)) return true;
  int fd = int(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return !process_alive(pid, start_time);
  UniqueFd pidfd(fd);
  if (!process_alive(pid, start_time)) return true;  // pid reused between the checks
  pollfd p{fd, POLLIN, 0};
  int r;
  do r = ::poll(&p, 1, timeout_ms);
  while (r < 0 && errno == EINTR);
  return r > 0;
}

// Waits (bounded) for the monitor to write its final status after the container died.
void wait_monitor_settled(Engine& e, const store::Container& c, int timeout_ms) {
  for (int waited = 0; waited < timeout_ms; waited += 2) {
    auto st = read_monitor_status(e.paths(), c.id);
    if (!st || st->state == "exited") return;
    if (!process_alive(st->monitor_pid, 0)) return;
    ::usleep(2000);
  }
}

std::string signal_name(int sig) {
  const char* n = sigabbrev_np(sig);
  return n ? std::string("SIG") + n : std::to_string(sig);
}

}  // namespace

Status stop_container(Engine& e, const std::string& ref, std::optional<int> timeout, const std::string& signal) {
  std::string id = TRY(e.containers().resolve(ref));
  auto lock = TRY(store::ContainerLock::acquire(e.paths().root, id));
  store::Container c = TRY(refresh_locked(e, id));
  if (!is_up(c.state)) return {};
  TRY(write_file_atomic(e.paths().stop_marker(id), "", 0600));
  TRY(mark_stopped_by_user(e, id, true));
  std::string sig_name = signal.empty() ? c.config.value("StopSignal", "SIGTERM") : signal;
  int sig = TRY(runtime::parse_signal(sig_name));
  int secs = timeout ? *timeout : c.config.value("StopTimeout", 10);
  if (c.state != ContainerState::kRestarting) {
    e.emit_container(c, "kill", {{"signal", std::to_string(sig)}});
    (void)runtime::kill_container(rt(e), id, sig, false);
    if (c.state == ContainerState::kPaused) (void)runtime::resume_container(rt(e), id);
    bool gone = secs >= 0 ? wait_process_gone(c.pid, c.pid_start_time, secs * 1000)
                          : wait_process_gone(c.pid, c.pid_start_time, -1);
    if (!gone) {
      e.emit_container(c, "kill", {{"signal", "9"}});
      (void)runtime::kill_container(rt(e), id, SIGKILL, true);
      wait_process_gone(c.pid, c.pid_start_time, 10000);
    }
  }
  wait_monitor_settled(e, c, 10000);
  auto after = refresh_locked(e, id);
  e.emit_container(after ? *after : c, "stop");
  if (!after && after.error().errno_value != ENOENT) return std::unexpected(after.error());
  return {};
}

Status kill_container(Engine& e, const std::string& ref, const std::string& signal) {
  std::string id = TRY(e.containers().resolve(ref));
  auto lock = TRY(store::ContainerLock::acquire(e.paths().root, id));
  store::Container c = TRY(refresh_locked(e, id));
  int sig = TRY(runtime::parse_signal(signal.empty() ? "KILL" : signal));
  if (!is_up(c.state) || c.state == ContainerState::kRestarting)
    return fail("Cannot kill container: " + ref + ": container " + c.id + " is not running", EINVAL);
  std::string stop_sig = c.config.value("StopSignal", "SIGTERM");
  auto stop_num = runtime::parse_signal(stop_sig);
  if (sig == SIGKILL || (stop_num && *stop_num == sig))
  {
    TRY(write_file_atomic(e.paths().stop_marker(id), "", 0600));  // a kill is a manual stop
    TRY(mark_stopped_by_user(e, id, true));
  }
  TRY_CTX(runtime::kill_container(rt(e), id, sig, false), "kill container " + c.name);
  e.emit_container(c, "kill", {{"signal", std::to_string(sig)}});
  if (sig == SIGKILL) {
    if (c.state == ContainerState::kPaused) (void)runtime::resume_container(rt(e), id);
    wait_process_gone(c.pid, c.pid_start_time, 5000);
    wait_monitor_settled(e, c, 5000);
    (void)refresh_locked(e, id);
  }
  (void)signal_name;
  return {};
}

Status pause_container(Engine& e, const std::string& ref) {
  std::string id = TRY(e.containers().resolve(ref));
  auto lock = TRY(store::ContainerLock::acquire(e.paths().root, id));
  store::Container c = TRY(refresh_locked(e, id));
  if (c.state == ContainerState::kPaused) return fail("Container " + c.id + " is already paused", EINVAL);
  if (c.state != ContainerState::kRunning) return fail("Container " + c.id + " is not running", EINVAL);
  TRY_CTX(runtime::pause_container(rt(e), id), "pause " + c.name);
  c = TRY(e.containers().update(id, [](store::Container& row) -> Status {
    row.state = ContainerState::kPaused;
    return {};
  }));
  e.emit_container(c, "pause");
  return {};
}

Status unpause_container(Engine& e, const std::string& ref) {
  std::string id = TRY(e.containers().resolve(ref));
  auto lock = TRY(store::ContainerLock::acquire(e.paths().root, id));
  store::Container c = TRY(refresh_locked(e, id));
  if (c.state != ContainerState::kPaused) return fail("Container " + c.id + " is not paused", EINVAL);
  TRY_CTX(runtime::resume_container(rt(e), id), "unpause " + c.name);
  c = TRY(e.containers().update(id, [](store::Container& row) -> Status {
    row.state = ContainerState::kRunning;
    return {};
  }));
  e.emit_container(c, "unpause");
  return {};
}

Status restart_container(Engine& e, const std::string& ref, std::optional<int> timeout) {
  TRY(stop_container(e, ref, timeout));
  TRY(start_container(e, ref));
  if (auto c = e.containers().get(ref)) e.emit_container(*c, "restart");
  return {};
}

Status remove_container(Engine& e, const std::string& ref, bool force, bool volumes) {
  std::string id = TRY(e.containers().resolve(ref));
  TRY(refuse_infra_removal(e, id));  // the infra goes with its pod (pods.h)
  auto lock = TRY(store::ContainerLock::acquire(e.paths().root, id));
  auto c = refresh_locked(e, id);
  if (!c) {
    if (c.error().errno_value == ENOENT) return {};  // removed by reconciliation (--rm)
    return std::unexpected(c.error());
  }
  if (is_up(c->state) && !force) {
    if (c->state == ContainerState::kPaused)
      return fail("cannot remove container \"/" + c->name +
                      "\": container is paused and must be unpaused first", EBUSY);
    return fail("cannot remove container \"/" + c->name +
                    "\": container is running: stop the container before removing or force remove",
                EBUSY);
  }
  TRY(remove_locked(e, *c, volumes));
  (void)lock.remove_file();
  return {};
}

Status rename_container(Engine& e, const std::string& ref, const std::string& new_name) {
  auto before = TRY(e.containers().get(ref));
  auto n = store::normalize_name(new_name);
  if (!n) return fail("Invalid container name (" + new_name + "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", EINVAL);
  if (*n == before.name) return fail("Renaming a container with the same name as its current name", EINVAL);
  auto after = e.containers().rename(before.id, *n);
  if (!after) {
    Error err = after.error();
    if (err.errno_value == EEXIST) err.message = "Error when allocating new name: " + err.message;
    return std::unexpected(err);
  }
  e.emit_container(*after, "rename", {{"oldName", "/" + before.name}});
  return {};
}

Result<int> wait_container(Engine& e, const std::string& ref, WaitCondition cond) {
  store::Container c = TRY(e.containers().get(ref));
  std::string id = c.id;
  int start_exits = -1;
  pid_t start_monitor = 0;  // next-exit: the monitor (and its exit count) when the wait began
  if (auto st = read_monitor_status(e.paths(), id)) {
    start_exits = st->exit_count;
    start_monitor = st->monitor_pid;
  }
  int64_t began = store::now_unix_nanos();
  int last_code = c.exit_code;
  UniqueFd ino(inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  for (;;) {
    auto r = reconcile_container(e, id);
    if (!r) {
      if (r.error().errno_value == ENOENT) {
        // Removed (--rm) before we saw its exit (a fast container): its monitor's `die`
        // event, appended before the removal, has the code.
        EventQuery q;
        q.since_ns = began;
        q.filters = {{"container", {id}}, {"event", {"die"}}};
        (void)read_events(e.paths().events_file(), q, [&](const nlohmann::json& ev) {
          auto attrs = ev["Actor"].value("Attributes", nlohmann::json::object());
          if (attrs.contains("exitCode") && attrs["exitCode"].is_string())
            last_code = std::atoi(attrs["exitCode"].get<std::string>().c_str());
          return true;
        });
        if (cond == WaitCondition::kRemoved || start_exits >= 0 || c.state != ContainerState::kCreated) return last_code;
        return std::unexpected(r.error());
      }
      return std::unexpected(r.error());
    }
    last_code = r->exit_code;
    auto st = read_monitor_status(e.paths(), id);
    if (st) last_code = st->state == "exited" || st->exit_count > 0 ? st->exit_code : last_code;
    switch (cond) {
      case WaitCondition::kNotRunning:
        if (!is_up(r->state) && !(r->state == ContainerState::kCreated && st)) return r->exit_code;
        break;
      case WaitCondition::kNextExit:
        // An exit after the wait began: a later one of the same monitor, or any of a monitor
        // started since (a start replaces the status file; its count begins at 0). A fast
        // container may have started and exited between two looks (docker run: wait, then
        // start), and a stopped one's old status must not count.
        if (st && st->exit_count > (st->monitor_pid == start_monitor ? start_exits : 0)) return st->exit_code;
        // A monitor that died without recording the exit (reconciled as stopped).
        if (!is_up(r->state) && r->state != ContainerState::kCreated && r->finished_at >= began) return r->exit_code;
        break;
      case WaitCondition::kRemoved:
        break;
    }
    // Sleep until the monitor writes something (or a second passes: it may have died).
    if (ino.valid()) {
      (void)inotify_add_watch(ino.get(), e.paths().monitor_dir(id).c_str(), IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE_SELF);
      pollfd p{ino.get(), POLLIN, 0};
      if (::poll(&p, 1, 1000) > 0) {
        char buf[4096];
        while (::read(ino.get(), buf, sizeof buf) > 0) {
        }
      }
    } else {
      ::usleep(50000);
    }
  }
}

}  // namespace md::engine

namespace md::engine {

Result<std::vector<std::string>> boot_containers(Engine& e,
                                                 const std::function<void(const std::string&, const Error&)>& on_error) {
  TRY(reconcile_all(e));
  store::ContainerFilter f;
  f.all = true;
  std::vector<std::string> started;
  for (auto& c : TRY(e.containers().list(f))) {
    if (c.state != ContainerState::kExited && c.state != ContainerState::kCreated) continue;
    std::string policy = c.host_config.value("RestartPolicy", json::object()).value("Name", "no");
    bool stopped_by_user = c.host_config.value("StoppedByUser", false);
    if (policy != "always" && !(policy == "unless-stopped" && !stopped_by_user)) continue;
    if (c.state == ContainerState::kCreated && c.started_at == 0) continue;  // never started
    auto st = start_container(e, c.id);
    if (st) started.push_back(c.id);
    else on_error(c.name, st.error());
  }
  return started;
}

}  // namespace md::engine
