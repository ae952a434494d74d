// Named volumes: directories under <root>/volumes/<name>/_data, with their metadata in
// <root>/volumes/<name>/volume.json ({Name, CreatedAt, Labels, Driver: local, Options}).
// No table: a volume is its directory, so a crash can never leave a row without files.
// Creating a volume that exists returns it (Docker's behaviour). A volume is in use while
// a container's MountPoints name it; rm refuses then unless forced.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "engine/core/engine.h"

namespace md::engine {

struct VolumeCreate {
  std::string name;  // "" = 64 random hex (an anonymous volume)
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> options;
  bool anonymous = false;
};

// Docker's `volume inspect` JSON of the volume (Mountpoint, Scope "local", …).
Result<nlohmann::json> create_volume(Engine& e, const VolumeCreate& v);
Result<nlohmann::json> inspect_volume(Engine& e, const std::string& name);
Result<std::vector<nlohmann::json>> list_volumes(Engine& e);
// Names of the containers that mount the volume.
Result<std::vector<std::string>> volume_users(Engine& e, const std::string& name);
// EBUSY "remove web-data: volume is in use - [3f2a1b4c5d6e]" unless force.
Status remove_volume(Engine& e, const std::string& name, bool force);
// Removes unused volumes (anonymous ones only unless `all`, as Docker 23+); returns names.
Result<std::vector<std::string>> prune_volumes(Engine& e, bool all, int64_t* reclaimed);
bool is_valid_volume_name(const std::string& name);

}  // namespace md::engine
