#include "engine/image/tree_tar.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vector>

#include "base/unique_fd.h"
#include "engine/image/layer_extract.h"
#include "engine/image/layer_path.h"

namespace md::image {

namespace {

// Resolves `path` (relative to the root; "" is the root) as the container would, following
// symlinks, never leaving the root.
int open_in_root(int rootfd, const std::string& path, int flags) {
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags) | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  std::string p = path.empty() ? "." : path;
  for (;;) {
    long fd = ::syscall(SYS_openat2, rootfd, p.c_str(), &how, sizeof how);
    if (fd < 0 && errno == EAGAIN) continue;  // a rename raced the lookup
    return static_cast<int>(fd);
  }
}

Result<std::string> fd_path(int fd) {
  std::string link = "/proc/self/fd/" + std::to_string(fd);
  std::string out(4096, '\0');
  ssize_t n = ::readlink(link.c_str(), out.data(), out.size());
  if (n < 0) return fail_errno("readlink " + link);
  out.resize(static_cast<size_t>(n));
  return out;
}

// Where `fd` is, as an absolute path inside the root `rootfd`.
Result<std::string> path_in_root(int rootfd, int fd) {
  std::string root = TRY(fd_path(rootfd));
  std::string p = TRY(fd_path(fd));
  if (root == "/") return p;
  if (p == root) return std::string("/");
  if (p.starts_with(root + "/")) return p.substr(root.size());
  return fail("resolved path " + quote(p) + " is not below the root " + quote(root), EXDEV);
}

// Docker's reading of a container path: cleaned lexically (".." stops at "/"), with a
// trailing "/" or "/." remembered because it changes what is copied.
struct ContainerPath {
  std::string clean;     // relative to the root, no leading '/': "etc/passwd", "" = root
  std::string shown;     // "/etc/passwd", as given but absolute
  bool dir_only = false;  // ends in "/" or "/.": resolve the last element too
  bool contents = false;  // ends in "/.": the directory's contents, not the directory
};

ContainerPath parse_container_path(const std::string& path) {
  ContainerPath out;
  if (path.empty() || path[0] != '/') out.shown.assign(1, '/');
  out.shown += path;
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t next = path.find('/', pos);
    if (next == std::string::npos) next = path.size();
    std::string comp = path.substr(pos, next - pos);
    pos = next + 1;
    if (comp.empty() || comp == ".") continue;
    if (comp == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(comp);
  }
  for (const auto& p : parts) out.clean += (out.clean.empty() ? "" : "/") + p;
  std::string_view v = path;
  out.contents = v == "." || v.ends_with("/.");
  out.dir_only = out.contents || v.ends_with("/") || out.clean.empty();
  if (out.clean.empty()) out.contents = true;  // the root: its contents
  return out;
}

std::unexpected<Error> not_found(const ContainerPath& p) {
  return fail("could not find the file " + p.shown + " in the container", ENOENT);
}

// Where the symlink at `p` leads, inside the root, for PathStat::link_target.
std::string link_target_of(int rootfd, const ContainerPath& p, int parentfd,
                           const std::string& base) {
  UniqueFd fd(open_in_root(rootfd, p.clean, O_PATH));
  if (fd) {
    auto in_root = path_in_root(rootfd, fd.get());
    if (in_root) return *in_root;
  }
  // Dangling: say where it would lead, lexically, as Docker's FollowSymlinkInScope does.
  char buf[4096];
  ssize_t n = ::readlinkat(parentfd, base.c_str(), buf, sizeof buf);
  if (n <= 0) return "";
  std::string target(buf, static_cast<size_t>(n));
  // (Built with append: g++ 12 warns falsely about "/" + std::string, -Wrestrict.)
  std::string joined;
  if (target[0] != '/') joined.append("/").append(parent_path(p.clean)).append("/");
  joined += target;
  std::string out("/");
  out += parse_container_path(joined).clean;
  return out;
}

struct Source {
  UniqueFd parent;   // directory holding the source (or the source dir itself, base ".")
  std::string base;  // name in `parent`, "." for a resolved directory
  std::string name;  // archive name of the source
  PathStat stat;
  struct stat st {};
};

Result<Source> resolve_source(int rootfd, const std::string& path) {
  ContainerPath p = parse_container_path(path);
  Source s;
  if (p.clean.empty())
    s.stat.name.assign(1, '/');
  else if (p.contents)
    s.stat.name.assign(1, '.');
  else
    s.stat.name.assign(base_name(p.clean));
  if (p.dir_only) {
    s.parent.reset(open_in_root(rootfd, p.clean, O_PATH | O_DIRECTORY));
    if (!s.parent) {
      if (errno == ENOENT) return not_found(p);
      if (errno == ENOTDIR) return fail(p.shown + " is not a directory", ENOTDIR);
      return fail_errno("resolve " + p.shown);
    }
    s.base.assign(1, '.');
    // Docker's names: "/" → "/", "/x", …; "/dir/." → "./", "./x", …
    if (p.clean.empty())
      s.name.assign(1, '/');
    else if (p.contents)
      s.name.assign(1, '.');
    else
      s.name.assign(base_name(p.clean));
  } else {
    s.parent.reset(open_in_root(rootfd, std::string(parent_path(p.clean)), O_PATH | O_DIRECTORY));
    if (!s.parent) {
      if (errno == ENOENT || errno == ENOTDIR) return not_found(p);
      return fail_errno("resolve " + p.shown);
    }
    s.base = std::string(base_name(p.clean));
    s.name = s.base;
  }
  if (::fstatat(s.parent.get(), s.base.c_str(), &s.st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return not_found(p);
    return fail_errno("stat " + p.shown);
  }
  s.stat.size = s.st.st_size;
  s.stat.mode = s.st.st_mode;
  s.stat.mtime = s.st.st_mtim;
  if (S_ISLNK(s.st.st_mode)) s.stat.link_target = link_target_of(rootfd, p, s.parent.get(), s.base);
  return s;
}

}  // namespace

uint32_t go_file_mode(mode_t mode) {
  // Go's os.FileMode: type bits at the top, then setuid/setgid/sticky, then permissions.
  constexpr uint32_t kDir = 1u << 31, kSymlink = 1u << 27, kDevice = 1u << 26,
                     kNamedPipe = 1u << 25, kSocket = 1u << 24, kSetuid = 1u << 23,
                     kSetgid = 1u << 22, kCharDevice = 1u << 21, kSticky = 1u << 20;
  uint32_t m = mode & 0777;
  switch (mode & S_IFMT) {
    case S_IFDIR: m |= kDir; break;
    case S_IFLNK: m |= kSymlink; break;
    case S_IFBLK: m |= kDevice; break;
    case S_IFCHR: m |= kDevice | kCharDevice; break;
    case S_IFIFO: m |= kNamedPipe; break;
    case S_IFSOCK: m |= kSocket; break;
    default: break;
  }
  if (mode & S_ISUID) m |= kSetuid;
  if (mode & S_ISGID) m |= kSetgid;
  if (mode & S_ISVTX) m |= kSticky;
  return m;
}

Status write_tree_tar(int dirfd, int out_fd, const TreeTarOptions& options) {
  auto w = TRY(TarWriter::open_fd(out_fd));
  TRY(w->add_children(dirfd, "", options));
  return w->close();
}

Result<PathStat> stat_path(int rootfd, const std::string& path) {
  Source s = TRY(resolve_source(rootfd, path));
  return s.stat;
}

Result<PathStat> copy_out(int rootfd, const std::string& path, int out_fd) {
  Source s = TRY(resolve_source(rootfd, path));
  auto w = TRY(TarWriter::open_fd(out_fd));
  TRY_CTX(w->add_path(s.parent.get(), s.base, s.name, TreeTarOptions{}),
          "copy " + parse_container_path(path).shown);
  TRY(w->close());
  return s.stat;
}

Status copy_in(int rootfd, const std::string& dest_dir, int in_fd, const CopyInOptions& options) {
  ContainerPath p = parse_container_path(dest_dir);
  UniqueFd dest(open_in_root(rootfd, p.clean, O_PATH | O_DIRECTORY));
  if (!dest) {
    if (errno == ENOENT) return not_found(p);
    if (errno == ENOTDIR)
      return fail("extraction point " + p.shown + " is not a directory", ENOTDIR);
    return fail_errno("resolve " + p.shown);
  }
  // Extract below the directory DEST really is (its symlinks resolved now), so that the
  // tar's "./" entry means DEST itself and not a symlink named like it.
  std::string base = TRY(path_in_root(rootfd, dest.get()));
  ExtractOptions x;
  x.whiteouts = WhiteoutMode::kNone;
  x.symlink_parents = SymlinkParents::kResolveInLayer;
  x.digests = LayerDigests::kSkip;
  x.base_dir = TRY(clean_layer_path(base));
  x.keep_existing_types = options.keep_existing_types;
  x.cross_mounts = options.cross_mounts;
  x.owner_uid = options.owner_uid;
  x.owner_gid = options.owner_gid;
  // extract_layer opens its destination by name: the root fd's /proc alias is that name.
  std::string root_alias = "/proc/self/fd/" + std::to_string(rootfd);
  TRY_CTX(extract_layer(in_fd, root_alias, x), "copy into " + p.shown);
  return {};
}

}  // namespace md::image
