#include "oci/features.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>  // SCMP_VER_* only: this library does not link libseccomp
#include <sys/syscall.h>
#include <unistd.h>

#include "oci/capabilities.h"

#ifndef MD_VERSION
#define MD_VERSION "0.1.0"
#endif

namespace md::oci {

namespace {

// Mount options the runtime understands in mounts[].options: mount(2) flags and their
// negations, propagation, bind/rbind. Keep in step with the runtime's option parser;
// the recursive "r*" forms of mount_setattr(2), tmpcopyup and idmap are not implemented.
const std::vector<std::string> kMountOptions = {
    "async",     "atime",       "bind",       "defaults",      "dev",      "diratime",
    "dirsync",   "exec",        "iversion",   "lazytime",      "mand",     "noatime",
    "nodev",     "nodiratime",  "noexec",     "noiversion",    "nolazytime", "nomand",
    "norelatime", "nostrictatime", "nosuid",  "nosymfollow",   "private",  "rbind",
    "relatime",  "remount",     "ro",         "rprivate",      "rshared",  "rslave",
    "runbindable", "rw",        "shared",     "silent",        "slave",    "strictatime",
    "suid",      "symfollow",   "sync",       "unbindable",
};

}  // namespace

const std::vector<std::string>& seccomp_action_names() {
  static const std::vector<std::string> v = {
      "SCMP_ACT_ALLOW",      "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS",
      "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",  "SCMP_ACT_TRACE", "SCMP_ACT_TRAP",
  };
  return v;
}

const std::vector<std::string>& seccomp_operator_names() {
  static const std::vector<std::string> v = {
      "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",        "SCMP_CMP_LE",
      "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE",
  };
  return v;
}

const std::vector<std::string>& seccomp_arch_names() {
  // Every architecture libseccomp 2.5 knows; one filter can only hold those with the
  // host's byte order, which is a property of the host, not of the runtime.
  static const std::vector<std::string> v = {
      "SCMP_ARCH_AARCH64",  "SCMP_ARCH_ARM",         "SCMP_ARCH_MIPS",      "SCMP_ARCH_MIPS64",
      "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",     "SCMP_ARCH_MIPSEL64",  "SCMP_ARCH_MIPSEL64N32",
      "SCMP_ARCH_PARISC",   "SCMP_ARCH_PARISC64",    "SCMP_ARCH_PPC",       "SCMP_ARCH_PPC64",
      "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_RISCV64",     "SCMP_ARCH_S390",      "SCMP_ARCH_S390X",
      "SCMP_ARCH_X32",      "SCMP_ARCH_X86",         "SCMP_ARCH_X86_64",
  };
  return v;
}

const std::vector<std::string>& seccomp_flag_names() {
  static const std::vector<std::string> v = {
      "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
  return v;
}

std::vector<std::string> supported_seccomp_flag_names() {
  // The kernel checks the flags before reading the program: EINVAL means an unknown
  // flag, EFAULT (from the NULL program) means the flag itself was accepted. Nothing
  // is installed either way. (libseccomp probes the same way.)
  static const unsigned kFlagValues[] = {SECCOMP_FILTER_FLAG_TSYNC, SECCOMP_FILTER_FLAG_LOG,
                                         SECCOMP_FILTER_FLAG_SPEC_ALLOW};
  std::vector<std::string> out;
  const auto& names = seccomp_flag_names();
  for (size_t i = 0; i < names.size(); ++i) {
    long r = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, kFlagValues[i], nullptr);
    if (r < 0 && errno == EFAULT) out.push_back(names[i]);
  }
  return out;
}

nlohmann::json features_json() {
  using json = nlohmann::json;
  json linux_section = {
      // Time namespaces are parsed but not created yet, so they are not listed.
      {"namespaces", {"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"}},
      {"capabilities", all_capability_names()},
      {"cgroup", {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false},
                  {"rdma", false}}},
      {"seccomp",
       {{"enabled", true},
        {"actions", seccomp_action_names()},
        {"operators", seccomp_operator_names()},
        {"archs", seccomp_arch_names()},
        {"knownFlags", seccomp_flag_names()},
        {"supportedFlags", supported_seccomp_flag_names()}}},
      {"apparmor", {{"enabled", false}}},
      {"selinux", {{"enabled", false}}},
      {"intelRdt", {{"enabled", false}}},
      {"mountExtensions", {{"idmap", {{"enabled", false}}}}},
  };
  return json{
      {"ociVersionMin", "1.0.0"},
      {"ociVersionMax", "1.2.0"},
      {"hooks", {"prestart", "createRuntime", "createContainer", "startContainer", "poststart",
                 "poststop"}},
      {"mountOptions", kMountOptions},
      {"linux", std::move(linux_section)},
      {"annotations",
       {{"io.github.minidocker.version", MD_VERSION},
        {"io.github.seccomp.libseccomp.version",
         std::to_string(SCMP_VER_MAJOR) + "." + std::to_string(SCMP_VER_MINOR) + "." +
             std::to_string(SCMP_VER_MICRO)}}},
  };
}

}  // namespace md::oci
