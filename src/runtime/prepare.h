// Turns a validated oci::Spec into everything `create` needs: the ChildPlan for the
// cloned init and the parent-side steps (clone flags, id maps, cgroup, hooks).
//
// All validation that can happen before clone() happens here, so a bad config fails
// with a message naming the field before anything is created.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "oci/spec.h"
#include "runtime/child_plan.h"

namespace md::runtime {

struct PrepareOptions {
  std::string bundle;  // absolute
  bool no_pivot = false;
  int preserve_fds = 0;
  bool has_console_socket = false;
  std::string seccomp_cache_dir;  // empty: no cache
};

struct PreparedContainer {
  ChildPlan plan;
  int clone_flags = 0;            // CLONE_NEW* given to clone() itself
  UniqueFd join_pid_ns;           // setns in the parent before clone (pid_for_children)
  UniqueFd join_time_ns;          // likewise for a time namespace given by path
  bool new_time_ns = false;       // unshare(CLONE_NEWTIME) in the parent before clone
  std::vector<oci::IdMapping> uid_mappings, gid_mappings;
  std::optional<int> oom_score_adj;
  std::string cgroup_path;
  bool own_pid_namespace = true;
};

// (hierarchy name, host directory) of the container's cgroup in every hierarchy, as
// cgroups::Cgroup::mount_sources() will report once it exists: `cgroup` mounts bind these.
using CgroupMountSources = std::vector<std::pair<std::string, std::string>>;
Result<CgroupMountSources> cgroup_mount_sources(const std::string& cgroup_path);

// Builds the plan for creating a container. The cgroup does not have to exist yet: the
// child waits for kCgroupJoined before its first `cgroup` mount.
Result<PreparedContainer> prepare_container(const oci::Spec& spec, const PrepareOptions& opts,
                                            const CgroupMountSources& cgroup_mounts);

// Fills the process part of a plan (args, env, user, caps, rlimits, seccomp, cwd).
// Shared by create and exec.
md::Status prepare_process(const oci::Process& process, const oci::Spec& spec, ChildPlan& plan,
                           const std::string& seccomp_cache_dir);

// The cgroupsPath to use: the spec's, or "/minidocker-<id>" when it has none.
std::string cgroup_path_for(const oci::Spec& spec, const std::string& id);

// Device cgroup rules: the spec's, plus allow rules for its devices and the default set.
oci::Resources effective_resources(const oci::Spec& spec);

}  // namespace md::runtime
