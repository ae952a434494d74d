// A process in a running container with a pty, for the seeds' exec and terminal
// (docs/api-seeds.md). engine::exec_container uses the calling process's stdio, which a
// server thread cannot lend; here the runtime library (in this process, as exec.cc does
// for `exec -t`) creates the pty inside the container and hands us its master over a
// console socket, so the process is our child and its output never touches our stdio.
//
// The caller owns the master and must reap the pid (pty_wait).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "engine/core/engine.h"

namespace md::api {

struct PtyProcess {
  UniqueFd master;  // read: the process's output; write: its input
  pid_t pid = 0;
};

// Errors: not running / paused (EINVAL, 409 for the caller), the command cannot be run
// (ENOENT, EACCES), the runtime's own errors.
Result<PtyProcess> start_pty_exec(engine::Engine& e, const std::string& ref, const std::vector<std::string>& argv,
                                  int cols, int rows);

// Sets the terminal size (TIOCSWINSZ on the master).
void pty_resize(int master, int cols, int rows);

// Waits for the process; its exit code (128 + signal when killed).
int pty_wait(pid_t pid);

}  // namespace md::api
