// Reading and writing cgroup interface files relative to a directory fd.
#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "base/explain.h"
#include "cgroups/cgroup_internal.h"
#include "cgroups/testing.h"

namespace md::cgroups::internal {

namespace {
FakeFs* g_fake_fs = nullptr;
}

void install_fake_fs(FakeFs* fs) { g_fake_fs = fs; }
FakeFs* fake_fs() { return g_fake_fs; }

std::string errno_text(int err) {
  std::string s = std::strerror(err);
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

Result<bool> write_file(int dirfd, const std::string& dir, std::string_view file,
                        std::string_view value, IfMissing missing) {
  std::string name(file);
  // A fake tree holds plain files, which need O_TRUNC to behave like interface files.
  int flags = O_WRONLY | O_CLOEXEC | (g_fake_fs ? O_TRUNC : 0);
  int fd = ::openat(dirfd, name.c_str(), flags);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT && missing == IfMissing::kSkip) {
      if (Explain::enabled())
        Explain::note("cgroup skip " + dir + "/" + name + " (not on this host)");
      return false;
    }
    return fail("cgroup: write " + std::string(value) + " to " + name + ": " + errno_text(err),
                err);
  }
  ssize_t n;
  do {
    n = ::write(fd, value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  int err = errno;
  ::close(fd);
  if (n < 0)
    return fail("cgroup: write " + std::string(value) + " to " + name + ": " + errno_text(err),
                err);
  if (g_fake_fs) g_fake_fs->writes.emplace_back(dir + "/" + name, std::string(value));
  if (Explain::enabled())
    Explain::step("cgroup write " + dir + "/" + name + " = " + std::string(value));
  return true;
}

static Result<std::string> read_fd(int fd, std::string_view file) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("cgroup: read " + std::string(file) + ": " + errno_text(errno), errno);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

Result<std::optional<std::string>> read_file_if_exists(int dirfd, std::string_view file) {
  std::string name(file);
  int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return fail("cgroup: read " + name + ": " + errno_text(errno), errno);
  }
  auto r = read_fd(fd, file);
  ::close(fd);
  if (!r) return std::unexpected(std::move(r).error());
  return std::optional<std::string>(std::move(*r));
}

Result<std::string> read_file(int dirfd, std::string_view file) {
  std::string name(file);
  int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail("cgroup: read " + name + ": " + errno_text(errno), errno);
  auto r = read_fd(fd, file);
  ::close(fd);
  return r;
}

bool file_exists(int dirfd, std::string_view file) {
  return ::faccessat(dirfd, std::string(file).c_str(), F_OK, 0) == 0;
}

std::vector<std::string> split_words(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    size_t j = i;
    while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j]))) ++j;
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  for (const auto& x : v)
    if (x == s) return true;
  return false;
}

}  // namespace md::cgroups::internal
