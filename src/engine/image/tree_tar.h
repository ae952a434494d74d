// Directory trees to and from tar streams, for `docker export`, `docker cp` and commit.
//
// Safety: a container's root file system is controlled by whatever runs in it, so every
// path given here is resolved *inside* `rootfd` with openat2(RESOLVE_IN_ROOT): a symlink
// is followed the way the container would follow it, and "/" or ".." can never lead above
// the root (the bug class of CVE-2018-15664, where `docker cp` followed a symlink swapped
// in by the container and read or wrote host files). After resolution everything is done
// through directory fds with O_NOFOLLOW, so a name swapped for a symlink later is archived
// or replaced as a symlink, never followed. See docs/images.md.
//
// Errors name the path; a failed copy_out may have written part of the stream (the caller
// discards it); a failed copy_in may leave the entries extracted so far, as Docker's does.
#pragma once

#include <sys/stat.h>
#include <time.h>

#include <cstdint>
#include <string>

#include "base/result.h"
#include "engine/image/tar_writer.h"

namespace md::image {

// A tar of everything below the directory `dirfd` (its children, not the directory
// itself), written to `out_fd`: `docker export` of a container's merged root, or a layer
// from an overlay upper directory (options.overlay_whiteouts). Never follows symlinks;
// keeps owners, modes, xattrs, hardlinks and device nodes; skips sockets.
Status write_tree_tar(int dirfd, int out_fd, const TreeTarOptions& options = {});

// What `docker cp` reports about its source (HEAD /containers/{id}/archive and the
// X-Docker-Container-Path-Stat header: base64 of {"name","size","mode","mtime","linkTarget"}).
struct PathStat {
  std::string name;         // base name of the path as given ("/" for the root)
  int64_t size = 0;         // lstat size
  mode_t mode = 0;          // lstat st_mode
  struct timespec mtime {};
  std::string link_target;  // when the path is a symlink: where it leads, as an absolute
                            // path inside the container (resolved in the root); else ""
};

// Go's os.FileMode bits for `mode` (what Docker's JSON carries as "mode").
uint32_t go_file_mode(mode_t mode);

// Stats `path` (absolute or relative to "/", inside `rootfd`) the way Docker does: the
// directories are resolved in the root, the last element is not followed unless the path
// ends in "/" or "/.". ENOENT "could not find the file /x in the container".
Result<PathStat> stat_path(int rootfd, const std::string& path);

// `docker cp CONTAINER:PATH -`: writes to `out_fd` a tar of PATH inside `rootfd`, with
// Docker's naming: "/etc" gives "etc/", "etc/passwd", …; "/etc/." gives the directory's
// contents ("./", "./passwd", …); "/" gives "/", "/bin/", … (absolute names, as Docker
// writes them); "/link/" archives the directory the link leads to under the name "link".
// A symlink given without a trailing "/" is archived as the link.
// Returns the stat of the source (for the header the API sends before the body).
Result<PathStat> copy_out(int rootfd, const std::string& path, int out_fd);

struct CopyInOptions {
  // Docker's NoOverwriteDirNonDir (the CLI sets it unless told otherwise).
  bool keep_existing_types = true;
  // docker cp without -a: everything belongs to this uid/gid (the container's root);
  // -1 keeps the tar's owners (-a, archive mode).
  int64_t owner_uid = -1;
  int64_t owner_gid = -1;
  // The root is a running container's /proc/<pid>/root: allow resolution into its mounts.
  bool cross_mounts = false;
};

// `docker cp - CONTAINER:DEST`: extracts the tar read from `in_fd` (any compression) into
// the directory DEST inside `rootfd`. DEST is resolved in the root and must be an existing
// directory (ENOTDIR "extraction point is not a directory"). Every entry is resolved in the
// root too: "../x" leaving DEST is refused ("path escapes the layer"), a symlink on the way
// (even one the tar itself made) leads only to places inside the root. ".wh." names are
// ordinary files here.
Status copy_in(int rootfd, const std::string& dest_dir, int in_fd, const CopyInOptions& options = {});

}  // namespace md::image
