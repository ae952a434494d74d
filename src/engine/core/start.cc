// start_container: rootfs, config.json, /etc files, monitor.
#include <unistd.h>

#include "base/explain.h"
#include "base/file_util.h"
#include "base/scope_guard.h"
#include "engine/core/containers.h"
#include "engine/core/network_setup.h"
#include "engine/core/pods.h"
#include "engine/core/rootfs.h"
#include "engine/core/spec_builder.h"
#include "engine/store/container_lock.h"
#include "engine/store/ids.h"
#include "runtime/container.h"
#include "runtime/state_store.h"

namespace md::engine {

using nlohmann::json;

namespace {

bool contains_ci(std::string hay, std::string needle) {
  for (auto& c : hay) c = char(tolower(c));
  for (auto& c : needle) c = char(tolower(c));
  return hay.find(needle) != std::string::npos;
}

// Docker's codes for a command that cannot be executed: 127 not found, 126 otherwise.
int exec_failure_errno(const std::string& message) {
  if (contains_ci(message, "no such file or directory") || contains_ci(message, "not found")) return ENOENT;
  if (contains_ci(message, "permission denied") || contains_ci(message, "exec format error") ||
      contains_ci(message, "is a directory"))
    return EACCES;
  return EIO;
}

}  // namespace

Status start_container(Engine& e, const std::string& ref, const MonitorStart& o) {
  std::string id = TRY(e.containers().resolve(ref));
  auto lock = TRY(store::ContainerLock::acquire(e.paths().root, id));
  store::Container c = TRY(refresh_locked(e, id));
  switch (c.state) {
    case store::ContainerState::kRunning:
    case store::ContainerState::kRestarting:
      return {};
    case store::ContainerState::kPaused:
      return fail("cannot start a paused container, try unpause instead", EINVAL);
    case store::ContainerState::kRemoving:
    case store::ContainerState::kDead:
      return fail("container " + store::short_id(id) + " is marked for removal and cannot be started", EINVAL);
    default:
      break;
  }
  TRY(start_pod_infra_for(e, c));  // a pod's member: its infra runs first (pods.h)
  auto image = TRY_CTX(e.images().get(c.image), "image of container " + c.name);
  auto lower = TRY(image_lower_dirs(e.paths(), image));
  bool mounted = TRY(mount_rootfs(e.paths(), id, lower));
  auto unmount = ScopeGuard([&] {
    if (mounted) (void)unmount_rootfs(e.paths(), id);
  });
  ContainerNetwork net = TRY(setup_container_network(e, c));
  auto unplug = ScopeGuard([&] {
    (void)teardown_container_network(e, c);
    (void)wait_endpoint_links_gone(e, c);
  });
  TRY(write_etc_files(e.paths(), c, net.etc));
  json spec = TRY(build_oci_spec(e.paths(), c, net.ns));
  TRY(write_file_atomic(e.paths().container_dir(id) + "/config.json", spec.dump(), 0600));
  Explain::step("write config.json and /etc/{hostname,hosts,resolv.conf}");
  // A runtime container left over by a crash would make the id "already exist".
  runtime::GlobalOptions g{e.paths().runtime_root()};
  if (path_exists(g.root + "/" + id)) (void)runtime::delete_container(g, id, true);

  auto started = spawn_monitor(e, c, o);
  if (!started) {
    std::string message = started.error().message;
    int err = exec_failure_errno(message);
    int code = err == ENOENT ? 127 : err == EACCES ? 126 : 125;
    (void)e.containers().update(id, [&](store::Container& row) -> Status {
      row.state = store::ContainerState::kCreated;
      row.exit_code = code;
      row.reason = message;
      return {};
    });
    (void)remove_tree(e.paths().monitor_dir(id));
    return fail(message, err == EIO ? started.error().errno_value : err);
  }
  auto st = read_monitor_status(e.paths(), id);
  c = TRY(e.containers().update(id, [&](store::Container& row) -> Status {
    row.state = store::ContainerState::kRunning;
    row.pid = st ? st->pid : 0;
    row.pid_start_time = st ? st->pid_start_time : 0;
    row.monitor_pid = st ? st->monitor_pid : 0;
    row.monitor_start_time = row.monitor_pid ? runtime::process_start_time(row.monitor_pid).value_or(0) : 0;
    row.started_at = st && st->started_at ? st->started_at : store::now_unix_nanos();
    row.finished_at = 0;
    row.exit_code = 0;
    row.reason.clear();
    row.restart_count = 0;
    row.health = st ? st->health : json();
    row.host_config["StoppedByUser"] = false;
    return {};
  }));
  unmount.cancel();
  unplug.cancel();
  e.emit_container(c, "start");
  Explain::step("record container " + store::short_id(id) + " running (pid " + std::to_string(c.pid) + ")");
  // The container may already have exited (a fast command): the monitor's cleanup waits
  // for our lock and reconciles after we release it.
  return {};
}

}  // namespace md::engine
