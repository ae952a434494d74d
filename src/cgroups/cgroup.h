// Cgroups for one container: create, limit, join, freeze, kill, remove.
//
// Works on cgroup v1 (one hierarchy per controller, e.g. /sys/fs/cgroup/memory), v2 (one
// unified tree at /sys/fs/cgroup) and hybrid (v1 controllers plus a cgroup2 mount at
// /sys/fs/cgroup/unified), detected at run time from /proc/self/mountinfo. Each resource is
// written to whichever hierarchy holds its controller, so hybrid needs no special case:
// on a hybrid host memory goes to the v1 memory hierarchy, hugetlb (if only cgroup2 has it)
// to the unified one. See docs/cgroups.md for the files written per resource.
//
// Errors: every function returns Result/Status. A failed write names the file and the value:
// `cgroup: write 5000000 to memory.limit_in_bytes: device or resource busy`. With --explain,
// every write is logged as `cgroup write <absolute path> = <value>`.
//
// Thread-safety: a Cgroup is not thread-safe; distinct Cgroups may be used from different
// threads. host_hierarchies() is safe to call from any thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "oci/spec.h"

namespace md::cgroups {

enum class Layout { kV1, kV2, kHybrid };
const char* layout_name(Layout l);  // "v1", "v2", "hybrid"

// One mounted cgroup hierarchy.
struct Hierarchy {
  std::string mount_point;               // absolute, e.g. "/sys/fs/cgroup/cpu,cpuacct"
  std::string name;                      // mount point relative to the cgroup root:
                                         // "memory", "cpu,cpuacct", "systemd", "unified", ""
  std::vector<std::string> controllers;  // v1: from mount options ("cpu", "cpuacct",
                                         // "name=systemd"); v2: the root's cgroup.controllers
  bool v2 = false;
  std::string mount_options;  // the superblock options, e.g. "rw,cpu,cpuacct"
};

// Parses mountinfo and returns every cgroup/cgroup2 mount at or below `root`, one per
// hierarchy (bind mounts of the same hierarchy are dropped), in mountinfo order. For v2 it
// reads <mount>/cgroup.controllers. `root` is configurable so unit tests can describe a
// fake tree in a temp dir. Fails when the file cannot be read or no hierarchy is found.
Result<std::vector<Hierarchy>> detect_hierarchies(
    const std::string& mountinfo_path = "/proc/self/mountinfo",
    const std::string& root = "/sys/fs/cgroup");

// detect_hierarchies() with the defaults, computed once per process and cached (the start
// path must not re-read mountinfo). The pointer stays valid for the life of the process.
Result<const std::vector<Hierarchy>*> host_hierarchies();

// kV2: a single cgroup2 hierarchy; kV1: only v1 ones; kHybrid: both.
Layout layout_of(const std::vector<Hierarchy>& hierarchies);

// Usage numbers for `stats`; a field is nullopt when the host lacks the file.
struct Stats {
  std::optional<uint64_t> memory_usage;  // bytes
  std::optional<uint64_t> memory_limit;  // bytes; nullopt when unlimited
  std::optional<uint64_t> cpu_usage_ns;
  std::optional<uint64_t> pids_current;
  std::optional<uint64_t> pids_limit;  // nullopt when unlimited
};

// The container's cgroup: one directory per hierarchy, all named by the same path.
// Movable, not copyable. Holds an open fd per directory (writes go through openat).
// The destructor closes the fds and does NOT remove the cgroup: the container outlives the
// runtime process; call destroy() for that.
class Cgroup {
 public:
  // Creates the cgroup (mkdir -p in every hierarchy) and applies `resources` (may be null).
  // `path` is the OCI cgroupsPath, e.g. "/minidocker/abc"; relative paths are also taken
  // relative to each hierarchy's root. ".." components are refused.
  //  - v1: a directory in every hierarchy, including name=systemd; in the cpuset hierarchy
  //    a level with empty cpuset.cpus/mems gets its parent's (empty ones refuse tasks).
  //  - v2: each parent's cgroup.subtree_control enables the controllers the child needs
  //    (all available ones on a pure v2 host, those `resources` use on a hybrid host).
  // An existing directory is reused. On failure, every directory this call created is
  // removed again: nothing is left half-created.
  static Result<Cgroup> create(const std::string& path, const oci::Resources* resources);
  static Result<Cgroup> create(const std::string& path, const oci::Resources* resources,
                               const std::vector<Hierarchy>& hierarchies);
  // An existing cgroup (for update/pause/kill/delete). Hierarchies where the directory is
  // missing are skipped, so a half-removed cgroup can still be destroyed; fails (ENOENT)
  // when it exists in none.
  static Result<Cgroup> open(const std::string& path);
  static Result<Cgroup> open(const std::string& path, const std::vector<Hierarchy>& hierarchies);

