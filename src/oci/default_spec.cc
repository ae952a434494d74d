#include "oci/default_spec.h"

#include <unistd.h>

namespace md::oci {

namespace {

using ojson = nlohmann::ordered_json;

// Capabilities a shell needs to be useful and nothing that reaches outside the
// container: writing audit records, signalling its own processes, binding ports < 1024.
ojson default_capabilities() {
  ojson caps = ojson::array({"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"});
  // No "inheritable": since CVE-2022-29162 runtimes leave it empty so that file
  // capabilities cannot regain privileges across exec.
  return ojson{{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"ambient", caps}};
}

ojson mount(const char* destination, const char* type, const char* source,
            std::initializer_list<const char*> options) {
  ojson m{{"destination", destination}, {"type", type}, {"source", source}};
  if (options.size() > 0) {
    ojson opts = ojson::array();
    for (const char* o : options) opts.push_back(o);
    m["options"] = std::move(opts);
  }
  return m;
}

ojson default_mounts(bool rootless) {
  ojson mounts = ojson::array();
  mounts.push_back(mount("/proc", "proc", "proc", {}));
  mounts.push_back(mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}));
  if (rootless)  // gid 5 (tty) is not mapped in a single-id user namespace
    mounts.push_back(mount("/dev/pts", "devpts", "devpts",
                           {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}));
  else
    mounts.push_back(mount("/dev/pts", "devpts", "devpts",
                           {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}));
  mounts.push_back(mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}));
  mounts.push_back(mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}));
  if (rootless)  // without a network namespace of its own, sysfs cannot be mounted: bind it
    mounts.push_back(mount("/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"}));
  else
    mounts.push_back(mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}));
  mounts.push_back(mount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}));
  return mounts;
}

ojson default_linux(bool rootless) {
  ojson out = ojson::object();
  if (rootless) {
    // Container root is the calling user; nothing else is mapped.
    out["uidMappings"] = ojson::array({{{"containerID", 0}, {"hostID", ::geteuid()}, {"size", 1}}});
    out["gidMappings"] = ojson::array({{{"containerID", 0}, {"hostID", ::getegid()}, {"size", 1}}});
  } else {
    // Deny every device node by default (the device cgroup); runtimes then allow the
    // default devices (null, zero, full, random, urandom, tty, ptmx) on their own.
    out["resources"] = {{"devices", ojson::array({{{"allow", false}, {"access", "rwm"}}})}};
  }
  ojson ns = ojson::array();
  for (const char* type : {"pid", "network", "ipc", "uts", "mount", "cgroup"}) {
    if (rootless && std::string_view(type) == "network") continue;
    ns.push_back({{"type", type}});
  }
  if (rootless) ns.push_back({{"type", "user"}});
  out["namespaces"] = std::move(ns);
  // Kernel interfaces that leak host information or allow host-wide changes.
  out["maskedPaths"] = ojson::array({"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                                       "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                                       "/proc/sched_debug", "/sys/firmware", "/proc/scsi"});
  out["readonlyPaths"] =
      ojson::array({"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"});
  return out;
}

ojson build(bool rootless) {
  ojson process{
      {"terminal", true},
      {"user", {{"uid", 0}, {"gid", 0}}},
      {"args", ojson::array({"sh"})},
      {"env", ojson::array({"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                            "TERM=xterm"})},
      {"cwd", "/"},
      {"capabilities", default_capabilities()},
      {"rlimits", ojson::array({{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}})},
      {"noNewPrivileges", true},
  };
  return ojson{
      {"ociVersion", "1.0.2-dev"},
      {"process", std::move(process)},
      {"root", {{"path", "rootfs"}, {"readonly", true}}},
      {"hostname", "minidocker"},
      {"mounts", default_mounts(rootless)},
      {"linux", default_linux(rootless)},
  };
}

}  // namespace

nlohmann::json default_spec(bool rootless) { return nlohmann::json::parse(build(rootless).dump()); }

std::string default_spec_text(bool rootless) { return build(rootless).dump(1, '\t') + "\n"; }

}  // namespace md::oci
