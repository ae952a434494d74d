// LayerStore: the unpacked layers on disk, below the engine root R.
//
//   R/image/layers/<hex>/            one layer (hex of its diff_id), a complete overlayfs
//                                    lowerdir (whiteouts as 0:0 devices, opaque xattrs)
//   R/image/layers/<hex>.tar-split   how to rebuild its exact tar (tar_split.h), for save
//   R/image/lock                     flock: shared while layers are added or read, exclusive
//                                    while unused ones are deleted (rmi, prune)
//   R/tmp/image-*                    staging, removed after use (and by prune after a crash)
//
// A layer is unpacked into R/tmp/image-layer-XXXXXX/ and then renamed into place (split
// file first, directory last), so its final name only ever holds a complete layer: a crash
// leaves a staging directory (or a split file without a directory), which prune removes.
// A layer already present is not unpacked again; two processes unpacking the same layer
// both succeed, the second rename finds the first one's and discards its own copy.
//
// The database (ImageStore) says which layers images use; this class only knows files.
// Not thread-safe; separate processes coordinate through the lock and rename().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "engine/image/layer_extract.h"

namespace md::image {

// A staging directory below R/tmp, removed (rm -rf) when this object goes away.
class StagingDir {
 public:
  StagingDir() = default;
  explicit StagingDir(std::string path) : path_(std::move(path)) {}
  StagingDir(StagingDir&& o) noexcept : path_(std::exchange(o.path_, {})) {}
  StagingDir& operator=(StagingDir&& o) noexcept;
  StagingDir(const StagingDir&) = delete;
  StagingDir& operator=(const StagingDir&) = delete;
  ~StagingDir();
  const std::string& path() const { return path_; }
  std::string operator/(std::string_view name) const;

 private:
  std::string path_;
};

// flock on R/image/lock, released on destruction.
class LayerLock {
 public:
  LayerLock() = default;
  explicit LayerLock(UniqueFd fd) : fd_(std::move(fd)) {}
  bool held() const { return fd_.valid(); }

 private:
  UniqueFd fd_;
};

struct UnpackedLayer {
  std::string diff_id;     // "sha256:<hex>"
  int64_t size = 0;        // Docker's layer Size (tree_size)
  bool created = false;    // false: it was already there
  bool reproducible = false;  // a tar-split was kept: save writes the original bytes
  LayerStats stats;        // of this unpacking (empty when it was already there)
};

class LayerStore {
 public:
  explicit LayerStore(std::string root);

  const std::string& root() const { return root_; }
  std::string layers_dir() const { return root_ + "/image/layers"; }
  std::string tmp_dir() const { return root_ + "/tmp"; }
  // R/image/layers/<hex> for "sha256:<hex>" (or "<hex>").
  std::string dir(std::string_view diff_id) const;
  std::string split_path(std::string_view diff_id) const;
  bool has(std::string_view diff_id) const;

  Result<LayerLock> lock_shared();
  Result<LayerLock> lock_exclusive();

  // A new directory R/tmp/image-<what>-XXXXXX (R/tmp created as needed).
  Result<StagingDir> make_staging(std::string_view what);

  // Unpacks the layer tar read from `fd` (any compression) unless a layer with its diff_id
  // is present. `expected_diff_id` ("" = none) must match what the bytes hash to: EINVAL
  // "layer diff_id mismatch: the config says X, the layer is Y" otherwise, and nothing is
  // kept. The whole tar is always read (its diff_id is only known at the end).
  // Call with the shared lock held.
  Result<UnpackedLayer> unpack(int fd, const std::string& expected_diff_id,
                               const ExtractOptions& options = {});
  // As unpack(), when the caller knows the diff_id up front (a blob staged by load):
  // nothing is read when the layer is present.
  Result<UnpackedLayer> unpack_file(const std::string& path, const std::string& diff_id,
                                    const ExtractOptions& options = {});

  // The layer's size: from its tar-split, else by walking the directory.
  Result<int64_t> size(std::string_view diff_id) const;

  // Deletes the layer's directory and split file (missing is fine). Call with the
  // exclusive lock held, after the database stopped referencing it.
  Status remove(std::string_view diff_id);

  // Layer directories and split files on disk ("sha256:<hex>" of each layer found).
  Result<std::vector<std::string>> list_on_disk() const;
  // Removes split files without a layer directory and, when no other process can be
  // using them (call with the exclusive lock held), every R/tmp/image-* staging entry.
  // Returns the bytes freed (approximately: file sizes).
  Result<int64_t> remove_stale_files();

 private:
  std::string root_;
};

// Sum of the sizes of everything but directories below `dir` (file data, symlink target
// lengths), each inode once: what Docker reports as a layer's size.
Result<int64_t> tree_size(const std::string& dir);

}  // namespace md::image
