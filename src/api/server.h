// `minidocker serve`: the Docker Engine API over HTTP/1.1 on unix sockets (docs/api.md).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "engine/core/engine.h"

namespace md::api {

struct ServeOptions {
  engine::EngineOptions engine;            // each worker opens its own Engine with these
  std::vector<std::string> unix_sockets;   // paths (without "unix://")
  int workers = 4;                         // the pool of Engine-owning threads
  size_t body_limit = 16 << 20;            // bytes; bigger requests get 413
};

// Listens, serves until SIGTERM or SIGINT, then stops accepting, lets the requests being
// handled finish (up to a few seconds) and removes its sockets. Returns the exit code;
// errors (socket in use, cannot bind) are printed to stderr.
int serve(const ServeOptions& o);

}  // namespace md::api
