// `docker top CONTAINER [ps OPTIONS]`: the host's `ps` (default "-ef") filtered to the
// container's processes, as Docker's daemon does it (daemon/top_unix.go): the processes
// are the cgroup's (the runtime's container_pids), ps is first run as `ps ARGS -q PIDS`
// and, when ps refuses that combination (e.g. BSD-style "aux" or "f"), again as
// `ps ARGS`; then the header and the rows whose PID column is one of the container's
// are kept. PIDs are the host's (ps runs in our pid namespace), as Docker shows them.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "engine/core/engine.h"

namespace md::engine {

// Docker's ContainerTopOKBody: {"Titles": [...], "Processes": [[...], ...]}.
struct TopResult {
  std::vector<std::string> titles;
  std::vector<std::vector<std::string>> processes;
};

// Errors: no such container (ENOENT); not running (EINVAL "container <id> is not
// running"); restarting; ps failed (its first stderr line); no PID column.
Result<TopResult> top_container(Engine& e, const std::string& ref, const std::string& ps_args = "-ef");

// ---- pure pieces (unit-tested)
// Docker's validatePSArgs: `-o pid=PID`-style renames of the PID column are refused
// ("specifying \"user=PID\" is not allowed") except pid=.
Status validate_ps_args(const std::string& ps_args);
// Docker's parsePSOutput: header titles, the rows of `pids` (the last column takes the rest
// of the line). EINVAL "Couldn't find PID field in ps output" / "Unexpected pid 'x'".
Result<TopResult> parse_ps_output(const std::string& output, const std::vector<int>& pids);

}  // namespace md::engine
