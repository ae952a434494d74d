#include "engine/image/tar_split.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "base/unique_fd.h"
#include "engine/image/layer_path.h"
#include "engine/image/sha256.h"

namespace md::image {

namespace {

constexpr std::string_view kMagic = "MDTARSPLIT1\n";
// Unclassified bytes are normally classified by the next entry() call. Only the data of
// an entry kept verbatim (a sparse file) can pile up: beyond kMaxPending, bytes more than
// kParsedMargin before the newest block are written out verbatim. libarchive asks for a
// new block only once it has parsed (nearly) all of the previous one, so an entry whose
// content starts that far back has been seen already.
constexpr size_t kMaxPending = 8u << 20;
constexpr uint64_t kParsedMargin = 4u << 20;
constexpr size_t kMetaChunk = 64u << 10;

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

struct WriteFree {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct ReadFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};

std::string archive_message(struct archive* a) {
  const char* m = archive_error_string(a);
  return m ? m : "unknown libarchive error";
}

// Sequential reader of the decompressed split file.
class SplitReader {
 public:
  Status open(const std::string& path) {
    path_ = path;
    a_.reset(archive_read_new());
    if (!a_) return fail("archive_read_new: out of memory", ENOMEM);
    archive_read_support_filter_gzip(a_.get());
    archive_read_support_format_raw(a_.get());
    if (archive_read_open_filename(a_.get(), path.c_str(), 1 << 16) != ARCHIVE_OK)
      return fail("open tar-split " + path + ": " + archive_message(a_.get()),
                  archive_errno(a_.get()) > 0 ? archive_errno(a_.get()) : EIO);
    struct archive_entry* e;
    if (archive_read_next_header(a_.get(), &e) != ARCHIVE_OK)
      return damaged("no data");
    std::string magic(kMagic.size(), '\0');
    TRY(read_exact(magic.data(), magic.size()));
    if (magic != kMagic) return damaged("not a tar-split file");
    return {};
  }
  Status read_exact(void* out, size_t n) {
    auto* p = static_cast<char*>(out);
    while (n > 0) {
      if (pos_ == buf_.size()) TRY(refill());
      size_t k = std::min(n, buf_.size() - pos_);
      std::memcpy(p, buf_.data() + pos_, k);
      pos_ += k;
      p += k;
      n -= k;
    }
    return {};
  }
  // Hands `n` bytes to `fn` in the chunks they are buffered in.
  template <class F>
  Status read_chunks(uint64_t n, F&& fn) {
    while (n > 0) {
      if (pos_ == buf_.size()) TRY(refill());
      size_t k = static_cast<size_t>(std::min<uint64_t>(n, buf_.size() - pos_));
      TRY(fn(buf_.data() + pos_, k));
      pos_ += k;
      n -= k;
    }
    return {};
  }
  Result<uint64_t> varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      unsigned char c;
      TRY(read_exact(&c, 1));
      v |= static_cast<uint64_t>(c & 0x7f) << shift;
      if (!(c & 0x80)) return v;
    }
    return damaged("bad number");
  }
  std::unexpected<Error> damaged(const std::string& why) {
    return fail("tar-split " + path_ + " is damaged (" + why +
                    "); remove the image and load or pull it again",
                EINVAL);
  }

 private:
  Status refill() {
    buf_.resize(1 << 16);
    la_ssize_t n = archive_read_data(a_.get(), buf_.data(), buf_.size());
    if (n < 0) return fail("read tar-split " + path_ + ": " + archive_message(a_.get()), EIO);
    if (n == 0) return damaged("truncated");
    buf_.resize(static_cast<size_t>(n));
    pos_ = 0;
    return {};
  }
  std::unique_ptr<struct archive, ReadFree> a_;
  std::string path_;
  std::vector<char> buf_;
  size_t pos_ = 0;
};

