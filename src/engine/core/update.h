// `docker update`: change a container's resource limits (and restart policy).
//
// The new values are checked with Docker's rules and messages, merged into the row's
// HostConfig the way Docker merges them (a field left at 0 / unset keeps its value), and:
//   - for a running or paused container, written to its cgroup at once (the runtime's
//     update, i.e. the cgroup files of docs/cgroups.md), and into the bundle's
//     config.json so a restart by the monitor (restart policy) keeps them;
//   - for any container, stored in the row, so the next `start` uses them.
// Nothing is stored when the live update fails.
//
// The restart policy is stored only: the monitor of a running container was given its
// policy when it started, so a new policy takes effect at the next start (Docker applies
// it at once; docs/cli.md says so).
//
// Memory swap: Docker fills MemorySwap = 2 × Memory at create time; we store 0 and derive
// 2 × Memory when the container starts. So `update -m` on a container whose swap was left
// at its default moves the swap limit with it (2 × the new limit), while an explicit
// --memory-swap is kept and must stay ≥ the memory limit (Docker's error otherwise).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "engine/core/engine.h"

namespace md::engine {

// The Engine API's ContainerUpdate body (Resources + RestartPolicy), Docker's meaning:
// an absent (or 0) number changes nothing; PidsLimit present changes it (≤ 0: unlimited).
struct UpdateRequest {
  int64_t memory = 0, memory_swap = 0, memory_reservation = 0;
  int64_t nano_cpus = 0, cpu_shares = 0, cpu_quota = 0, cpu_period = 0;
  std::string cpuset_cpus, cpuset_mems;
  std::optional<int64_t> pids_limit;
  std::optional<nlohmann::json> restart_policy;  // {"Name": "...", "MaximumRetryCount": n}
};

// From POST /containers/{id}/update's body. EINVAL for a field of the wrong type.
Result<UpdateRequest> parse_update_body(const nlohmann::json& body);

// Applies `r` to the container `ref`. Returns Docker's warnings (none today).
// Errors (Docker's words): "Minimum memory limit allowed is 6MB", "Conflicting options: …",
// "Cannot update container <id>: Memory limit should be smaller than already set memoryswap
// limit, update the memoryswap at the same time", "Range of CPUs is from 0.01 to …",
// no such container (ENOENT).
Result<std::vector<std::string>> update_container(Engine& e, const std::string& ref, const UpdateRequest& r);

// ---- pure pieces (unit-tested)
// Checks `r` on its own (Docker's verifyContainerSettings in update mode). `cpus` is the
// host's CPU count, `online` its online CPU list ("0-3").
Status validate_update(const UpdateRequest& r, int cpus, const std::string& online);
// Docker's Container.UpdateContainer: merges `r` into `host_config` (in place). Errors
// are the conflicts Docker reports ("Conflicting options: Nano CPUs cannot be updated as
// CPU Period has already been set", the memoryswap one, AutoRemove with a restart policy).
Status merge_update(nlohmann::json& host_config, const UpdateRequest& r);
// "0-2,4" → {0,1,2,4}; nullopt when malformed.
std::optional<std::vector<int>> parse_cpu_list(const std::string& s);

}  // namespace md::engine
