#include "oci/capabilities.h"

#include <algorithm>
#include <cctype>

#include "base/file_util.h"

namespace md::oci {

namespace {
// Index is the capability number (linux/capability.h).
constexpr const char* kCapNames[] = {
    "CAP_CHOWN",           "CAP_DAC_OVERRIDE",   "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
    "CAP_FSETID",          "CAP_KILL",           "CAP_SETGID",          "CAP_SETUID",
    "CAP_SETPCAP",         "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",       "CAP_NET_RAW",        "CAP_IPC_LOCK",        "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",      "CAP_SYS_RAWIO",      "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",       "CAP_SYS_ADMIN",      "CAP_SYS_BOOT",        "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",    "CAP_SYS_TIME",       "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
    "CAP_LEASE",           "CAP_AUDIT_WRITE",    "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",    "CAP_MAC_ADMIN",      "CAP_SYSLOG",          "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",   "CAP_AUDIT_READ",     "CAP_PERFMON",         "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};
constexpr int kCapCount = sizeof kCapNames / sizeof kCapNames[0];
}  // namespace

std::optional<int> capability_from_name(const std::string& name) {
  std::string upper = name;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (upper.rfind("CAP_", 0) != 0) upper = "CAP_" + upper;
  for (int i = 0; i < kCapCount; ++i)
    if (upper == kCapNames[i]) return i;
  return std::nullopt;
}

std::string capability_name(int cap) {
  if (cap >= 0 && cap < kCapCount) return kCapNames[cap];
  return "CAP_" + std::to_string(cap);
}

int last_capability() {
  static int cached = [] {
    auto text = read_file("/proc/sys/kernel/cap_last_cap");
    if (!text) return kCapCount - 1;
    try {
      return std::stoi(*text);
    } catch (...) {
      return kCapCount - 1;
    }
  }();
  return cached;
}

std::vector<std::string> all_capability_names() {
  return std::vector<std::string>(kCapNames, kCapNames + kCapCount);
}

}  // namespace md::oci
