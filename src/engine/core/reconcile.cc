// Reconciliation: the row says what the engine last knew; the monitor's status file, the
// processes and the runtime's state say what is true now. Every command runs this on the
// containers it touches (and `ps` on all that are not at rest), so a container whose
// process or monitor died is shown as exited, with a reason, never "running" forever.
//
//   monitor alive, status running/restarting  → copy pid, restarts, health into the row
//   status "exited" (monitor done)             → exited with its exit code; tear down
//   monitor dead without a final status       → kill what is left of the container,
//                                                 exited (137) with reason "monitor died"
//   row "removing" (an rm was interrupted)     → finish the removal
// Tear down = delete the runtime container, unmount the rootfs, drop the monitor dir;
// then --rm containers are removed unless a foreground `run` still holds
// <monitor dir>/foreground.lock (it removes the container itself after reading the code).
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include "base/file_util.h"
#include "base/unique_fd.h"
#include "engine/core/containers.h"
#include "engine/core/network_setup.h"
#include "engine/core/monitor_client.h"
#include "engine/core/rootfs.h"
#include "engine/core/volumes.h"
#include "engine/store/container_lock.h"
#include "engine/store/ids.h"
#include "runtime/container.h"
#include "runtime/state_store.h"

namespace md::engine {

using nlohmann::json;
using store::ContainerState;

Status remove_locked(Engine& e, const store::Container& c, bool volumes);

namespace {

bool foreground_client_alive(const Paths& p, const std::string& id) {
  UniqueFd fd(::open((p.monitor_dir(id) + "/foreground.lock").c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return false;
  return ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0;  // held by the foreground CLI
}

Status teardown(Engine& e, const store::Container& c) {
  const std::string& id = c.id;
  runtime::GlobalOptions g{e.paths().runtime_root()};
  if (path_exists(g.root + "/" + id)) (void)runtime::delete_container(g, id, true);
  auto net = teardown_container_network(e, c);
  TRY(unmount_rootfs(e.paths(), id));
  return net;
}

}  // namespace

Result<store::Container> refresh_locked(Engine& e, const std::string& id) {
  store::Container c = TRY(e.containers().get_by_id(id));
  if (c.state == ContainerState::kRemoving) {
    TRY(remove_locked(e, c, false));
    return fail("No such container: " + id, ENOENT);
  }
  bool live = c.state == ContainerState::kRunning || c.state == ContainerState::kPaused ||
              c.state == ContainerState::kRestarting;
  auto st = read_monitor_status(e.paths(), id);
  if (!live && !(c.state == ContainerState::kCreated && st)) return c;

  uint64_t mon_start = st && st->monitor_pid == c.monitor_pid ? c.monitor_start_time : 0;
  bool monitor_alive = st && process_alive(st->monitor_pid, mon_start);
  if (st && monitor_alive && (st->state == "running" || st->state == "restarting")) {
    ContainerState want = st->state == "restarting" ? ContainerState::kRestarting
                          : c.state == ContainerState::kPaused ? ContainerState::kPaused
                                                                : ContainerState::kRunning;
    if (want == c.state && c.pid == st->pid && c.restart_count == st->restart_count && c.health == st->health)
      return c;
    return e.containers().update(id, [&](store::Container& row) -> Status {
      row.state = want;
      row.pid = st->pid;
      row.pid_start_time = st->pid_start_time;
      if (row.monitor_pid != st->monitor_pid) {
        row.monitor_pid = st->monitor_pid;
        row.monitor_start_time = runtime::process_start_time(st->monitor_pid).value_or(0);
      }
      row.restart_count = st->restart_count;
      if (st->started_at) row.started_at = st->started_at;
      if (st->finished_at) row.finished_at = st->finished_at;
      row.exit_code = st->exit_code;
      row.health = st->health;
      return {};
    });
  }

  // The container is not running any more (or its monitor died): record the truth.
  int exit_code = 0;
  int64_t finished = 0;
  std::string reason;
  bool oom = false;
  bool emit_die = false;
  if (st && st->state == "exited") {
    exit_code = st->exit_code;
    finished = st->finished_at;
    oom = st->oom_killed;
  } else {
    // Monitor gone without a final word: whatever is left of the container is killed,
    // since nothing holds its output or would record its exit any more.
    bool proc = process_alive(c.pid, c.pid_start_time);
    runtime::GlobalOptions g{e.paths().runtime_root()};
    if (proc) (void)runtime::kill_container(g, id, SIGKILL, true);
    exit_code = proc ? 137 : (st ? st->exit_code : 255);
    finished = store::now_unix_nanos();
    reason = "monitor died: the container was " + std::string(proc ? "killed" : "already gone");
    emit_die = true;
  }
  TRY(teardown(e, c));
  store::Container updated = TRY(e.containers().update(id, [&](store::Container& row) -> Status {
    row.state = ContainerState::kExited;
    row.pid = 0;
    row.pid_start_time = 0;
    row.monitor_pid = 0;
    row.monitor_start_time = 0;
    row.exit_code = exit_code;
    row.finished_at = finished ? finished : store::now_unix_nanos();
    row.reason = oom ? "OOMKilled" : reason;
    if (st) row.restart_count = st->restart_count;
    if (st && st->started_at) row.started_at = st->started_at;
    if (st && !st->health.is_null()) {
      row.health = st->health;
      row.health["Status"] = "unhealthy";
      if (row.health.contains("FailingStreak")) {}
    }
    return {};
  }));
  if (emit_die) e.emit_container(updated, "die", {{"exitCode", std::to_string(exit_code)}});
  if (updated.host_config.value("AutoRemove", false) && !foreground_client_alive(e.paths(), id)) {
    TRY(remove_locked(e, updated, true));
    return fail("No such container: " + id, ENOENT);
  }
  if (!foreground_client_alive(e.paths(), id)) (void)remove_tree(e.paths().monitor_dir(id));
  return updated;
}

Result<store::Container> reconcile_container(Engine& e, const std::string& id) {
  auto lock = store::ContainerLock::acquire(e.paths().root, id, std::chrono::milliseconds(0));
  if (!lock) return e.containers().get_by_id(id);  // busy: its holder reconciles it
  return refresh_locked(e, id);
}

Status reconcile_all(Engine& e) {
  store::ContainerFilter f;
  f.all = true;
  for (auto& c : TRY(e.containers().list(f))) {
    bool at_rest = (c.state == ContainerState::kExited || c.state == ContainerState::kCreated) &&
                   !(c.state == ContainerState::kCreated && path_exists(e.paths().status_file(c.id))) &&
                   !(c.host_config.value("AutoRemove", false) && c.state == ContainerState::kExited);
    if (at_rest) continue;
    auto r = reconcile_container(e, c.id);
    if (!r && r.error().errno_value != ENOENT) return std::unexpected(r.error());
  }
  return {};
}

Status cleanup_container(Engine& e, const std::string& id) {
  auto lock = TRY(store::ContainerLock::acquire(e.paths().root, id, std::chrono::seconds(60)));
  auto r = refresh_locked(e, id);
  if (!r && r.error().errno_value != ENOENT) return std::unexpected(r.error());
  return {};
}

Status remove_locked(Engine& e, const store::Container& c0, bool volumes) {
  const std::string& id = c0.id;
  store::Container c = TRY(e.containers().update(id, [](store::Container& row) -> Status {
    row.state = ContainerState::kRemoving;
    return {};
  }));
  // Stop everything. The monitor goes first, with SIGKILL: the container is being removed,
  // so there is nothing left for it to record, and it must neither restart the container
  // nor run its exit command (which would wait for the lock we hold).
  (void)write_file_atomic(e.paths().stop_marker(id), "", 0600);
  pid_t monitor = c.monitor_pid;
  if (auto st = read_monitor_status(e.paths(), id); st && st->monitor_pid) monitor = st->monitor_pid;
  if (monitor && process_alive(monitor, monitor == c.monitor_pid ? c.monitor_start_time : 0)) {
    ::kill(monitor, SIGKILL);
    for (int i = 0; i < 500 && process_alive(monitor, 0); ++i) ::usleep(2000);
  }
  runtime::GlobalOptions g{e.paths().runtime_root()};
  if (path_exists(g.root + "/" + id)) {
    (void)runtime::kill_container(g, id, SIGKILL, true);
    (void)runtime::delete_container(g, id, true);
  }
  TRY(teardown_container_network(e, c));
  TRY(unmount_rootfs(e.paths(), id));
  TRY_CTX(remove_tree(e.paths().container_dir(id)), "remove container directory");
  (void)remove_tree(e.paths().monitor_dir(id));
  if (volumes) {
    for (auto& m : c.host_config.value("MountPoints", json::array())) {
      if (m.value("Type", "") != "volume") continue;
      auto v = inspect_volume(e, m.value("Name", ""));
      if (v && (*v).value("Labels", json::object()).contains("com.docker.volume.anonymous")) {
        // Only if no other container uses it.
        auto users = volume_users(e, m.value("Name", ""));
        if (users && users->size() <= 1) (void)remove_volume(e, m.value("Name", ""), true);
      }
    }
  }
  TRY(wait_endpoint_links_gone(e, c));  // the kernel's teardown ran while we unmounted
  TRY(e.containers().remove(id));
  e.emit_container(c, "destroy");
  return {};
}

}  // namespace md::engine
