// Comparing namespaces through /proc/<pid>/ns/<name> links ("net:[4026531840]").
#pragma once

#include <sys/types.h>

namespace md::runtime {

// True when `pid` is in the same `name` namespace ("net", "mnt", ...) as the caller.
// False when either link cannot be read.
bool shares_namespace_with_self(pid_t pid, const char* name);

}  // namespace md::runtime
