// Engine: the library every client (the `minidocker` CLI, later the API server) calls.
// One Engine per process (per thread): it owns the SQLite connection.
//
// Containers are rows in SQLite (store/container_store.h), files under the roots
// (paths.h), a runtime container (runtime/container.h, in-process) and a monitor process
// (minidocker-monitor, one per running container). Operations on one container are
// serialised across processes by ContainerLock; every command first reconciles the rows
// it touches with what the kernel and the monitors say (reconcile.cc), so nothing is ever
// shown "running" after its process or monitor died.
//
// Errors: Result/Status with a message a user can act on. The CLI maps them to Docker's
// exit codes: 125 engine error, 126 cannot execute, 127 not found (EngineError below).
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "engine/core/events.h"
#include "engine/core/paths.h"
#include "engine/store/container_store.h"
#include "engine/store/database.h"
#include "engine/store/image_store.h"
#include "engine/store/network_store.h"

namespace md::engine {

struct EngineOptions {
  std::string root;          // "" = default (paths.h)
  std::string run_root;      // "" = default
  std::string monitor_path;  // minidocker-monitor; "" = next to self_path, then $PATH
  std::string self_path;     // this program (for the monitor's exit command); "" = /proc/self/exe
};

class Engine {
 public:
  // Opens (creating) the roots and the database. Errors: cannot create the root, database
  // unreadable.
  static Result<std::unique_ptr<Engine>> open(const EngineOptions& o);

  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const Paths& paths() const { return paths_; }
  store::Database& db() { return db_; }
  store::ContainerStore& containers() { return containers_; }
  store::ImageStore& images() { return images_; }
  store::NetworkStore& networks() { return networks_; }
  const std::string& monitor_path() const { return monitor_path_; }
  const std::string& self_path() const { return self_path_; }

  // Records an event in <root>/events.log (best effort).
  void emit(const Event& e) { append_event(paths_.events_file(), e); }
  // A container event with Docker's usual attributes (name, image, labels).
  void emit_container(const store::Container& c, const std::string& action,
                      std::map<std::string, std::string> extra = {});

 private:
  Engine(Paths p, store::Database db);
  Paths paths_;
  store::Database db_;
  store::ContainerStore containers_;
  store::ImageStore images_;
  store::NetworkStore networks_;
  std::string monitor_path_;
  std::string self_path_;
};

// The exit code a failure maps to, Docker's convention: 125 by default; an error whose
// errno is ENOEXEC/EACCES at exec time is 126 and ENOENT at exec time is 127 (set by
// start for the container's own command failing to execute).
struct ExitCodeError {
  int code;
  Error error;
};

}  // namespace md::engine
