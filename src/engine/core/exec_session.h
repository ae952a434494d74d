// `docker exec` for a caller that owns the process's stdio: the API server, which pumps
// it to a hijacked connection (docs/api-streams.md). exec.h's exec_container gives the
// process the calling process's own fds 0/1/2 and runs the runtime library in-process,
// which suits the single-threaded CLI; here the OCI process is built the same way (the
// container's process with Docker's Cmd, Env, WorkingDir, User, Privileged, Tty) and run
// by the runtime binary, `minidocker-runtime exec --process`, spawned with exactly the
// fds it should have: pipes, or a pty whose master comes back over a console socket.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "base/unique_fd.h"
#include "engine/core/engine.h"

namespace md::engine {

// The OCI process (config.json's "process") for Docker's ExecConfig `config` in the
// running container `c`. Errors: paused or not running (EINVAL, exec_container's words),
// no Cmd (EINVAL), an unknown User (ENOENT).
Result<nlohmann::json> exec_process_json(Engine& e, const store::Container& c, const nlohmann::json& config);

struct ExecProcess {
  pid_t runtime_pid = -1;  // the runtime: it waits for the process and exits with its code
  UniqueFd pidfd;          // the runtime's pidfd: readable once it exited
  bool tty = false;
  UniqueFd stdin_w;             // no tty, stdin attached: the process's stdin (else /dev/null)
  UniqueFd stdout_r, stderr_r;  // no tty: its stdout and stderr; tty: stderr_r has the runtime's messages
  UniqueFd master;              // tty: the pty master (non-blocking)
  std::string dir;              // process.json, pid file, runtime log, console socket
  ExecProcess() = default;
  ExecProcess(ExecProcess&& o) noexcept { *this = std::move(o); }
  ExecProcess& operator=(ExecProcess&& o) noexcept;
  ~ExecProcess();  // an unwaited runtime is killed and reaped; `dir` removed

 private:
  void cleanup();
};

struct ExecStdio {
  bool tty = false;
  bool stdin_open = false;  // AttachStdin: a pipe (or the pty) for stdin, else /dev/null
  int rows = 0, cols = 0;   // the terminal's first size (0: leave it)
};

// Starts `process` (from exec_process_json) in container `id`. Our ends of the pipes are
// non-blocking and close-on-exec. With a tty it returns once the pty master arrived.
Result<ExecProcess> spawn_exec(Engine& e, const std::string& id, const nlohmann::json& process, const ExecStdio& io);

// The process's pid on the host, 0 while the runtime has not written it yet.
pid_t exec_pid(const ExecProcess& p);

// Waits for the runtime (blocking) and returns the process's exit code (128+n when killed
// by signal n); when it could not be started at all, 127 (command not found) or 126 with
// the runtime's message in *error. Removes p.dir.
int wait_exec(ExecProcess& p, std::string* error);

// The runtime binary: next to the monitor, next to this program, or from PATH.
std::string runtime_binary(const Engine& e);

}  // namespace md::engine
