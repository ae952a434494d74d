// Networks as Docker users know them: `network create/ls/inspect/rm/prune/connect/
// disconnect` (docs/networking.md). Three built-in networks exist in every root, as in
// Docker: `bridge` (the default: device and subnet from daemon.json, see
// network_config.h; no name resolution), `host` and `none`. User-defined networks are
// bridges named "md-<12 hex of the id>" with a subnet of their own and name resolution.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "engine/core/engine.h"
#include "engine/core/system.h"

namespace md::engine {

// bridge, host or none: they cannot be removed, and exist in every root.
bool is_builtin_network(const std::string& name);

// Creates the rows of bridge/host/none when missing (cheap when present).
Status ensure_builtin_networks(Engine& e);

struct NetworkCreateRequest {
  std::string name;
  std::string driver = "bridge";  // only "bridge" can be created
  std::string subnet;             // "" = the next free subnet of the address pools
  std::string gateway;            // "" = the subnet's first address
  bool internal = false;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> options;  // com.docker.network.bridge.name is honoured
};
// Errors: name in use (EEXIST), bad or overlapping subnet/gateway (EINVAL, Docker's
// "Pool overlaps with other one on this address space"), unsupported driver (EINVAL).
// The bridge is made at once, so a failure there leaves no row.
Result<store::Network> create_network(Engine& e, const NetworkCreateRequest& r);

// Refused for built-in networks (EPERM) and while containers are attached (EBUSY).
Status remove_network(Engine& e, const std::string& ref);
// Removes every user-defined network no container (in any state) is attached to that
// matches Docker's prune filter (until=, label=, label!=); returns their names, sorted.
Result<std::vector<std::string>> prune_networks(Engine& e, const PruneFilter& f = {});

// Docker's NetworkResource JSON (network inspect and GET /networks), with its containers.
nlohmann::json network_json(Engine& e, const store::Network& n, bool with_containers = true);

// Resolves a network for a container at create time: "default"/"" → bridge. ENOENT
// "network x not found".
Result<store::Network> network_for_mode(Engine& e, const std::string& mode);

// Attach a container (any state) to a network: allocates its address, and plugs it in
// at once when it runs. Errors: already attached (EEXIST), host/none/container: mode
// containers (EINVAL), a user network and a built-in one mixed (EINVAL, Docker's words).
Status connect_network(Engine& e, const std::string& network_ref, const std::string& container_ref,
                       const std::vector<std::string>& aliases, const std::string& ip);
Status disconnect_network(Engine& e, const std::string& network_ref, const std::string& container_ref, bool force);

// The container's endpoints at create: NetworkMode plus NetworkingConfig.EndpointsConfig.
// On error nothing is allocated.
Status allocate_container_endpoints(Engine& e, const store::Container& c, const nlohmann::json& endpoints_config);

// NetworkSettings of `docker inspect` for a container.
nlohmann::json network_settings_json(Engine& e, const store::Container& c);

}  // namespace md::engine
