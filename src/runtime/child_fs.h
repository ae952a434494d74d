// Filesystem steps of the container init, all async-signal-safe (raw syscalls on
// buffers the caller owns). Every path inside the container is resolved with
// openat2(RESOLVE_IN_ROOT) against a dirfd of the rootfs, so a symlink planted in the
// image can never send a mount, mknod or mask outside the rootfs.
#pragma once

#include <sys/types.h>

namespace md::runtime::childfs {

enum class Leaf { kDirectory, kFile };

// Opens `path` (absolute, container view) below `rootfd` as an O_PATH fd, creating
// missing directories (mode 0755) and, with Leaf::kFile, an empty leaf file (0644).
// Returns the fd or -errno.
int open_or_create_in_root(int rootfd, const char* path, Leaf leaf);
// Opens an existing `path` below rootfd with the given open flags; -errno on failure.
int open_in_root(int rootfd, const char* path, int flags);
// Writes "/proc/self/fd/<fd>" into out (cap >= 32).
void fd_path(int fd, char* out, unsigned long cap);
// Splits "/a/b/c" into dir "/a/b" and base "c" (copies into the caller's buffers).
bool split_path(const char* path, char* dir, unsigned long dir_cap, const char* base_out[]);

}  // namespace md::runtime::childfs
