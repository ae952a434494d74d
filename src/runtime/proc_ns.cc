#include "runtime/proc_ns.h"

#include <unistd.h>

#include <cstring>
#include <string>

namespace md::runtime {

bool shares_namespace_with_self(pid_t pid, const char* name) {
  char theirs[64] = {}, ours[64] = {};
  std::string a = "/proc/" + std::to_string(pid) + "/ns/" + name;
  std::string b = std::string("/proc/self/ns/") + name;
  return ::readlink(a.c_str(), theirs, sizeof theirs - 1) > 0 && ::readlink(b.c_str(), ours, sizeof ours - 1) > 0 &&
         std::strcmp(theirs, ours) == 0;
}

}  // namespace md::runtime
