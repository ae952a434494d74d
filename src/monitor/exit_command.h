// --exit-command: run once the monitor is done for good (the engine's cleanup:
// `minidocker container cleanup ID`).
#pragma once

#include <string>
#include <vector>

namespace md::monitor {

// fork + exec `path` with `args` (argv[0] = path): in its own session, stdio on /dev/null,
// no other fd, default signal dispositions; a path without '/' is looked up in PATH.
// Waits for it at most timeout_ms (then leaves it running). Returns its exit code, -1 when
// it could not be started or did not finish in time (reported on stderr).
int run_exit_command(const std::string& path, const std::vector<std::string>& args, int timeout_ms);

}  // namespace md::monitor