int open_beneath(int dirfd, const std::string& path) {
  struct open_how how = {};
  how.flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  for (;;) {
    long fd = ::syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof how);
    if (fd < 0 && errno == EAGAIN) continue;
    return static_cast<int>(fd);
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Recording

Result<std::unique_ptr<TarSplitRecorder>> TarSplitRecorder::create(const std::string& path) {
  std::unique_ptr<TarSplitRecorder> r(new TarSplitRecorder());
  r->fd_.reset(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!r->fd_) return fail_errno("create tar-split " + path);
  r->path_ = path;
  r->out_ = archive_write_new();
  if (!r->out_) return fail("archive_write_new: out of memory", ENOMEM);
  // Level 1: headers are mostly zeros and compress well at the fastest level; unpacking
  // must not wait for a slow compressor.
  if (archive_write_add_filter_gzip(r->out_) != ARCHIVE_OK ||
      archive_write_set_filter_option(r->out_, "gzip", "compression-level", "1") != ARCHIVE_OK ||
      archive_write_set_format_raw(r->out_) != ARCHIVE_OK)
    return fail("tar-split writer: " + archive_message(r->out_), EINVAL);
  archive_write_set_bytes_in_last_block(r->out_, 1);
  // libarchive writes to the fd but does not close it: fd_ does.
  if (archive_write_open_fd(r->out_, r->fd_.get()) != ARCHIVE_OK)
    return fail("open tar-split " + path + ": " + archive_message(r->out_), EIO);
  struct archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, "tar-split");
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0600);
  int rc = archive_write_header(r->out_, e);
  archive_entry_free(e);
  if (rc != ARCHIVE_OK) return fail("tar-split writer: " + archive_message(r->out_), EIO);
  r->write_out(kMagic.data(), kMagic.size());
  return r;
}

TarSplitRecorder::~TarSplitRecorder() {
  if (out_) archive_write_free(out_);
}

void TarSplitRecorder::fail_write(std::string message, int err) {
  if (failed_) return;
  failed_ = true;
  error_ = Error{err, std::move(message)};
}

void TarSplitRecorder::write_out(const void* data, size_t size) {
  if (failed_ || size == 0) return;
  la_ssize_t n = archive_write_data(out_, data, size);
  if (n < 0 || static_cast<size_t>(n) != size)
    fail_write("write tar-split " + path_ + ": " + archive_message(out_),
               archive_errno(out_) > 0 ? archive_errno(out_) : EIO);
}

void TarSplitRecorder::flush_meta() {
  if (meta_.empty()) return;
  std::string head = "M";
  put_varint(head, meta_.size());
  write_out(head.data(), head.size());
  write_out(meta_.data(), meta_.size());
  meta_.clear();
}

void TarSplitRecorder::emit_meta(const char* data, size_t size) {
  meta_.append(data, size);
  if (meta_.size() >= kMetaChunk) flush_meta();
}

void TarSplitRecorder::feed(const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  uint64_t start = fed_;
  fed_ += size;
  if (pending_.size() > kMaxPending && start > kParsedMargin &&
      start - kParsedMargin > pending_start_) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(start - kParsedMargin - pending_start_,
                                                      pending_.size()));
    emit_meta(pending_.data(), n);
    pending_.erase(0, n);
    pending_start_ += n;
  }
  if (skip_until_ > start) {  // content of a file recorded by reference
    uint64_t skip = std::min<uint64_t>(size, skip_until_ - start);
    p += skip;
    size -= static_cast<size_t>(skip);
    start += skip;
  }
  if (size == 0) return;
  if (pending_.empty()) pending_start_ = start;
  pending_.append(p, size);
}

void TarSplitRecorder::entry(int64_t data_start, struct archive_entry* e) {
  const char* raw = archive_entry_pathname(e);
  if (!raw) raw = archive_entry_pathname_utf8(e);
  auto clean = clean_layer_path(raw ? raw : "");
  if (!clean) return;  // the extractor refuses it and the split is thrown away
  const std::string& path = *clean;

  // An entry that replaces a file recorded by reference (or a directory holding one)
  // destroys the content we would have read back.
  if (referenced_.contains(path)) {
    if (reason_.empty()) reason_ = "the tar writes " + quote(path) + " more than once";
  } else if (archive_entry_filetype(e) != AE_IFDIR || archive_entry_hardlink(e)) {
    auto it = referenced_.lower_bound(path + "/");
    if (it != referenced_.end() && it->starts_with(path + "/") && reason_.empty())
      reason_ = "the tar replaces directory " + quote(path) + " after writing files in it";
  }

  const int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
  const bool regular = archive_entry_filetype(e) == AE_IFREG && !archive_entry_hardlink(e);
  if (!regular || size <= 0 || archive_entry_sparse_count(e) > 0 || path.empty() ||
      base_name(path).starts_with(".wh."))
    return;  // no content, or content not on disk as is: kept verbatim
  const uint64_t ds = static_cast<uint64_t>(data_start);
  const uint64_t de = ds + static_cast<uint64_t>(size);
  if (data_start < 0 || ds < pending_start_ || ds < skip_until_ || ds > fed_)
    return;  // its bytes were already classified as verbatim: keep them so

  // Bytes before the content are tar metadata.
  uint64_t have_end = pending_start_ + pending_.size();
  size_t before = static_cast<size_t>(std::min<uint64_t>(ds, have_end) - pending_start_);
  if (pending_.empty()) before = 0;
  emit_meta(pending_.data(), before);
  flush_meta();
  std::string rec = "F";
  put_varint(rec, static_cast<uint64_t>(size));
  put_varint(rec, path.size());
  rec += path;
  write_out(rec.data(), rec.size());
  ++files_;
  referenced_.insert(path);
  // Drop the content already fed; skip what is still to come.
  if (!pending_.empty() && de < have_end) {
    pending_.erase(0, static_cast<size_t>(de - pending_start_));
    pending_start_ = de;
  } else {
    pending_.clear();
    pending_start_ = de;
  }
  skip_until_ = de;
}

