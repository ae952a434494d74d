// Container operations: what `minidocker run/create/start/stop/kill/pause/rm/wait/…` do.
// Every function takes a reference (id, unique id prefix or name), takes the container's
// lock for its whole duration, reconciles the row first and leaves nothing half-done on
// error (a failed create leaves no row, directory or volume; a failed start no mount and
// no monitor). Events are appended as Docker emits them.
#pragma once

#include <chrono>
#include <functional>
#include <vector>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "engine/core/engine.h"
#include "engine/core/monitor_client.h"

namespace md::engine {

// --- create / start
struct CreateRequest {
  nlohmann::json body;  // Docker's ContainerCreate body (Image, Cmd, …, HostConfig)
  std::string name;     // "" = generated
  std::string pod;      // `--pod`: join that pod's namespaces (pods.h join_pod); "" = none
};
// Errors: no such image (ENOENT: "No such image: x:latest"), name in use (EEXIST), bad
// config (EINVAL, Docker's words).
Result<store::Container> create_container(Engine& e, const CreateRequest& r);

// Start: mount the rootfs, write config.json and the /etc files, spawn the monitor and
// wait for the container to be running. Starting a running container does nothing.
// Failure to execute the container's command is reported with errno ENOENT (→ 127) or
// EACCES (→ 126), and leaves the container "created" with that exit code, as Docker does.
Status start_container(Engine& e, const std::string& ref, const MonitorStart& o = {});

// --- stop / kill / pause
// Stop signal (the container's StopSignal or SIGTERM), wait `timeout` seconds (default:
// the container's StopTimeout or 10), then SIGKILL. No restart afterwards. Stopping a
// stopped container is not an error.
Status stop_container(Engine& e, const std::string& ref, std::optional<int> timeout = std::nullopt,
                      const std::string& signal = "");
// Errors: not running (EINVAL "container 3f2a… is not running").
Status kill_container(Engine& e, const std::string& ref, const std::string& signal = "KILL");
Status pause_container(Engine& e, const std::string& ref);
Status unpause_container(Engine& e, const std::string& ref);
Status restart_container(Engine& e, const std::string& ref, std::optional<int> timeout = std::nullopt);

// --- rm
// Refused for a running container unless force (which kills it first). `volumes` also
// removes its anonymous volumes.
Status remove_container(Engine& e, const std::string& ref, bool force, bool volumes);

// --- wait
enum class WaitCondition { kNotRunning, kNextExit, kRemoved };
// The exit code once the condition holds.
Result<int> wait_container(Engine& e, const std::string& ref, WaitCondition cond = WaitCondition::kNotRunning);

// --- bookkeeping
// Brings the row of `id` in line with its monitor and processes (see reconcile.cc) and
// returns it; ENOENT when it was removed (e.g. --rm after exit).
Result<store::Container> reconcile_container(Engine& e, const std::string& id);
// reconcile_container for every container that is not at rest (cheap for the others).
Status reconcile_all(Engine& e);
// What the monitor's exit command runs: reconcile, unmount, --rm.
Status cleanup_container(Engine& e, const std::string& id);

// After a reboot (or whenever containers that should be running are not): starts every
// container whose restart policy is `always`, and `unless-stopped` ones the user did not
// stop, like dockerd does when it starts. Returns the ids started; failures are reported
// through `on_error` and do not stop the others. See docs/engine.md ("After a reboot").
Result<std::vector<std::string>> boot_containers(Engine& e,
                                                 const std::function<void(const std::string&, const Error&)>& on_error);

// Rename (Docker: names stay unique).
Status rename_container(Engine& e, const std::string& ref, const std::string& new_name);

// Row → Docker's `docker inspect` JSON.
nlohmann::json inspect_json(Engine& e, const store::Container& c);
// The status column of `docker ps`: "Up 5 seconds", "Exited (0) 3 minutes ago", …
std::string status_text(const store::Container& c, int64_t now_ns);

// Unix ns → "2026-11-23T19:14:15.473689359Z" (Go's RFC3339Nano), "0001-01-01T00:00:00Z" for 0.
std::string rfc3339_nano(int64_t ns);

// The state `c` is in, reconciled, for code that already holds the lock.
Result<store::Container> refresh_locked(Engine& e, const std::string& id);

}  // namespace md::engine
