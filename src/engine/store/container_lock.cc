#include "engine/store/container_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <thread>

#include "base/file_util.h"
#include "engine/store/ids.h"

namespace md::store {

std::string locks_dir(const std::string& root) { return join_path(root, "locks"); }

Result<ContainerLock> ContainerLock::acquire(const std::string& root, std::string_view id,
                                             std::chrono::milliseconds timeout, LockMode mode) {
  if (!is_full_id(id))
    return fail("lock container \"" + std::string(id) + "\": not a 64-digit hex id", EINVAL);
  std::string dir = locks_dir(root);
  TRY_CTX(make_directories(dir, 0700), "lock container " + short_id(id));
  std::string path = join_path(dir, std::string(id) + ".lock");
  const int op = (mode == LockMode::kExclusive ? LOCK_EX : LOCK_SH) | LOCK_NB;

  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto wait = std::chrono::microseconds(500);
  for (;;) {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) return fail_errno("lock container " + short_id(id) + ": open " + path);
    for (;;) {
      if (::flock(fd.get(), op) == 0) break;
      if (errno == EINTR) continue;
      if (errno != EWOULDBLOCK) return fail_errno("lock container " + short_id(id) + ": flock " + path);
      auto now = std::chrono::steady_clock::now();
      if (now >= deadline) {
        auto secs = std::chrono::duration_cast<std::chrono::duration<double>>(timeout).count();
        char waited[32];
        std::snprintf(waited, sizeof waited, "%.3g s", secs);
        return fail("container " + short_id(id) +
                        " is busy: another minidocker command holds its lock (waited " + waited +
                        ")",
                    EWOULDBLOCK);
      }
      std::this_thread::sleep_for(
          std::min<std::chrono::microseconds>(wait, std::chrono::duration_cast<std::chrono::microseconds>(deadline - now)));
      wait = std::min<std::chrono::microseconds>(wait * 2, std::chrono::milliseconds(50));
    }
    // The holder we waited for may have unlinked the file (rm): then our lock is on an
    // orphan inode that a newcomer would not see. Only a lock on the file now at `path`
    // counts.
    struct stat held {}, now {};
    if (::fstat(fd.get(), &held) != 0) return fail_errno("lock container " + short_id(id) + ": fstat");
    if (::stat(path.c_str(), &now) == 0 && now.st_ino == held.st_ino && now.st_dev == held.st_dev) {
      ContainerLock lock;
      lock.fd_ = std::move(fd);
      lock.path_ = std::move(path);
      return lock;
    }
  }
}

Status ContainerLock::remove_file() {
  if (!held()) return fail("remove lock file: lock not held", EINVAL);
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT) return fail_errno("remove " + path_);
  return {};
}

}  // namespace md::store
