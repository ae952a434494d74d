// ps, update, spec, features.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/file_util.h"
#include "cli/runtime/commands.h"
#include "cli/runtime/flags.h"
#include "oci/default_spec.h"
#include "oci/features.h"

namespace md::cli {

namespace {

bool help_requested(const Context& ctx, const Flags& f, const char* synopsis) {
  for (size_t i = 1; i < ctx.args.size() && ctx.args[i][0] == '-'; ++i)
    if (ctx.args[i] == "--help" || ctx.args[i] == "-h") {
      std::printf("Usage: minidocker-runtime %s\n\nOptions:\n%s", synopsis, f.usage().c_str());
      return true;
    }
  return false;
}

// "512m", "1g", "1024" → bytes; "-1" → -1 (unlimited).
Result<int64_t> parse_size(const std::string& s, const char* flag) {
  if (s == "-1") return -1;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end == s.c_str() || v < 0) return fail(std::string(flag) + ": invalid size \"" + s + "\"", EINVAL);
  std::string unit(end);
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!unit.empty() && unit.back() == 'b') unit.pop_back();
  if (!unit.empty() && unit.back() == 'i') unit.pop_back();
  double mult = 1;
  if (unit == "k") mult = 1024.0;
  else if (unit == "m") mult = 1024.0 * 1024;
  else if (unit == "g") mult = 1024.0 * 1024 * 1024;
  else if (unit == "t") mult = 1024.0 * 1024 * 1024 * 1024;
  else if (!unit.empty()) return fail(std::string(flag) + ": invalid size \"" + s + "\"", EINVAL);
  return static_cast<int64_t>(v * mult);
}

Result<int64_t> parse_int(const std::string& s, const char* flag) {
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || !end || *end) return fail(std::string(flag) + ": invalid number \"" + s + "\"", EINVAL);
  return v;
}

}  // namespace

