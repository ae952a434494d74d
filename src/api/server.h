// `minidocker serve`: the Docker Engine API, the seeds' /api/*, /metrics and the dashboard
// over HTTP/1.1 on unix sockets, TCP and TLS (docs/api.md, docs/api-server.md).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "engine/core/engine.h"

namespace md::api {

struct ServeOptions {
  engine::EngineOptions engine;            // each worker opens its own Engine with these
  std::vector<std::string> unix_sockets;   // paths (without "unix://")
  std::vector<std::string> tcp;            // "ADDR:PORT" ("127.0.0.1:2375", "[::1]:2375", port 0 = any free)
  std::vector<std::string> web;            // --web ADDR:PORT: TCP listeners meant for the browser
  std::string token;                       // required on TCP/web listeners when set
  std::string tls_cert, tls_key;           // PEM files: TCP/web listeners speak TLS
  int workers = 4;                         // the pool of Engine-owning threads
  size_t body_limit = 16 << 20;            // bytes; bigger requests get 413
  int max_own_threads = 256;               // concurrent long requests (wait, streams, WebSockets); more → 503
  int idle_timeout_s = 300;                // keep-alive connection with no request
  int header_timeout_s = 30;               // from a request's first byte to the end of its header
};

// Checks the options before anything listens: a TCP or web listener on an address that is
// not loopback (127.0.0.0/8, ::1) needs a token or TLS. The error names the listener.
std::string check_listener_security(const ServeOptions& o);

// True for 127.0.0.0/8 and ::1 (and "localhost"); "0.0.0.0", "::" and others are false.
bool is_loopback_address(const std::string& host);

// Splits "ADDR:PORT" / "[v6]:PORT" / ":PORT" (→ 127.0.0.1); false when malformed.
bool split_host_port(const std::string& s, std::string* host, int* port);

// Listens, serves until SIGTERM or SIGINT, then stops accepting, closes its listeners, lets
// the requests being handled finish (up to 5 s), ends hijacked streams and removes its
// sockets. Returns the exit code; errors (socket in use, cannot bind, insecure listener)
// are printed to stderr and give 1.
int serve(const ServeOptions& o);

}  // namespace md::api
