// ChildPlan: everything the cloned container init (or exec'd process) needs, built in
// the parent before clone().
//
// After clone() the child may only do async-signal-safe work (no malloc, no locks, no
// exceptions), so every path, flag, argv/envp array and BPF program is prepared here.
// The child only reads this struct (its copy-on-write image of the parent's memory):
// calling c_str()/size()/operator[] on the containers below never allocates.
#pragma once

#include <linux/filter.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "base/unique_fd.h"

namespace md::runtime {

enum class MountKind {
  kBind,        // bind (or rbind) of a host path
  kFilesystem,  // a fresh filesystem: proc, sysfs, tmpfs, devpts, mqueue, cgroup2, ...
};

struct MountOp {
  MountKind kind = MountKind::kFilesystem;
  std::string source;       // host path (bind) or fs source string
  std::string destination;  // absolute path inside the container
  std::string fstype;
  std::string data;          // fs options not understood as flags ("size=64k,mode=755")
  unsigned long flags = 0;   // MS_* for the initial mount (without propagation)
  unsigned long propagation = 0;  // MS_PRIVATE/MS_SLAVE/... (| MS_REC), applied after
  bool recursive = false;         // rbind
  bool needs_remount = false;     // bind with ro/nosuid/...: a second MS_REMOUNT pass
  bool file_target = false;       // bind of a non-directory: create an empty file
  bool needs_cgroup = false;  // binds the container's cgroup dirs: wait until they exist
};

struct DeviceOp {
  std::string path;  // absolute in the container
  unsigned mode = 0;  // S_IFCHR|0666 ...
  dev_t dev = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  bool bind_from_host = false;  // in a user namespace mknod is not allowed: bind the host node
};

struct SymlinkOp {
  std::string target, path;
};

struct SysctlOp {
  std::string path;  // /proc/sys/net/ipv4/ip_forward
  std::string value;
};

struct JoinNamespace {
  int clone_flag = 0;
  UniqueFd fd;
  std::string path;  // for messages
};

struct RlimitOp {
  int resource = 0;
  unsigned long long soft = 0, hard = 0;
  std::string name;
};

// One hook to fork+exec inside the container (startContainer); prepared argv/envp.
struct PreparedHook {
  std::string path;
  std::vector<std::string> args_storage, env_storage;
  std::vector<char*> argv, envp;
  int timeout_seconds = 0;
};

struct ChildPlan {
  // --- mode ---
  bool is_exec = false;  // joining an existing container (exec) instead of creating one
  bool run_mode = false;  // `run`: the parent sends kStart on the sync socket
  int sync_fd = -1;
  int start_listen_fd = -1;  // create mode: accept() here is the `start` signal
  int explain_fd = -1;        // >= 0 when --explain is on
  long long explain_mark_ns = 0;

  // --- namespaces ---
  std::vector<JoinNamespace> joins;  // user first, then the others
  int unshare_flags = 0;             // new namespaces created after joining (incl. cgroup)
  bool become_root_in_userns = false;  // new user namespace: setresuid(0) once the maps exist

  // --- filesystem ---
  std::string rootfs;  // absolute host path
  unsigned long root_propagation = 0;  // MS_REC|MS_SLAVE by default
  unsigned long root_propagation_after_pivot = 0;  // rootfsPropagation shared/slave/unbindable
  // With a shared "/" the mount holding the rootfs must be made private, or the rootfs
  // bind would be shared and pivot_root refuses it (runc's rootfsParentMountPrivate).
  std::string rootfs_parent_mount;
  bool no_pivot = false;
  bool readonly_root = false;
  std::vector<MountOp> mounts;
  std::vector<DeviceOp> devices;
  std::vector<SymlinkOp> dev_symlinks;
  std::vector<SysctlOp> sysctls;
  std::vector<std::string> masked_paths, readonly_paths;
  bool hooks_before_pivot = false;  // ask the parent to run createRuntime/createContainer

  // --- identity and limits ---
  std::string hostname, domainname;
  bool set_hostname = false, set_domainname = false;
  std::vector<RlimitOp> rlimits;
  long personality = -1;
  int umask = -1;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> additional_gids;

  // --- capabilities (bit masks, 64-bit: caps 0..63) ---
  bool has_caps = false;
  unsigned long long cap_bounding = 0, cap_effective = 0, cap_permitted = 0, cap_inheritable = 0,
                     cap_ambient = 0;
  int last_cap = 40;
  bool no_new_privileges = false;

  // --- seccomp ---
  std::vector<struct sock_filter> seccomp_program;
  unsigned seccomp_flags = 0;
  bool has_seccomp = false;

  // --- terminal ---
  bool terminal = false;
  int console_socket_fd = -1;
  unsigned short console_rows = 0, console_cols = 0;

  // --- process ---
  std::string cwd = "/";
  std::vector<std::string> args_storage, env_storage;
  std::vector<char*> argv, envp;
  // Where to look for argv[0]: the exact path when it has a '/', else each PATH entry
  // joined with argv[0], in order.
  std::vector<std::string> exec_candidates;
  int preserve_fds = 0;
  std::vector<PreparedHook> start_container_hooks;

  // Sets argv/envp pointer arrays from the *_storage vectors (call after filling them).
  void finalize_arrays();
};

// The cloned child's entry point: never returns (execs or _exits).
[[noreturn]] void child_main(const ChildPlan& plan);

}  // namespace md::runtime
