// minidocker-pause: PID 1 of a pod's infra container (docs/pods.md). It holds the pod's
// network, IPC and UTS namespaces open for the members, which join them through
// /proc/<its pid>/ns/*. It does nothing else: it reaps whatever is re-parented to it and
// exits 0 on SIGTERM or SIGINT (as PID 1 of a PID namespace it would otherwise ignore
// them). Linked statically: the infra image holds this one file and nothing else.
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

void on_stop(int) { ::_exit(0); }

void on_child(int) {
  int saved = errno;
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
  errno = saved;
}

void handle(int sig, void (*fn)(int)) {
  struct sigaction sa {};
  sa.sa_handler = fn;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  ::sigaction(sig, &sa, nullptr);
}

}  // namespace

int main() {
  handle(SIGTERM, on_stop);
  handle(SIGINT, on_stop);
  handle(SIGCHLD, on_child);
  for (;;) ::pause();
}
