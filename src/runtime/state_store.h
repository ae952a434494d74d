// Per-container runtime state under --root: <root>/<id>/{state.json,config.json,start.sock}.
//
// state.json holds what later commands need (pid and its start time, bundle, cgroup
// path, the spec's hooks and annotations); config.json is the spec the container was
// created from. The container's status is never stored: it is derived each time from
// the process (alive? zombie?), start.sock (still waiting for `start`?) and the freezer.
// A directory is created atomically with mkdir, which is what makes ids unique.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace md::runtime {

enum class ContainerStatus { kCreating, kCreated, kRunning, kPaused, kStopped };
const char* status_name(ContainerStatus s);

struct ContainerRecord {
  std::string id;
  pid_t pid = 0;
  unsigned long long pid_start_time = 0;  // field 22 of /proc/<pid>/stat: detects pid reuse
  std::string bundle;
  std::string rootfs;
  std::string created;  // RFC 3339
  std::string owner;
  std::string cgroup_path;
  bool own_pid_namespace = true;
  nlohmann::json annotations = nlohmann::json::object();
  nlohmann::json config;  // the full spec (config.json) as given
};

class StateStore {
 public:
  explicit StateStore(std::string root) : root_(std::move(root)) {}
  const std::string& root() const { return root_; }
  std::string dir(const std::string& id) const { return root_ + "/" + id; }

  // Checks the id is usable as a directory name (runc's rule: [\w+-\.]+, no "." or "..").
  static md::Status validate_id(const std::string& id);
  // mkdir <root>/<id>; EEXIST becomes "container with id exists".
  md::Status create_dir(const std::string& id);
  md::Status save(const ContainerRecord& r);
  Result<ContainerRecord> load(const std::string& id) const;
  Result<std::vector<std::string>> list_ids() const;
  md::Status remove(const std::string& id) const;

 private:
  std::string root_;
};

// Status of a container right now (process liveness, start socket, freezer).
ContainerStatus current_status(const StateStore& store, const ContainerRecord& r);
// Start time of a live process, nullopt when it is gone or a zombie.
std::optional<unsigned long long> process_start_time(pid_t pid);
// The OCI state JSON: ociVersion, id, status, pid, bundle, annotations.
nlohmann::json oci_state(const ContainerRecord& r, ContainerStatus s);

}  // namespace md::runtime
