// A container's root filesystem: the image's unpacked layers as overlayfs lowerdirs (top
// layer first) with the container's own upper and work directories, mounted on
// <container dir>/merged in the host's mount namespace while the container runs (and
// for cp/export of a stopped container, briefly). The runtime then pivots into it.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "engine/core/paths.h"
#include "engine/store/image_store.h"

namespace md::engine {

// diff/, work/ and merged/ under the container directory.
Status create_rootfs_dirs(const Paths& paths, const std::string& id);
// The layer directories of `image`, top first. ENOENT when one is missing on disk.
Result<std::vector<std::string>> image_lower_dirs(const Paths& paths, const store::Image& image);
// Mounts the overlay unless it is mounted already. Returns true when it mounted it.
Result<bool> mount_rootfs(const Paths& paths, const std::string& id, const std::vector<std::string>& lower);
// Unmounts it if mounted (lazily when busy). Never fails for "not mounted".
Status unmount_rootfs(const Paths& paths, const std::string& id);
bool rootfs_mounted(const Paths& paths, const std::string& id);

}  // namespace md::engine
