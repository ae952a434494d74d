// minidocker: Docker's command line, daemonless. Global flags, then a verb (or a group
// and a verb: `container ls`, `image rm`, `volume create`, `network ls`, `system df`).
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>

#include "base/explain.h"
#include "cli/docker/cli.h"

namespace md::cli {
namespace {

struct Verb {
  const char* name;
  VerbFn fn;
  const char* help;
};

// Top-level verbs, in `minidocker --help` order.
const Verb kVerbs[] = {
    {"run", cmd_run, "Create and run a new container from an image"},
    {"create", cmd_create, "Create a new container"},
    {"start", cmd_start, "Start one or more stopped containers"},
    {"stop", cmd_stop, "Stop one or more running containers"},
    {"restart", cmd_restart, "Restart one or more containers"},
    {"kill", cmd_kill, "Kill one or more running containers"},
    {"pause", cmd_pause, "Pause all processes within one or more containers"},
    {"unpause", cmd_unpause, "Unpause all processes within one or more containers"},
    {"resume", cmd_unpause, "Same as unpause (the seeds' word)"},
    {"rm", cmd_rm, "Remove one or more containers"},
    {"ps", cmd_ps, "List containers"},
    {"logs", cmd_logs, "Fetch the logs of a container"},
    {"inspect", cmd_inspect, "Return low-level information on containers, images, networks or volumes"},
    {"exec", cmd_exec, "Execute a command in a running container"},
    {"wait", cmd_wait, "Block until one or more containers stop, then print their exit codes"},
    {"rename", cmd_rename, "Rename a container"},
    {"attach", cmd_attach, "Attach local standard input, output, and error streams to a running container"},
    {"events", cmd_events, "Get real time events from the engine"},
    {"images", cmd_images, "List images"},
    {"import", cmd_import, "Import the contents from a tarball to create a filesystem image"},
    {"load", cmd_load, "Load an image from a tar archive or STDIN"},
    {"save", cmd_save, "Save one or more images to a tar archive (streamed to STDOUT by default)"},
    {"tag", cmd_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"},
    {"rmi", cmd_rmi, "Remove one or more images"},
    {"history", cmd_history, "Show the history of an image"},
    {"cp", cmd_cp, "Copy files/folders between a container and the local filesystem"},
    {"export", cmd_export, "Export a container's filesystem as a tar archive"},
    {"commit", cmd_commit, "Create a new image from a container's changes"},
    {"stats", cmd_stats, "Display a live stream of container(s) resource usage statistics"},
    {"top", cmd_top, "Display the running processes of a container"},
    {"port", cmd_port, "List port mappings or a specific mapping for the container"},
    {"update", cmd_update, "Update configuration of one or more containers"},
    {"info", cmd_info, "Display system-wide information"},
    {"version", cmd_version, "Show the minidocker version information"},
    {"serve", cmd_serve, "Serve the Docker Engine API on a unix socket"},
};

const std::map<std::string, std::string> kContainerAliases = {
    {"ls", "ps"}, {"list", "ps"}, {"remove", "rm"}};

// `image VERB`
const std::map<std::string, VerbFn> kImageVerbs = {
    {"ls", cmd_images},   {"list", cmd_images}, {"import", cmd_import}, {"load", cmd_load},
    {"save", cmd_save},   {"tag", cmd_tag},     {"rm", cmd_rmi},        {"remove", cmd_rmi},
    {"history", cmd_history}, {"inspect", cmd_image_inspect}, {"prune", cmd_image_prune}};

void print_help() {
  std::printf(
      "\nUsage:  minidocker [OPTIONS] COMMAND\n\n"
      "A small container engine with Docker's command line (no daemon needed)\n\n"
      "Common Commands:\n");
  for (auto& v : kVerbs) std::printf("  %-10s %s\n", v.name, v.help);
  std::printf(
      "\nManagement Commands:\n"
      "  container  Manage containers (ls, run, rm, … and `container export-config`)\n"
      "  image      Manage images\n"
      "  network    Manage networks\n"
      "  volume     Manage volumes\n"
      "  pod        Manage pods (containers sharing network, IPC and UTS namespaces)\n"
      "  system     Manage minidocker (df, info, prune)\n"
      "\nGlobal Options:\n"
      "      --root string      State directory (default \"/var/lib/minidocker\", env MINIDOCKER_ROOT)\n"
      "      --runroot string   Runtime state directory (default \"/run/minidocker\" for the default\n"
      "                         root, else ROOT/run; env MINIDOCKER_RUNROOT)\n"
      "      --explain          Print every engine and kernel step with its duration\n"
      "  -v, --version          Print version information and quit\n"
      "\nRun 'minidocker COMMAND --help' for more information on a command.\n");
}

VerbFn find_verb(const std::string& name) {
  for (auto& v : kVerbs)
    if (name == v.name) return v.fn;
  return nullptr;
}

}  // namespace

int main_impl(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  Invocation inv;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const std::string& flag) -> std::optional<std::string> {
      if (a.rfind(flag + "=", 0) == 0) return a.substr(flag.size() + 1);
      if (a == flag && i + 1 < args.size()) return args[++i];
      return std::nullopt;
    };
    if (a.empty() || a[0] != '-') break;
    if (a == "--") {
      ++i;
      break;
    }
    if (a == "--root" || a.rfind("--root=", 0) == 0) {
      auto v = value("--root");
      if (!v) return usage_error("", "flag needs an argument: --root");
      inv.globals.root = *v;
    } else if (a == "--runroot" || a.rfind("--runroot=", 0) == 0) {
      auto v = value("--runroot");
      if (!v) return usage_error("", "flag needs an argument: --runroot");
      inv.globals.run_root = *v;
    } else if (a == "--explain") {
      inv.globals.explain = true;
    } else if (a == "-D" || a == "--debug") {
    } else if (a == "--log-level" || a.rfind("--log-level=", 0) == 0 || a == "-l") {
      if (a.find('=') == std::string::npos) ++i;
    } else if (a == "-v" || a == "--version") {
      std::printf("minidocker version 0.1.0\n");
      return 0;
    } else if (a == "-h" || a == "--help") {
      print_help();
      return 0;
    } else {
      return usage_error("", "unknown flag: " + a);
    }
  }
  if (const char* env = std::getenv("MINIDOCKER_EXPLAIN"); env && std::strcmp(env, "1") == 0) inv.globals.explain = true;
  if (inv.globals.explain) Explain::enable(2);
  if (i >= args.size()) {
    print_help();
    return 0;
  }
  std::string verb = args[i++];
  if (verb == "pod") {  // `pod VERB`: pod_cmd.cc dispatches on its own sub-verb
    inv.args.assign(args.begin() + long(i), args.end());
    inv.verb = "pod";
    return cmd_pod(inv);
  }
  std::string group;
  if (verb == "container" || verb == "image" || verb == "volume" || verb == "network" || verb == "system") {
    group = verb;
    if (i >= args.size() || args[i] == "--help" || args[i] == "-h") {
      std::printf("\nUsage:  minidocker %s COMMAND\n\nRun 'minidocker --help' for the commands.\n", group.c_str());
      return 0;
    }
    verb = args[i++];
  }
  inv.args.assign(args.begin() + long(i), args.end());
  VerbFn fn = nullptr;
  if (group.empty() || group == "container") {
    std::string v = verb;
    if (group == "container" && kContainerAliases.count(v)) v = kContainerAliases.at(v);
    if (group == "container" && v == "cleanup") fn = cmd_container_cleanup;
    else if (group == "container" && v == "export-config") fn = cmd_export_config;
    else if (group == "container" && v == "prune") fn = cmd_container_prune;
    else fn = find_verb(v);
    inv.verb = (group.empty() ? "" : group + " ") + verb;
  }
  if (group == "image" && kImageVerbs.count(verb)) {
    fn = kImageVerbs.at(verb);
    inv.verb = "image " + verb;
  }
  if (group == "volume" || group == "network" || group == "system") {  // they dispatch on their own sub-verb
    inv.args.insert(inv.args.begin(), verb);
    inv.verb = group;
    fn = group == "volume" ? cmd_volume : group == "network" ? cmd_network : cmd_system;
  }
  if (!fn) {
    std::fprintf(stderr, "minidocker: '%s%s' is not a minidocker command.\nSee 'minidocker --help'\n",
                 group.empty() ? "" : (group + " ").c_str(), verb.c_str());
    return 1;
  }
  return fn(inv);
}

}  // namespace md::cli

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  return md::cli::main_impl(argc, argv);
}
