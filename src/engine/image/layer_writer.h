// LayerWriter: turns the entries of a layer tar into files below a directory fd, never
// outside it. Internal to the image library: layer_extract.cc reads the tar and drives
// it; the rules it enforces are stated in layer_extract.h.
#pragma once

#include <sys/types.h>
#include <time.h>

#include <string>
#include <unordered_set>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "engine/image/layer_extract.h"

struct archive;
struct archive_entry;

namespace md::image {

class LayerWriter {
 public:
  // `root` is an open directory fd of the destination; options and stats must outlive
  // the writer. Not thread-safe.
  LayerWriter(int root, const ExtractOptions& options, LayerStats& stats);

  // One tar entry; `a` is positioned on it (its data is read for regular files).
  Status entry(struct archive* a, struct archive_entry* e);
  // After the last entry: directory modes, owners and times.
  Status finish();

 private:
  struct Xattr {
    std::string name;
    std::string value;
  };
  struct Metadata {
    mode_t perm = 0;
    int64_t uid = 0;
    int64_t gid = 0;
    struct timespec times[2] = {};  // atime, mtime
    std::vector<Xattr> xattrs;
  };
  struct DeferredDir {
    std::string path;  // clean path, "" for the root
    dev_t dev;
    ino_t ino;
    Metadata meta;
  };
  enum class Create { kNo, kYes };

  static Metadata metadata_of(struct archive_entry* e);
  Status regular_file(struct archive* a, struct archive_entry* e, const std::string& path,
                      const Metadata& m);
  Status directory(const std::string& path, Metadata m);
  Status symlink(struct archive_entry* e, const std::string& path, const Metadata& m);
  Status hardlink(const std::string& path, const std::string& target_name);
  Status special(struct archive_entry* e, const std::string& path, const Metadata& m);
  Status whiteout(const std::string& path);
  Status opaque(const std::string& dir);
  Status clear_lower_entries(int dirfd, const std::string& dir);

  // The directory holding `path`'s last component (borrowed fd, cached for the next entry).
  Result<int> parent_of(const std::string& path, Create create);
  // Opens directory `dir` (clean path) as O_PATH, creating missing ones with kYes.
  Result<UniqueFd> open_dir(const std::string& dir, Create create);
  Result<UniqueFd> open_dir_no_symlinks(const std::string& dir, Create create);
  Result<UniqueFd> open_dir_in_root(const std::string& dir, Create create);
  // Removes whatever is at dirfd/base unless both it and the new entry are directories.
  // Returns true when an existing directory is kept.
  Result<bool> make_room(int dirfd, const std::string& path, bool new_is_dir);
  // Runs create() (a *at() call: 0, or -1 with errno). If the name is taken, makes room
  // and tries again; the common case costs one syscall. Returns false when an existing
  // directory was kept for a new directory. Errors carry create()'s errno.
  template <class F>
  Result<bool> create_leaf(int dirfd, const std::string& path, bool is_dir, const char* what,
                           F&& create);
  Status apply_metadata(int fd, const std::string& path, const Metadata& m);
  Status apply_xattrs(int fd, const std::string& path, const std::vector<Xattr>& xattrs);
  void note_unpacked(const std::string& path);
  // Called when a directory is removed: the cached parent may be inside it. The fd is
  // kept open until the next entry, since the caller may be using it right now.
  void forget_cache() {
    cached_parent_.clear();
    retired_fd_ = std::move(cached_fd_);
  }

  int root_;
  const ExtractOptions& options_;
  LayerStats& stats_;
  bool privileged_;
  std::string cached_parent_;
  UniqueFd cached_fd_;
  UniqueFd retired_fd_;
  std::vector<DeferredDir> dirs_;
  // Clean paths this layer created (and their ancestors): a whiteout never hides what its
  // own layer adds, and an opaque directory in kApplyFlat keeps them.
  std::unordered_set<std::string> unpacked_;
};

}  // namespace md::image
