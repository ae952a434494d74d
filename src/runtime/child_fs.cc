#include "runtime/child_fs.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "base/child_io.h"

namespace md::runtime::childfs {

static int openat2_in_root(int rootfd, const char* path, int flags, int mode) {
  struct open_how how = {};
  how.flags = static_cast<unsigned long long>(flags | O_CLOEXEC);
  how.mode = static_cast<unsigned long long>(mode);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  // A leading '/' is fine: RESOLVE_IN_ROOT treats it as rootfd.
  long fd;
  do {
    fd = syscall(SYS_openat2, rootfd, path, &how, sizeof how);
  } while (fd < 0 && errno == EAGAIN);
  return fd < 0 ? -errno : static_cast<int>(fd);
}

int open_in_root(int rootfd, const char* path, int flags) {
  return openat2_in_root(rootfd, path, flags, 0);
}

int open_or_create_in_root(int rootfd, const char* path, Leaf leaf) {
  int fd = openat2_in_root(rootfd, path, O_PATH, 0);
  if (fd != -ENOENT) return fd;
  // Find the deepest existing ancestor (usually the parent: one more lookup), then create
  // the missing components below it. Every lookup is resolved from the root again, so a
  // symlink component is followed as a chroot would follow it.
  char buf[4096];
  size_t len = child::str_len(path);
  if (len + 1 >= sizeof buf) return -ENAMETOOLONG;
  for (size_t i = 0; i <= len; ++i) buf[i] = path[i];
  while (len > 1 && buf[len - 1] == '/') buf[--len] = 0;
  size_t existing = len;  // buf[0..existing) is the prefix that exists
  int dir = -ENOENT;
  while (dir == -ENOENT) {
    while (existing > 0 && buf[existing - 1] != '/') --existing;  // drop the last component
    if (existing == 0) return -ENOENT;
    size_t cut = existing > 1 ? existing - 1 : 1;  // keep "/" for the root
    char saved = buf[cut];
    buf[cut] = 0;
    dir = openat2_in_root(rootfd, buf, O_RDONLY | O_DIRECTORY, 0);
    buf[cut] = saved;
    if (dir < 0 && dir != -ENOENT) return dir;
    if (dir == -ENOENT) existing = cut;
  }
  // Create each missing component with *at() calls relative to the last directory.
  size_t pos = existing;
  while (pos < len) {
    size_t end = pos;
    while (end < len && buf[end] != '/') ++end;
    char saved = buf[end];
    buf[end] = 0;
    const char* comp = buf + pos;
    bool last = end >= len;
    if (last && leaf == Leaf::kFile) {
      int f = openat(dir, comp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (f < 0 && errno != EEXIST) {
        int err = errno;
        close(dir);
        return -err;
      }
      if (f >= 0) close(f);
    } else {
      if (mkdirat(dir, comp, 0755) != 0 && errno != EEXIST) {
        int err = errno;
        close(dir);
        return -err;
      }
      if (!last) {
        // Re-resolve from the root: what exists now may be a symlink planted meanwhile.
        close(dir);
        dir = openat2_in_root(rootfd, buf, O_RDONLY | O_DIRECTORY, 0);
        if (dir < 0) return dir;
      }
    }
    buf[end] = saved;
    pos = end;
    while (pos < len && buf[pos] == '/') ++pos;
  }
  close(dir);
  return openat2_in_root(rootfd, path, O_PATH, 0);
}

void fd_path(int fd, char* out, unsigned long cap) {
  child::LineBuffer b;
  b.add("/proc/self/fd/").add_int(fd);
  unsigned long n = b.size() < cap - 1 ? b.size() : cap - 1;
  for (unsigned long i = 0; i < n; ++i) out[i] = b.data()[i];
  out[n] = 0;
}

bool split_path(const char* path, char* dir, unsigned long dir_cap, const char* base_out[]) {
  size_t n = child::str_len(path);
  while (n > 1 && path[n - 1] == '/') --n;
  size_t slash = n;
  while (slash > 0 && path[slash - 1] != '/') --slash;
  if (slash == 0 || slash >= dir_cap) return false;
  size_t dlen = slash > 1 ? slash - 1 : 1;
  for (size_t i = 0; i < dlen; ++i) dir[i] = path[i];
  dir[dlen] = 0;
  *base_out = path + slash;
  return true;
}

}  // namespace md::runtime::childfs
