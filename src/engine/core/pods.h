// Pods, as Podman has them (docs/pods.md): containers that share the network, IPC and UTS
// namespaces of one small infra container, so they reach each other on localhost, see the
// same hostname, and publish ports once, at pod level.
//
// A pod is a row (store/pod_store.h) plus its infra container "<pod id 12>-infra", created
// from `minidocker/pause:latest` (made on demand from the minidocker-pause binary: no
// registry needed). The infra carries the pod's network, published ports and hostname.
// Members are ordinary containers created with `--pod`: their NetworkMode, IpcMode and
// UTSMode are "container:<infra id>", and they carry the label io.minidocker.pod=<pod id>.
// Starting a member starts the infra first; the infra cannot be removed on its own.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "engine/core/engine.h"
#include "engine/store/pod_store.h"

namespace md::engine {

// On every container of a pod (the infra and the members): the pod's id.
inline constexpr const char* kPodLabel = "io.minidocker.pod";
// The infra image, made by the engine from the minidocker-pause binary.
inline constexpr const char* kPauseImage = "minidocker/pause:latest";

struct PodCreateRequest {
  std::string name;  // "" = generated
  std::map<std::string, std::string> labels;
  // Docker's shapes, as `-p` makes them (cli/common/run_flags.h parse_publish):
  // {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]} and {"80/tcp": {}}.
  nlohmann::json port_bindings = nlohmann::json::object();
  nlohmann::json exposed_ports = nlohmann::json::object();
  std::string network;   // "" = the default bridge network; a network name, host or none
  std::string hostname;  // "" = the pod's name (Podman's default)
};

// Creates the row and the infra container (not started). Errors: name in use (EEXIST),
// bad name (EINVAL), unknown network (ENOENT), the infra binary missing (ENOENT).
// Nothing is left on error.
Result<store::Pod> create_pod(Engine& e, const PodCreateRequest& r);

// A pod with its containers, reconciled.
struct PodView {
  store::Pod pod;
  std::optional<store::Container> infra;   // none if it was lost (crash during create/rm)
  std::vector<store::Container> members;   // oldest first, infra excluded
  std::string status;                      // pod_status() of infra + members
};
// ENOENT "no pod with name or ID x found: no such pod".
Result<PodView> get_pod(Engine& e, const std::string& ref);
Result<std::vector<PodView>> list_pods(Engine& e);

// Podman's pod status from its containers' states: Created (none, or none started),
// Running (all running), Degraded (some running), Paused, Exited (all stopped), Stopped
// (some stopped, none running), Error.
std::string pod_status(const std::vector<store::ContainerState>& states);

// `pod inspect`: a subset of Podman's shape (Id, Name, Created, State, Hostname, Labels,
// InfraContainerID, SharedNamespaces, NumContainers, Containers [{Id, Name, State}],
// InfraConfig {PortBindings, HostNetwork, Networks}).
nlohmann::json pod_inspect_json(Engine& e, const PodView& v);

// Infra first, then every member (all are tried; the first error is returned).
Status start_pod(Engine& e, const std::string& ref);
// Members first, then the infra, each with `timeout` (seconds; default: the container's).
Status stop_pod(Engine& e, const std::string& ref, std::optional<int> timeout = std::nullopt);
// Refused (EBUSY) while a container of the pod is up, unless `force` (which kills them).
// Removes the members (and their anonymous volumes), the infra, then the row.
Status remove_pod(Engine& e, const std::string& ref, bool force);

// ---- hooks for create/start/rm of containers
// `run/create --pod P`: checks `body` (ContainerCreate) does not set what the pod owns
// (ports, network, hostname, ipc/uts modes: EINVAL, e.g. "published ports must be defined
// when the pod is created"), then points its network, IPC and UTS modes at the infra and
// labels it. ENOENT for an unknown pod.
Status join_pod(Engine& e, const std::string& pod_ref, nlohmann::json& body);
// Before a container starts: when it is a member of a pod, the infra is started first.
Status start_pod_infra_for(Engine& e, const store::Container& c);
// Before a container is removed: EBUSY when it is the infra of an existing pod.
Status refuse_infra_removal(Engine& e, const std::string& container_id);

// The infra image, imported from the minidocker-pause binary next to the monitor when it
// is not there yet.
Result<store::Image> ensure_pause_image(Engine& e);

}  // namespace md::engine
