// Tar-split: rebuilding a layer's exact tar from its unpacked directory.
//
// Why: an image's config names each layer by its diff_id, the sha256 of the uncompressed
// tar. `save` must write tars with those very bytes, or the image id changes and Docker's
// `load` refuses the layer. A tar made afresh from the files never has them (entry order,
// header fields, padding and trailer all vary between tar writers), and keeping every
// original tar would double the disk used. So, as Docker does with its tar-split files,
// we keep the tar minus the file contents: while a layer is unpacked, the recorder sees
// the uncompressed stream and writes every byte that is not the content of a regular
// file (headers, pax records, padding, the end-of-archive blocks), plus, for each file,
// "here come <size> bytes of <path>". Rebuilding reads that back and splices in the
// files from the layer directory; the result's sha256 is checked against the diff_id by
// the caller.
//
// File format (gzip-compressed, about 1/10 of the headers' size):
//   "MDTARSPLIT1\n"
//   'M' <varint n> <n bytes>                 bytes of the tar, verbatim
//   'F' <varint size> <varint n> <n bytes>   <size> content bytes of the file at that
//                                            clean path (relative to the layer directory)
//   'E' <varint tar_size> <varint content_bytes> <varint files>
// Varints are unsigned LEB128.
//
// What cannot be rebuilt: a tar that writes the same regular file twice (or replaces a
// directory holding one), since only the last version is on disk. The recorder notices
// and reports reproducible() == false; the caller then drops the split file and `save`
// makes a new tar (with a new diff_id). Contents of sparse files and of hardlink entries
// that carry data are kept verbatim in the split instead of referenced.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

struct archive;
struct archive_entry;

namespace md::image {

class TarSplitRecorder {
 public:
  // Creates `path` (must not exist) and starts recording into it.
  static Result<std::unique_ptr<TarSplitRecorder>> create(const std::string& path);
  ~TarSplitRecorder();
  TarSplitRecorder(const TarSplitRecorder&) = delete;
  TarSplitRecorder& operator=(const TarSplitRecorder&) = delete;

  // Called by extract_layer (layer_extract.cc), in stream order:
  // every byte of the uncompressed tar stream, including what follows the end marker,
  void feed(const void* data, size_t size);
  // and each entry right after its header was read, with the offset in the uncompressed
  // stream where its data starts (libarchive has consumed the header blocks by then).
  void entry(int64_t data_start, struct archive_entry* e);

  // After a successful extraction: writes the end record and closes the file.
  // `content_bytes` is kept as the layer's size (layer_store.h: tree_size). Errors: writing failed
  // (ENOSPC…), or the stream did not have the expected shape.
  Status finish(uint64_t content_bytes);

  bool reproducible() const { return reason_.empty(); }
  // Why not (names the entry), for the logs.
  const std::string& not_reproducible_reason() const { return reason_; }

 private:
  TarSplitRecorder() = default;
  void emit_meta(const char* data, size_t size);
  void flush_meta();
  void write_out(const void* data, size_t size);
  void fail_write(std::string message, int err);

  struct archive* out_ = nullptr;
  UniqueFd fd_;
  std::string path_;
  Error error_;
  bool failed_ = false;
  std::string reason_;

  std::string meta_;       // verbatim bytes not yet written as an 'M' record
  std::string pending_;    // bytes fed but not yet classified; start at pending_start_
  uint64_t pending_start_ = 0;
  uint64_t fed_ = 0;       // stream offset after the last byte fed
  uint64_t skip_until_ = 0;  // bytes below this offset are file content: not kept
  uint64_t files_ = 0;
  std::set<std::string> referenced_;
};

struct TarSplitSummary {
  uint64_t tar_size = 0;       // bytes of the rebuilt tar
  uint64_t content_bytes = 0;  // the layer's size, as given to finish()
  uint64_t files = 0;          // contents taken from the layer directory
};

// Reads the split file through and returns its end record.
Result<TarSplitSummary> read_tar_split_summary(const std::string& split_path);

// Receives the rebuilt tar; an error stops the rebuild and is returned as is.
using ByteSink = std::function<Status(const void* data, size_t size)>;

// Rebuilds the tar recorded in `split_path`, taking file contents from the directory
// `layer_dirfd` (opened beneath it, never following a symlink), and hands it to `sink`.
// Returns "sha256:<hex>" of the bytes produced. Errors: a file is missing or has another
// size than recorded ("layer file "x" changed since it was unpacked"), a damaged split.
Result<std::string> rebuild_tar(const std::string& split_path, int layer_dirfd,
                                const ByteSink& sink);

}  // namespace md::image
