#include "engine/image/tar_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "base/unique_fd.h"
#include "engine/image/layer_path.h"

namespace md::image {

namespace {

constexpr const char* kOpaqueMarker = ".wh..wh..opq";

struct EntryFree {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};
using EntryPtr = std::unique_ptr<struct archive_entry, EntryFree>;

la_ssize_t write_callback(struct archive*, void* opaque, const void* buf, size_t n) {
  return static_cast<TarWriter*>(opaque)->deliver(buf, n) ? static_cast<la_ssize_t>(n) : -1;
}

struct Xattr {
  std::string name;
  std::string value;
};

// The xattrs worth archiving: not overlayfs' own (they describe the overlay, not the
// file, and the extractor drops them), not the host's SELinux label.
bool archivable_xattr(std::string_view name) {
  return !name.starts_with("trusted.overlay.") && !name.starts_with("user.overlay.") &&
         name != "security.selinux";
}

Result<std::vector<Xattr>> read_xattrs(int fd, const std::string& shown) {
  std::vector<Xattr> out;
  std::string names;
  for (;;) {
    ssize_t n = ::flistxattr(fd, nullptr, 0);
    if (n < 0) {
      if (errno == ENOTSUP || errno == EOPNOTSUPP) return out;
      return fail_errno("list xattrs of " + quote(shown));
    }
    if (n == 0) return out;
    names.resize(static_cast<size_t>(n));
    n = ::flistxattr(fd, names.data(), names.size());
    if (n < 0 && errno == ERANGE) continue;  // grew meanwhile
    if (n < 0) return fail_errno("list xattrs of " + quote(shown));
    names.resize(static_cast<size_t>(n));
    break;
  }
  for (size_t pos = 0; pos < names.size();) {
    std::string name(names.c_str() + pos);
    pos += name.size() + 1;
    if (name.empty()) continue;
    std::string value;
    for (;;) {
      ssize_t n = ::fgetxattr(fd, name.c_str(), nullptr, 0);
      if (n < 0 && errno == ENODATA) break;  // removed meanwhile
      if (n < 0) return fail_errno("read xattr " + name + " of " + quote(shown));
      value.resize(static_cast<size_t>(n));
      n = ::fgetxattr(fd, name.c_str(), value.data(), value.size());
      if (n < 0 && errno == ERANGE) continue;
      if (n < 0) return fail_errno("read xattr " + name + " of " + quote(shown));
      value.resize(static_cast<size_t>(n));
      out.push_back({name, value});
      break;
    }
  }
  return out;
}

Result<std::vector<std::string>> sorted_children(int dirfd, const std::string& shown) {
  int dup = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup < 0) return fail_errno("open directory " + quote(shown));
  DIR* dir = ::fdopendir(dup);
  if (!dir) {
    ::close(dup);
    return fail_errno("open directory " + quote(shown));
  }
  std::vector<std::string> out;
  errno = 0;
  while (struct dirent* ent = ::readdir(dir)) {
    std::string_view n = ent->d_name;
    if (n != "." && n != "..") out.emplace_back(n);
  }
  int err = errno;
  ::closedir(dir);
  if (err) return fail_errno("read directory " + quote(shown), err);
  std::sort(out.begin(), out.end());
  return out;
}

// Header fields shared by every entry made from a stat: Docker's choices (see tar_writer.h).
void fill_from_stat(struct archive_entry* e, const std::string& name, const struct stat& st) {
  archive_entry_set_pathname(e, name.c_str());
  archive_entry_set_uid(e, st.st_uid);
  archive_entry_set_gid(e, st.st_gid);
  archive_entry_set_perm(e, st.st_mode & 07777);
  archive_entry_set_mtime(e, st.st_mtim.tv_sec, 0);
}

std::string dir_name(const std::string& name) {
  if (name.empty() || name.back() == '/') return name;
  return name + "/";
}

}  // namespace

