// A container's mounts, decided once at create: HostConfig.Binds ("-v"), HostConfig.Mounts
// ("--mount"), HostConfig.Tmpfs ("--tmpfs") and the image's/`-v /path` anonymous volumes
// become one list of mount points, stored with the container (HostConfig.MountPoints, our
// own key) and shown by inspect as Docker's top-level "Mounts". Named and anonymous volumes
// are created here (as Docker does at create). Binds: a missing host path is created for
// -v (Docker's legacy behaviour) and refused for --mount type=bind.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "engine/core/engine.h"

namespace md::engine {

// Returns the mount points [{Type, Name, Source, Destination, Mode, RW, Propagation,
// Options}] in the order they are mounted (shallower destinations first). On error, the
// volumes it created are removed again. `created_volumes` receives the names it created.
Result<nlohmann::json> resolve_mount_points(Engine& e, const nlohmann::json& config,
                                            const nlohmann::json& host_config,
                                            std::vector<std::string>& created_volumes);

}  // namespace md::engine
