#include "runtime/proc_ns.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
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

Result<ChildrenNamespace> ChildrenNamespace::enter(int flag, int fd) {
  const char* own = flag == CLONE_NEWPID ? "/proc/self/ns/pid_for_children" : "/proc/self/ns/time_for_children";
  const char* what = flag == CLONE_NEWPID ? "pid" : "time";
  UniqueFd previous(::open(own, O_RDONLY | O_CLOEXEC));
  if (!previous) return fail_errno(std::string("open ") + own);
  int rc = fd >= 0 ? ::setns(fd, flag) : ::unshare(flag);
  if (rc != 0) return fail_errno(std::string(fd >= 0 ? "join " : "create ") + what + " namespace for the container");
  return ChildrenNamespace(flag, std::move(previous));
}

ChildrenNamespace::~ChildrenNamespace() {
  if (previous_) (void)::setns(previous_.get(), flag_);
}

long clone_process(int flags) {
  return ::syscall(SYS_clone, static_cast<unsigned long>(flags) | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
}

}  // namespace md::runtime
