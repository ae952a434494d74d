#include "engine/core/rootfs.h"

#include <sys/mount.h>
#include <sys/stat.h>

#include "base/explain.h"
#include "base/file_util.h"

namespace md::engine {

Status create_rootfs_dirs(const Paths& paths, const std::string& id) {
  std::string dir = paths.container_dir(id);
  TRY(make_directories(dir, 0710));
  for (auto sub : {"/diff", "/work", "/merged"}) TRY(make_directories(dir + sub, 0755));
  return {};
}

Result<std::vector<std::string>> image_lower_dirs(const Paths& paths, const store::Image& image) {
  std::vector<std::string> out;
  for (auto it = image.layers.rbegin(); it != image.layers.rend(); ++it) {
    std::string dir = paths.layer(*it);
    if (!is_directory(dir))
      return fail("layer " + *it + " of image " + image.id + " is missing from " + paths.layers() +
                      ": remove the image and load it again",
                  ENOENT);
    out.push_back(dir);
  }
  if (out.empty()) return fail("image " + image.id + " has no layers", EINVAL);
  return out;
}

bool rootfs_mounted(const Paths& paths, const std::string& id) {
  struct stat merged {}, parent {};
  if (::stat(paths.merged(id).c_str(), &merged) != 0) return false;
  if (::stat(paths.container_dir(id).c_str(), &parent) != 0) return false;
  return merged.st_dev != parent.st_dev;
}

Result<bool> mount_rootfs(const Paths& paths, const std::string& id, const std::vector<std::string>& lower) {
  if (rootfs_mounted(paths, id)) return false;
  std::string opts = "lowerdir=";
  for (size_t i = 0; i < lower.size(); ++i) opts += (i ? ":" : "") + lower[i];
  opts += ",upperdir=" + paths.upper(id) + ",workdir=" + paths.work(id);
  if (::mount("overlay", paths.merged(id).c_str(), "overlay", 0, opts.c_str()) != 0)
    return fail_errno("mount overlay rootfs on " + paths.merged(id));
  Explain::step("mount overlay rootfs (" + std::to_string(lower.size()) + " layer(s)) on " + paths.merged(id));
  return true;
}

Status unmount_rootfs(const Paths& paths, const std::string& id) {
  std::string merged = paths.merged(id);
  for (int i = 0; i < 8 && rootfs_mounted(paths, id); ++i) {
    if (::umount2(merged.c_str(), 0) == 0) continue;
    if (errno == EBUSY) {
      if (::umount2(merged.c_str(), MNT_DETACH) != 0) return fail_errno("unmount " + merged);
      continue;
    }
    if (errno == EINVAL || errno == ENOENT) break;
    return fail_errno("unmount " + merged);
  }
  return {};
}

}  // namespace md::engine
