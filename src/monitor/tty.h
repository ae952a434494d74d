// The container's terminal (--tty): the runtime's console-socket protocol. We listen on a
// unix socket in a private directory (mode 0700, next to the status or exit file), give its
// path to the runtime as CreateOptions.console_socket, and receive the pty master the
// container's init sends over it (SCM_RIGHTS) once the container is created.
#pragma once

#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace md::monitor {

class ConsoleSocket {
 public:
  // A fresh listening socket in a new private directory under `near_dir`.
  static Result<ConsoleSocket> create(const std::string& near_dir);
  ConsoleSocket(ConsoleSocket&&) = default;
  ConsoleSocket& operator=(ConsoleSocket&&) = default;
  ~ConsoleSocket();

  const std::string& path() const { return path_; }
  // Accepts the runtime's connection (it connected while creating the container) and
  // receives the master; waits at most timeout_ms. Removes the socket and its directory.
  Result<UniqueFd> receive_master(int timeout_ms);

 private:
  ConsoleSocket() = default;
  void remove();
  UniqueFd listen_;
  std::string dir_, path_;
};

// Sets the terminal's window size (rows, cols); errors name the values.
Status set_window_size(int master, unsigned short rows, unsigned short cols);

}  // namespace md::monitor
