// minidocker-monitor: one per container. See docs/monitor.md.
#include <cstdio>

#include "monitor/monitor.h"

int main(int argc, char** argv) {
  auto o = md::monitor::parse_args(argc - 1, argv + 1);
  if (!o) {
    std::fprintf(stderr, "minidocker-monitor: %s\n%s", o.error().message.c_str(), md::monitor::usage_text());
    return 2;
  }
  return md::monitor::run_monitor(*o);
}
