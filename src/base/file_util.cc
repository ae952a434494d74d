#include "base/file_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

namespace md {

static Result<std::string> read_all(int fd, const std::string& name) {
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("read " + name);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Result<std::string> read_file(const std::string& path) { return read_file_at(AT_FDCWD, path); }

Result<std::string> read_file_at(int dirfd, const std::string& name) {
  UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail_errno("open " + name);
  return read_all(fd.get(), name);
}

Status write_existing_file(const std::string& path, std::string_view data) {
  return write_existing_file_at(AT_FDCWD, path, data);
}

Status write_existing_file_at(int dirfd, const std::string& name, std::string_view data) {
  UniqueFd fd(::openat(dirfd, name.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return fail_errno("open " + name);
  ssize_t n = ::write(fd.get(), data.data(), data.size());
  if (n < 0) return fail_errno("write " + std::string(data) + " to " + name);
  if (static_cast<size_t>(n) != data.size()) return fail("short write to " + name, EIO);
  return {};
}

Status write_file_atomic(const std::string& path, std::string_view data, int mode) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
    if (!fd) return fail_errno("create " + tmp);
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::write(fd.get(), data.data() + off, data.size() - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        ::unlink(tmp.c_str());
        return fail_errno("write " + tmp, err);
      }
      off += static_cast<size_t>(n);
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return fail_errno("rename " + tmp + " to " + path, err);
  }
  return {};
}

Result<UniqueFd> open_fd(const std::string& path, int flags, int mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return fail_errno("open " + path);
  return UniqueFd(fd);
}

bool path_exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

bool is_directory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Status make_directories(const std::string& path, int mode) {
  if (path.empty()) return {};
  std::string cur;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t next = path.find('/', pos);
    if (next == std::string::npos) next = path.size();
    cur = path.substr(0, next);
    if (!cur.empty() && ::mkdir(cur.c_str(), mode) != 0 && errno != EEXIST)
      return fail_errno("mkdir " + cur);
    pos = next + 1;
  }
  if (!is_directory(path)) return fail("mkdir " + path + ": exists and is not a directory", ENOTDIR);
  return {};
}

static Status remove_tree_at(int parentfd, const char* name, dev_t dev) {
  struct stat st;
  if (::fstatat(parentfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return {};
    return fail_errno(std::string("stat ") + name);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlinkat(parentfd, name, 0) != 0 && errno != ENOENT)
      return fail_errno(std::string("unlink ") + name);
    return {};
  }
  if (st.st_dev != dev) return fail(std::string("refusing to remove mount point ") + name, EBUSY);
  int fd = ::openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return fail_errno(std::string("open ") + name);
  DIR* dir = ::fdopendir(fd);
  if (!dir) {
    ::close(fd);
    return fail_errno(std::string("opendir ") + name);
  }
  Status status;
  while (struct dirent* ent = ::readdir(dir)) {
    if (!std::strcmp(ent->d_name, ".") || !std::strcmp(ent->d_name, "..")) continue;
    status = remove_tree_at(fd, ent->d_name, dev);
    if (!status) break;
  }
  ::closedir(dir);
  if (!status) return status;
  if (::unlinkat(parentfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
    return fail_errno(std::string("rmdir ") + name);
  return {};
}

Status remove_tree(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return errno == ENOENT ? Status{} : fail_errno("stat " + path);
  return remove_tree_at(AT_FDCWD, path.c_str(), st.st_dev);
}

Result<std::vector<std::string>> list_directory(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (!dir) return fail_errno("opendir " + path);
  std::vector<std::string> out;
  while (struct dirent* ent = ::readdir(dir)) {
    if (!std::strcmp(ent->d_name, ".") || !std::strcmp(ent->d_name, "..")) continue;
    out.emplace_back(ent->d_name);
  }
  ::closedir(dir);
  return out;
}

std::string join_path(std::string_view a, std::string_view b) {
  std::string out(a);
  while (!out.empty() && out.back() == '/') out.pop_back();
  while (!b.empty() && b.front() == '/') b.remove_prefix(1);
  out += '/';
  out += b;
  return out;
}

std::string absolute_path(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char buf[4096];
  if (!::getcwd(buf, sizeof buf)) return path;
  return join_path(buf, path);
}

}  // namespace md
