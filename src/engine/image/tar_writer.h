// TarWriter: writes a tar stream (pax where needed, plain ustar otherwise, as Docker's
// writers do) from files on disk or from bytes the caller produces. Used by `save`
// (image archives), `commit` (a layer from a container's upper directory), `export`
// and `docker cp` (tree_tar.h).
//
// Files are reached only through directory fds with O_NOFOLLOW / AT_SYMLINK_NOFOLLOW: a
// symlink is archived as a symlink, never followed, so a container cannot make us read a
// host file by swapping a name for a link while we walk. A file that changes while it is
// read keeps the size its header announced (cut short, or padded with zeros).
//
// Header fields follow Docker's layer tars: mtime in whole seconds, no atime/ctime, no user
// or group names, directory names ending in '/', xattrs as SCHILY.xattr.* records
// (security.capability must survive a commit), hardlinks (st_nlink > 1, same inode seen
// before in this stream) as link entries.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "base/result.h"
#include "engine/image/layer_extract.h"
#include "engine/image/tar_split.h"

struct archive;
struct archive_entry;

namespace md::image {

// How a directory tree becomes tar entries.
struct TreeTarOptions {
  // The tree is an overlayfs upper directory or lowerdir: a 0:0 character device becomes a
  // ".wh.<name>" entry, a directory with the overlay.opaque xattr gets a ".wh..wh..opq"
  // entry, and other overlay.* xattrs (origin, impure, redirect…) are left out.
  bool overlay_whiteouts = false;
  OverlayXattr overlay_xattr = OverlayXattr::kTrusted;
};

class TarWriter {
 public:
  // Writes the stream to `sink` (which must not be called after close()).
  static Result<std::unique_ptr<TarWriter>> open(ByteSink sink);
  // Writes the stream to `fd` (not closed).
  static Result<std::unique_ptr<TarWriter>> open_fd(int fd);
  ~TarWriter();
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;

  // A regular file whose `size` bytes `produce` hands to the sink it is given.
  // It must produce exactly `size` bytes (fewer are padded with zeros, an error otherwise).
  Status add_stream(const std::string& name, uint64_t size, mode_t perm, int64_t mtime,
                    const std::function<Status(const ByteSink&)>& produce);
  Status add_bytes(const std::string& name, std::string_view data, mode_t perm = 0644,
                   int64_t mtime = 0);
  Status add_directory(const std::string& name, mode_t perm = 0755, int64_t mtime = 0);

  // The file system object `base` in directory `parentfd`, archived as `name` (a directory
  // with everything below it, children in byte order of their names).
  Status add_path(int parentfd, const std::string& base, const std::string& name,
                  const TreeTarOptions& options);
  // Everything below the directory `dirfd` (not the directory itself), names prefixed by
  // `prefix` ("" or ending in '/').
  Status add_children(int dirfd, const std::string& prefix, const TreeTarOptions& options);

  // Writes the end-of-archive blocks and flushes. Required: the destructor only frees.
  Status close();

  // For the libarchive write callback only.
  bool deliver(const void* data, size_t size);

 private:
  TarWriter() = default;
  Status write_header(struct archive_entry* e, const std::string& what);
  Status write_data(const void* data, size_t size, const std::string& what);
  Status finish_entry(const std::string& what);
  std::unexpected<Error> archive_error(const std::string& what);
  Status add_node(int parentfd, const std::string& base, const std::string& name,
                  const struct stat& st, const TreeTarOptions& options);

  struct archive* a_ = nullptr;
  ByteSink sink_;
  Error sink_error_;
  bool sink_failed_ = false;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;  // first name of each inode
};

}  // namespace md::image
