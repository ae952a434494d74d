// A container's files for the API server: `docker diff` (GET /containers/{id}/changes),
// `docker export` (GET /containers/{id}/export) and `docker cp` (HEAD/GET/PUT
// /containers/{id}/archive). The tar work is the image library's (image/tree_tar.h):
// every path is resolved inside the container's root with openat2(RESOLVE_IN_ROOT), so a
// symlink in the container never leads to a host file and a tar entry never lands
// outside the destination (CVE-2018-15664; docs/api-objects.md).
//
// The root is a running container's /proc/<pid>/root (its volumes and tmpfs mounts seen,
// as Docker's cp), or, for a stopped one, its overlay mounted for the duration while a
// shared container lock keeps `start` from racing the unmount. export always uses the
// overlay: the container's file system without its volumes, as Docker's.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "engine/core/engine.h"
#include "engine/image/tree_tar.h"
#include "engine/store/container_lock.h"

namespace md::engine {

// An open container root; unmounts what it mounted (and drops its lock) when destroyed.
// Keep the Engine alive as long as this object.
class ContainerRoot {
 public:
  ~ContainerRoot();
  int fd() const { return fd_.get(); }  // O_PATH directory fd of the root
  bool running() const { return running_; }
  const store::Container& container() const { return container_; }

 private:
  friend Result<std::unique_ptr<ContainerRoot>> open_container_root(Engine&, const std::string&, bool);
  explicit ContainerRoot(Engine& e) : e_(e) {}
  Engine& e_;
  store::Container container_;
  store::ContainerLock lock_;
  UniqueFd fd_;
  bool running_ = false, mounted_here_ = false;
};

// `overlay`: the merged overlay even when the container runs (export). Errors: no such
// container (ENOENT "No such container: x"), image or layers missing, mount failure.
Result<std::unique_ptr<ContainerRoot>> open_container_root(Engine& e, const std::string& ref, bool overlay = false);

// One entry of Docker's GET /containers/{id}/changes: Kind 0 modified, 1 added, 2 deleted.
struct Change {
  std::string path;  // "/etc/passwd"
  int kind = 0;
};
// The writable layer against the image's layers, sorted by path (Docker's overlay
// changes): a whiteout is deleted, a path the image has is modified (a directory only
// when its own metadata changed, not for a copy-up alone), anything else is added. The
// mount targets the runtime makes (/etc/hosts, /etc/hostname, /etc/resolv.conf, /dev,
// /proc, /sys, …) are left out, as Docker's init layer hides them. Below an opaque
// directory (removed and made again) the image's entries not made again are deleted.
Result<std::vector<Change>> container_changes(Engine& e, const std::string& ref);

// A tar of the container's file system (without its volumes) to `out_fd`; emits the
// "export" event. A failure after the first bytes leaves a truncated stream.
Status export_container(Engine& e, const std::string& ref, int out_fd);

// Docker's X-Docker-Container-Path-Stat value: base64 of
// {"name","size","mode","mtime","linkTarget"} (mode as Go's os.FileMode, mtime RFC 3339).
std::string path_stat_header(const image::PathStat& st);

// Standard base64 with padding (the header above).
std::string base64_encode(const std::string& data);

}  // namespace md::engine
