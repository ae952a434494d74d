// Attaching to a running container through its monitor (docs/monitor.md, "Attach
// protocol"), for clients that come after the start: `docker attach`, and a `docker run`
// whose container somebody else started. (A client attached before the start is handed to
// the monitor as its --attach-fd instead: MonitorStart.attach_fd, see api/stream_attach.h.)
#pragma once

#include <string>

#include "base/result.h"
#include "base/unique_fd.h"
#include "engine/core/paths.h"

namespace md::engine {

// A connection to the monitor's attach socket: Docker's multiplexed frames of what the
// container writes from now on; bytes written go to its stdin (when it has one). Its EOF
// (shutdown(SHUT_WR)) only ends this client's input. ENOENT / ECONNREFUSED when there is
// no monitor listening (the container is not running).
Result<UniqueFd> connect_attach(const Paths& p, const std::string& id);

// Sets the container's terminal size (the monitor's control socket, "resize ROWS COLS");
// nothing happens for a container without a tty. ENOENT/ECONNREFUSED: no monitor.
Status resize_tty(const Paths& p, const std::string& id, int rows, int cols);

}  // namespace md::engine
