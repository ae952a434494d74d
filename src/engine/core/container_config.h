// From a Docker ContainerCreate body to the container's stored Config and HostConfig.
//
// The body is exactly what POST /containers/create takes (the CLI's run/create flags are
// turned into it by cli/common/run_flags.h), so the CLI and the API server share one
// path. Here the image's config is merged in the way Docker does it (Entrypoint/Cmd
// override rules, Env by key, Labels, WorkingDir, User, StopSignal, Healthcheck) and the
// HostConfig is checked with Docker's messages. Nothing is written: create.cc stores the
// result.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "engine/store/image_store.h"

namespace md::engine {

struct ResolvedConfig {
  nlohmann::json config;       // Docker's Config: Image (as the user gave it), Cmd, Env, …
  nlohmann::json host_config;  // Docker's HostConfig, defaults filled in
};

// Merges `body` (Config fields + "HostConfig") with the image's config JSON.
// Errors (EINVAL, Docker's wording): memory below 6 MB, swap below memory, CPUs out of
// range, unknown restart policy, --rm with a restart policy, an unsupported network mode,
// no command at all ("no command specified").
Result<ResolvedConfig> resolve_config(const nlohmann::json& body, const store::Image& image);

// "always", "on-failure:3", …  from HostConfig.RestartPolicy; "no" when none.
std::string restart_policy_string(const nlohmann::json& host_config);

// Number of CPUs the host has (for Docker's "Range of CPUs" check).
int host_cpu_count();

}  // namespace md::engine
