// Layer extraction: two libarchive readers in a chain feeding a LayerWriter.
//
//   fd/memory ─► outer reader: compression filters, "raw" format = the decompressed
//                stream; hashes the bytes as stored (→ digest)
//             ─► inner reader: tar only; hashes the uncompressed stream (→ diff_id)
//             ─► LayerWriter::entry() for each entry, LayerWriter::finish()
#include "engine/image/layer_extract.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <vector>

#include "base/unique_fd.h"
#include "engine/image/layer_writer.h"
#include "engine/image/sha256.h"
#include "engine/image/tar_split.h"

namespace md::image {

namespace {

// ---------------------------------------------------------------------------------------
// The byte streams.

struct RawSource {
  int fd = -1;
  std::string_view memory;
  bool memory_done = false;
  std::vector<char> buffer;
  bool hashing = true;
  Sha256 hash;
  uint64_t bytes = 0;
};

la_ssize_t raw_read(struct archive* a, void* opaque, const void** out) {
  auto* s = static_cast<RawSource*>(opaque);
  if (s->fd < 0) {
    if (s->memory_done) return 0;
    s->memory_done = true;
    if (s->hashing) s->hash.update(s->memory);
    s->bytes += s->memory.size();
    *out = s->memory.data();
    return static_cast<la_ssize_t>(s->memory.size());
  }
  for (;;) {
    ssize_t n = ::read(s->fd, s->buffer.data(), s->buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      archive_set_error(a, errno, "read layer: %s", std::strerror(errno));
      return -1;
    }
    if (s->hashing) s->hash.update(s->buffer.data(), static_cast<size_t>(n));
    s->bytes += static_cast<uint64_t>(n);
    *out = s->buffer.data();
    return n;
  }
}

// Reads what libarchive left unread (trailing bytes after the compressed stream) so the
// digest covers the whole blob.
Status drain_raw(RawSource& s) {
  if (s.fd < 0 || !s.hashing) return {};
  for (;;) {
    ssize_t n = ::read(s.fd, s.buffer.data(), s.buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno("read layer");
    if (n == 0) return {};
    s.hash.update(s.buffer.data(), static_cast<size_t>(n));
  }
}

struct TarSource {
  struct archive* outer = nullptr;
  TarSplitRecorder* split = nullptr;  // sees the uncompressed stream too
  bool hashing = true;
  Sha256 hash;
  bool eof = false;
};

la_ssize_t tar_read(struct archive* a, void* opaque, const void** out) {
  auto* s = static_cast<TarSource*>(opaque);
  while (!s->eof) {
    const void* block;
    size_t size;
    la_int64_t offset;
    int r = archive_read_data_block(s->outer, &block, &size, &offset);
    if (r == ARCHIVE_EOF) {
      s->eof = true;
      break;
    }
    if (r < ARCHIVE_WARN) {
      archive_set_error(a, archive_errno(s->outer), "%s", archive_error_string(s->outer));
      return -1;
    }
    if (size == 0) continue;
    if (s->hashing) s->hash.update(block, size);
    if (s->split) s->split->feed(block, size);
    *out = block;
    return static_cast<la_ssize_t>(size);
  }
  return 0;
}

struct ArchiveFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<struct archive, ArchiveFree>;

std::unexpected<Error> archive_fail(struct archive* a, const std::string& what) {
  const char* msg = archive_error_string(a);
  int err = archive_errno(a);
  return fail(what + ": " + (msg ? msg : "unknown libarchive error"), err > 0 ? err : EINVAL);
}

// ---------------------------------------------------------------------------------------

Result<LayerStats> extract(RawSource& raw, const std::string& dest_dir,
                           const ExtractOptions& options) {
  UniqueFd root(::open(dest_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root) return fail_errno("open layer destination " + dest_dir);
  const bool hashing = options.digests == LayerDigests::kCompute;
  if (options.tar_split && !hashing)
    return fail("extract layer: recording a tar-split needs LayerDigests::kCompute", EINVAL);
  raw.hashing = hashing;
  if (raw.fd >= 0) raw.buffer.resize(1 << 17);

  ArchivePtr outer(archive_read_new());
  if (!outer) return fail("archive_read_new: out of memory", ENOMEM);
  // Only the compressions layers use, each through its library (filter_all would also
  // enable filters that run an external program, e.g. lrzip, for a crafted magic number).
  archive_read_support_filter_gzip(outer.get());
  archive_read_support_filter_zstd(outer.get());
  archive_read_support_filter_xz(outer.get());
  archive_read_support_filter_lzma(outer.get());
  archive_read_support_filter_bzip2(outer.get());
  archive_read_support_filter_lz4(outer.get());
  archive_read_support_format_raw(outer.get());
  if (archive_read_open(outer.get(), &raw, nullptr, raw_read, nullptr) != ARCHIVE_OK) {
    if (raw.bytes == 0) return fail("read layer: the layer is empty (not a tar archive)", EINVAL);
    return archive_fail(outer.get(), "read layer");
  }
  struct archive_entry* e;
  int r = archive_read_next_header(outer.get(), &e);
  if (r == ARCHIVE_EOF) return fail("read layer: the layer is empty (not a tar archive)", EINVAL);
  if (r < ARCHIVE_WARN) return archive_fail(outer.get(), "read layer");

  LayerStats stats;
  stats.compression = archive_filter_name(outer.get(), 0);
  // Uncompressed, the blob is the tar stream: its digest is the diff_id, hash it once.
  const bool compressed = archive_filter_code(outer.get(), 0) != ARCHIVE_FILTER_NONE;
  TarSource tar_source;
  tar_source.outer = outer.get();
  tar_source.hashing = hashing && compressed;
  tar_source.split = options.tar_split;
  ArchivePtr tar(archive_read_new());
  if (!tar) return fail("archive_read_new: out of memory", ENOMEM);
  archive_read_support_format_tar(tar.get());
  if (archive_read_open(tar.get(), &tar_source, nullptr, tar_read, nullptr) != ARCHIVE_OK)
    return archive_fail(tar.get(), "read layer (" + stats.compression + ")");

  LayerWriter writer(root.get(), options, stats);
  for (;;) {
    r = archive_read_next_header(tar.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN)
      return archive_fail(tar.get(), "read layer after entry " + std::to_string(stats.entries));
    // The header blocks are consumed by now: the filter position is where the data starts.
    if (options.tar_split) options.tar_split->entry(archive_filter_bytes(tar.get(), 0), e);
    TRY(writer.entry(tar.get(), e));
  }
  TRY(writer.finish());

  if (hashing) {
    // The diff_id covers the whole uncompressed stream, end-of-archive padding included.
    const void* block;
    while (tar_read(tar.get(), &tar_source, &block) > 0) {
    }
    TRY(drain_raw(raw));
    stats.digest = "sha256:" + raw.hash.finish_hex();
    stats.diff_id = compressed ? "sha256:" + tar_source.hash.finish_hex() : stats.digest;
  }
  return stats;
}

}  // namespace

Result<LayerStats> extract_layer(int fd, const std::string& dest_dir,
                                 const ExtractOptions& options) {
  RawSource raw;
  raw.fd = fd;
  return extract(raw, dest_dir, options);
}

Result<LayerStats> extract_layer_file(const std::string& path, const std::string& dest_dir,
                                      const ExtractOptions& options) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail_errno("open layer " + path);
  return TRY_CTX(extract_layer(fd.get(), dest_dir, options), "layer " + path);
}

Result<LayerStats> extract_layer_memory(std::string_view data, const std::string& dest_dir,
                                        const ExtractOptions& options) {
  RawSource raw;
  raw.memory = data;
  return extract(raw, dest_dir, options);
}

Result<LayerStats> apply_layer_flat(int fd, const std::string& dest_dir) {
  ExtractOptions options;
  options.whiteouts = WhiteoutMode::kApplyFlat;
  options.symlink_parents = SymlinkParents::kResolveInLayer;
  return extract_layer(fd, dest_dir, options);
}

}  // namespace md::image
