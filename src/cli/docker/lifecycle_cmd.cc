// start, stop, restart, kill, pause, unpause, rm, wait, rename, container cleanup.
#include <cstdio>

#include "cli/docker/cli.h"
#include "engine/core/containers.h"

namespace md::cli {

namespace {

using engine::Engine;

// Runs `op` on each argument, printing the argument on success (Docker echoes what the
// user typed), errors as they come; exit 1 if any failed.
template <class Op>
int for_each_container(Invocation& inv, const FlagSet& f, Op op, bool echo = true) {
  auto e = inv.engine();
  if (!e) return report(e.error());
  int rc = 0;
  for (auto& ref : f.args()) {
    auto st = op(**e, ref);
    if (!st) {
      std::fprintf(stderr, "Error response from daemon: %s\n", st.error().message.c_str());
      rc = 1;
    } else if (echo) {
      std::printf("%s\n", ref.c_str());
    }
  }
  return rc;
}

std::optional<int> parse_timeout(const FlagSet& f, int* exit, const std::string& verb) {
  if (!f.given("time") && !f.given("timeout")) return std::nullopt;
  std::string v = f.given("time") ? f.value("time") : f.value("timeout");
  try {
    size_t pos = 0;
    int t = std::stoi(v, &pos);
    if (pos != v.size()) throw 1;
    return t;
  } catch (...) {
    *exit = usage_error(verb, "invalid argument \"" + v + "\" for \"-t, --time\" flag: strconv.ParseInt: parsing \"" + v + "\": invalid syntax");
    return std::nullopt;
  }
}

}  // namespace

int cmd_start(Invocation& inv) {
  FlagSet f("minidocker start [OPTIONS] CONTAINER [CONTAINER...]",
            {{"attach", 'a', FlagKind::kBool, "Attach STDOUT/STDERR and forward signals"},
             {"interactive", 'i', FlagKind::kBool, "Attach container's STDIN"},
             {"detach-keys", 0, FlagKind::kValue, "Override the key sequence for detaching a container", "string", "", true}});
  int rc = 0;
  if (!parse_or_exit(f, "start", inv.args, &rc) || !require_args(f, "start", 1, SIZE_MAX, &rc)) return rc;
  if (f.boolean("attach") || f.boolean("interactive")) {
    if (f.args().size() > 1) {
      std::fprintf(stderr, "Error: you cannot start and attach multiple containers at once\n");
      return 1;
    }
    extern int start_attached(Invocation & inv, const std::string& ref, bool interactive);
    return start_attached(inv, f.args()[0], f.boolean("interactive"));
  }
  return for_each_container(inv, f, [](Engine& e, const std::string& ref) { return engine::start_container(e, ref); });
}

int cmd_stop(Invocation& inv) {
  FlagSet f("minidocker stop [OPTIONS] CONTAINER [CONTAINER...]",
            {{"time", 't', FlagKind::kValue, "Seconds to wait before killing the container", "int"},
             {"timeout", 0, FlagKind::kValue, "", "int", "", true},
             {"signal", 's', FlagKind::kValue, "Signal to send to the container"}});
  int rc = 0;
  if (!parse_or_exit(f, "stop", inv.args, &rc) || !require_args(f, "stop", 1, SIZE_MAX, &rc)) return rc;
  rc = -1;
  auto t = parse_timeout(f, &rc, "stop");
  if (rc != -1) return rc;
  std::string sig = f.value("signal");
  return for_each_container(inv, f, [&](Engine& e, const std::string& ref) { return engine::stop_container(e, ref, t, sig); });
}

int cmd_restart(Invocation& inv) {
  FlagSet f("minidocker restart [OPTIONS] CONTAINER [CONTAINER...]",
            {{"time", 't', FlagKind::kValue, "Seconds to wait before killing the container", "int"},
             {"signal", 's', FlagKind::kValue, "Signal to send to the container"}});
  int rc = 0;
  if (!parse_or_exit(f, "restart", inv.args, &rc) || !require_args(f, "restart", 1, SIZE_MAX, &rc)) return rc;
  rc = -1;
  auto t = parse_timeout(f, &rc, "restart");
  if (rc != -1) return rc;
  return for_each_container(inv, f, [&](Engine& e, const std::string& ref) { return engine::restart_container(e, ref, t); });
}

int cmd_kill(Invocation& inv) {
  FlagSet f("minidocker kill [OPTIONS] CONTAINER [CONTAINER...]",
            {{"signal", 's', FlagKind::kValue, "Signal to send to the container", "string", "\"KILL\""}});
  int rc = 0;
  if (!parse_or_exit(f, "kill", inv.args, &rc) || !require_args(f, "kill", 1, SIZE_MAX, &rc)) return rc;
  std::string sig = f.value("signal", "KILL");
  return for_each_container(inv, f, [&](Engine& e, const std::string& ref) { return engine::kill_container(e, ref, sig); });
}

int cmd_pause(Invocation& inv) {
  FlagSet f("minidocker pause CONTAINER [CONTAINER...]", {});
  int rc = 0;
  if (!parse_or_exit(f, "pause", inv.args, &rc) || !require_args(f, "pause", 1, SIZE_MAX, &rc)) return rc;
  return for_each_container(inv, f, [](Engine& e, const std::string& ref) { return engine::pause_container(e, ref); });
}

int cmd_unpause(Invocation& inv) {
  FlagSet f("minidocker unpause CONTAINER [CONTAINER...]", {});
  int rc = 0;
  if (!parse_or_exit(f, "unpause", inv.args, &rc) || !require_args(f, "unpause", 1, SIZE_MAX, &rc)) return rc;
  return for_each_container(inv, f, [](Engine& e, const std::string& ref) { return engine::unpause_container(e, ref); });
}

int cmd_rm(Invocation& inv) {
  FlagSet f("minidocker rm [OPTIONS] CONTAINER [CONTAINER...]",
            {{"force", 'f', FlagKind::kBool, "Force the removal of a running container (uses SIGKILL)"},
             {"volumes", 'v', FlagKind::kBool, "Remove anonymous volumes associated with the container"},
             {"link", 'l', FlagKind::kBool, "Remove the specified link", "", "", true}});
  int rc = 0;
  if (!parse_or_exit(f, "rm", inv.args, &rc) || !require_args(f, "rm", 1, SIZE_MAX, &rc)) return rc;
  bool force = f.boolean("force"), volumes = f.boolean("volumes");
  return for_each_container(inv, f, [&](Engine& e, const std::string& ref) -> Status {
    auto st = engine::remove_container(e, ref, force, volumes);
    if (!st && st.error().errno_value == ENOENT && st.error().message.rfind("no such container", 0) == 0)
      return fail("No such container: " + ref, ENOENT);
    return st;
  });
}

int cmd_wait(Invocation& inv) {
  FlagSet f("minidocker wait CONTAINER [CONTAINER...]", {});
  int rc = 0;
  if (!parse_or_exit(f, "wait", inv.args, &rc) || !require_args(f, "wait", 1, SIZE_MAX, &rc)) return rc;
  auto e = inv.engine();
  if (!e) return report(e.error());
  for (auto& ref : f.args()) {
    auto code = engine::wait_container(**e, ref);
    if (!code) {
      std::fprintf(stderr, "Error response from daemon: %s\n", code.error().message.c_str());
      rc = 1;
    } else {
      std::printf("%d\n", *code);
      std::fflush(stdout);
    }
  }
  return rc;
}

int cmd_rename(Invocation& inv) {
  FlagSet f("minidocker rename CONTAINER NEW_NAME", {});
  int rc = 0;
  if (!parse_or_exit(f, "rename", inv.args, &rc) || !require_args(f, "rename", 2, 2, &rc)) return rc;
  auto e = inv.engine();
  if (!e) return report(e.error());
  auto st = engine::rename_container(**e, f.args()[0], f.args()[1]);
  if (!st) return std::fprintf(stderr, "Error response from daemon: %s\n", st.error().message.c_str()), 1;
  return 0;
}

int cmd_container_cleanup(Invocation& inv) {
  FlagSet f("minidocker container cleanup ID (run by the monitor when a container exits)", {});
  int rc = 0;
  if (!parse_or_exit(f, "container cleanup", inv.args, &rc) || !require_args(f, "container cleanup", 1, 1, &rc)) return rc;
  auto e = inv.engine();
  if (!e) return report(e.error());
  auto st = engine::cleanup_container(**e, f.args()[0]);
  if (!st && st.error().errno_value != ENOENT) return report(st.error());
  return 0;
}

}  // namespace md::cli
