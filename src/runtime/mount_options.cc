#include "runtime/mount_options.h"

#include <sys/mount.h>

namespace md::runtime {

namespace {
struct FlagWord {
  const char* word;
  bool clear;
  unsigned long flag;
};
constexpr FlagWord kFlags[] = {
    {"ro", false, MS_RDONLY},         {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},     {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},       {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},     {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},  {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},   {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},    {"noatime", false, MS_NOATIME},
    {"atime", true, MS_NOATIME},      {"nodiratime", false, MS_NODIRATIME},
    {"diratime", true, MS_NODIRATIME}, {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME}, {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"iversion", false, MS_I_VERSION},  {"noiversion", true, MS_I_VERSION},
    {"lazytime", false, MS_LAZYTIME},   {"nolazytime", true, MS_LAZYTIME},
    {"nosymfollow", false, MS_NOSYMFOLLOW}, {"symfollow", true, MS_NOSYMFOLLOW},
    {"silent", false, MS_SILENT},
};
}  // namespace

unsigned long propagation_flags(const std::string& w) {
  if (w == "private") return MS_PRIVATE;
  if (w == "rprivate") return MS_PRIVATE | MS_REC;
  if (w == "shared") return MS_SHARED;
  if (w == "rshared") return MS_SHARED | MS_REC;
  if (w == "slave") return MS_SLAVE;
  if (w == "rslave") return MS_SLAVE | MS_REC;
  if (w == "unbindable") return MS_UNBINDABLE;
  if (w == "runbindable") return MS_UNBINDABLE | MS_REC;
  return 0;
}

ParsedMountOptions parse_mount_options(const std::vector<std::string>& options) {
  ParsedMountOptions out;
  for (const auto& o : options) {
    bool matched = false;
    for (const auto& f : kFlags) {
      if (o == f.word) {
        if (f.clear) out.flags &= ~f.flag;
        else out.flags |= f.flag;
        matched = true;
        break;
      }
    }
    if (matched) continue;
    if (unsigned long p = propagation_flags(o)) {
      out.propagation = p;
    } else if (o == "bind") {
      out.bind = true;
    } else if (o == "rbind") {
      out.bind = out.recursive = true;
    } else if (o == "defaults" || o == "tmpcopyup" || o == "remount") {
      // nothing for the kernel
    } else {
      if (!out.data.empty()) out.data += ',';
      out.data += o;
    }
  }
  return out;
}

}  // namespace md::runtime
