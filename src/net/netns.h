// Network namespaces for containers: creating them, pinning them to a path so they
// outlive any process, and running code inside one on the current thread.
//
// A network namespace lives as long as something refers to it: a process in it, an
// open fd of its nsfs file, or a bind mount of that file. We pin each container's
// namespace with a bind mount (what `ip netns add` does), so the engine can set up the
// network before the container's process exists and tear it down after it has gone.
//
// Thread model: setns(CLONE_NEWNET) and unshare(CLONE_NEWNET) change the namespace of
// the calling *thread* only. Every function here that switches namespaces returns the
// thread to where it was before returning (or, for NetnsEnter, when destroyed). If
// that restoration itself fails the process aborts: a thread silently left in a
// container's namespace would create host interfaces and rules in the wrong place.
#pragma once

#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace md::net {

// Creates a new network namespace and pins it at `path` (a file that this call
// creates; its parent directory must exist). The new namespace has `lo` up and
// nothing else. The calling thread's namespace is the same afterwards, also on error,
// and on error nothing is left at `path`.
// Errors: EEXIST when `path` already exists (pinned or a leftover file: call
// remove_pinned_netns first); errno of open/unshare/mount/netlink otherwise.
Status create_pinned_netns(const std::string& path);

// Unpins the namespace at `path` (lazy unmount) and removes the file. Removing the
// file also detaches the copies of the pin that other mount namespaces took (every
// mount namespace made after the pin starts with one; Linux >= 3.18 drops mounts on
// an unlinked file everywhere), so those do not keep the namespace alive.
// The namespace itself goes once no process or fd refers to it any more; the kernel
// then deletes its interfaces (a veth pair with either end) asynchronously, tens of
// milliseconds later: do not reuse a veth name right after unpinning.
// A missing `path` or a plain file that is not mounted is success.
Status remove_pinned_netns(const std::string& path);

// Opens a pinned (or /proc/<pid>/ns/net) namespace file, O_RDONLY|O_CLOEXEC.
// Errors: ENOENT when absent; EINVAL when the file is not a network namespace (for
// example a pin file whose bind mount is gone after a reboot).
Result<UniqueFd> open_netns(const std::string& path);

// RAII switch of the calling thread into another network namespace: the previous one
// is restored by the destructor. Scopes must nest on a thread (LIFO), and the object
// must be destroyed on the thread that created it. Sockets keep the namespace they
// were created in, so a socket made inside a NetnsEnter scope can be used after it.
class NetnsEnter {
 public:
  // Enters the namespace `netns_fd` refers to. Errors: errno of open/setns.
  static Result<NetnsEnter> enter(int netns_fd);
  // Moves the thread into a brand-new, empty network namespace (unshare). It is
  // destroyed when the scope ends unless something pinned it meanwhile.
  static Result<NetnsEnter> enter_new();

  NetnsEnter(NetnsEnter&& other) noexcept = default;
  // No assignment: overwriting a live scope would lose the namespace to return to.
  NetnsEnter& operator=(NetnsEnter&&) = delete;
  ~NetnsEnter();

 private:
  explicit NetnsEnter(UniqueFd previous) : previous_(std::move(previous)) {}
  UniqueFd previous_;  // the thread's namespace before entering; invalid once moved from
};

// True when `netns_fd` is the calling thread's current network namespace.
Result<bool> is_current_netns(int netns_fd);

}  // namespace md::net
