// Clients attached before their container starts: `docker run` (without -d) and
// `docker start -a` send POST /containers/{id}/attach, then /wait, then /start. So that
// they miss no byte, the attach handler makes a socketpair and leaves one end here; the
// start (container_handlers.cc's container_start) claims it and hands it to the monitor
// as its --attach-fd client, exactly as the CLI's own `run` does (MonitorStart.attach_fd:
// a client from the first byte, stdin-once). Clients that come later connect to the
// monitor's attach socket (engine/core/attach.h). docs/api-streams.md.
#pragma once

#include <string>

#include "base/unique_fd.h"
#include "engine/core/monitor_client.h"

namespace md::api {

// What a start hands to the monitor. Destroy it after the start returned: it closes the
// server's copy of the socket, so when the start failed (no monitor holds it) the
// waiting client sees the end of its stream at once.
class AttachClaim {
 public:
  engine::MonitorStart start;  // attach_fd: the waiting client's end, -1 when none waits

  AttachClaim() = default;
  explicit AttachClaim(UniqueFd fd) : fd_(std::move(fd)) { start.attach_fd = fd_.get(); }
  AttachClaim(AttachClaim&&) = default;
  AttachClaim& operator=(AttachClaim&&) = default;

 private:
  UniqueFd fd_;
};

// The oldest client waiting for `container_id` to start (full 64-hex id), if any. Later
// ones (rare: two `start -a` at once) connect to the attach socket once it runs.
AttachClaim claim_pending_attach(const std::string& container_id);

}  // namespace md::api
