// The client side of the monitor's attach protocol (docs/monitor.md): Docker's
// multiplexed frames from the monitor (8-byte header: stream, 0, 0, 0, big-endian
// length), raw stdin bytes to it. Used by `run` (foreground), `start -a` and `attach`.
#pragma once

#include <sys/types.h>

#include <string>

namespace md::cli {

struct AttachOptions {
  bool stdin_open = false;  // forward our stdin; EOF → shutdown(SHUT_WR)
  bool tty = false;         // our terminal in raw mode while attached
  // Signals (INT, TERM, HUP, QUIT, USR1, USR2) received are passed to this function
  // (sig-proxy); nullptr: default handling.
  void (*on_signal)(int sig, void* ctx) = nullptr;
  void* ctx = nullptr;
};

// Copies frames to stdout/stderr until the monitor closes the connection. Returns false
// when the connection failed before EOF.
bool pump_attach(int sock, const AttachOptions& o);

// Our terminal's size (0, 0 when stdin is not a terminal).
void terminal_size(int* rows, int* cols);

}  // namespace md::cli
