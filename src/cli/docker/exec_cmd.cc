// exec: a command in a running container (the runtime library, in this process).
#include <cstdio>

#include "cli/common/run_flags.h"
#include "cli/docker/cli.h"
#include "engine/core/exec.h"

namespace md::cli {

int cmd_exec(Invocation& inv) {
  auto parsed = parse_exec_args(inv.args);
  if (!parsed) return usage_error("exec", parsed.error().message);
  if (parsed->help) {
    std::printf("%s", exec_help().c_str());
    return 0;
  }
  auto e = inv.engine();
  if (!e) return report(e.error(), 126);
  auto code = engine::exec_container(**e, parsed->container, parsed->config);
  if (!code) {
    const Error& err = code.error();
    bool lookup = err.message.find("o such container") != std::string::npos ||
                  err.message.find("not running") != std::string::npos ||
                  err.message.find("paused") != std::string::npos;
    bool exec_failed = err.message.find("exec: \"") != std::string::npos;
    int rc = lookup ? 1 : exec_failed && err.errno_value == ENOENT ? 127 : 126;
    std::fprintf(stderr, "Error response from daemon: %s\n", err.message.c_str());
    return rc;
  }
  return *code;
}

}  // namespace md::cli
