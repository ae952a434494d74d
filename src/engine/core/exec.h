// exec: a new process in a running container (docker exec), run by the runtime library
// in this process. Without a tty the process shares our stdio (stdin only with -i); with
// a tty it gets a pty whose master we proxy to our terminal.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "engine/core/engine.h"

namespace md::engine {

// `config` is Docker's ExecConfig (Cmd, Env, WorkingDir, User, Tty, AttachStdin, Privileged,
// Detach). Returns the process's exit code (0 when detached). Errors: not running (EINVAL),
// paused, the command cannot be executed (ENOENT → 127, EACCES → 126).
Result<int> exec_container(Engine& e, const std::string& ref, const nlohmann::json& config);

}  // namespace md::engine
