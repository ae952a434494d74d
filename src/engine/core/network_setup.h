// A container's networking while it runs (docs/networking.md): what `start` sets up and
// what every way of stopping tears down.
//
// For a container on bridge networks (the default `bridge` or user-defined ones):
//   1. the network's bridge device exists and has the gateway address (created on first
//      use, again after a reboot), with its subnet in our nftables table (egress NAT);
//   2. a network namespace is created and pinned at <run root>/netns/<id>, so it outlives
//      the container's processes across restarts by the monitor, and the runtime joins it;
//   3. one veth pair per network: host end "mdv<endpoint id>" on the bridge, container end
//      eth0, eth1, … with the endpoint's address and MAC; default route via the first
//      non-internal network's gateway;
//   4. published ports (-p, -P): host ports reserved in the state database, DNAT entries in
//      our nftables maps;
//   5. user-defined networks: the network's DNS server learns the container's name, aliases
//      and short id (minidocker-dns, one per network, started on first use).
// Teardown undoes all of it and is idempotent and cheap when there is nothing to undo, so
// it runs on every path where a container stops being up (cleanup, reconcile after a
// crash, rm, a failed start).
//
// Concurrency: the shared pieces (bridges, nftables, DNS files) are changed under the
// root's network lock (flock on <root>/network.lock).
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "engine/core/engine.h"
#include "engine/core/spec_builder.h"

namespace md::engine {

struct ContainerNetwork {
  NamespaceJoin ns;  // what the spec joins (network, and ipc/uts/pid of container: modes)
  EtcNetwork etc;    // what /etc/hosts and resolv.conf say
};

// Everything the container's network and namespace modes need before the runtime starts
// it. On error nothing is left (teardown has run). Errors: a container:<x> mode whose x is
// not running (EINVAL), a port already allocated (EADDRINUSE, Docker's words), netlink or
// nftables failures (with the device or rule named).
Result<ContainerNetwork> setup_container_network(Engine& e, const store::Container& c);

// Undoes setup_container_network (best effort per step, all steps always tried); the first
// error is returned after everything was tried.
Status teardown_container_network(Engine& e, const store::Container& c);

// Waits (bounded) until the host ends of the container's veths are gone: the kernel
// removes them shortly after teardown. `rm` calls it so that no link outlives it.
Status wait_endpoint_links_gone(Engine& e, const store::Container& c);

// Networks (connect/disconnect of a running container): attach or detach one endpoint of a
// container whose netns is pinned. Both under the network lock. detach only unplugs: the
// caller removes the endpoint row, then refreshes the network's DNS.
Status attach_endpoint_live(Engine& e, const store::Container& c, const store::Endpoint& ep);
Status detach_endpoint_live(Engine& e, const store::Container& c, const store::Endpoint& ep);

// Bridge + nftables entries of a network exist (network create, first start).
Status ensure_network_plumbing(Engine& e, const store::Network& n);
// Removes a network's bridge, its nftables entries and its DNS server (network rm/prune).
Status remove_network_plumbing(Engine& e, const store::Network& n);

// Rewrites the DNS names file of a network from the containers that are up on it, and
// starts or stops its DNS server accordingly. Call under the network lock.
Status refresh_network_dns(Engine& e, const store::Network& n);

// The host veth of an endpoint: "mdv" + 12 hex digits of its endpoint id (15 characters,
// IFNAMSIZ - 1).
std::string host_veth_name(const store::Endpoint& ep);

// Docker's port map of a container for inspect: {"80/tcp": [{"HostIp","HostPort"}] or null}.
nlohmann::json container_ports_json(Engine& e, const store::Container& c);

// An exclusive flock on <root>/network.lock for its lifetime.
class NetworkLock {
 public:
  static Result<NetworkLock> acquire(const Paths& p);
  NetworkLock(NetworkLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  NetworkLock(const NetworkLock&) = delete;
  ~NetworkLock();

 private:
  explicit NetworkLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace md::engine