Status TarSplitRecorder::finish(uint64_t content_bytes) {
  if (!out_) return fail("tar-split " + path_ + ": finished twice", EINVAL);
  if (skip_until_ > fed_)
    fail_write("tar-split " + path_ + ": the tar ended inside a file's content", EINVAL);
  emit_meta(pending_.data(), pending_.size());
  pending_.clear();
  flush_meta();
  std::string rec = "E";
  put_varint(rec, fed_);
  put_varint(rec, content_bytes);
  put_varint(rec, files_);
  write_out(rec.data(), rec.size());
  if (!failed_ && archive_write_close(out_) != ARCHIVE_OK)
    fail_write("write tar-split " + path_ + ": " + archive_message(out_), EIO);
  archive_write_free(out_);
  out_ = nullptr;
  if (::close(fd_.release()) != 0 && !failed_) fail_write("close tar-split " + path_, errno);
  if (failed_) return std::unexpected(error_);
  return {};
}

// ---------------------------------------------------------------------------------------
// Reading

Result<TarSplitSummary> read_tar_split_summary(const std::string& split_path) {
  SplitReader r;
  TRY(r.open(split_path));
  for (;;) {
    char kind;
    TRY(r.read_exact(&kind, 1));
    if (kind == 'M') {
      uint64_t n = TRY(r.varint());
      TRY(r.read_chunks(n, [](const char*, size_t) -> Status { return {}; }));
    } else if (kind == 'F') {
      (void)TRY(r.varint());
      uint64_t n = TRY(r.varint());
      TRY(r.read_chunks(n, [](const char*, size_t) -> Status { return {}; }));
    } else if (kind == 'E') {
      TarSplitSummary s;
      s.tar_size = TRY(r.varint());
      s.content_bytes = TRY(r.varint());
      s.files = TRY(r.varint());
      return s;
    } else {
      return r.damaged("unknown record");
    }
  }
}

Result<std::string> rebuild_tar(const std::string& split_path, int layer_dirfd,
                                const ByteSink& sink) {
  SplitReader r;
  TRY(r.open(split_path));
  Sha256 hash;
  uint64_t total = 0;
  auto out = [&](const char* p, size_t n) -> Status {
    hash.update(p, n);
    total += n;
    return sink(p, n);
  };
  std::vector<char> buf(1 << 17);
  for (;;) {
    char kind;
    TRY(r.read_exact(&kind, 1));
    if (kind == 'M') {
      uint64_t n = TRY(r.varint());
      TRY(r.read_chunks(n, out));
    } else if (kind == 'F') {
      uint64_t size = TRY(r.varint());
      uint64_t n = TRY(r.varint());
      if (n > 65536) return r.damaged("path too long");
      std::string path(n, '\0');
      TRY(r.read_exact(path.data(), n));
      const std::string changed = "layer file " + quote(path) +
                                  " changed since it was unpacked; remove the image and load "
                                  "or pull it again";
      UniqueFd fd(open_beneath(layer_dirfd, path));
      if (!fd) {
        if (errno == ENOENT || errno == ELOOP || errno == EXDEV) return fail(changed, errno);
        return fail_errno("open layer file " + quote(path));
      }
      struct stat st;
      if (::fstat(fd.get(), &st) != 0) return fail_errno("stat layer file " + quote(path));
      if (!S_ISREG(st.st_mode) || static_cast<uint64_t>(st.st_size) != size)
        return fail(changed, EIO);
      uint64_t left = size;
      while (left > 0) {
        ssize_t k = ::read(fd.get(), buf.data(), std::min<uint64_t>(left, buf.size()));
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) return fail_errno("read layer file " + quote(path));
        if (k == 0) return fail(changed, EIO);
        TRY(out(buf.data(), static_cast<size_t>(k)));
        left -= static_cast<uint64_t>(k);
      }
    } else if (kind == 'E') {
      uint64_t tar_size = TRY(r.varint());
      if (tar_size != total) return r.damaged("size mismatch");
      return "sha256:" + hash.finish_hex();
    } else {
      return r.damaged("unknown record");
    }
  }
}

}  // namespace md::image
