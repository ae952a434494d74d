// `run`/`create` and `exec` flags → Docker Engine API bodies, with the docker CLI's
// validation and wording (docker 28).
//
//   auto ra = parse_run_args(args, RunVerb::kRun);  // args after the verb
//   ra->body        POST /containers/create body: Config fields, "HostConfig",
//                   "NetworkingConfig" (field names and shapes of the Engine API)
//   ra->name, ra->detach, …   what only the CLI uses
//
// Errors are the docker CLI's messages without its "docker: " prefix; the caller prints
// them followed by "See 'minidocker run --help'." and exits 125:
//   invalid argument "abc" for "-m, --memory" flag: invalid size: 'abc'
//   "minidocker run" requires at least 1 argument.
//   conflicting options: cannot specify both --restart and --rm
// Checks that belong to the daemon (memory minimum, CPU range, unknown restart policy names,
// bind sources that do not exist, mount config) are left to the engine, except the restart
// policy, which is checked here with moby's wording as well.
//
// Body details, as the docker CLI sends them:
//   Cmd null without a command; Entrypoint null, or [""] for --entrypoint "" (reset);
//   Env: --env-file entries, then -e (deduplicated by name, last wins); "-e KEY" takes KEY
//   from this environment, or is sent bare as "KEY" when unset (the daemon then unsets KEY
//   from the image's environment); bare keys in an --env-file are dropped when unset.
//   -v: a source that is a path (/…, ./…, ../…, ~…) → HostConfig.Binds ("./x" made
//   absolute); a name → Binds too (named volume); a single path → Config.Volumes.
//   AttachStdin/Stdout/Stderr: stdout+stderr without -a; -i adds stdin; -d clears them.
//   StdinOnce when stdin is open and attached. CapAdd/CapDrop upper-cased with "CAP_",
//   sorted, deduplicated. Healthcheck: only the fields given (durations in ns).
//   LogConfig only with --log-driver/--log-opt ({"Type":"json-file"} when only options).
//   PidsLimit, MemorySwappiness, Init, StopSignal, StopTimeout only when given.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "cli/common/flag_parser.h"

namespace md::cli {

enum class RunVerb { kRun, kCreate };

struct RunArgs {
  nlohmann::json body = nlohmann::json::object();  // ContainerCreate body
  std::string name;               // --name
  bool detach = false;            // -d (run only)
  bool interactive = false;       // -i
  bool tty = false;               // -t
  bool rm = false;                // --rm (also HostConfig.AutoRemove)
  bool explain = false;           // --explain: print each step the engine takes
  std::string config_file;        // --config FILE: the seeds' container template
  std::string cidfile;            // --cidfile (also HostConfig.ContainerIDFile)
  bool sig_proxy = true;          // --sig-proxy (run only)
  std::string detach_keys;        // --detach-keys (run only)
  std::vector<std::string> attach;  // -a: "stdin" "stdout" "stderr", lower-cased, in order
  std::string pod;                // --pod
  bool quiet = false;             // -q
  std::string platform;           // --platform
  std::string pull = "missing";   // --pull: "missing" or "never"
  bool help = false;              // --help: print run_help(verb) and exit 0
};

// Parses the verb's arguments (without the verb). Image = first positional argument,
// Cmd = the rest (flags end at the image: `run busybox ls -l`).
Result<RunArgs> parse_run_args(std::span<const std::string> args, RunVerb verb);

// The flag definitions (docker's names, shorthands, help texts; hidden aliases --net,
// --net-alias, --dns-opt), and the --help text:
// "\nUsage:  minidocker run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nCreate and run a new …".
const std::vector<FlagDef>& run_flag_defs(RunVerb verb);
std::string run_help(RunVerb verb);

struct ExecArgs {
  std::string container;
  // ExecConfig (POST /containers/{id}/exec): User, Privileged, Tty, AttachStdin,
  // AttachStdout, AttachStderr, Detach, DetachKeys, Env (null when none), WorkingDir, Cmd.
  nlohmann::json config = nlohmann::json::object();
  bool detach = false, interactive = false, tty = false;
  std::string detach_keys;
  bool help = false;
};

// `exec [OPTIONS] CONTAINER COMMAND [ARG...]`: -d -i -t -e --env-file -w -u --privileged
// --detach-keys. Error without a command: "\"minidocker exec\" requires at least 2 arguments."
Result<ExecArgs> parse_exec_args(std::span<const std::string> args);
const std::vector<FlagDef>& exec_flag_defs();
std::string exec_help();

// docker's --env-file format: KEY=VALUE lines (the value verbatim, the key's leading
// whitespace trimmed), blank lines and #comments skipped, a UTF-8 BOM allowed; a bare KEY
// takes this environment's value and is dropped when unset (`lookup_env` false: always
// dropped, as for --label-file). Errors:
//   open FILE: no such file or directory
//   invalid env file (FILE): variable 'a b' contains whitespaces
//   invalid env file (FILE): no variable name on line '=1'
//   invalid env file (FILE): invalid utf8 bytes at line 1: [255 254]
Result<std::vector<std::string>> parse_env_file(const std::string& path, bool lookup_env = true);

// The pieces, for other verbs and tests.
// -p/--publish (go-connections nat.ParsePortSpecs, plus docker's long syntax
// "target=80,published=8080,protocol=udp"): adds to ExposedPorts {"80/tcp":{}} and
// PortBindings {"80/tcp":[{"HostIp":"","HostPort":"8080"}]}.
Status parse_publish(const std::string& spec, nlohmann::json& exposed, nlohmann::json& bindings);
// --mount csv → an API Mount object; errors without the `invalid argument` wrapper.
Result<nlohmann::json> parse_mount_spec(const std::string& spec);
// --restart → {"Name", "MaximumRetryCount"}, checked as the CLI and moby do.
Result<nlohmann::json> parse_restart_policy(const std::string& spec);
// --ulimit nofile=1024:2048 → {"Name","Soft","Hard"}.
Result<nlohmann::json> parse_ulimit(const std::string& spec);
// --device /dev/sda[:/dev/xvda][:rwm] → {"PathOnHost","PathInContainer","CgroupPermissions"}.
Result<nlohmann::json> parse_device(const std::string& spec);

}  // namespace md::cli