  Cgroup(Cgroup&&) noexcept;
  Cgroup& operator=(Cgroup&&) noexcept;
  ~Cgroup();

  // Moves `pid` (all its threads) in: cgroup.procs of every hierarchy.
  Status add_process(pid_t pid);
  // Writes the limits that `r` sets (only those: unset fields are not touched). Used by
  // create() and by `update`. A resource whose controller is not mounted is an error.
  Status apply(const oci::Resources& r);

  // v1: freezer.state FROZEN, waiting until it reads FROZEN; v2: cgroup.freeze = 1, waiting
  // for "frozen 1" in cgroup.events. Times out after ~2 s (thawing again) with an error.
  Status freeze();
  Status thaw();
  Result<bool> is_frozen() const;

  // Every process in the cgroup and its sub-cgroups (cgroup.procs), sorted, no duplicates.
  Result<std::vector<pid_t>> pids() const;
  // Sends `signal` to every process. SIGKILL with cgroup2 present: cgroup.kill. Otherwise
  // freeze (when a freezer exists), signal each pid (ESRCH ignored), thaw.
  Status kill_all(int signal);
  // Removes the cgroup: its sub-cgroups, the leaf, and (for a Cgroup from create()) the
  // parents that create() made, leaf first; a parent still in use by others is kept.
  // Retries briefly on EBUSY while tasks exit. A directory already gone is fine.
  Status destroy();

  // (hierarchy name, absolute host directory of this cgroup) for every hierarchy, e.g.
  // ("memory", "/sys/fs/cgroup/memory/minidocker/abc"), ("cpu,cpuacct", ...), ("unified",
  // ...) on hybrid, ("", ...) on v2. Used to build /sys/fs/cgroup inside the container.
  std::vector<std::pair<std::string, std::string>> mount_sources() const;

  // Usage numbers from whichever hierarchy holds each controller.
  Result<Stats> stats() const;

  // An O_DIRECTORY fd of the cgroup on a pure v2 host (for clone3 CLONE_INTO_CGROUP),
  // else -1. Owned by this Cgroup.
  int v2_fd() const;

  Layout layout() const { return layout_; }
  const std::string& path() const { return path_; }

  struct Node;  // the cgroup in one hierarchy (defined in cgroup_internal.h)

 private:
  Cgroup();
  Status apply_resources(const oci::Resources& r, bool creating);
  Node* node_for(const char* controller);
  const Node* node_for(const char* controller) const;
  const Node* primary() const;
  Node* v2_node();

  std::string path_;  // normalized, starts with "/"
  Layout layout_ = Layout::kV2;
  std::vector<Node> nodes_;
};

// cgroup v2 cpu.weight for OCI/v1 cpu.shares: 1 + ((shares - 2) * 9999) / 262142,
// shares clamped to [2, 262144]. 1024 shares -> weight 39 (v2 default is 100).
uint64_t shares_to_weight(uint64_t shares);
// cgroup v2 io.weight for a v1 blkio weight (10..1000 -> 1..10000).
uint64_t blkio_weight_to_io_weight(uint64_t weight);

}  // namespace md::cgroups
