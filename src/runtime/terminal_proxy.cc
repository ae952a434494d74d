#include "runtime/terminal_proxy.h"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>

#include "base/unique_fd.h"

namespace md::runtime {

namespace {
volatile sig_atomic_t g_winch = 0;
void on_winch(int) { g_winch = 1; }

void copy_window_size(int master) {
  struct winsize ws;
  if (::ioctl(0, TIOCGWINSZ, &ws) == 0) ::ioctl(master, TIOCSWINSZ, &ws);
}

bool write_all(int fd, const char* p, size_t n) {
  while (n) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}
}  // namespace

Result<int> receive_pty_master(int socket_fd) {
  char data[256];
  struct iovec iov = {data, sizeof data};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (::recvmsg(socket_fd, &msg, MSG_CMSG_CLOEXEC) < 0) return fail_errno("receive the pty master");
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
      return fd;
    }
  }
  return fail("the container init sent no pty master", EPROTO);
}

void proxy_terminal(int master, pid_t pid) {
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  struct termios saved;
  bool raw = ::isatty(0) && ::tcgetattr(0, &saved) == 0;
  if (raw) {
    struct termios t = saved;
    ::cfmakeraw(&t);
    ::tcsetattr(0, TCSANOW, &t);
    copy_window_size(master);
    struct sigaction sa = {};
    sa.sa_handler = on_winch;
    ::sigaction(SIGWINCH, &sa, nullptr);
  }
  bool stdin_open = true, master_open = true, exited = false;
  char buf[16384];
  while (master_open) {
    if (g_winch) {
      g_winch = 0;
      copy_window_size(master);
    }
    struct pollfd fds[3] = {{master, POLLIN, 0}, {stdin_open ? 0 : -1, POLLIN, 0}, {exited ? -1 : pidfd.get(), POLLIN, 0}};
    // Once the process is gone, only drain what the master still holds.
    int n = ::poll(fds, 3, exited ? 0 : -1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = ::read(master, buf, sizeof buf);
      if (r <= 0) master_open = false;  // EIO: every slave fd is closed
      else write_all(1, buf, static_cast<size_t>(r));
    }
    if (stdin_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t r = ::read(0, buf, sizeof buf);
      if (r <= 0) stdin_open = false;
      else if (!write_all(master, buf, static_cast<size_t>(r))) stdin_open = false;
    }
    if (fds[2].revents & POLLIN) exited = true;
  }
  if (raw) ::tcsetattr(0, TCSANOW, &saved);
}

}  // namespace md::runtime
