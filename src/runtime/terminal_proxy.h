// `run` with process.terminal and no --console-socket (runc's foreground behaviour):
// the runtime keeps the pty master itself and copies between it and its own stdio
// until the container exits.
#pragma once

#include <sys/types.h>

#include "base/result.h"

namespace md::runtime {

// Receives the pty master sent over `socket_fd` by the container init (SCM_RIGHTS).
Result<int> receive_pty_master(int socket_fd);
// Copies stdin → master and master → stdout until the process behind `pid` exits (its
// pidfd becomes readable) and the master has been drained. Puts our own terminal in
// raw mode while it runs (restored on return) and passes window size changes on.
void proxy_terminal(int master, pid_t pid);

}  // namespace md::runtime
