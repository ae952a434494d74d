// minidocker-runtime: a runc-compatible OCI runtime CLI. Global flags, then a verb.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include <nlohmann/json.hpp>

#include "base/explain.h"
#include "cli/runtime/commands.h"
#include "cli/runtime/flags.h"

namespace md::cli {
namespace {

std::string g_log_path;
bool g_log_json = false;

struct Verb {
  const char* name;
  Command fn;
  const char* help;
};
constexpr Verb kVerbs[] = {
    {"create", cmd_create, "create a container"},
    {"start", cmd_start, "execute the user process of a created container"},
    {"run", cmd_run, "create and start a container (and wait for it unless -d)"},
    {"state", cmd_state, "output the state of a container"},
    {"kill", cmd_kill, "send a signal to the container's init process"},
    {"delete", cmd_delete, "delete a container and everything it holds"},
    {"list", cmd_list, "list containers started with the given root"},
    {"ps", cmd_ps, "show the processes running inside a container"},
    {"exec", cmd_exec, "execute a new process inside a container"},
    {"pause", cmd_pause, "suspend all processes of a container (cgroup freezer)"},
    {"resume", cmd_resume, "resume all processes of a paused container"},
    {"update", cmd_update, "update the resource limits of a container"},
    {"spec", cmd_spec, "create a new specification file (config.json)"},
    {"features", cmd_features, "show what this runtime supports (JSON)"},
};

void print_help() {
  std::printf(
      "minidocker-runtime — an OCI container runtime (runc-compatible command line)\n\n"
      "USAGE: minidocker-runtime [global options] command [command options] [arguments...]\n\nCOMMANDS:\n");
  for (auto& v : kVerbs) std::printf("   %-10s %s\n", v.name, v.help);
  std::printf(
      "\nGLOBAL OPTIONS:\n"
      "   --root value        state directory (default: /run/minidocker-runtime)\n"
      "   --log value         log file for errors (default: stderr only)\n"
      "   --log-format value  text or json (default: text)\n"
      "   --debug             debug logging\n"
      "   --explain           print every kernel-level step with its duration (MINIDOCKER_EXPLAIN=1)\n"
      "   --systemd-cgroup    not supported (no systemd): answered with an error\n"
      "   --version, -v       print the version\n");
}

std::string now_rfc3339() {
  char buf[64];
  time_t t = time(nullptr);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

int report_error(const Error& e) {
  std::fprintf(stderr, "minidocker-runtime: %s\n", e.message.c_str());
  if (!g_log_path.empty()) {
    int fd = ::open(g_log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
      std::string line;
      if (g_log_json)
        line = nlohmann::json{{"level", "error"}, {"msg", e.message}, {"time", now_rfc3339()}}.dump() + "\n";
      else
        line = "time=\"" + now_rfc3339() + "\" level=error msg=" + nlohmann::json(e.message).dump() + "\n";
      (void)!::write(fd, line.data(), line.size());
      ::close(fd);
    }
  }
  return 1;
}

int usage_error(const std::string& verb, const std::string& message) {
  return report_error(Error{EINVAL, verb + ": " + message + " (see minidocker-runtime " + verb + " --help)"});
}

}  // namespace md::cli

int main(int argc, char** argv) {
  using namespace md::cli;
  std::vector<std::string> args(argv, argv + argc);
  ::signal(SIGPIPE, SIG_IGN);  // a closed stderr/--explain reader must not kill us mid-create
  Flags global({{{"root"}, true, ""},
                {{"log"}, true, ""},
                {{"log-format"}, true, ""},
                {{"debug"}, false, ""},
                {{"explain"}, false, ""},
                {{"systemd-cgroup"}, false, ""},
                {{"rootless"}, true, ""},
                {{"criu"}, true, ""},
                {{"version", "v"}, false, ""},
                {{"help", "h"}, false, ""}});
  if (auto st = global.parse(args, 1); !st) return report_error(st.error());
  Context ctx;
  if (global.has("root")) ctx.global.root = global.get("root");
  md::cli::g_log_path = global.get("log");
  std::string fmt = global.get("log-format", "text");
  if (fmt != "text" && fmt != "json")
    return report_error({EINVAL, "--log-format: unknown format \"" + fmt + "\" (use text or json)"});
  md::cli::g_log_json = fmt == "json";
  const char* env_explain = std::getenv("MINIDOCKER_EXPLAIN");
  if (global.has("explain") || (env_explain && *env_explain && std::strcmp(env_explain, "0") != 0))
    md::Explain::enable(2);
  if (global.has("version")) {
    std::printf("minidocker-runtime version 0.1.0\nspec: 1.2.0\n");
    return 0;
  }
  ctx.args = global.rest();
  if (ctx.args.empty() || global.has("help")) {
    print_help();
    return ctx.args.empty() && !global.has("help") ? 1 : 0;
  }
  if (global.has("systemd-cgroup"))
    return report_error({EINVAL, "--systemd-cgroup is not supported: this runtime manages cgroupfs directly "
                                 "(there is no systemd on this host); drop the flag"});
  if (ctx.args[0] == "version") {
    std::printf("minidocker-runtime version 0.1.0\nspec: 1.2.0\n");
    return 0;
  }
  for (auto& v : kVerbs)
    if (ctx.args[0] == v.name) return v.fn(ctx);
  return report_error({EINVAL, "unknown command \"" + ctx.args[0] + "\" (see minidocker-runtime --help)"});
}
