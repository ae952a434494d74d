// ContainerLock: one container at a time, across processes.
//
// A transaction makes one write atomic; an operation like `start` is many steps (spawn the
// monitor, create and start the container, record the pid) with other processes' steps
// possibly in between. ContainerLock serialises such operations on one container: an
// exclusive flock(2) on <root>/locks/<id>.lock, released when the object is destroyed or
// when the process dies (SIGKILL included: the kernel drops flocks with the last fd).
//
// Lock order (see docs/state.md): container locks first, several in ascending id order;
// then SQLite transactions. Never wait for a ContainerLock inside a transaction: the
// transaction holds the database's write lock, and the lock's holder may need it.
//
// The fd is O_CLOEXEC: a child that execs does not keep the lock. A child that forks
// without exec (the monitor's double fork) shares it until it closes the fd.
// Not thread-safe per object; two threads of one process taking the same container's lock
// through two ContainerLock objects do exclude each other (flock is per open file).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"

namespace md::store {

enum class LockMode { kExclusive, kShared };

class ContainerLock {
 public:
  // Takes the lock on container `id` (64 hex) under `root`, waiting up to `timeout`
  // (0: try once). Errors: EWOULDBLOCK "container 3f2a1b4c5d6e is busy: another minidocker
  // command holds its lock (waited 10 s)"; EINVAL for an id that is not 64 hex digits.
  static Result<ContainerLock> acquire(
      const std::string& root, std::string_view id,
      std::chrono::milliseconds timeout = std::chrono::seconds(10),
      LockMode mode = LockMode::kExclusive);

  ContainerLock() = default;
  ContainerLock(ContainerLock&&) noexcept = default;
  ContainerLock& operator=(ContainerLock&&) noexcept = default;

  bool held() const { return fd_.valid(); }
  const std::string& path() const { return path_; }

  // For `rm`, while holding the lock: unlinks the lock file. A process already waiting on
  // the old file notices it was unlinked and takes the lock on a new file instead.
  Status remove_file();
  void release() { fd_.reset(); }

 private:
  UniqueFd fd_;
  std::string path_;
};

// <root>/locks
std::string locks_dir(const std::string& root);

}  // namespace md::store
