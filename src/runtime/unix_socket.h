// Unix socket helpers that work for paths longer than sun_path's 108 bytes: the
// directory is opened first and the socket is addressed as /proc/self/fd/<dirfd>/<name>.
#pragma once

#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace md::runtime {

// Binds and listens (SOCK_SEQPACKET) on <dir>/start.sock: `start` connects here.
Result<UniqueFd> listen_start_socket(const std::string& dir);
// Connects to the unix socket at `path` (SOCK_STREAM or SOCK_SEQPACKET).
Result<UniqueFd> connect_unix(const std::string& path, int type);

}  // namespace md::runtime
