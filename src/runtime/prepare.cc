#include "runtime/prepare.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <set>

#include "base/explain.h"
#include "base/file_util.h"
#include "cgroups/cgroup.h"
#include "oci/capabilities.h"
#include "runtime/mount_options.h"
#include "runtime/seccomp_compiler.h"

namespace md::runtime {

namespace {

struct DefaultDevice {
  const char* path;
  int major, minor;
};
// The devices every container gets (runtime-spec "Default Devices").
constexpr DefaultDevice kDefaultDevices[] = {
    {"/dev/null", 1, 3}, {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
    {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

const std::set<std::string>& kernel_filesystems() {
  static std::set<std::string> fs = [] {
    std::set<std::string> out;
    auto text = read_file("/proc/filesystems");
    if (!text) return out;
    size_t pos = 0;
    while (pos < text->size()) {
      size_t nl = text->find('\n', pos);
      if (nl == std::string::npos) nl = text->size();
      std::string line = text->substr(pos, nl - pos);
      size_t tab = line.rfind('\t');
      out.insert(tab == std::string::npos ? line : line.substr(tab + 1));
      pos = nl + 1;
    }
    return out;
  }();
  return fs;
}

unsigned long long cap_mask(const std::vector<int>& caps) {
  unsigned long long m = 0;
  for (int c : caps)
    if (c >= 0 && c < 64) m |= 1ULL << c;
  return m;
}

std::string mounts_where(size_t i) { return "mounts[" + std::to_string(i) + "]"; }

md::Status add_mount(const oci::Mount& m, size_t index, const PrepareOptions& opts,
                     const CgroupMountSources& cgroup_mounts, PreparedContainer& out) {
  auto parsed = parse_mount_options(m.options);
  std::string where = mounts_where(index);
  bool bind = parsed.bind || m.type == "bind" || m.type == "rbind";
  if (m.type == "rbind") parsed.recursive = true;
  if (bind) {
    MountOp op;
    op.kind = MountKind::kBind;
    op.source = m.source;
    if (op.source.empty()) return fail(where + ".source: a bind mount needs a source", EINVAL);
    if (op.source[0] != '/') op.source = join_path(opts.bundle, op.source);
    struct stat st;
    if (::stat(op.source.c_str(), &st) != 0)
      return fail_errno(where + ".source: cannot bind mount \"" + m.source + "\"");
    op.file_target = !S_ISDIR(st.st_mode);
    op.destination = m.destination;
    op.recursive = parsed.recursive;
    op.flags = parsed.flags;
    op.needs_remount = parsed.flags != 0;
    op.propagation = parsed.propagation;
    out.plan.mounts.push_back(std::move(op));
    return {};
  }
  if (m.type.empty()) return fail(where + ".type: a mount needs a type (or the bind option)", EINVAL);
  if (m.type == "cgroup" || m.type == "cgroup2") {
    const auto& sources = cgroup_mounts;
    if (sources.empty()) return {};
    unsigned long ro = parsed.flags & MS_RDONLY;
    unsigned long bind_flags = parsed.flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
    bool single = sources.size() == 1 && sources[0].first.empty();
    if (single) {  // pure v2: the container's own cgroup becomes /sys/fs/cgroup
      MountOp op;
      op.kind = MountKind::kBind;
      op.source = sources[0].second;
      op.destination = m.destination;
      op.recursive = true;
      op.flags = bind_flags;
      op.needs_remount = bind_flags != 0;
      op.needs_cgroup = true;
      out.plan.mounts.push_back(std::move(op));
      return {};
    }
    // v1 / hybrid: a tmpfs holding one bind per hierarchy, as runc lays it out.
    MountOp tmpfs;
    tmpfs.kind = MountKind::kFilesystem;
    tmpfs.source = "tmpfs";
    tmpfs.fstype = "tmpfs";
    tmpfs.destination = m.destination;
    tmpfs.flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    tmpfs.data = "mode=755";
    out.plan.mounts.push_back(std::move(tmpfs));
    for (auto& [name, host_dir] : sources) {
      MountOp op;
      op.kind = MountKind::kBind;
      op.source = host_dir;
      op.destination = join_path(m.destination, name.empty() ? "unified" : name);
      op.flags = bind_flags | ro;
      op.needs_remount = op.flags != 0;
      op.needs_cgroup = true;
      out.plan.mounts.push_back(std::move(op));
    }
    return {};
  }
  if (!kernel_filesystems().count(m.type))
    return fail(where + ".type: unknown mount type \"" + m.type + "\" (not in /proc/filesystems)", EINVAL);
  MountOp op;
  op.kind = MountKind::kFilesystem;
  op.source = m.source.empty() ? m.type : m.source;
  op.fstype = m.type;
  op.destination = m.destination;
  op.flags = parsed.flags;
  op.data = parsed.data;
  op.propagation = parsed.propagation;
  out.plan.mounts.push_back(std::move(op));
  return {};
}

std::string parent_directory(const std::string& path) {
  char resolved[PATH_MAX];
  std::string p = ::realpath(path.c_str(), resolved) ? std::string(resolved) : path;
  size_t slash = p.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : p.substr(0, slash);
}

// The mount point (from /proc/self/mountinfo) that holds `dir`: the longest prefix.
std::string mount_point_of(const std::string& dir) {
  auto text = read_file("/proc/self/mountinfo");
  std::string best = "/";
  if (!text) return best;
  size_t pos = 0;
  while (pos < text->size()) {
    size_t nl = text->find('\n', pos);
    if (nl == std::string::npos) nl = text->size();
    std::string line = text->substr(pos, nl - pos);
    pos = nl + 1;
    // fields: id parent major:minor root mount_point ...
    size_t f = 0;
    for (int i = 0; i < 4 && f != std::string::npos; ++i) f = line.find(' ', f + 1);
    if (f == std::string::npos) continue;
    size_t end = line.find(' ', f + 1);
    std::string mp = line.substr(f + 1, end - f - 1);
    std::string decoded;
    for (size_t i = 0; i < mp.size(); ++i) {  // octal escapes: \040 is a space
      if (mp[i] == '\\' && i + 3 < mp.size() + 0) {
        decoded += static_cast<char>(std::stoi(mp.substr(i + 1, 3), nullptr, 8));
        i += 3;
      } else {
        decoded += mp[i];
      }
    }
    bool prefix = dir == decoded || (dir.rfind(decoded, 0) == 0 && (decoded == "/" || dir[decoded.size()] == '/'));
    if (prefix && decoded.size() >= best.size()) best = decoded;
  }
  return best;
}

bool is_host_namespace(const oci::Linux& lx, oci::NamespaceType t) {
  const oci::Namespace* ns = lx.find_namespace(t);
  if (!ns) return true;
  if (ns->path.empty()) return false;
  struct stat theirs, ours;
  std::string own = std::string("/proc/self/ns/") + oci::namespace_proc_name(t);
  return ::stat(ns->path.c_str(), &theirs) == 0 && ::stat(own.c_str(), &ours) == 0 && theirs.st_ino == ours.st_ino &&
         theirs.st_dev == ours.st_dev;
}

// A sysctl is only allowed when it belongs to a namespace the container does not
// share with the host; otherwise writing it would change the host (runc's rule).
md::Status validate_sysctl(const std::string& raw_key, const oci::Linux& lx) {
  if (raw_key.empty() || raw_key.find("..") != std::string::npos || raw_key[0] == '/' || raw_key[0] == '.')
    return fail("linux.sysctl: invalid key \"" + raw_key + "\"", EINVAL);
  std::string key = raw_key;
  for (auto& c : key)
    if (c == '/') c = '.';
  static const char* kIpc[] = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                               "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
  for (auto* k : kIpc)
    if (key == k) {
      if (is_host_namespace(lx, oci::NamespaceType::kIpc))
        return fail("linux.sysctl: \"" + raw_key + "\" needs a new ipc namespace (it would change the host)", EINVAL);
      return {};
    }
  if (key.rfind("fs.mqueue.", 0) == 0) {
    if (is_host_namespace(lx, oci::NamespaceType::kIpc))
      return fail("linux.sysctl: \"" + raw_key + "\" needs a new ipc namespace (it would change the host)", EINVAL);
    return {};
  }
  if (key.rfind("net.", 0) == 0) {
    if (is_host_namespace(lx, oci::NamespaceType::kNetwork))
      return fail("linux.sysctl: \"" + raw_key + "\" needs a new network namespace (it would change the host)", EINVAL);
    return {};
  }
  if (key == "kernel.hostname" || key == "kernel.domainname") {
    if (is_host_namespace(lx, oci::NamespaceType::kUts))
      return fail("linux.sysctl: \"" + raw_key + "\" needs a new uts namespace (it would change the host)", EINVAL);
    return {};
  }
  return fail("linux.sysctl: \"" + raw_key + "\" is not namespaced: setting it would change the host", EINVAL);
}

}  // namespace

Result<CgroupMountSources> cgroup_mount_sources(const std::string& cgroup_path) {
  auto hierarchies = TRY(cgroups::host_hierarchies());
  CgroupMountSources out;
  for (const auto& h : *hierarchies) out.emplace_back(h.name, join_path(h.mount_point, cgroup_path));
  return out;
}

std::string cgroup_path_for(const oci::Spec& spec, const std::string& id) {
  if (spec.linux && spec.linux->cgroups_path && !spec.linux->cgroups_path->empty())
    return *spec.linux->cgroups_path;
  // Flat, not /minidocker/<id>: a shared parent would be created and removed again
  // around every `run` (20 extra cgroup mkdir/rmdir on a v1 host).
  return "/minidocker-" + id;
}

oci::Resources effective_resources(const oci::Spec& spec) {
  oci::Resources r;
  if (spec.linux && spec.linux->resources) r = *spec.linux->resources;
  if (r.devices.empty()) return r;  // no device rules asked for: leave the controller alone
  auto allow = [&](char type, int64_t major, int64_t minor, const char* access) {
    oci::DeviceCgroupRule rule;
    rule.allow = true;
    rule.type = type;
    rule.major = major;
    rule.minor = minor;
    rule.access = access;
    r.devices.push_back(rule);
  };
  // As runc: linux.devices only creates nodes; access to them is what resources.devices
  // grants. The default devices are always allowed.
  for (auto& d : kDefaultDevices) allow('c', d.major, d.minor, "rwm");
  allow('c', 5, 2, "rwm");    // /dev/ptmx
  allow('c', 136, -1, "rwm");  // /dev/pts/*
  r.devices.back().minor.reset();
  return r;
}

md::Status prepare_process(const oci::Process& process, const oci::Spec& spec, ChildPlan& plan,
                           const std::string& seccomp_cache_dir) {
  plan.args_storage = process.args;
  plan.env_storage = process.env;
  plan.finalize_arrays();
  plan.cwd = process.cwd;
  plan.uid = process.user.uid;
  plan.gid = process.user.gid;
  plan.additional_gids.assign(process.user.additional_gids.begin(), process.user.additional_gids.end());
  plan.umask = process.user.umask ? static_cast<int>(*process.user.umask) : -1;
  plan.no_new_privileges = process.no_new_privileges;
  plan.terminal = process.terminal;
  plan.console_rows = static_cast<unsigned short>(process.console_height);
  plan.console_cols = static_cast<unsigned short>(process.console_width);
  if (process.capabilities) {
    plan.has_caps = true;
    plan.cap_bounding = cap_mask(process.capabilities->bounding);
    plan.cap_effective = cap_mask(process.capabilities->effective);
    plan.cap_permitted = cap_mask(process.capabilities->permitted);
    plan.cap_inheritable = cap_mask(process.capabilities->inheritable);
    plan.cap_ambient = cap_mask(process.capabilities->ambient);
    plan.last_cap = oci::last_capability();
  }
  plan.rlimits.clear();
  for (const auto& r : process.rlimits) plan.rlimits.push_back({r.resource, r.soft, r.hard, r.type});
  // The executable: exact path, or every $PATH entry of the process env.
  plan.exec_candidates.clear();
  const std::string& arg0 = process.args[0];
  if (arg0.find('/') != std::string::npos) {
    plan.exec_candidates.push_back(arg0[0] == '/' ? arg0 : join_path(process.cwd, arg0));
  } else {
    std::string path_var = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (auto& e : process.env)
      if (e.rfind("PATH=", 0) == 0) path_var = e.substr(5);
    size_t pos = 0;
    while (pos <= path_var.size()) {
      size_t colon = path_var.find(':', pos);
      if (colon == std::string::npos) colon = path_var.size();
      std::string dir = path_var.substr(pos, colon - pos);
      if (dir.empty()) dir = ".";
      plan.exec_candidates.push_back(join_path(dir, arg0));
      pos = colon + 1;
    }
  }
  if (spec.linux && spec.linux->seccomp) {
    auto compiled = TRY(seccomp_cache_dir.empty() ? compile_seccomp(*spec.linux->seccomp)
                                                  : compile_seccomp_cached(*spec.linux->seccomp, seccomp_cache_dir));
    plan.seccomp_program = std::move(compiled.program);
    plan.seccomp_flags = compiled.flags;
    plan.has_seccomp = true;
    Explain::step("seccomp: compiled " + std::to_string(compiled.rule_count) + " rules into " +
                  std::to_string(plan.seccomp_program.size()) + " BPF instructions");
  }
  return {};
}

Result<PreparedContainer> prepare_container(const oci::Spec& spec, const PrepareOptions& opts,
                                            const CgroupMountSources& cgroup_mounts) {
  PreparedContainer out;
  ChildPlan& plan = out.plan;
  if (!spec.process) return fail("process: required to create a container", EINVAL);
  plan.rootfs = spec.root_path[0] == '/' ? spec.root_path : join_path(opts.bundle, spec.root_path);
  if (!is_directory(plan.rootfs))
    return fail("root.path: rootfs \"" + plan.rootfs + "\" does not exist or is not a directory", ENOENT);
  plan.readonly_root = spec.root_readonly;
  plan.no_pivot = opts.no_pivot;
  plan.preserve_fds = opts.preserve_fds;
  if (spec.process->terminal && !opts.has_console_socket)
    return fail("process.terminal is true but no --console-socket was given", EINVAL);
  if (!spec.process->terminal && opts.has_console_socket)
    return fail("--console-socket was given but process.terminal is false: no terminal to send", EINVAL);

  // --- namespaces
  const oci::Linux empty_linux;
  const oci::Linux& lx = spec.linux ? *spec.linux : empty_linux;
  bool userns = false;
  for (const auto& ns : lx.namespaces) {
    int flag = oci::namespace_clone_flag(ns.type);
    if (ns.type == oci::NamespaceType::kTime) {
      // Time namespaces apply to children only: the parent enters one around clone().
      if (!ns.path.empty()) {
        int fd = ::open(ns.path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return fail_errno("linux.namespaces: open time namespace path \"" + ns.path + "\"");
        out.join_time_ns = UniqueFd(fd);
      } else {
        out.new_time_ns = true;
      }
      continue;
    }
    if (ns.type == oci::NamespaceType::kUser) userns = true;
    if (!ns.path.empty()) {
      int fd = ::open(ns.path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return fail_errno(std::string("linux.namespaces: open ") + oci::namespace_type_name(ns.type) + " namespace path \"" + ns.path + "\"");
      if (ns.type == oci::NamespaceType::kPid) {
        out.join_pid_ns = UniqueFd(fd);
        out.own_pid_namespace = false;
        continue;
      }
      JoinNamespace j;
      j.clone_flag = flag;
      j.fd = UniqueFd(fd);
      j.path = ns.path;
      if (ns.type == oci::NamespaceType::kUser) plan.joins.insert(plan.joins.begin(), std::move(j));
      else plan.joins.push_back(std::move(j));
      continue;
    }
    // New namespaces: pid and user must come from clone() itself (pid affects children
    // only; the parent writes the user maps). cgroup is unshared after the parent moved
    // the child into its cgroup, so the namespace root is the container's cgroup. With a
    // joined user namespace, everything else must be created after joining it.
    if (ns.type == oci::NamespaceType::kPid || ns.type == oci::NamespaceType::kUser) out.clone_flags |= flag;
    else plan.unshare_flags |= flag;
  }
  if (!lx.find_namespace(oci::NamespaceType::kPid)) out.own_pid_namespace = false;
  // Network, mount, ipc and uts namespaces are unshared by the child rather than created
  // by clone(): clone() is serial in the parent, while the child's unshare() runs in
  // parallel with the parent creating the cgroup (a new network namespace alone costs
  // ~0.5 ms). With a joined user namespace this is required anyway: namespaces created
  // after setns(user) are owned by it.
  plan.become_root_in_userns = out.clone_flags & CLONE_NEWUSER;
  if (plan.become_root_in_userns) {
    if (lx.uid_mappings.empty() || lx.gid_mappings.empty())
      return fail("linux.uidMappings/gidMappings: a new user namespace needs both mappings", EINVAL);
    out.uid_mappings = lx.uid_mappings;
    out.gid_mappings = lx.gid_mappings;
  }
  if (!lx.find_namespace(oci::NamespaceType::kMount))
    return fail("linux.namespaces: a mount namespace is required", EINVAL);

  // --- filesystem
  plan.root_propagation = MS_SLAVE | MS_REC;
  if (!lx.rootfs_propagation.empty()) {
    unsigned long p = propagation_flags(lx.rootfs_propagation);
    if (p & MS_PRIVATE) {
      plan.root_propagation = p | MS_REC;
    } else {
      // shared/slave/unbindable: "/" gets it first (so binds of shared host mounts stay
      // peers of the host's), the rootfs itself gets it again after pivot_root.
      if (p & (MS_SHARED | MS_SLAVE)) plan.root_propagation = p;
      plan.root_propagation_after_pivot = p;
      if (p & MS_SHARED) plan.rootfs_parent_mount = mount_point_of(parent_directory(plan.rootfs));
    }
  }
  bool dev_is_bind = false;
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    TRY(add_mount(spec.mounts[i], i, opts, cgroup_mounts, out));
    if (spec.mounts[i].destination == "/dev" && plan.mounts.back().kind == MountKind::kBind) dev_is_bind = true;
  }
  bool in_userns = userns;
  std::set<std::string> device_paths;
  for (const auto& d : lx.devices) {
    DeviceOp op;
    op.path = d.path;
    unsigned mode = d.file_mode.value_or(0666) & 07777;
    switch (d.type) {
      case 'b': op.mode = S_IFBLK | mode; break;
      case 'p': op.mode = S_IFIFO | mode; break;
      default: op.mode = S_IFCHR | mode; break;
    }
    op.dev = makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor));
    op.uid = d.uid.value_or(0);
    op.gid = d.gid.value_or(0);
    op.bind_from_host = in_userns;
    device_paths.insert(d.path);
    plan.devices.push_back(std::move(op));
  }
  if (!dev_is_bind) {
    for (const auto& d : kDefaultDevices) {
      if (device_paths.count(d.path)) continue;
      DeviceOp op;
      op.path = d.path;
      op.mode = S_IFCHR | 0666;
      op.dev = makedev(d.major, d.minor);
      op.bind_from_host = in_userns;
      plan.devices.push_back(std::move(op));
    }
    plan.dev_symlinks = {{"/proc/self/fd", "/dev/fd"},
                         {"/proc/self/fd/0", "/dev/stdin"},
                         {"/proc/self/fd/1", "/dev/stdout"},
                         {"/proc/self/fd/2", "/dev/stderr"}};
    if (!device_paths.count("/dev/ptmx")) plan.dev_symlinks.push_back({"pts/ptmx", "/dev/ptmx"});
  }
  for (const auto& [key, value] : lx.sysctl) {
    TRY(validate_sysctl(key, lx));
    // "net.ipv4.ip_forward" and "net/ipv4/ip_forward" both name /proc/sys/net/ipv4/ip_forward;
    // in the slash form dots are part of names (interfaces like eth0.100).
    std::string path = "/proc/sys/" + key;
    if (key.find('/') == std::string::npos)
      for (size_t i = 10; i < path.size(); ++i)
        if (path[i] == '.') path[i] = '/';
    plan.sysctls.push_back({path, value});
  }
  plan.masked_paths = lx.masked_paths;
  plan.readonly_paths = lx.readonly_paths;
  plan.hooks_before_pivot =
      !spec.hooks.prestart.empty() || !spec.hooks.create_runtime.empty() || !spec.hooks.create_container.empty();

  // --- identity
  if (!spec.hostname.empty()) {
    if (!lx.find_namespace(oci::NamespaceType::kUts))
      return fail("hostname: setting a hostname needs a new uts namespace", EINVAL);
    plan.hostname = spec.hostname;
    plan.set_hostname = true;
  }
  if (!spec.domainname.empty()) {
    plan.domainname = spec.domainname;
    plan.set_domainname = true;
  }
  if (lx.personality) plan.personality = lx.personality->domain == "LINUX32" ? PER_LINUX32 : PER_LINUX;
  TRY(prepare_process(*spec.process, spec, plan, opts.seccomp_cache_dir));
  // start/hooks in the container
  for (const auto& h : spec.hooks.start_container) {
    PreparedHook ph;
    ph.path = h.path;
    ph.args_storage = h.args.empty() ? std::vector<std::string>{h.path} : h.args;
    ph.env_storage = h.env;
    for (auto& a : ph.args_storage) ph.argv.push_back(a.data());
    ph.argv.push_back(nullptr);
    for (auto& e : ph.env_storage) ph.envp.push_back(e.data());
    ph.envp.push_back(nullptr);
    ph.timeout_seconds = h.timeout.value_or(0);
    plan.start_container_hooks.push_back(std::move(ph));
  }
  out.oom_score_adj = spec.process->oom_score_adj;
  return out;
}

}  // namespace md::runtime
