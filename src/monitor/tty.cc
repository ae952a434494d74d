#include "monitor/tty.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "monitor/attach.h"
#include "runtime/terminal_proxy.h"

namespace md::monitor {

Result<ConsoleSocket> ConsoleSocket::create(const std::string& near_dir) {
  ConsoleSocket c;
  std::string tmpl = (near_dir.empty() ? std::string("/tmp") : near_dir) + "/.monitor-console-XXXXXX";
  if (!::mkdtemp(tmpl.data())) return fail_errno("create a private directory for the console socket in " + near_dir);
  c.dir_ = tmpl;
  c.path_ = tmpl + "/console.sock";
  auto s = bind_unix(c.path_, SOCK_STREAM);
  if (!s) {
    c.remove();
    return std::unexpected(s.error());
  }
  c.listen_ = std::move(*s);
  return c;
}

ConsoleSocket::~ConsoleSocket() { remove(); }

void ConsoleSocket::remove() {
  if (!path_.empty()) ::unlink(path_.c_str());
  if (!dir_.empty()) ::rmdir(dir_.c_str());
  path_.clear();
  dir_.clear();
}

Result<UniqueFd> ConsoleSocket::receive_master(int timeout_ms) {
  struct pollfd p = {listen_.get(), POLLIN, 0};
  int r;
  do {
    r = ::poll(&p, 1, timeout_ms);
  } while (r < 0 && errno == EINTR);
  if (r <= 0) return fail("the container init did not connect to the console socket " + path_, ETIMEDOUT);
  UniqueFd conn(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!conn) return fail_errno("accept on the console socket " + path_);
  // The init sent the master before it reported ready: it is already queued.
  auto fd = runtime::receive_pty_master(conn.get());
  remove();
  listen_.reset();
  if (!fd) return std::unexpected(fd.error());
  return UniqueFd(*fd);
}

Status set_window_size(int master, unsigned short rows, unsigned short cols) {
  struct winsize ws = {};
  ws.ws_row = rows;
  ws.ws_col = cols;
  if (::ioctl(master, TIOCSWINSZ, &ws) != 0)
    return fail_errno("set the terminal size to " + std::to_string(rows) + "x" + std::to_string(cols));
  return {};
}

}  // namespace md::monitor
