// Safe extraction of one image layer (a tar, optionally gzip/zstd/xz/bzip2/lz4-compressed,
// detected from its bytes) into an existing directory. See docs/images.md.
//
// Contract: nothing is ever created, changed or removed outside `dest_dir`. Every file
// is created with *at() syscalls relative to directory fds opened inside dest_dir
// (never with a path string, never with libarchive's archive_write_disk). An entry that
// would leave the layer is refused with an error naming it:
//   - a ".." that climbs above the layer root            → `path escapes the layer`
//     (also "/../x", which Docker would clean to "x": it is an escape attempt)
//   - a symlink whose relative target climbs above it    → `symlink target ... escapes the layer`
//   - a hardlink to a name outside the layer, or to a name not (yet) in the layer
//   - with SymlinkParents::kRefuse, a name whose parent goes through a symlink
// Absolute names are rooted at the layer (Docker strips the leading '/'), as are absolute
// symlink and hardlink targets. Entries may replace earlier ones (tar semantics: the last
// one wins); a directory over a directory merges.
//
// Metadata: mode (including setuid/setgid/sticky), mtime/atime and xattrs are restored;
// uid/gid only when running as root (otherwise files belong to the caller). Directory
// metadata is applied at the end, so a read-only directory can still be filled. Xattrs
// named trusted.overlay.* / user.overlay.* in the tar are dropped (they would change
// how overlayfs reads the layer); xattrs the kernel refuses (EPERM, ENOTSUP) are counted.
// Device nodes are created only as root (otherwise counted and skipped).
//
// On error dest_dir may hold a partial layer: the caller removes it. Not thread-safe for
// the same dest_dir; separate layers may be extracted in parallel.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace md::image {

// What OCI whiteout entries (".wh.<name>", ".wh..wh..opq") become.
enum class WhiteoutMode {
  // ".wh." names are ordinary files (docker cp into a container: a plain tar, as Docker's
  // Untar treats it). Overlay xattrs in the tar are still dropped.
  kNone,
  // The layer will be an overlayfs lowerdir: ".wh.name" becomes a 0:0 character device
  // "name", ".wh..wh..opq" sets the overlay.opaque xattr ("y") on its directory.
  kOverlay,
  // The layer is applied onto the layers below it in the same directory (export,
  // flattening): ".wh.name" deletes "name", ".wh..wh..opq" deletes everything in the
  // directory that this layer did not itself add.
  kApplyFlat,
};

// An entry whose parent directory is a symlink ("evil -> /etc", then "evil/passwd").
enum class SymlinkParents {
  kRefuse,          // error: `path goes through symlink "evil"` (the default: a layer
                    // made by docker/buildah never needs it)
  kResolveInLayer,  // follow it as the container would, with openat2(RESOLVE_IN_ROOT):
                    // "/etc" means <dest>/etc; needed when applying layers flat, where a
                    // lower layer's "lib -> usr/lib" is followed by "lib/x" above it
};

// Namespace of the overlay xattrs written in kOverlay mode.
enum class OverlayXattr {
  kTrusted,  // trusted.overlay.opaque: the usual mount (needs CAP_SYS_ADMIN to write)
  kUser,     // user.overlay.opaque: for overlay mounted with "userxattr" (rootless)
};

enum class LayerDigests { kCompute, kSkip };

class TarSplitRecorder;  // tar_split.h

struct ExtractOptions {
  WhiteoutMode whiteouts = WhiteoutMode::kOverlay;
  SymlinkParents symlink_parents = SymlinkParents::kRefuse;
  OverlayXattr overlay_xattr = OverlayXattr::kTrusted;
  LayerDigests digests = LayerDigests::kCompute;

  // The options below serve `docker cp` into a container (tree_tar.h: copy_in).
  //
  // Entries land below this directory of dest_dir (a clean relative path, "" = dest_dir
  // itself) while dest_dir stays the root every name and symlink is resolved in: the tar's
  // "a/b" goes to <dest_dir>/<base_dir>/a/b, a hardlink target is relative to base_dir too,
  // and with kResolveInLayer an absolute symlink met on the way means <dest_dir>/...
  std::string base_dir;
  // Docker's NoOverwriteDirNonDir: an existing directory is never replaced by a
  // non-directory, nor a non-directory by a directory (EEXIST "cannot overwrite ...").
  bool keep_existing_types = false;
  // With kResolveInLayer, allow the resolution to cross mount points (a running
  // container's root seen through /proc/<pid>/root has volumes mounted in it).
  bool cross_mounts = false;
  // When >= 0 (and running as root), everything created is owned by this uid/gid instead
  // of the tar's: docker cp without --archive.
  int64_t owner_uid = -1;
  int64_t owner_gid = -1;

  // When set, the layout of the uncompressed tar (headers, padding, which file's content
  // comes where) is recorded so the exact tar can be rebuilt later from the unpacked files
  // (tar_split.h; `save` needs it to reproduce the diff_id). Needs digests == kCompute.
  // The caller calls finish() on the recorder after a successful extraction.
  TarSplitRecorder* tar_split = nullptr;
};

struct LayerStats {
  uint64_t entries = 0;  // tar entries seen (all kinds)
  uint64_t files = 0;
  uint64_t directories = 0;
  uint64_t symlinks = 0;
  uint64_t hardlinks = 0;
  uint64_t devices = 0;  // char/block nodes created (whiteout devices not included)
  uint64_t fifos = 0;
  uint64_t bytes = 0;            // file data written
  uint64_t whiteouts = 0;        // converted (kOverlay) or applied (kApplyFlat)
  uint64_t opaque_dirs = 0;      // converted or applied
  uint64_t skipped_devices = 0;  // device nodes not created: not root (or no CAP_MKNOD)
  uint64_t skipped_xattrs = 0;   // refused by the kernel, or overlay.* from the tar
  uint64_t skipped_entries = 0;  // sockets, AUFS ".wh..wh.*" metadata
  // kOverlay without the privilege to make them: layer paths whose whiteout device or
  // opaque xattr could not be written. The layer is then NOT a faithful lowerdir.
  std::vector<std::string> skipped_whiteouts;
  std::vector<std::string> skipped_opaque_dirs;
  // With LayerDigests::kCompute: "sha256:<hex>" of the bytes read (the blob as stored,
  // compressed or not) and of the uncompressed tar stream (the OCI diff_id).
  std::string digest;
  std::string diff_id;
  std::string compression;  // libarchive's filter name: "none", "gzip", "zstd", "xz"…
};

// Reads the layer from `fd` (from its current offset to EOF; the fd is not closed).
Result<LayerStats> extract_layer(int fd, const std::string& dest_dir,
                                 const ExtractOptions& options = {});
Result<LayerStats> extract_layer_file(const std::string& path, const std::string& dest_dir,
                                      const ExtractOptions& options = {});
// For tests and fuzzing: the layer's bytes in memory.
Result<LayerStats> extract_layer_memory(std::string_view data, const std::string& dest_dir,
                                        const ExtractOptions& options = {});

// extract_layer with WhiteoutMode::kApplyFlat and SymlinkParents::kResolveInLayer: applies
// one layer onto the layers already in `dest_dir` (call it base layer first).
Result<LayerStats> apply_layer_flat(int fd, const std::string& dest_dir);

}  // namespace md::image
