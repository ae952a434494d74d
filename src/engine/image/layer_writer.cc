// LayerWriter: every entry becomes *at() syscalls relative to directory fds opened inside
// the destination; see layer_extract.h for the rules and docs/images.md for the why.
#include "engine/image/layer_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>

#include "engine/image/layer_path.h"

namespace md::image {

namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kWhiteoutMetaPrefix = ".wh..wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";

// ---------------------------------------------------------------------------------------
// Filesystem helpers, all relative to directory fds.

int openat2_in_root(int rootfd, const std::string& path, int flags, bool cross_mounts) {
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags) | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | (cross_mounts ? 0 : RESOLVE_NO_XDEV);
  for (;;) {
    long fd = ::syscall(SYS_openat2, rootfd, path.c_str(), &how, sizeof how);
    if (fd < 0 && errno == EAGAIN) continue;  // a rename raced the lookup: retry
    return static_cast<int>(fd);
  }
}

Result<std::vector<std::string>> list_dir_fd(int fd, const std::string& shown) {
  int dup = ::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup < 0) return fail_errno("open " + quote(shown));
  DIR* dir = ::fdopendir(dup);
  if (!dir) {
    ::close(dup);
    return fail_errno("open " + quote(shown));
  }
  std::vector<std::string> out;
  while (struct dirent* ent = ::readdir(dir)) {
    std::string_view n = ent->d_name;
    if (n != "." && n != "..") out.emplace_back(n);
  }
  ::closedir(dir);
  return out;
}

// rm -rf of dirfd/name; never crosses into another mount (refuses mount points).
Status remove_at(int dirfd, const std::string& name, const std::string& shown) {
  struct stat st;
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return errno == ENOENT ? Status{} : fail_errno("stat " + quote(shown));
  if (!S_ISDIR(st.st_mode)) {
    if (::unlinkat(dirfd, name.c_str(), 0) != 0 && errno != ENOENT)
      return fail_errno("remove " + quote(shown));
    return {};
  }
  struct stat parent;
  if (::fstat(dirfd, &parent) != 0) return fail_errno("stat parent of " + quote(shown));
  if (parent.st_dev != st.st_dev)
    return fail("refusing to remove mount point " + quote(shown), EBUSY);
  UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return fail_errno("open " + quote(shown));
  for (const auto& child : TRY(list_dir_fd(fd.get(), shown)))
    TRY(remove_at(fd.get(), child, join_clean(shown, child)));
  if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
    return fail_errno("remove " + quote(shown));
  return {};
}


Status with_ctx(Status s, const std::string& context) {
  if (!s) return std::unexpected(with_context(std::move(s).error(), context));
  return {};
}

bool is_permission_error(int err) { return err == EPERM || err == EACCES; }
bool is_unsupported_error(int err) { return err == ENOTSUP || err == EOPNOTSUPP; }

}  // namespace

LayerWriter::LayerWriter(int root, const ExtractOptions& options, LayerStats& stats)
    : root_(root), options_(options), stats_(stats), privileged_(::geteuid() == 0) {}

LayerWriter::Metadata LayerWriter::metadata_of(struct archive_entry* e) {
  Metadata m;
  m.perm = archive_entry_perm(e) & 07777;
  m.uid = archive_entry_uid(e);
  m.gid = archive_entry_gid(e);
  m.times[1] = {archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
  if (archive_entry_atime_is_set(e))
    m.times[0] = {archive_entry_atime(e), archive_entry_atime_nsec(e)};
  else
    m.times[0] = m.times[1];
  if (archive_entry_xattr_reset(e) > 0) {
    const char* name;
    const void* value;
    size_t size;
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK)
      m.xattrs.push_back({name, std::string(static_cast<const char*>(value), size)});
  }
  return m;
}

void LayerWriter::note_unpacked(const std::string& path) {
  std::string_view p = path;
  while (!p.empty()) {
    if (!unpacked_.emplace(p).second) return;  // its ancestors are there already
    p = parent_path(p);
  }
}

Result<UniqueFd> LayerWriter::open_dir(const std::string& dir, Create create) {
  if (options_.symlink_parents == SymlinkParents::kRefuse) return open_dir_no_symlinks(dir, create);
  return open_dir_in_root(dir, create);
}

