#include "net/netns.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "base/scope_guard.h"
#include "net/netlink.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

namespace md::net {

namespace {

// The calling thread's own namespace: /proc/self/ns/net would be the main thread's.
constexpr const char* kThreadNetns = "/proc/thread-self/ns/net";

Result<UniqueFd> open_current_netns() {
  int fd = ::open(kThreadNetns, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail_errno(std::string("open ") + kThreadNetns);
  return UniqueFd(fd);
}

bool is_nsfs(const std::string& path) {
  struct statfs fs;
  return ::statfs(path.c_str(), &fs) == 0 && static_cast<unsigned long>(fs.f_type) == NSFS_MAGIC;
}

}  // namespace

Result<NetnsEnter> NetnsEnter::enter(int netns_fd) {
  UniqueFd previous = TRY(open_current_netns());
  if (::setns(netns_fd, CLONE_NEWNET) != 0) return fail_errno("enter network namespace");
  return NetnsEnter(std::move(previous));
}

Result<NetnsEnter> NetnsEnter::enter_new() {
  UniqueFd previous = TRY(open_current_netns());
  if (::unshare(CLONE_NEWNET) != 0) return fail_errno("create network namespace");
  return NetnsEnter(std::move(previous));
}

NetnsEnter::~NetnsEnter() {
  if (!previous_) return;
  if (::setns(previous_.get(), CLONE_NEWNET) != 0) {
    // Carrying on would run host network setup inside a container's namespace.
    std::fprintf(stderr, "minidocker: cannot return to the previous network namespace: %m\n");
    std::abort();
  }
}

Result<bool> is_current_netns(int netns_fd) {
  struct stat mine, other;
  if (::stat(kThreadNetns, &mine) != 0) return fail_errno(std::string("stat ") + kThreadNetns);
  if (::fstat(netns_fd, &other) != 0) return fail_errno("stat network namespace fd");
  return mine.st_dev == other.st_dev && mine.st_ino == other.st_ino;
}

Status create_pinned_netns(const std::string& path) {
  const std::string what = "create network namespace at " + path;
  // O_EXCL makes two concurrent creators of the same path fail cleanly instead of
  // stacking two mounts on one file.
  int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  if (fd < 0) {
    if (errno == EEXIST && is_nsfs(path))
      return fail(what + ": a network namespace is already pinned there", EEXIST);
    return fail_errno(what);
  }
  ::close(fd);
  ScopeGuard remove_file([&] { ::unlink(path.c_str()); });

  {
    NetnsEnter inside = TRY_CTX(NetnsEnter::enter_new(), what);
    if (::mount(kThreadNetns, path.c_str(), nullptr, MS_BIND, nullptr) != 0)
      return fail_errno(what + ": bind mount");
    ScopeGuard unmount([&] { ::umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW); });
    // A fresh namespace has lo down: 127.0.0.1 would not even work inside it.
    Netlink nl = TRY_CTX(Netlink::open(), what);
    TRY_CTX(nl.set_up("lo"), what);
    unmount.cancel();
  }  // back in the caller's namespace here, on every path
  remove_file.cancel();
  return {};
}

Status remove_pinned_netns(const std::string& path) {
  // EINVAL: not a mount point (a leftover of a crash between create and mount).
  if (::umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0 && errno != EINVAL &&
      errno != ENOENT)
    return fail_errno("unmount network namespace " + path);
  // Also what frees the copies of the pin in other mount namespaces (see netns.h).
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return fail_errno("remove network namespace file " + path);
  return {};
}

Result<UniqueFd> open_netns(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail_errno("open network namespace " + path);
  // Checked here so that a stale pin file fails with its name, not as a bare EINVAL
  // from setns later.
  int type = ::ioctl(fd.get(), NS_GET_NSTYPE);
  if (type != CLONE_NEWNET)
    return fail("open network namespace " + path + ": not a network namespace file", EINVAL);
  return fd;
}

}  // namespace md::net
