// create, start, run, state, kill, delete, list, pause, resume.
#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "cli/runtime/commands.h"
#include "cli/runtime/flags.h"

namespace md::cli {

namespace {

// Parses flags for a verb that takes exactly `positional` arguments (or at least when
// at_least is set). Returns false (after printing) on a usage problem.
bool parse_verb(Context& ctx, Flags& flags, size_t positional, int& exit_code, bool at_least = false) {
  std::vector<FlagSpec> dummy;
  bool wants_help = false;
  for (size_t i = 1; i < ctx.args.size() && ctx.args[i].size() > 1 && ctx.args[i][0] == '-'; ++i)
    if (ctx.args[i] == "--help" || ctx.args[i] == "-h") wants_help = true;
  if (wants_help) {
    std::printf("Usage: minidocker-runtime %s [options]%s\n\nOptions:\n%s", ctx.args[0].c_str(),
                positional ? " <container-id>" : "", flags.usage().c_str());
    exit_code = 0;
    return false;
  }
  if (auto st = flags.parse(ctx.args, 1); !st) {
    exit_code = usage_error(ctx.args[0], st.error().message);
    return false;
  }
  size_t n = flags.rest().size();
  if ((!at_least && n != positional) || (at_least && n < positional)) {
    exit_code = usage_error(ctx.args[0], "expected " + std::to_string(positional) + " argument(s), got " + std::to_string(n));
    return false;
  }
  return true;
}

std::vector<FlagSpec> create_flags() {
  return {{{"bundle", "b"}, true, "path to the bundle directory (default: current directory)"},
          {{"console-socket"}, true, "unix socket that receives the pty master (process.terminal)"},
          {{"pid-file"}, true, "file to write the container init's pid to"},
          {{"no-pivot"}, false, "use MS_MOVE + chroot instead of pivot_root"},
          {{"no-new-keyring"}, false, "accepted for compatibility (no session keyring is created)"},
          {{"preserve-fds"}, true, "pass this many extra fds (3, 4, ...) to the container"}};
}

Result<runtime::CreateOptions> create_options(const Flags& f) {
  runtime::CreateOptions o;
  o.id = f.rest()[0];
  o.bundle = f.get("bundle", ".");
  o.console_socket = f.get("console-socket");
  o.pid_file = f.get("pid-file");
  o.no_pivot = f.has("no-pivot");
  std::string pf = f.get("preserve-fds", "0");
  char* end = nullptr;
  long n = std::strtol(pf.c_str(), &end, 10);
  if (!end || *end || n < 0 || n > 1000) return fail("--preserve-fds: invalid value \"" + pf + "\"", EINVAL);
  o.preserve_fds = static_cast<int>(n);
  return o;
}

int simple(Context& ctx, Status (*fn)(const runtime::GlobalOptions&, const std::string&)) {
  Flags f({});
  int code = 1;
  if (!parse_verb(ctx, f, 1, code)) return code;
  if (auto st = fn(ctx.global, f.rest()[0]); !st) return report_error(st.error());
  return 0;
}

}  // namespace

int cmd_create(Context& ctx) {
  Flags f(create_flags());
  int code = 1;
  if (!parse_verb(ctx, f, 1, code)) return code;
  auto o = create_options(f);
  if (!o) return report_error(o.error());
  if (auto st = runtime::create_container(ctx.global, *o); !st) return report_error(st.error());
  return 0;
}

int cmd_start(Context& ctx) { return simple(ctx, runtime::start_container); }

int cmd_run(Context& ctx) {
  auto specs = create_flags();
  specs.push_back({{"detach", "d"}, false, "detach from the container's process"});
  specs.push_back({{"keep"}, false, "accepted for compatibility"});
  Flags f(specs);
  int code = 1;
  if (!parse_verb(ctx, f, 1, code)) return code;
  auto o = create_options(f);
  if (!o) return report_error(o.error());
  auto rc = runtime::run_container(ctx.global, *o, f.has("detach"));
  if (!rc) return report_error(rc.error());
  return *rc;
}

int cmd_state(Context& ctx) {
  Flags f({});
  int code = 1;
  if (!parse_verb(ctx, f, 1, code)) return code;
  auto st = runtime::container_state(ctx.global, f.rest()[0]);
  if (!st) return report_error(st.error());
  std::printf("%s\n", st->dump(2).c_str());
  return 0;
}

int cmd_kill(Context& ctx) {
  Flags f({{{"all", "a"}, false, "send the signal to all processes in the container"}});
  int code = 1;
  if (!parse_verb(ctx, f, 1, code, /*at_least=*/true)) return code;
  if (f.rest().size() > 2) return usage_error("kill", "expected <container-id> [signal]");
  auto sig = runtime::parse_signal(f.rest().size() == 2 ? f.rest()[1] : "SIGTERM");
  if (!sig) return report_error(sig.error());
  if (auto st = runtime::kill_container(ctx.global, f.rest()[0], *sig, f.has("all")); !st) return report_error(st.error());
  return 0;
}

int cmd_delete(Context& ctx) {
  Flags f({{{"force", "f"}, false, "kill the container first if it is still running"}});
  int code = 1;
  if (!parse_verb(ctx, f, 1, code)) return code;
  if (auto st = runtime::delete_container(ctx.global, f.rest()[0], f.has("force")); !st) {
    // runc: deleting a container that does not exist with --force succeeds.
    if (f.has("force") && st.error().errno_value == ENOENT) return 0;
    return report_error(st.error());
  }
  return 0;
}

int cmd_list(Context& ctx) {
  Flags f({{{"format", "f"}, true, "table or json"}, {{"quiet", "q"}, false, "display only container ids"}});
  int code = 1;
  if (!parse_verb(ctx, f, 0, code)) return code;
  auto list = runtime::list_containers(ctx.global);
  if (!list) return report_error(list.error());
  std::string format = f.get("format", "table");
  if (f.has("quiet")) {
    for (auto& c : *list) std::printf("%s\n", c["id"].get<std::string>().c_str());
  } else if (format == "json") {
    std::printf("%s\n", nlohmann::json(*list).dump().c_str());
  } else if (format == "table") {
    std::printf("%-20s %-10s %-10s %-40s %-32s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
    for (auto& c : *list)
      std::printf("%-20s %-10d %-10s %-40s %-32s %s\n", c["id"].get<std::string>().c_str(), c["pid"].get<int>(),
                  c["status"].get<std::string>().c_str(), c["bundle"].get<std::string>().c_str(),
                  c["created"].get<std::string>().c_str(), c["owner"].get<std::string>().c_str());
  } else {
    return usage_error("list", "unknown format \"" + format + "\" (use table or json)");
  }
  return 0;
}

int cmd_pause(Context& ctx) { return simple(ctx, runtime::pause_container); }
int cmd_resume(Context& ctx) { return simple(ctx, runtime::resume_container); }

}  // namespace md::cli