// Walks `dir` one component at a time with O_NOFOLLOW: a symlink anywhere is an error.
Result<UniqueFd> LayerWriter::open_dir_no_symlinks(const std::string& dir, Create create) {
  UniqueFd cur(::openat(root_, ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!cur) return fail_errno("open layer root");
  size_t pos = 0;
  while (pos < dir.size()) {
    size_t next = dir.find('/', pos);
    if (next == std::string::npos) next = dir.size();
    std::string comp = dir.substr(pos, next - pos);
    std::string prefix = dir.substr(0, next);
    pos = next + 1;
    int fd = ::openat(cur.get(), comp.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create == Create::kYes) {
      if (::mkdirat(cur.get(), comp.c_str(), 0755) != 0 && errno != EEXIST)
        return fail_errno("create directory " + quote(prefix));
      note_unpacked(prefix);
      fd = ::openat(cur.get(), comp.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
      int err = errno;
      struct stat st;
      if ((err == ENOTDIR || err == ELOOP) &&
          ::fstatat(cur.get(), comp.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (S_ISLNK(st.st_mode)) return fail("path goes through symlink " + quote(prefix), ELOOP);
        return fail(quote(prefix) + " is not a directory", ENOTDIR);
      }
      return fail_errno("open directory " + quote(prefix), err);
    }
    cur.reset(fd);
  }
  return cur;
}

// Resolves `dir` as the container would see it: symlinks are followed, but "/" and ".."
// stop at the layer root (RESOLVE_IN_ROOT), so nothing can lead outside.
Result<UniqueFd> LayerWriter::open_dir_in_root(const std::string& dir, Create create) {
  std::string target = dir.empty() ? "." : dir;
  int fd = openat2_in_root(root_, target, O_PATH | O_DIRECTORY, options_.cross_mounts);
  if (fd >= 0) return UniqueFd(fd);
  if (errno != ENOENT || create == Create::kNo) {
    int err = errno;
    if (err == ENOTDIR) return fail(quote(dir) + " is not a directory", err);
    return fail_errno("open directory " + quote(dir), err);
  }
  // Create the missing tail one component at a time, each below the resolved parent.
  UniqueFd cur(::openat(root_, ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!cur) return fail_errno("open layer root");
  size_t pos = 0;
  while (pos < dir.size()) {
    size_t next = dir.find('/', pos);
    if (next == std::string::npos) next = dir.size();
    std::string comp = dir.substr(pos, next - pos);
    std::string prefix = dir.substr(0, next);
    pos = next + 1;
    fd = openat2_in_root(root_, prefix, O_PATH | O_DIRECTORY, options_.cross_mounts);
    if (fd < 0 && errno == ENOENT) {
      if (::mkdirat(cur.get(), comp.c_str(), 0755) != 0) {
        if (errno == EEXIST)
          return fail("path goes through dangling symlink " + quote(prefix), ENOENT);
        return fail_errno("create directory " + quote(prefix));
      }
      note_unpacked(prefix);
      fd = ::openat(cur.get(), comp.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
      int err = errno;
      if (err == ENOTDIR) return fail(quote(prefix) + " is not a directory", err);
      return fail_errno("open directory " + quote(prefix), err);
    }
    cur.reset(fd);
  }
  return cur;
}

Result<int> LayerWriter::parent_of(const std::string& path, Create create) {
  std::string parent(parent_path(path));
  if (parent.empty()) return root_;
  if (cached_fd_ && parent == cached_parent_) return cached_fd_.get();
  forget_cache();
  cached_fd_ = TRY(open_dir(parent, create));
  cached_parent_ = std::move(parent);
  return cached_fd_.get();
}

Result<bool> LayerWriter::make_room(int dirfd, const std::string& path, bool new_is_dir) {
  std::string base(base_name(path));
  struct stat st;
  if (::fstatat(dirfd, base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return false;
    return fail_errno("stat " + quote(path));
  }
  if (options_.keep_existing_types && S_ISDIR(st.st_mode) != new_is_dir)
    return fail(S_ISDIR(st.st_mode)
                    ? "cannot overwrite directory " + quote(path) + " with non-directory"
                    : "cannot overwrite non-directory " + quote(path) + " with directory",
                EEXIST);
  if (S_ISDIR(st.st_mode)) {
    if (new_is_dir) return true;
    forget_cache();  // the cached parent may be inside what goes away
  }
  TRY(remove_at(dirfd, base, path));
  return false;
}

template <class F>
Result<bool> LayerWriter::create_leaf(int dirfd, const std::string& path, bool is_dir,
                                      const char* what, F&& create) {
  if (create() == 0) return true;
  if (errno != EEXIST) return fail_errno(what);
  if (TRY(make_room(dirfd, path, is_dir))) return false;
  if (create() == 0) return true;
  return fail_errno(what);
}

Status LayerWriter::apply_xattrs(int fd, const std::string& path,
                                 const std::vector<Xattr>& xattrs) {
  for (const auto& x : xattrs) {
    if (x.name.starts_with("trusted.overlay.") || x.name.starts_with("user.overlay.")) {
      ++stats_.skipped_xattrs;
      continue;
    }
    if (::fsetxattr(fd, x.name.c_str(), x.value.data(), x.value.size(), 0) != 0) {
      if (is_permission_error(errno) || is_unsupported_error(errno)) {
        ++stats_.skipped_xattrs;
        continue;
      }
      return fail_errno("set xattr " + x.name + " on " + quote(path));
    }
  }
  return {};
}

// Order matters: chown clears setuid bits and security.capability, so mode and xattrs
// come after it; times come last.
Status LayerWriter::apply_metadata(int fd, const std::string& path, const Metadata& m) {
  if (privileged_ && ::fchown(fd, static_cast<uid_t>(m.uid), static_cast<gid_t>(m.gid)) != 0)
    return fail_errno("chown " + quote(path) + " to " + std::to_string(m.uid) + ":" +
                      std::to_string(m.gid));
  if (::fchmod(fd, m.perm) != 0) return fail_errno("chmod " + quote(path));
  TRY(apply_xattrs(fd, path, m.xattrs));
  if (::futimens(fd, m.times) != 0) return fail_errno("set times of " + quote(path));
  return {};
}

Status LayerWriter::entry(struct archive* a, struct archive_entry* e) {
  ++stats_.entries;
  retired_fd_.reset();
  const char* raw = archive_entry_pathname(e);
  if (!raw) raw = archive_entry_pathname_utf8(e);
  if (!raw)
    return fail("layer entry #" + std::to_string(stats_.entries) + " has no readable name", EINVAL);
  const std::string name = raw;
  const std::string context = "layer entry " + quote(name);
  const std::string in_tar = TRY_CTX(clean_layer_path(name), context);
  if (in_tar.empty() && (archive_entry_filetype(e) != AE_IFDIR || archive_entry_hardlink(e)))
    return fail(context + ": the layer root must be a directory", EINVAL);
  const std::string path =
      options_.base_dir.empty() ? in_tar : join_clean(options_.base_dir, in_tar);
  const std::string_view base = base_name(path);

  if (options_.whiteouts != WhiteoutMode::kNone && base.starts_with(kWhiteoutPrefix)) {
    if (base == kOpaqueMarker) return with_ctx(opaque(std::string(parent_path(path))), context);
    if (base.starts_with(kWhiteoutMetaPrefix)) {  // AUFS bookkeeping (.wh..wh.plnk …)
      ++stats_.skipped_entries;
      return {};
    }
    return with_ctx(whiteout(path), context);
  }
  if (const char* link = archive_entry_hardlink(e)) return with_ctx(hardlink(path, link), context);

  Metadata m = metadata_of(e);
  if (options_.owner_uid >= 0) m.uid = options_.owner_uid;
  if (options_.owner_gid >= 0) m.gid = options_.owner_gid;
  mode_t type = archive_entry_filetype(e);
  switch (type) {
    case AE_IFREG:
      return with_ctx(regular_file(a, e, path, m), context);
    case AE_IFDIR:
      return with_ctx(directory(path, std::move(m)), context);
    case AE_IFLNK:
      return with_ctx(symlink(e, path, m), context);
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO:
      return with_ctx(special(e, path, m), context);
    default:  // sockets cannot be archived meaningfully
      ++stats_.skipped_entries;
      return {};
  }
}

Status LayerWriter::regular_file(struct archive* a, struct archive_entry* e,
                                 const std::string& path, const Metadata& m) {
  int dirfd = TRY(parent_of(path, Create::kYes));
  std::string base(base_name(path));
  UniqueFd fd;
  TRY(create_leaf(dirfd, path, false, "create", [&] {
    fd.reset(
        ::openat(dirfd, base.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    return fd ? 0 : -1;
  }));
  note_unpacked(path);
  int64_t end = 0;
  for (;;) {
    const void* block;
    size_t size;
    la_int64_t offset;
    int r = archive_read_data_block(a, &block, &size, &offset);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      const char* msg = archive_error_string(a);
      return fail(std::string("read data: ") + (msg ? msg : "unknown libarchive error"), EIO);
    }
    auto* p = static_cast<const char*>(block);
    while (size > 0) {
      ssize_t n = ::pwrite(fd.get(), p, size, offset);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail_errno("write");
      p += n;
      size -= static_cast<size_t>(n);
      offset += n;
      stats_.bytes += static_cast<uint64_t>(n);
    }
    end = std::max<int64_t>(end, offset);
  }
  // A sparse file may end in a hole.
  if (archive_entry_size_is_set(e) && archive_entry_size(e) > end &&
      ::ftruncate(fd.get(), archive_entry_size(e)) != 0)
    return fail_errno("truncate");
  TRY(apply_metadata(fd.get(), path, m));
  ++stats_.files;
  return {};
}

Status LayerWriter::directory(const std::string& path, Metadata m) {
  UniqueFd dirfd;
  if (path.empty()) {
    dirfd.reset(::openat(root_, ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  } else {
    int parent = TRY(parent_of(path, Create::kYes));
    std::string base(base_name(path));
    TRY(create_leaf(parent, path, true, "create directory",
                    [&] { return ::mkdirat(parent, base.c_str(), 0755); }));
    dirfd.reset(::openat(parent, base.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    note_unpacked(path);
  }
  struct stat st;
  if (!dirfd || ::fstat(dirfd.get(), &st) != 0) return fail_errno("open directory");
  // Mode, owner and times are applied in finish(): files written into the directory
  // later would change its mtime, and a read-only mode would stop them.
  dirs_.push_back({path, st.st_dev, st.st_ino, std::move(m)});
  ++stats_.directories;
  return {};
}

Status LayerWriter::symlink(struct archive_entry* e, const std::string& path, const Metadata& m) {
  const char* target = archive_entry_symlink(e);
  if (!target || !*target) return fail("symlink without a target", EINVAL);
  if (!symlink_target_stays_inside(path, target))
    return fail("symlink target " + quote(target) + " escapes the layer", EXDEV);
  int dirfd = TRY(parent_of(path, Create::kYes));
  std::string base(base_name(path));
  TRY(create_leaf(dirfd, path, false, "create symlink",
                  [&] { return ::symlinkat(target, dirfd, base.c_str()); }));
  note_unpacked(path);
  if (privileged_ && ::fchownat(dirfd, base.c_str(), static_cast<uid_t>(m.uid),
                                static_cast<gid_t>(m.gid), AT_SYMLINK_NOFOLLOW) != 0)
    return fail_errno("chown");
  // user.* xattrs are not allowed on symlinks, and there is no fd-based call for the
  // others before setxattrat(2) (Linux 6.13): count them.
  stats_.skipped_xattrs += m.xattrs.size();
  if (::utimensat(dirfd, base.c_str(), m.times, AT_SYMLINK_NOFOLLOW) != 0)
    return fail_errno("set times");
  ++stats_.symlinks;
  return {};
}

Status LayerWriter::hardlink(const std::string& path, const std::string& target_name) {
  const std::string shown = "hardlink target " + quote(target_name);
  std::string target = TRY_CTX(clean_layer_path(target_name), shown);
  if (target.empty()) return fail(shown + " is the layer root", EPERM);
  if (!options_.base_dir.empty()) target = join_clean(options_.base_dir, target);
  if (path.empty()) return fail("the layer root cannot be a hardlink", EINVAL);
  if (target == path) return {};  // a link to itself: nothing to do
  auto target_dir = open_dir(std::string(parent_path(target)), Create::kNo);
  if (!target_dir) {
    if (target_dir.error().errno_value == ENOENT)
      return fail(shown + " is not in the layer", ENOENT);
    return std::unexpected(with_context(target_dir.error(), shown));
  }
  std::string target_base(base_name(target));
  struct stat st;
  if (::fstatat(target_dir->get(), target_base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return fail(shown + " is not in the layer", ENOENT);
    return fail_errno("stat " + shown);
  }
  if (S_ISDIR(st.st_mode)) return fail(shown + " is a directory", EPERM);
  int dirfd = TRY(parent_of(path, Create::kYes));
  std::string base(base_name(path));
  const std::string what = "create hardlink to " + quote(target);
  // flags 0: a link to a symlink links the symlink itself, never what it points to.
  TRY(create_leaf(dirfd, path, false, what.c_str(), [&] {
    return ::linkat(target_dir->get(), target_base.c_str(), dirfd, base.c_str(), 0);
  }));
  note_unpacked(path);
  ++stats_.hardlinks;
  return {};
}

Status LayerWriter::special(struct archive_entry* e, const std::string& path, const Metadata& m) {
  mode_t type = archive_entry_filetype(e);
  bool device = type == AE_IFCHR || type == AE_IFBLK;
  if (device && !privileged_) {
    ++stats_.skipped_devices;
    return {};
  }
  int dirfd = TRY(parent_of(path, Create::kYes));
  std::string base(base_name(path));
  dev_t rdev = device ? makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e)) : 0;
  auto created = create_leaf(
      dirfd, path, false, device ? "create device node" : "create fifo",
      [&] { return ::mknodat(dirfd, base.c_str(), (device ? type : S_IFIFO) | 0600, rdev); });
  if (!created) {
    if (device && created.error().errno_value == EPERM) {  // root in a user namespace: no CAP_MKNOD
      ++stats_.skipped_devices;
      return {};
    }
    return std::unexpected(created.error());
  }
  note_unpacked(path);
  if (privileged_ && ::fchownat(dirfd, base.c_str(), static_cast<uid_t>(m.uid),
                                static_cast<gid_t>(m.gid), AT_SYMLINK_NOFOLLOW) != 0)
    return fail_errno("chown");
  // A device or fifo cannot be opened without side effects: use the *at() calls. The
  // name was created just now by this thread and is not a symlink.
  if (::fchmodat(dirfd, base.c_str(), m.perm, 0) != 0) return fail_errno("chmod");
  stats_.skipped_xattrs += m.xattrs.size();
  if (::utimensat(dirfd, base.c_str(), m.times, AT_SYMLINK_NOFOLLOW) != 0)
    return fail_errno("set times");
  ++(device ? stats_.devices : stats_.fifos);
  return {};
}

// ".wh.<name>" at `marker_path`: <name> is deleted in this layer.
Status LayerWriter::whiteout(const std::string& marker_path) {
  std::string_view name = base_name(marker_path).substr(kWhiteoutPrefix.size());
  if (name.empty() || name == "." || name == "..") return fail("invalid whiteout name", EINVAL);
  const std::string target = join_clean(parent_path(marker_path), name);
  // OCI image spec: a whiteout only hides lower layers, never an entry of its own layer.
  if (unpacked_.contains(target)) return {};

  if (options_.whiteouts == WhiteoutMode::kApplyFlat) {
    auto dirfd = parent_of(target, Create::kNo);
    if (!dirfd) {
      if (dirfd.error().errno_value == ENOENT) return {};  // nothing to hide
      return std::unexpected(dirfd.error());
    }
    std::string base(name);
    struct stat st;
    if (::fstatat(*dirfd, base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      return {};  // nothing to hide
    if (S_ISDIR(st.st_mode)) forget_cache();
    TRY(remove_at(*dirfd, base, target));
    ++stats_.whiteouts;
    return {};
  }

  // overlayfs: a 0:0 character device hides the name in lower layers. Since Linux 5.8
  // creating one needs no CAP_MKNOD, but it may still be refused (e.g. by a seccomp filter).
  int dirfd = TRY(parent_of(target, Create::kYes));
  std::string base(name);
  const std::string what = "create whiteout device " + quote(target);
  auto created = create_leaf(dirfd, target, false, what.c_str(), [&] {
    return ::mknodat(dirfd, base.c_str(), S_IFCHR | 0, makedev(0, 0));
  });
  if (!created) {
    if (is_permission_error(created.error().errno_value)) {
      stats_.skipped_whiteouts.push_back(target);
      return {};
    }
    return std::unexpected(created.error());
  }
  ++stats_.whiteouts;
  return {};
}

// ".wh..wh..opq" in `dir`: the directory hides everything below it in lower layers.
Status LayerWriter::opaque(const std::string& dir) {
  const std::string shown = dir.empty() ? "/" : dir;
  const bool flat = options_.whiteouts == WhiteoutMode::kApplyFlat;
  // Resolved like any parent (so a symlink is refused, or followed inside the layer).
  auto dirfd = open_dir(dir, flat ? Create::kNo : Create::kYes);
  if (!dirfd) {
    if (flat && dirfd.error().errno_value == ENOENT) return {};  // nothing below to hide
    return std::unexpected(dirfd.error());
  }
  UniqueFd fd(::openat(dirfd->get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return fail_errno("open directory " + quote(shown));

  if (options_.whiteouts == WhiteoutMode::kApplyFlat) {
    TRY(clear_lower_entries(fd.get(), dir));
    ++stats_.opaque_dirs;
    return {};
  }
  note_unpacked(dir);
  const char* xattr = options_.overlay_xattr == OverlayXattr::kTrusted ? "trusted.overlay.opaque"
                                                                       : "user.overlay.opaque";
  if (::fsetxattr(fd.get(), xattr, "y", 1, 0) != 0) {
    if (is_permission_error(errno) || is_unsupported_error(errno)) {
      stats_.skipped_opaque_dirs.push_back(shown);
      return {};
    }
    return fail_errno(std::string("set ") + xattr + " on " + quote(shown));
  }
  ++stats_.opaque_dirs;
  return {};
}

// Deletes what lower layers put below `dir`, keeping what this layer unpacked.
Status LayerWriter::clear_lower_entries(int dirfd, const std::string& dir) {
  auto children = TRY(list_dir_fd(dirfd, dir.empty() ? "/" : dir));
  for (const auto& child : children) {
    std::string path = join_clean(dir, child);
    if (!unpacked_.contains(path)) {
      forget_cache();
      TRY(remove_at(dirfd, child, path));
      continue;
    }
    UniqueFd sub(::openat(dirfd, child.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (sub) TRY(clear_lower_entries(sub.get(), path));
  }
  return {};
}

Status LayerWriter::finish() {
  // Deepest first, so a parent's restrictive mode never blocks reaching its children.
  std::stable_sort(dirs_.begin(), dirs_.end(), [](const DeferredDir& a, const DeferredDir& b) {
    return std::count(a.path.begin(), a.path.end(), '/') + !a.path.empty() >
           std::count(b.path.begin(), b.path.end(), '/') + !b.path.empty();
  });
  for (const auto& d : dirs_) {
    UniqueFd fd;
    if (d.path.empty()) {
      fd.reset(::openat(root_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    } else {
      auto parent = open_dir(std::string(parent_path(d.path)), Create::kNo);
      if (!parent) continue;  // replaced by a later entry
      std::string base(base_name(d.path));
      fd.reset(
          ::openat(parent->get(), base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    }
    struct stat st;
    if (!fd || ::fstat(fd.get(), &st) != 0 || st.st_dev != d.dev || st.st_ino != d.ino) continue;
    TRY_CTX(apply_metadata(fd.get(), d.path.empty() ? "/" : d.path, d.meta),
            "layer directory " + quote(d.path.empty() ? "/" : d.path));
  }
  return {};
}

}  // namespace md::image