Result<std::unique_ptr<TarWriter>> TarWriter::open(ByteSink sink) {
  std::unique_ptr<TarWriter> w(new TarWriter());
  w->sink_ = std::move(sink);
  w->a_ = archive_write_new();
  if (!w->a_) return fail("archive_write_new: out of memory", ENOMEM);
  // pax_restricted: plain ustar headers unless a field needs a pax record (long names,
  // big sizes or ids, xattrs), which is what Go's archive/tar does for Docker.
  if (archive_write_set_format_pax_restricted(w->a_) != ARCHIVE_OK)
    return w->archive_error("tar writer");
  // Only the SCHILY.xattr.* records Go and GNU tar read, not libarchive's own duplicates.
  archive_write_set_format_option(w->a_, "pax", "xattrheader", "SCHILY");
  archive_write_set_bytes_per_block(w->a_, 10240);
  // The stream ends with the two zero blocks, not padded to a 10 KiB record.
  archive_write_set_bytes_in_last_block(w->a_, 1);
  if (archive_write_open(w->a_, w.get(), nullptr, write_callback, nullptr) != ARCHIVE_OK)
    return w->archive_error("open tar writer");
  return w;
}

Result<std::unique_ptr<TarWriter>> TarWriter::open_fd(int fd) {
  return open([fd](const void* data, size_t size) -> Status {
    auto* p = static_cast<const char*>(data);
    while (size > 0) {
      ssize_t n = ::write(fd, p, size);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail_errno("write tar stream");
      p += n;
      size -= static_cast<size_t>(n);
    }
    return {};
  });
}

TarWriter::~TarWriter() {
  if (a_) archive_write_free(a_);
}

bool TarWriter::deliver(const void* data, size_t size) {
  if (sink_failed_) return false;
  auto s = sink_(data, size);
  if (!s) {
    sink_failed_ = true;
    sink_error_ = std::move(s).error();
    return false;
  }
  return true;
}

std::unexpected<Error> TarWriter::archive_error(const std::string& what) {
  if (sink_failed_) return std::unexpected(with_context(sink_error_, what));
  const char* msg = a_ ? archive_error_string(a_) : nullptr;
  int err = a_ ? archive_errno(a_) : 0;
  return fail(what + ": " + (msg ? msg : "unknown libarchive error"), err > 0 ? err : EIO);
}

Status TarWriter::write_header(struct archive_entry* e, const std::string& what) {
  int r = archive_write_header(a_, e);
  if (r < ARCHIVE_WARN || sink_failed_) return archive_error("write tar header for " + quote(what));
  return {};
}

Status TarWriter::write_data(const void* data, size_t size, const std::string& what) {
  auto* p = static_cast<const char*>(data);
  while (size > 0) {
    la_ssize_t n = archive_write_data(a_, p, size);
    if (n < 0 || sink_failed_) return archive_error("write tar data of " + quote(what));
    if (n == 0) return fail("write tar data of " + quote(what) + ": more than its size", EIO);
    p += n;
    size -= static_cast<size_t>(n);
  }
  return {};
}

Status TarWriter::finish_entry(const std::string& what) {
  if (archive_write_finish_entry(a_) < ARCHIVE_WARN || sink_failed_)
    return archive_error("finish tar entry " + quote(what));
  return {};
}

Status TarWriter::add_stream(const std::string& name, uint64_t size, mode_t perm, int64_t mtime,
                             const std::function<Status(const ByteSink&)>& produce) {
  EntryPtr e(archive_entry_new());
  archive_entry_set_pathname(e.get(), name.c_str());
  archive_entry_set_filetype(e.get(), AE_IFREG);
  archive_entry_set_perm(e.get(), perm & 07777);
  archive_entry_set_size(e.get(), static_cast<la_int64_t>(size));
  archive_entry_set_mtime(e.get(), mtime, 0);
  TRY(write_header(e.get(), name));
  uint64_t written = 0;
  TRY(produce([&](const void* data, size_t n) -> Status {
    if (written + n > size)
      return fail("tar entry " + quote(name) + ": more data than the " + std::to_string(size) +
                      " bytes announced",
                  EIO);
    written += n;
    return write_data(data, n, name);
  }));
  return finish_entry(name);
}

