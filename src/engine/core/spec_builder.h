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
Result<nlohmann::json> build_oci_spec(const Paths& paths, const store::Container& c);

// Writes <container dir>/{hostname,hosts,resolv.conf} for `c` (from the host's resolver
// configuration, with Docker's fallbacks).
Status write_etc_files(const Paths& paths, const store::Container& c);

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
