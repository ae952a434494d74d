// The `minidocker` CLI: Docker's verbs, flags, output and exit codes over the engine
// library, with no daemon. main.cc parses the global flags and dispatches; each verb
// lives in a *_cmd.cc file and is a thin layer: parse flags, call the engine, print.
//
// Exit codes (Docker's): a verb's own failure is 1 (`docker rm nosuch` → 1), except
// run/create/start-attached whose engine errors are 125, a command that cannot be
// executed 126, one that is not found 127, and a container's own status otherwise.
// Flag errors are 125 with "See 'minidocker VERB --help'.".
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "cli/common/flag_parser.h"
#include "engine/core/engine.h"

namespace md::cli {

struct Globals {
  std::string root, run_root;
  bool explain = false;
};

struct Invocation {
  Globals globals;
  std::string verb;                 // "run", "container ls" → "ls" with group "container"
  std::vector<std::string> args;    // after the verb
  // Opens the engine on first use (so `--help` and usage errors never touch state).
  Result<engine::Engine*> engine();
  std::unique_ptr<engine::Engine> engine_;
};

using VerbFn = int (*)(Invocation&);

// Prints "Error: <message>" (or Docker's "Error response from daemon: …" form where
// Docker's wording is expected) to stderr; returns `code`.
int report(const Error& e, int code = 1);
// Docker's "Error response from daemon: <message>" to stderr; returns 1.
int daemon_error(const std::string& message);
inline int daemon_error(const Error& e) { return daemon_error(e.message); }
// Flag parse failure or bad usage: message + "See 'minidocker VERB --help'." → 125.
int usage_error(const std::string& verb, const std::string& message);
// Parses `args` with `flags`; on --help prints it and returns 0 in *exit; on error prints
// and sets 125. Returns true when the verb should continue.
bool parse_or_exit(FlagSet& flags, const std::string& verb, std::span<const std::string> args, int* exit);
// "3f2a" or "web" with argument count checks: Docker's `"docker rm" requires at least 1 argument.`
bool require_args(const FlagSet& f, const std::string& verb, size_t min, size_t max, int* exit);

// Verbs.
int cmd_run(Invocation&);
int cmd_create(Invocation&);
int cmd_start(Invocation&);
int cmd_stop(Invocation&);
int cmd_restart(Invocation&);
int cmd_kill(Invocation&);
int cmd_pause(Invocation&);
int cmd_unpause(Invocation&);
int cmd_rm(Invocation&);
int cmd_ps(Invocation&);
int cmd_logs(Invocation&);
int cmd_inspect(Invocation&);
int cmd_exec(Invocation&);
int cmd_wait(Invocation&);
int cmd_rename(Invocation&);
int cmd_attach(Invocation&);
int cmd_top(Invocation&);
int cmd_stats(Invocation&);
int cmd_update(Invocation&);
int cmd_port(Invocation&);
int cmd_cp(Invocation&);
int cmd_export(Invocation&);
int cmd_commit(Invocation&);
int cmd_events(Invocation&);
int cmd_version(Invocation&);
int cmd_info(Invocation&);
int cmd_container_prune(Invocation&);
int cmd_container_cleanup(Invocation&);
int cmd_export_config(Invocation&);
// images
int cmd_images(Invocation&);
int cmd_import(Invocation&);
int cmd_load(Invocation&);
int cmd_save(Invocation&);
int cmd_tag(Invocation&);
int cmd_rmi(Invocation&);
int cmd_history(Invocation&);
int cmd_image_inspect(Invocation&);
int cmd_image_prune(Invocation&);
// volumes, networks, system
int cmd_volume(Invocation&);
int cmd_network(Invocation&);
int cmd_system(Invocation&);
// pods (pod_cmd.cc)
int cmd_pod(Invocation&);
// the API server (serve_cmd.cc)
int cmd_serve(Invocation&);

}  // namespace md::cli
