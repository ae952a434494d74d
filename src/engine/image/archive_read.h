// Reading image archives: what `docker save` writes (docker-archive: manifest.json +
// config + layer tars) and OCI image layouts in a tar (oci-archive: oci-layout,
// index.json, blobs/sha256/<hex>). The archive itself may be gzip/zstd/xz-compressed.
// See docs/images.md.
//
// How: one streaming pass (so `load < file` and `load` from a pipe both work). Every
// regular member is copied into `staging_dir` under the sha256 of its content
// (`<staging_dir>/<hex>`), hashed as it streams by; symlinks and hardlinks between members
// (Docker 25 writes `<id>/layer.tar -> ../blobs/sha256/<hex>`) are followed by name, never
// on disk. Then the manifests are read from the staged copies and every digest the
// archive claims is checked against the content:
//   - an OCI blob must hash to its name and have its descriptor's size;
//   - a docker-archive config or layer named by a digest (`<hex>.json`, `blobs/sha256/<hex>`)
//     must hash to it, and an uncompressed layer must hash to its diff_id;
//   - the config must list one diff_id per layer.
// A compressed layer's diff_id can only be checked by decompressing it: extract_layer()
// returns LayerStats::diff_id for the caller to compare with LayerBlob::diff_id.
//
// Nothing is extracted here. staging_dir must exist; afterwards it holds every regular
// member of the archive by content (layers, configs, manifests) and belongs to the caller,
// who removes it once the layers are unpacked. On error it may hold a part of them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace md::image {

enum class ArchiveFormat { kDockerArchive, kOciArchive };

struct LayerBlob {
  std::string digest;      // "sha256:<hex>" of the blob as stored (verified)
  std::string diff_id;     // the config's rootfs.diff_ids[i]: sha256 of the uncompressed tar
  std::string media_type;  // from the OCI descriptor; for docker-archive, from the content
                           // (…rootfs.diff.tar, …tar.gzip, or the OCI +zstd type)
  uint64_t size = 0;
  std::string path;  // <staging_dir>/<hex>
};

struct ArchiveImage {
  std::string config;           // the image config JSON, byte for byte
  std::string config_digest;    // "sha256:<hex>" of config: the image id
  std::string manifest_digest;  // oci-archive: the image manifest's digest; "" otherwise
  // docker-archive: RepoTags as written ("busybox:latest"). oci-archive: the descriptor's
  // io.containerd.image.name annotation, else org.opencontainers.image.ref.name (which
  // may be a bare tag such as "latest"; normalising it is the caller's business).
  std::vector<std::string> repo_tags;
  std::vector<LayerBlob> layers;  // base layer first
};

struct ImageArchive {
  ArchiveFormat format = ArchiveFormat::kDockerArchive;
  std::vector<ArchiveImage> images;  // in manifest order; an untagged image has no repo_tags
};

// Reads from `fd` (current offset to EOF; not closed).
Result<ImageArchive> read_image_archive(int fd, const std::string& staging_dir);
Result<ImageArchive> read_image_archive_file(const std::string& path,
                                             const std::string& staging_dir);

// The GOARCH-style name of this machine ("amd64", "arm64", …): OCI indexes are matched
// against linux/<this>.
std::string host_architecture();

}  // namespace md::image