Status TarWriter::add_bytes(const std::string& name, std::string_view data, mode_t perm,
                            int64_t mtime) {
  return add_stream(name, data.size(), perm, mtime, [&](const ByteSink& sink) -> Status {
    return data.empty() ? Status{} : sink(data.data(), data.size());
  });
}

Status TarWriter::add_directory(const std::string& name, mode_t perm, int64_t mtime) {
  EntryPtr e(archive_entry_new());
  archive_entry_set_pathname(e.get(), dir_name(name).c_str());
  archive_entry_set_filetype(e.get(), AE_IFDIR);
  archive_entry_set_perm(e.get(), perm & 07777);
  archive_entry_set_mtime(e.get(), mtime, 0);
  TRY(write_header(e.get(), name));
  return finish_entry(name);
}

Status TarWriter::add_path(int parentfd, const std::string& base, const std::string& name,
                           const TreeTarOptions& options) {
  struct stat st;
  if (::fstatat(parentfd, base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return fail_errno("stat " + quote(name));
  return add_node(parentfd, base, name, st, options);
}

Status TarWriter::add_children(int dirfd, const std::string& prefix,
                               const TreeTarOptions& options) {
  for (const std::string& child : TRY(sorted_children(dirfd, prefix.empty() ? "/" : prefix))) {
    struct stat st;
    if (::fstatat(dirfd, child.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // deleted while we walk (a running container)
      return fail_errno("stat " + quote(prefix + child));
    }
    TRY(add_node(dirfd, child, prefix + child, st, options));
  }
  return {};
}

Status TarWriter::add_node(int parentfd, const std::string& base, const std::string& name,
                           const struct stat& st, const TreeTarOptions& options) {
  EntryPtr e(archive_entry_new());
  fill_from_stat(e.get(), name, st);
  const char* opaque_xattr = options.overlay_xattr == OverlayXattr::kTrusted
                                 ? "trusted.overlay.opaque"
                                 : "user.overlay.opaque";

  if (S_ISDIR(st.st_mode)) {
    UniqueFd fd(::openat(parentfd, base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) return fail_errno("open directory " + quote(name));
    struct stat now;
    if (::fstat(fd.get(), &now) != 0) return fail_errno("stat " + quote(name));
    if (now.st_ino != st.st_ino || now.st_dev != st.st_dev)
      return fail(quote(name) + " was replaced while being archived", EAGAIN);
    bool opaque = false;
    for (const Xattr& x : TRY(read_xattrs(fd.get(), name))) {
      if (options.overlay_whiteouts && x.name == opaque_xattr && x.value == "y") opaque = true;
      if (archivable_xattr(x.name))
        archive_entry_xattr_add_entry(e.get(), x.name.c_str(), x.value.data(), x.value.size());
    }
    archive_entry_set_pathname(e.get(), dir_name(name).c_str());
    archive_entry_set_filetype(e.get(), AE_IFDIR);
    TRY(write_header(e.get(), name));
    TRY(finish_entry(name));
    const std::string prefix = dir_name(name);
    if (opaque) {
      // Right after its directory, as OCI layers carry it.
      EntryPtr wo(archive_entry_new());
      fill_from_stat(wo.get(), prefix + kOpaqueMarker, st);
      archive_entry_set_filetype(wo.get(), AE_IFREG);
      archive_entry_set_perm(wo.get(), st.st_mode & 0777);
      archive_entry_set_size(wo.get(), 0);
      TRY(write_header(wo.get(), prefix + kOpaqueMarker));
      TRY(finish_entry(prefix + kOpaqueMarker));
    }
    return add_children(fd.get(), prefix, options);
  }

  if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
    auto [it, first] = links_.try_emplace({st.st_dev, st.st_ino}, name);
    if (!first) {
      archive_entry_set_filetype(e.get(), st.st_mode & S_IFMT);
      archive_entry_set_hardlink(e.get(), it->second.c_str());
      archive_entry_set_size(e.get(), 0);
      TRY(write_header(e.get(), name));
      return finish_entry(name);
    }
  }

  if (S_ISREG(st.st_mode)) {
    // O_NONBLOCK: if the name became a fifo since the stat, opening must not hang.
    UniqueFd fd(::openat(parentfd, base.c_str(),
                         O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (!fd) {
      if (errno == ENOENT) return {};  // deleted while we walk
      return fail_errno("open " + quote(name));
    }
    struct stat now;
    if (::fstat(fd.get(), &now) != 0) return fail_errno("stat " + quote(name));
    if (!S_ISREG(now.st_mode) || now.st_ino != st.st_ino || now.st_dev != st.st_dev)
      return fail(quote(name) + " was replaced while being archived", EAGAIN);
    for (const Xattr& x : TRY(read_xattrs(fd.get(), name)))
      if (archivable_xattr(x.name))
        archive_entry_xattr_add_entry(e.get(), x.name.c_str(), x.value.data(), x.value.size());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_size(e.get(), now.st_size);
    TRY(write_header(e.get(), name));
    std::vector<char> buf(1 << 17);
    uint64_t left = static_cast<uint64_t>(now.st_size);
    while (left > 0) {
      ssize_t n = ::read(fd.get(), buf.data(), std::min<uint64_t>(left, buf.size()));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail_errno("read " + quote(name));
      if (n == 0) break;  // shrank meanwhile: finish_entry pads with zeros
      TRY(write_data(buf.data(), static_cast<size_t>(n), name));
      left -= static_cast<uint64_t>(n);
    }
    return finish_entry(name);
  }

  if (S_ISLNK(st.st_mode)) {
    std::string target(static_cast<size_t>(st.st_size > 0 ? st.st_size : 255) + 1, '\0');
    for (;;) {
      ssize_t n = ::readlinkat(parentfd, base.c_str(), target.data(), target.size());
      if (n < 0) return fail_errno("read symlink " + quote(name));
      if (static_cast<size_t>(n) < target.size()) {
        target.resize(static_cast<size_t>(n));
        break;
      }
      target.resize(target.size() * 2);
    }
    archive_entry_set_filetype(e.get(), AE_IFLNK);
    archive_entry_set_symlink(e.get(), target.c_str());
    TRY(write_header(e.get(), name));
    return finish_entry(name);
  }

  if (S_ISCHR(st.st_mode) && options.overlay_whiteouts && st.st_rdev == makedev(0, 0)) {
    // overlayfs' whiteout: the name is deleted in this layer.
    std::string dir(name);
    size_t slash = dir.rfind('/');
    std::string wh = (slash == std::string::npos ? "" : dir.substr(0, slash + 1)) + ".wh." +
                     (slash == std::string::npos ? dir : dir.substr(slash + 1));
    archive_entry_set_pathname(e.get(), wh.c_str());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0);
    archive_entry_set_size(e.get(), 0);
    TRY(write_header(e.get(), wh));
    return finish_entry(wh);
  }

  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
    archive_entry_set_filetype(e.get(), st.st_mode & S_IFMT);
    if (!S_ISFIFO(st.st_mode)) {
      archive_entry_set_rdevmajor(e.get(), major(st.st_rdev));
      archive_entry_set_rdevminor(e.get(), minor(st.st_rdev));
    }
    TRY(write_header(e.get(), name));
    return finish_entry(name);
  }
  return {};  // sockets have no meaning in an archive (Docker skips them too)
}

Status TarWriter::close() {
  if (!a_) return fail("tar writer closed twice", EINVAL);
  int r = archive_write_close(a_);
  Status s;
  if (r != ARCHIVE_OK || sink_failed_) s = archive_error("finish tar stream");
  archive_write_free(a_);
  a_ = nullptr;
  return s;
}

}  // namespace md::image
