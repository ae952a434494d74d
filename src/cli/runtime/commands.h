// minidocker-runtime verbs: each parses its own flags and makes one library call.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "runtime/container.h"

namespace md::cli {

struct Context {
  runtime::GlobalOptions global;
  std::vector<std::string> args;  // argv from the verb name on (args[0] is the verb)
};

// Each returns the process exit code; errors are reported through report_error().
using Command = int (*)(Context&);
int cmd_create(Context&);
int cmd_start(Context&);
int cmd_run(Context&);
int cmd_state(Context&);
int cmd_kill(Context&);
int cmd_delete(Context&);
int cmd_list(Context&);
int cmd_pause(Context&);
int cmd_resume(Context&);
int cmd_ps(Context&);
int cmd_exec(Context&);
int cmd_update(Context&);
int cmd_spec(Context&);
int cmd_features(Context&);

// Prints the error to stderr and, with --log, to the log file (text or json) — runc's
// behaviour, which containerd and Podman read back. Returns 1.
int report_error(const Error& e);
// Prints a usage error for the verb (exit status 1 with a hint).
int usage_error(const std::string& verb, const std::string& message);

}  // namespace md::cli
