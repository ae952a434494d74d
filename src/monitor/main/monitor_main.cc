// minidocker-monitor: one per container. See docs/monitor.md.
#include <cstdio>

#include "monitor/monitor.h"

int main(int argc, char** argv) {
  auto o = md::monitor::parse_args(argc - 1, argv + 1);
  if (!o) {
    std::fprintf(stderr, "minidocker-monitor: %s\n", o.error().message.c_str());
    std::fprintf(stderr,
                 "usage: minidocker-monitor --root DIR --id ID --bundle DIR --log-path FILE --exit-file FILE\n"
                 "       [--log-max-size BYTES] [--log-max-files N] [--pid-file FILE] [--foreground]\n");
    return 2;
  }
  return md::monitor::run_monitor(*o);
}
