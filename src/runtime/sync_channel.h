// Parent-side use of the sync protocol (sync_protocol.h), shared by create/run and exec.
#pragma once

#include <sys/types.h>

#include <optional>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "runtime/sync_protocol.h"

namespace md::runtime {

Status send_message(int fd, MessageType t);
// One message; nullopt on EOF (the child exited or exec'd: the socket is CLOEXEC).
Result<std::optional<SyncMessage>> receive_message(int fd);
// The child's (errno, text) as an Error: "mount proc on /proc: permission denied".
Error message_error(const SyncMessage& m);
// When a parent-side step fails, the child may have failed first and explains more
// (a dead pid, EPIPE): returns the child's pending kError if there is one, else `e`.
Error child_error_or(int fd, Error e);
// Waits for `want`; a kError becomes its Error, EOF or another type an Error naming `who`.
Status expect_message(int fd, MessageType want, const char* who);
// Lets the prepared process exec: optional kStart, then the state JSON (for
// startContainer hooks); waits until it has exec'd (EOF) or reports an error.
Status release_process(int fd, const nlohmann::json& state, bool send_start);
// While the runtime waits in the foreground, SIGINT/TERM/HUP/QUIT/USR1/USR2 go to `pid`
// (0 stops forwarding).
void forward_signals_to(pid_t pid);
// waitpid status → exit code: the code, or 128 + signal.
int exit_code_of(int wait_status);

}  // namespace md::runtime
