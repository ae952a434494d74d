#include <cstdio>

#include "cli/docker/cli.h"

namespace md::cli {

Result<engine::Engine*> Invocation::engine() {
  if (!engine_) {
    engine::EngineOptions o;
    o.root = globals.root;
    o.run_root = globals.run_root;
    if (::geteuid() != 0)
      return fail("minidocker needs root (rootless mode is not available for the engine yet)", EPERM);
    engine_ = TRY(engine::Engine::open(o));
  }
  return engine_.get();
}

int report(const Error& e, int code) {
  std::fprintf(stderr, "Error: %s\n", e.message.c_str());
  return code;
}

int daemon_error(const std::string& message) {
  std::fprintf(stderr, "Error response from daemon: %s\n", message.c_str());
  return 1;
}

int usage_error(const std::string& verb, const std::string& message) {
  std::fprintf(stderr, "%s\nSee 'minidocker %s--help'.\n", message.c_str(), verb.empty() ? "" : (verb + " ").c_str());
  return 125;
}

bool parse_or_exit(FlagSet& flags, const std::string& verb, std::span<const std::string> args, int* exit) {
  auto st = flags.parse(args);
  if (!st) {
    *exit = usage_error(verb, st.error().message);
    return false;
  }
  if (flags.help_requested()) {
    std::printf("%s", flags.help().c_str());
    *exit = 0;
    return false;
  }
  return true;
}

bool require_args(const FlagSet& f, const std::string& verb, size_t min, size_t max, int* exit) {
  size_t n = f.args().size();
  if (n >= min && n <= max) return true;
  std::string what;
  if (min == max) what = min == 1 ? "exactly 1 argument." : "exactly " + std::to_string(min) + " arguments.";
  else if (n < min) what = min == 1 ? "at least 1 argument." : "at least " + std::to_string(min) + " arguments.";
  else what = max == 0 ? "no arguments." : "at most " + std::to_string(max) + " arguments.";
  std::fprintf(stderr, "\"minidocker %s\" requires %s\nSee 'minidocker %s --help'.\n", verb.c_str(), what.c_str(), verb.c_str());
  *exit = 1;
  return false;
}

}  // namespace md::cli
