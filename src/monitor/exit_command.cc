#include "monitor/exit_command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace md::monitor {

int run_exit_command(const std::string& path, const std::vector<std::string>& args, int timeout_ms) {
  // Everything the child needs is ready before fork: it only makes async-signal-safe calls.
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(path.c_str()));
  for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  bool search = path.find('/') == std::string::npos;
  int err_pipe[2];
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    std::fprintf(stderr, "minidocker-monitor: exit command %s: pipe: %s\n", path.c_str(), std::strerror(errno));
    return -1;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    std::fprintf(stderr, "minidocker-monitor: exit command %s: fork: %s\n", path.c_str(), std::strerror(errno));
    ::close(err_pipe[0]);
    ::close(err_pipe[1]);
    return -1;
  }
  if (pid == 0) {
    ::setsid();
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    int ep = ::fcntl(err_pipe[1], F_DUPFD_CLOEXEC, 3);
    ::syscall(SYS_close_range, 3, static_cast<unsigned>(ep - 1), 0);
    ::syscall(SYS_close_range, static_cast<unsigned>(ep + 1), ~0U, 0);
    struct sigaction sa = {};
    sa.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++) ::sigaction(s, &sa, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (search) ::execvp(path.c_str(), argv.data());
    else ::execv(path.c_str(), argv.data());
    int e = errno;
    (void)!::write(ep, &e, sizeof e);
    _exit(127);
  }
  ::close(err_pipe[1]);
  int exec_errno = 0;
  ssize_t n;
  do {
    n = ::read(err_pipe[0], &exec_errno, sizeof exec_errno);
  } while (n < 0 && errno == EINTR);
  ::close(err_pipe[0]);
  if (n == sizeof exec_errno) {
    std::fprintf(stderr, "minidocker-monitor: exit command %s: exec: %s\n", path.c_str(), std::strerror(exec_errno));
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    return -1;
  }
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    struct pollfd p = {pidfd, POLLIN, 0};
    struct timespec t0, t1;
    ::clock_gettime(CLOCK_MONOTONIC, &t0);
    int left = timeout_ms;
    for (;;) {
      int r = ::poll(&p, 1, left);
      if (r > 0) break;
      if (r == 0 || errno != EINTR) {
        ::close(pidfd);
        std::fprintf(stderr, "minidocker-monitor: exit command %s still runs after %d ms: left running\n", path.c_str(),
                     timeout_ms);
        return -1;
      }
      ::clock_gettime(CLOCK_MONOTONIC, &t1);
      left = timeout_ms - static_cast<int>((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1'000'000);
      if (left < 0) left = 0;
    }
    ::close(pidfd);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

}  // namespace md::monitor
