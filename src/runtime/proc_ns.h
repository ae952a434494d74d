// Namespace helpers for the parent side: comparing a process's namespaces with ours,
// switching the namespace our *children* are born in, and the raw fork-like clone.
#pragma once

#include <sys/types.h>

#include "base/result.h"
#include "base/unique_fd.h"

namespace md::runtime {

// True when `pid` is in the same `name` namespace ("net", "mnt", ...) as the caller.
// False when either link cannot be read.
bool shares_namespace_with_self(pid_t pid, const char* name);

// pid and time namespaces apply to the caller's children only. This guard moves the
// children's namespace (setns to `fd`, or a new one with unshare when fd < 0) and
// restores the previous one when destroyed, also on every error path.
class ChildrenNamespace {
 public:
  // `flag` is CLONE_NEWPID or CLONE_NEWTIME.
  static Result<ChildrenNamespace> enter(int flag, int fd);
  ChildrenNamespace(ChildrenNamespace&&) = default;
  ChildrenNamespace& operator=(ChildrenNamespace&&) = default;
  ~ChildrenNamespace();

 private:
  ChildrenNamespace(int flag, UniqueFd previous) : flag_(flag), previous_(std::move(previous)) {}
  int flag_ = 0;
  UniqueFd previous_;
};

// clone() without CLONE_VM, i.e. fork with namespace flags: returns 0 in the child, the
// pid in the parent, -1 with errno on failure.
long clone_process(int flags);

}  // namespace md::runtime
