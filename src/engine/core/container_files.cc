#include "engine/core/container_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "engine/core/containers.h"
#include "engine/core/rootfs.h"

namespace md::engine {

using nlohmann::json;

ContainerRoot::~ContainerRoot() {
  fd_.reset();
  if (mounted_here_) (void)unmount_rootfs(e_.paths(), container_.id);
}

Result<std::unique_ptr<ContainerRoot>> open_container_root(Engine& e, const std::string& ref, bool overlay) {
  auto c = e.containers().get(ref);
  if (!c) return fail("No such container: " + ref, ENOENT);
  std::string id = c->id;
  *c = TRY(reconcile_container(e, id));
  std::unique_ptr<ContainerRoot> r(new ContainerRoot(e));
  auto up = [](const store::Container& x) {
    return (x.state == store::ContainerState::kRunning || x.state == store::ContainerState::kPaused) && x.pid > 0;
  };
  if (up(*c) && !overlay) {
    r->fd_ = UniqueFd(::open(("/proc/" + std::to_string(c->pid) + "/root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (r->fd_.valid()) {
      r->running_ = true;
      r->container_ = *c;
      return r;
    }
  }
  // A stopped container (or export): its overlay. The shared lock keeps `start` (which
  // mounts it for itself) from running while we may unmount it at the end.
  if (!up(*c)) {
    r->lock_ = TRY(store::ContainerLock::acquire(e.paths().root, id, std::chrono::seconds(10), store::LockMode::kShared));
    *c = TRY(e.containers().get_by_id(id));
  }
  r->container_ = *c;
  auto img = e.images().get(c->image);
  if (!img) return fail("image " + c->image + " of container " + c->name + " is missing: " + img.error().message, ENOENT);
  auto lower = TRY(image_lower_dirs(e.paths(), *img));
  TRY(create_rootfs_dirs(e.paths(), id));
  r->mounted_here_ = TRY(mount_rootfs(e.paths(), id, lower));
  r->fd_ = UniqueFd(::open(e.paths().merged(id).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!r->fd_.valid()) return fail_errno("open the root file system of " + ref);
  return r;
}

namespace {

// Mount targets the runtime creates in the writable layer; Docker keeps them in its
// init layer, below the container's, so `docker diff` never shows them.
const std::set<std::string> kInitPaths = {"/dev",       "/dev/pts",    "/dev/shm",        "/dev/console", "/proc",
                                          "/sys",       "/etc/hosts",  "/etc/hostname",   "/etc/resolv.conf",
                                          "/etc/mtab",  "/.dockerenv", "/run/.containerenv"};

bool is_whiteout(const struct stat& st) { return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0); }

// The lower layers' view of `rel` ("etc/passwd"): the first layer (top first) that has
// it decides; a whiteout there means the image does not have it.
bool lower_stat(const std::vector<std::string>& lowers, const std::string& rel, struct stat* out) {
  for (auto& l : lowers) {
    struct stat st {};
    if (::lstat((l + "/" + rel).c_str(), &st) != 0) continue;
    if (is_whiteout(st)) return false;
    *out = st;
    return true;
  }
  return false;
}

bool same_metadata(const struct stat& a, const struct stat& b) {
  return a.st_mode == b.st_mode && a.st_uid == b.st_uid && a.st_gid == b.st_gid &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

// An opaque upper directory (trusted.overlay.opaque=y: deleted and made again) hides
// every image entry below it: those are deletions unless the upper has the name again.
void opaque_deletions(const std::string& upper, const std::string& rel, const std::vector<std::string>& lowers,
                      std::vector<Change>& out) {
  char v[4] = {0};
  ssize_t n = ::lgetxattr((upper + "/" + rel).c_str(), "trusted.overlay.opaque", v, sizeof v);
  if (n != 1 || v[0] != 'y') return;
  std::set<std::string> seen;
  for (auto& l : lowers) {
    DIR* d = ::opendir((l + "/" + rel).c_str());
    if (!d) continue;
    while (auto* ent = ::readdir(d)) {
      std::string name = ent->d_name;
      if (name == "." || name == ".." || !seen.insert(name).second) continue;
      struct stat st {};
      if (::lstat((upper + "/" + rel + "/" + name).c_str(), &st) == 0) continue;  // made again
      struct stat lst {};
      if (lower_stat(lowers, rel + "/" + name, &lst)) out.push_back({"/" + rel + "/" + name, 2});
    }
    ::closedir(d);
  }
}

Status walk_upper(const std::string& upper, const std::string& rel, const std::vector<std::string>& lowers,
                  std::vector<Change>& out) {
  std::string dir = upper + (rel.empty() ? "" : "/" + rel);
  DIR* d = ::opendir(dir.c_str());
  if (!d) return fail_errno("read " + dir);
  std::vector<std::string> names;
  while (auto* ent = ::readdir(d)) {
    std::string n = ent->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  for (auto& n : names) {
    std::string child = rel.empty() ? n : rel + "/" + n;
    std::string shown = "/" + child;
    struct stat st {};
    if (::lstat((upper + "/" + child).c_str(), &st) != 0) continue;  // removed meanwhile
    struct stat lst {};
    bool in_lower = lower_stat(lowers, child, &lst);
    if (is_whiteout(st)) {
      if (in_lower) out.push_back({shown, 2});
      continue;
    }
    bool init = kInitPaths.count(shown) > 0;
    if (S_ISDIR(st.st_mode)) {
      if (!init) {
        if (!in_lower || !S_ISDIR(lst.st_mode)) out.push_back({shown, in_lower ? 0 : 1});
        else if (!same_metadata(st, lst)) out.push_back({shown, 0});
        if (in_lower && S_ISDIR(lst.st_mode)) opaque_deletions(upper, child, lowers, out);
      }
      TRY(walk_upper(upper, child, lowers, out));
      continue;
    }
    if (!init) out.push_back({shown, in_lower ? 0 : 1});
  }
  return {};
}

}  // namespace

Result<std::vector<Change>> container_changes(Engine& e, const std::string& ref) {
  auto c = e.containers().get(ref);
  if (!c) return fail("No such container: " + ref, ENOENT);
  auto img = e.images().get(c->image);
  if (!img) return fail("image " + c->image + " of container " + c->name + " is missing", ENOENT);
  auto lowers = TRY(image_lower_dirs(e.paths(), *img));
  std::vector<Change> out;
  std::string upper = e.paths().upper(c->id);
  struct stat st {};
  if (::stat(upper.c_str(), &st) != 0) return out;  // never started: nothing changed
  TRY(walk_upper(upper, "", lowers, out));
  std::sort(out.begin(), out.end(), [](const Change& a, const Change& b) { return a.path < b.path; });
  return out;
}

Status export_container(Engine& e, const std::string& ref, int out_fd) {
  auto root = TRY(open_container_root(e, ref, true));
  // write_tree_tar walks a readable directory fd (the O_PATH one cannot list).
  UniqueFd dir(::openat(root->fd(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return fail_errno("open the root file system of " + ref);
  TRY(image::write_tree_tar(dir.get(), out_fd));
  e.emit_container(root->container(), "export");
  return {};
}

std::string base64_encode(const std::string& in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], k[v & 63]};
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += {k[v >> 18], k[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], '='};
  }
  return out;
}

std::string path_stat_header(const image::PathStat& st) {
  int64_t ns = int64_t(st.mtime.tv_sec) * 1000000000 + st.mtime.tv_nsec;
  json j = {{"name", st.name},
            {"size", st.size},
            {"mode", image::go_file_mode(st.mode)},
            {"mtime", rfc3339_nano(ns)},
            {"linkTarget", st.link_target}};
  return base64_encode(j.dump());
}

}  // namespace md::engine
