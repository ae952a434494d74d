// From a container row to the OCI config.json our runtime runs (the bundle lives in the
// container's directory; root.path is its overlay mount).
//
// Docker's defaults, spelled out: its 14 capabilities, its seccomp profile
// (default_seccomp.h), masked and read-only /proc paths, the standard mounts (/proc,
// /dev tmpfs, devpts, /dev/shm 64 MiB, mqueue, read-only sysfs and cgroup), private
// pid/ipc/uts/mount/cgroup namespaces and a network namespace unless --network host,
// /etc/hostname, /etc/hosts and /etc/resolv.conf bind-mounted from files the engine
// writes. The user's flags then change those defaults.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "engine/core/paths.h"
#include "engine/store/container_store.h"

namespace md::engine {

// The config.json for `c`. The rootfs must be mounted at paths.merged(c.id): the user
// given with -u is looked up in its /etc/passwd and /etc/group (inside the rootfs, never
// following a symlink out of it). Errors: unknown user or group (ENOENT, Docker's
// "unable to find user x: no matching entries in passwd file").
// `ns` says which namespaces are joined rather than created (network: the pinned netns of
// a bridge network, or another container's; ipc/uts/pid: container:<x> modes, pods) and
// which are the host's (--network/--ipc/--uts/--pid host).
struct NamespaceJoin {
  std::map<std::string, std::string> paths;  // OCI type ("network", "ipc", …) → /proc/<pid>/ns/… or pinned file
  std::set<std::string> host;                // OCI types shared with the host (no namespace entry)
};
Result<nlohmann::json> build_oci_spec(const Paths& paths, const store::Container& c, const NamespaceJoin& ns = {});

// What the container's /etc/hosts and /etc/resolv.conf say about its networks.
struct EtcNetwork {
  std::vector<std::string> own_addresses;  // "IP" lines for the container's hostname
  std::vector<std::string> nameservers;    // replaces the host's (e.g. the network's DNS server); --dns wins
  std::string copy_from;                   // container:<x> mode: that container's directory (its files are copied)
};
// Writes <container dir>/{hostname,hosts,resolv.conf} for `c` (from the host's resolver
// configuration, with Docker's fallbacks).
Status write_etc_files(const Paths& paths, const store::Container& c, const EtcNetwork& net = {});

// The container's hostname: Config.Hostname, else the 12-character id.
std::string container_hostname(const store::Container& c);

// -u "name[:group]" / "uid[:gid]" looked up in the rootfs's /etc/passwd and /etc/group.
struct ResolvedUser {
  unsigned uid = 0, gid = 0;
  std::vector<unsigned> additional;
};
Result<ResolvedUser> lookup_user(const std::string& rootfs, const std::string& spec,
                                 const nlohmann::json& group_add = nullptr);

// Host's hard limit for an rlimit name ("nofile"), for clamping.
long long host_hard_limit(const std::string& name);

}  // namespace md::engine
