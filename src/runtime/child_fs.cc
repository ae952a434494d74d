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
  if (fd >= 0) return fd;
  if (fd != -ENOENT) return fd;
  // Walk the components, creating what is missing. Each prefix is resolved from the
  // root again, so a symlink component is followed as a chroot would follow it.
  char prefix[4096];
  size_t len = 0;
  const char* p = path;
  while (*p == '/') ++p;
  prefix[len++] = '/';
  prefix[len] = 0;
  while (*p) {
    const char* end = p;
    while (*end && *end != '/') ++end;
    size_t comp_len = static_cast<size_t>(end - p);
    bool last = true;
    for (const char* q = end; *q; ++q)
      if (*q != '/') last = false;
    int parent = openat2_in_root(rootfd, prefix, O_PATH | O_DIRECTORY, 0);
    if (parent < 0) return parent;
    if (len + comp_len + 2 >= sizeof prefix) {
      close(parent);
      return -ENAMETOOLONG;
    }
    char comp[256];
    if (comp_len >= sizeof comp) {
      close(parent);
      return -ENAMETOOLONG;
    }
    for (size_t i = 0; i < comp_len; ++i) comp[i] = p[i];
    comp[comp_len] = 0;
    if (last && leaf == Leaf::kFile) {
      // O_PATH parent cannot be used for O_CREAT; reopen it as a real directory fd.
      int dir = openat2_in_root(rootfd, prefix, O_RDONLY | O_DIRECTORY, 0);
      close(parent);
      if (dir < 0) return dir;
      int f = openat(dir, comp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
      int err = errno;
      close(dir);
      if (f < 0 && err != EEXIST) return -err;
      if (f >= 0) close(f);
    } else if (mkdirat(parent, comp, 0755) != 0 && errno != EEXIST) {
      int err = errno;
      close(parent);
      return -err;
    } else {
      close(parent);
    }
    if (len > 1) prefix[len++] = '/';
    for (size_t i = 0; i < comp_len; ++i) prefix[len++] = p[i];
    prefix[len] = 0;
    p = end;
    while (*p == '/') ++p;
  }
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