int cmd_ps(Context& ctx) {
  Flags f({{{"format", "f"}, true, "table or json"}});
  if (help_requested(ctx, f, "ps [--format table|json] <container-id> [ps options]")) return 0;
  if (auto st = f.parse(ctx.args, 1); !st) return usage_error("ps", st.error().message);
  if (f.rest().empty()) return usage_error("ps", "expected <container-id>");
  auto pids = runtime::container_pids(ctx.global, f.rest()[0]);
  if (!pids) return report_error(pids.error());
  std::string format = f.get("format", "table");
  if (format == "json") {
    std::printf("%s\n", nlohmann::json(*pids).dump().c_str());
    return 0;
  }
  if (format != "table") return usage_error("ps", "unknown format \"" + format + "\"");
  // Table: the host's `ps` (default -ef) filtered to the container's pids.
  std::vector<std::string> ps_args = {"ps"};
  if (f.rest().size() > 1) ps_args.insert(ps_args.end(), f.rest().begin() + 1, f.rest().end());
  else ps_args.push_back("-ef");
  int pipefd[2];
  if (::pipe(pipefd) != 0) return report_error({errno, "ps: pipe failed"});
  pid_t child = ::fork();
  if (child == 0) {
    ::dup2(pipefd[1], 1);
    ::close(pipefd[0]);
    std::vector<char*> argv;
    for (auto& a : ps_args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp("ps", argv.data());
    _exit(127);
  }
  ::close(pipefd[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return report_error({EINVAL, "ps: running `ps` on the host failed"});
  std::istringstream lines(out);
  std::string header;
  std::getline(lines, header);
  std::istringstream hs(header);
  std::string col;
  int pid_col = -1, idx = 0;
  while (hs >> col) {
    if (col == "PID") pid_col = idx;
    ++idx;
  }
  if (pid_col < 0) return report_error({EINVAL, "ps: no PID column in the output of `ps`"});
  std::set<int> want(pids->begin(), pids->end());
  std::printf("%s\n", header.c_str());
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream ls(line);
    std::string field;
    for (int i = 0; i <= pid_col && ls >> field; ++i) {
    }
    if (want.count(std::atoi(field.c_str()))) std::printf("%s\n", line.c_str());
  }
  return 0;
}

int cmd_update(Context& ctx) {
  Flags f({{{"resources", "r"}, true, "path to a linux.resources JSON file (\"-\" for stdin)"},
           {{"memory"}, true, "memory limit (e.g. 512m)"},
           {{"memory-reservation"}, true, "memory soft limit"},
           {{"memory-swap"}, true, "memory + swap limit"},
           {{"kernel-memory"}, true, "kernel memory limit (ignored where unsupported)"},
           {{"kernel-memory-tcp"}, true, "kernel TCP memory limit"},
           {{"cpu-shares"}, true, "relative CPU weight"},
           {{"cpu-quota"}, true, "CPU CFS quota (microseconds per period)"},
           {{"cpu-period"}, true, "CPU CFS period (microseconds)"},
           {{"cpu-rt-period"}, true, "realtime period"},
           {{"cpu-rt-runtime"}, true, "realtime runtime"},
           {{"cpuset-cpus"}, true, "CPUs allowed (e.g. 0-1)"},
           {{"cpuset-mems"}, true, "memory nodes allowed"},
           {{"pids-limit"}, true, "maximum number of processes"},
           {{"blkio-weight"}, true, "block IO weight (10-1000)"}});
  if (help_requested(ctx, f, "update [options] <container-id>")) return 0;
  if (auto st = f.parse(ctx.args, 1); !st) return usage_error("update", st.error().message);
  if (f.rest().size() != 1) return usage_error("update", "expected <container-id>");
  oci::Resources r;
  if (f.has("resources")) {
    std::string path = f.get("resources");
    auto text = path == "-" ? read_file("/dev/stdin") : read_file(path);
    if (!text) return report_error(with_context(text.error(), "--resources"));
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_discarded()) return report_error({EINVAL, "--resources: invalid JSON"});
    auto parsed = oci::parse_resources(j, "resources");
    if (!parsed) return report_error(parsed.error());
    r = *parsed;
  }
  auto set_size = [&](const char* flag, std::optional<int64_t>& dest) -> Status {
    if (!f.has(flag)) return {};
    dest = TRY(parse_size(f.get(flag), flag));
    return {};
  };
  auto mem = [&]() -> oci::MemoryResources& {
    if (!r.memory) r.memory = oci::MemoryResources{};
    return *r.memory;
  };
  auto cpu = [&]() -> oci::CpuResources& {
    if (!r.cpu) r.cpu = oci::CpuResources{};
    return *r.cpu;
  };
  Status st;
  if (f.has("memory")) st = set_size("memory", mem().limit);
  if (st && f.has("memory-reservation")) st = set_size("memory-reservation", mem().reservation);
  if (st && f.has("memory-swap")) st = set_size("memory-swap", mem().swap);
  if (st && f.has("kernel-memory")) st = set_size("kernel-memory", mem().kernel);
  if (st && f.has("kernel-memory-tcp")) st = set_size("kernel-memory-tcp", mem().kernel_tcp);
  if (!st) return report_error(st.error());
  auto num = [&](const char* flag) -> Result<int64_t> { return parse_int(f.get(flag), flag); };
  Result<int64_t> v = 0;
  if (f.has("cpu-shares") && (v = num("cpu-shares"))) cpu().shares = static_cast<uint64_t>(*v);
  if (v && f.has("cpu-quota") && (v = num("cpu-quota"))) cpu().quota = *v;
  if (v && f.has("cpu-period") && (v = num("cpu-period"))) cpu().period = static_cast<uint64_t>(*v);
  if (v && f.has("cpu-rt-period") && (v = num("cpu-rt-period"))) cpu().realtime_period = static_cast<uint64_t>(*v);
  if (v && f.has("cpu-rt-runtime") && (v = num("cpu-rt-runtime"))) cpu().realtime_runtime = *v;
  if (v && f.has("pids-limit") && (v = num("pids-limit"))) r.pids_limit = *v;
  if (v && f.has("blkio-weight") && (v = num("blkio-weight"))) {
    if (!r.block_io) r.block_io = oci::BlockIoResources{};
    r.block_io->weight = static_cast<uint16_t>(*v);
  }
  if (!v) return report_error(v.error());
  if (f.has("cpuset-cpus")) cpu().cpus = f.get("cpuset-cpus");
  if (f.has("cpuset-mems")) cpu().mems = f.get("cpuset-mems");
  if (auto s = runtime::update_container(ctx.global, f.rest()[0], r); !s) return report_error(s.error());
  return 0;
}

int cmd_spec(Context& ctx) {
  Flags f({{{"bundle", "b"}, true, "directory to write config.json to"}, {{"rootless"}, false, "a spec for rootless containers"}});
  if (help_requested(ctx, f, "spec [--bundle DIR] [--rootless]")) return 0;
  if (auto st = f.parse(ctx.args, 1); !st) return usage_error("spec", st.error().message);
  std::string path = join_path(f.get("bundle", "."), "config.json");
  if (path_exists(path)) return report_error({EEXIST, "file " + path + " exists: remove it first"});
  if (auto st = write_file_atomic(path, oci::default_spec_text(f.has("rootless")), 0666); !st) return report_error(st.error());
  return 0;
}

int cmd_features(Context& ctx) {
  Flags f({});
  if (help_requested(ctx, f, "features")) return 0;
  std::printf("%s\n", oci::features_json().dump(4).c_str());
  return 0;
}

}  // namespace md::cli
