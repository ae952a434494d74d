// The runtime's verbs as a library: the minidocker-runtime CLI is a thin layer over
// these, one call per verb (as crun's src/*.c over libcrun).
//
// Every function returns an Error whose message names the container and the cause;
// none of them leaves a half-created container behind on failure.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "oci/spec.h"

namespace md::runtime {

struct GlobalOptions {
  std::string root = "/run/minidocker-runtime";
};

struct CreateOptions {
  std::string id;
  std::string bundle = ".";
  std::string pid_file;
  std::string console_socket;
  bool no_pivot = false;
  int preserve_fds = 0;
};

// create: the container init exists in its namespaces and cgroup and waits for `start`.
Status create_container(const GlobalOptions& g, const CreateOptions& o);
// start: lets a created container exec its process; runs poststart hooks.
Status start_container(const GlobalOptions& g, const std::string& id);
// run: create + start; with detach=false waits and deletes, returning the exit code
// (128+signal when killed); with detach=true returns 0 once started.
Result<int> run_container(const GlobalOptions& g, const CreateOptions& o, bool detach);
Result<nlohmann::json> container_state(const GlobalOptions& g, const std::string& id);
Status kill_container(const GlobalOptions& g, const std::string& id, int signal, bool all);
Status delete_container(const GlobalOptions& g, const std::string& id, bool force);
Status pause_container(const GlobalOptions& g, const std::string& id);
Status resume_container(const GlobalOptions& g, const std::string& id);
Result<std::vector<int>> container_pids(const GlobalOptions& g, const std::string& id);
Result<std::vector<nlohmann::json>> list_containers(const GlobalOptions& g);
Status update_container(const GlobalOptions& g, const std::string& id, const oci::Resources& r);

struct ExecOptions {
  std::string id;
  oci::Process process;
  std::string console_socket;
  std::string pid_file;
  bool detach = false;
  int preserve_fds = 0;
};
// exec: a new process inside a running container. Returns its exit code unless detached.
Result<int> exec_in_container(const GlobalOptions& g, const ExecOptions& o);
// The process object exec starts from when given argv: the container's own process.
Result<oci::Process> container_process_template(const GlobalOptions& g, const std::string& id);

// Signal number for "KILL", "SIGKILL", "kill" or "9".
Result<int> parse_signal(const std::string& s);

}  // namespace md::runtime
