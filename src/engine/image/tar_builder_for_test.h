// Test helper: builds tar archives in memory with libarchive's writer, including the
// malicious ones (names with "..", absolute names, escaping links) that well-behaved
// tools refuse to produce. Header-only; used by the image tests.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/file_util.h"

namespace md::image::testing {

enum class Compression { kNone, kGzip, kZstd };

class TarBuilder {
 public:
  TarBuilder& file(std::string name, std::string data, int mode = 0644, int64_t uid = 0,
                   int64_t gid = 0, std::vector<std::pair<std::string, std::string>> xattrs = {}) {
    entries_.push_back({std::move(name), AE_IFREG, mode, std::move(data), "", "", uid, gid, 0, 0,
                        std::move(xattrs)});
    return *this;
  }
  TarBuilder& dir(std::string name, int mode = 0755, int64_t uid = 0, int64_t gid = 0) {
    entries_.push_back({std::move(name), AE_IFDIR, mode, "", "", "", uid, gid, 0, 0, {}});
    return *this;
  }
  TarBuilder& symlink(std::string name, std::string target) {
    entries_.push_back(
        {std::move(name), AE_IFLNK, 0777, "", std::move(target), "", 0, 0, 0, 0, {}});
    return *this;
  }
  TarBuilder& hardlink(std::string name, std::string target) {
    entries_.push_back(
        {std::move(name), AE_IFREG, 0644, "", "", std::move(target), 0, 0, 0, 0, {}});
    return *this;
  }
  TarBuilder& chardev(std::string name, unsigned major, unsigned minor, int mode = 0666) {
    entries_.push_back({std::move(name), AE_IFCHR, mode, "", "", "", 0, 0, major, minor, {}});
    return *this;
  }
  TarBuilder& fifo(std::string name, int mode = 0644) {
    entries_.push_back({std::move(name), AE_IFIFO, mode, "", "", "", 0, 0, 0, 0, {}});
    return *this;
  }
  TarBuilder& mtime(time_t t) {
    mtime_ = t;
    return *this;
  }

  std::string build(Compression compression = Compression::kNone) const {
    std::string out;
    struct archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    if (compression == Compression::kGzip) archive_write_add_filter_gzip(a);
    if (compression == Compression::kZstd) archive_write_add_filter_zstd(a);
    archive_write_set_bytes_in_last_block(a, 1);
    archive_write_open(a, &out, nullptr, write_cb, nullptr);
    for (const auto& en : entries_) {
      struct archive_entry* e = archive_entry_new();
      archive_entry_set_pathname(e, en.name.c_str());
      archive_entry_set_mtime(e, mtime_, 0);
      archive_entry_set_uid(e, en.uid);
      archive_entry_set_gid(e, en.gid);
      if (!en.hardlink.empty()) {
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, en.mode);
        archive_entry_set_hardlink(e, en.hardlink.c_str());
        archive_entry_set_size(e, 0);
      } else {
        archive_entry_set_filetype(e, en.type);
        archive_entry_set_perm(e, en.mode);
        if (en.type == AE_IFLNK) archive_entry_set_symlink(e, en.target.c_str());
        if (en.type == AE_IFCHR) {
          archive_entry_set_rdevmajor(e, en.major);
          archive_entry_set_rdevminor(e, en.minor);
        }
        archive_entry_set_size(e, en.type == AE_IFREG ? static_cast<int64_t>(en.data.size()) : 0);
      }
      for (const auto& [k, v] : en.xattrs)
        archive_entry_xattr_add_entry(e, k.c_str(), v.data(), v.size());
      archive_write_header(a, e);
      if (en.type == AE_IFREG && en.hardlink.empty() && !en.data.empty())
        archive_write_data(a, en.data.data(), en.data.size());
      archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    return out;
  }

 private:
  struct Entry {
    std::string name;
    unsigned type;
    int mode;
    std::string data;
    std::string target;
    std::string hardlink;
    int64_t uid, gid;
    unsigned major, minor;
    std::vector<std::pair<std::string, std::string>> xattrs;
  };
  static la_ssize_t write_cb(struct archive*, void* opaque, const void* buf, size_t n) {
    static_cast<std::string*>(opaque)->append(static_cast<const char*>(buf), n);
    return static_cast<la_ssize_t>(n);
  }
  std::vector<Entry> entries_;
  time_t mtime_ = 1700000000;
};

// A private temporary directory, removed (rm -rf) at destruction.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/md-image-test-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    if (!path_.empty()) (void)md::remove_tree(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

inline std::string write_temp_file(const std::string& path, std::string_view data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    (void)!::write(fd, data.data(), data.size());
    ::close(fd);
  }
  return path;
}

}  // namespace md::image::testing
