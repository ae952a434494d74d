// update: `docker update [OPTIONS] CONTAINER...` — resource limits and restart policy.
#include <cstdio>

#include "cli/common/run_flags.h"
#include "cli/common/units.h"
#include "cli/docker/cli.h"
#include "engine/core/update.h"

namespace md::cli {

namespace {

// The flag's name as pflag shows it in errors: "-m, --memory" or "--cpus".
std::string shown(const char* name, char shorthand) {
  return shorthand ? std::string("-") + shorthand + ", --" + name : std::string("--") + name;
}

std::string invalid(const std::string& value, const std::string& flag, const std::string& why) {
  return "invalid argument \"" + value + "\" for \"" + flag + "\" flag: " + why;
}

Result<int64_t> parse_int64(const std::string& v, const std::string& flag) {
  errno = 0;
  char* end = nullptr;
  long long n = std::strtoll(v.c_str(), &end, 0);
  if (v.empty() || *end != '\0')
    return fail(invalid(v, flag, "strconv.ParseInt: parsing \"" + v + "\": invalid syntax"));
  if (errno == ERANGE) return fail(invalid(v, flag, "strconv.ParseInt: parsing \"" + v + "\": value out of range"));
  return n;
}

}  // namespace

int cmd_update(Invocation& inv) {
  FlagSet f("minidocker update [OPTIONS] CONTAINER [CONTAINER...]\n\nUpdate configuration of one or more containers",
            {{"cpu-period", 0, FlagKind::kValue, "Limit CPU CFS (Completely Fair Scheduler) period", "int"},
             {"cpu-quota", 0, FlagKind::kValue, "Limit CPU CFS (Completely Fair Scheduler) quota", "int"},
             {"cpu-shares", 'c', FlagKind::kValue, "CPU shares (relative weight)", "int"},
             {"cpus", 0, FlagKind::kValue, "Number of CPUs", "decimal"},
             {"cpuset-cpus", 0, FlagKind::kValue, "CPUs in which to allow execution (0-3, 0,1)"},
             {"cpuset-mems", 0, FlagKind::kValue, "MEMs in which to allow execution (0-3, 0,1)"},
             {"memory", 'm', FlagKind::kValue, "Memory limit", "bytes"},
             {"memory-reservation", 0, FlagKind::kValue, "Memory soft limit", "bytes"},
             {"memory-swap", 0, FlagKind::kValue, "Swap limit equal to memory plus swap: -1 to enable unlimited swap", "bytes"},
             {"pids-limit", 0, FlagKind::kValue, "Tune container pids limit (set -1 for unlimited)", "int"},
             {"restart", 0, FlagKind::kValue,
              "Restart policy to apply when a container exits (takes effect at the container's next start)"}});
  int rc = 0;
  if (!parse_or_exit(f, "update", inv.args, &rc) || !require_args(f, "update", 1, SIZE_MAX, &rc)) return rc;

  engine::UpdateRequest r;
  bool any = false;
  auto bytes = [&](const char* name, char sh, int64_t* out, bool allow_minus_one) -> bool {
    if (!f.given(name)) return true;
    any = true;
    std::string v = f.value(name);
    if (allow_minus_one && v == "-1") {
      *out = -1;
      return true;
    }
    auto n = parse_ram_bytes(v);
    if (!n) {
      rc = usage_error("update", invalid(v, shown(name, sh), n.error().message));
      return false;
    }
    *out = *n;
    return true;
  };
  auto integer = [&](const char* name, char sh, int64_t* out) -> bool {
    if (!f.given(name)) return true;
    any = true;
    auto n = parse_int64(f.value(name), shown(name, sh));
    if (!n) {
      rc = usage_error("update", n.error().message);
      return false;
    }
    *out = *n;
    return true;
  };
  if (!bytes("memory", 'm', &r.memory, false) || !bytes("memory-swap", 0, &r.memory_swap, true) ||
      !bytes("memory-reservation", 0, &r.memory_reservation, false) || !integer("cpu-shares", 'c', &r.cpu_shares) ||
      !integer("cpu-quota", 0, &r.cpu_quota) || !integer("cpu-period", 0, &r.cpu_period))
    return rc;
  if (f.given("cpus")) {
    any = true;
    auto n = parse_cpus(f.value("cpus"));
    if (!n) return usage_error("update", invalid(f.value("cpus"), "--cpus", n.error().message));
    r.nano_cpus = *n;
  }
  if (f.given("pids-limit")) {
    int64_t p = 0;
    if (!integer("pids-limit", 0, &p)) return rc;
    r.pids_limit = p;
  }
  for (auto [flag, out] : {std::pair{"cpuset-cpus", &r.cpuset_cpus}, std::pair{"cpuset-mems", &r.cpuset_mems}})
    if (f.given(flag)) {
      any = true;
      *out = f.value(flag);
    }
  if (f.given("restart")) {
    any = true;
    if (!f.value("restart").empty()) {
      auto p = parse_restart_policy(f.value("restart"));
      if (!p) return report(p.error());
      r.restart_policy = *p;
    }
  }
  if (!any) {
    std::fprintf(stderr, "you must provide one or more flags when using this command\n");
    return 1;
  }
  auto e = inv.engine();
  if (!e) return report(e.error());
  std::vector<std::string> errors, warnings;
  for (auto& ref : f.args()) {
    auto w = engine::update_container(**e, ref, r);
    if (!w) {
      std::string msg = w.error().message;
      if (w.error().errno_value == ENOENT && msg.rfind("no such container", 0) == 0) msg = "No such container: " + ref;
      errors.push_back("Error response from daemon: " + msg);
      continue;
    }
    std::printf("%s\n", ref.c_str());
    warnings.insert(warnings.end(), w->begin(), w->end());
  }
  for (auto& w : warnings) std::printf("%s\n", w.c_str());
  for (auto& err : errors) std::fprintf(stderr, "%s\n", err.c_str());
  return errors.empty() ? 0 : 1;
}

}  // namespace md::cli
