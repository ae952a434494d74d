// minidocker-monitor: one per container. See docs/monitor.md.
#include <fcntl.h>

#include <cstdio>
#include <cstdlib>

#include "base/explain.h"

#include "monitor/monitor.h"

int main(int argc, char** argv) {
  auto o = md::monitor::parse_args(argc - 1, argv + 1);
  if (!o) {
    std::fprintf(stderr, "minidocker-monitor: %s\n%s", o.error().message.c_str(), md::monitor::usage_text());
    return 2;
  }
  // `minidocker run --explain` hands us its stderr so the runtime's steps (which run in
  // this process) are shown too; the monitor stops using it once the container started.
  if (const char* fd = std::getenv("MINIDOCKER_EXPLAIN_FD")) {
    int n = std::atoi(fd);
    if (n > 2 && ::fcntl(n, F_SETFD, FD_CLOEXEC) == 0) md::Explain::enable(n);
    ::unsetenv("MINIDOCKER_EXPLAIN_FD");
  }
  return md::monitor::run_monitor(*o);
}
