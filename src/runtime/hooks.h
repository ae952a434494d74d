// OCI hooks run by the runtime (parent side): prestart, createRuntime, createContainer,
// poststart, poststop. Each hook gets the container state JSON on stdin; a timeout kills it.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "oci/spec.h"

namespace md::runtime {

// Runs hooks in order. With enter_pid > 0 each hook first joins that process's
// namespaces (createContainer: "in the container namespace"). Stops at the first
// failure: "<kind> hook #<i> (<path>) failed: exit status 3".
Status run_hooks(const std::vector<oci::Hook>& hooks, const char* kind, const nlohmann::json& state,
                 pid_t enter_pid = 0);
// Parses the "hooks" object stored in state (config.json) back for poststart/poststop.
std::vector<oci::Hook> hooks_from_config(const nlohmann::json& config, const char* kind);

}  // namespace md::runtime
