#include "cli/docker/attach_stream.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace md::cli {

namespace {

bool write_all(int fd, const char* p, size_t n) {
  while (n) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= size_t(w);
  }
  return true;
}

}  // namespace

void terminal_size(int* rows, int* cols) {
  winsize ws{};
  if (::ioctl(0, TIOCGWINSZ, &ws) == 0) {
    *rows = ws.ws_row;
    *cols = ws.ws_col;
  } else {
    *rows = *cols = 0;
  }
}

bool pump_attach(int sock, const AttachOptions& o) {
  termios saved{};
  bool raw = false;
  if (o.tty && ::isatty(0) && ::tcgetattr(0, &saved) == 0) {
    termios t = saved;
    cfmakeraw(&t);
    raw = ::tcsetattr(0, TCSANOW, &t) == 0;
  }
  sigset_t mask, old;
  sigemptyset(&mask);
  int sfd = -1;
  if (o.on_signal) {
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) sigaddset(&mask, s);
    sigprocmask(SIG_BLOCK, &mask, &old);
    sfd = ::signalfd(-1, &mask, SFD_CLOEXEC);
  }
  bool stdin_open = o.stdin_open;
  std::string buf;
  char chunk[65536];
  bool ok = true;
  for (;;) {
    pollfd p[3] = {{sock, POLLIN, 0}, {stdin_open ? 0 : -1, POLLIN, 0}, {sfd, POLLIN, 0}};
    int r = ::poll(p, 3, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      ok = false;
      break;
    }
    if (p[2].revents & POLLIN) {
      signalfd_siginfo si{};
      if (::read(sfd, &si, sizeof si) == sizeof si) o.on_signal(int(si.ssi_signo), o.ctx);
    }
    if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::read(0, chunk, sizeof chunk);
      if (n > 0) {
        if (!write_all(sock, chunk, size_t(n))) stdin_open = false;
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        stdin_open = false;
        ::shutdown(sock, SHUT_WR);
      }
    }
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::read(sock, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) ok = false;
      if (n <= 0) break;
      buf.append(chunk, size_t(n));
      size_t pos = 0;
      while (buf.size() - pos >= 8) {
        const unsigned char* h = reinterpret_cast<const unsigned char*>(buf.data() + pos);
        size_t len = (size_t(h[4]) << 24) | (size_t(h[5]) << 16) | (size_t(h[6]) << 8) | h[7];
        if (buf.size() - pos - 8 < len) break;
        int out = h[0] == 2 ? 2 : 1;
        (void)write_all(out, buf.data() + pos + 8, len);
        pos += 8 + len;
      }
      buf.erase(0, pos);
    }
  }
  if (raw) ::tcsetattr(0, TCSANOW, &saved);
  if (sfd >= 0) {
    ::close(sfd);
    sigprocmask(SIG_SETMASK, &old, nullptr);
  }
  return ok;
}

}  // namespace md::cli
