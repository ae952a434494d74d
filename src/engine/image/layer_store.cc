#include "engine/image/layer_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>

#include "base/file_util.h"
#include "engine/image/sha256.h"
#include "engine/image/tar_split.h"

namespace md::image {

namespace {

constexpr std::string_view kSplitSuffix = ".tar-split";
constexpr std::string_view kStagingPrefix = "image-";

std::string_view hex_of(std::string_view diff_id) {
  if (diff_id.starts_with("sha256:")) diff_id.remove_prefix(7);
  return diff_id;
}

Result<LayerLock> take_lock(const std::string& root, int op) {
  TRY_CTX(make_directories(root + "/image", 0700), "create image directory");
  const std::string path = root + "/image/lock";
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) return fail_errno("open image lock " + path);
  while (::flock(fd.get(), op) != 0) {
    if (errno != EINTR) return fail_errno("lock " + path);
  }
  return LayerLock(std::move(fd));
}

Status tree_size_at(int dirfd, const std::string& shown, std::set<std::pair<dev_t, ino_t>>& seen,
                    int64_t& total) {
  int dup = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup < 0) return fail_errno("open " + shown);
  DIR* dir = ::fdopendir(dup);
  if (!dir) {
    ::close(dup);
    return fail_errno("open " + shown);
  }
  Status status;
  while (struct dirent* ent = ::readdir(dir)) {
    std::string_view n = ent->d_name;
    if (n == "." || n == "..") continue;
    struct stat st;
    if (::fstatat(dirfd, ent->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (!S_ISDIR(st.st_mode)) {
      // Every other inode once, symlinks included (their size is the target's length).
      if (st.st_nlink > 1 && !seen.emplace(st.st_dev, st.st_ino).second) continue;
      total += st.st_size;
    } else {
      UniqueFd sub(::openat(dirfd, ent->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub) continue;
      status = tree_size_at(sub.get(), shown + "/" + ent->d_name, seen, total);
      if (!status) break;
    }
  }
  ::closedir(dir);
  return status;
}

}  // namespace

StagingDir& StagingDir::operator=(StagingDir&& o) noexcept {
  if (this != &o) {
    if (!path_.empty()) (void)remove_tree(path_);
    path_ = std::exchange(o.path_, {});
  }
  return *this;
}

StagingDir::~StagingDir() {
  if (!path_.empty()) (void)remove_tree(path_);
}

std::string StagingDir::operator/(std::string_view name) const { return join_path(path_, name); }

Result<int64_t> tree_size(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return fail_errno("open " + dir);
  std::set<std::pair<dev_t, ino_t>> seen;
  int64_t total = 0;
  TRY(tree_size_at(fd.get(), dir, seen, total));
  return total;
}

LayerStore::LayerStore(std::string root) : root_(std::move(root)) {}

std::string LayerStore::dir(std::string_view diff_id) const {
  return layers_dir() + "/" + std::string(hex_of(diff_id));
}

std::string LayerStore::split_path(std::string_view diff_id) const {
  return dir(diff_id) + std::string(kSplitSuffix);
}

bool LayerStore::has(std::string_view diff_id) const { return is_directory(dir(diff_id)); }

Result<LayerLock> LayerStore::lock_shared() { return take_lock(root_, LOCK_SH); }
Result<LayerLock> LayerStore::lock_exclusive() { return take_lock(root_, LOCK_EX); }

Result<StagingDir> LayerStore::make_staging(std::string_view what) {
  TRY_CTX(make_directories(tmp_dir(), 0700), "create staging directory");
  std::string tmpl = tmp_dir() + "/" + std::string(kStagingPrefix) + std::string(what) + "-XXXXXX";
  if (!::mkdtemp(tmpl.data())) return fail_errno("create staging directory in " + tmp_dir());
  return StagingDir(tmpl);
}

Result<UnpackedLayer> LayerStore::unpack(int fd, const std::string& expected_diff_id,
                                         const ExtractOptions& options) {
  StagingDir staging = TRY(make_staging("layer"));
  const std::string layer_tmp = staging / "layer";
  const std::string split_tmp = staging / "tar-split";
  if (::mkdir(layer_tmp.c_str(), 0755) != 0) return fail_errno("create " + layer_tmp);
  auto recorder = TRY(TarSplitRecorder::create(split_tmp));
  ExtractOptions x = options;
  x.digests = LayerDigests::kCompute;
  x.tar_split = recorder.get();
  LayerStats stats = TRY(extract_layer(fd, layer_tmp, x));
  if (!expected_diff_id.empty() && stats.diff_id != expected_diff_id)
    return fail("layer diff_id mismatch: the image config says " + expected_diff_id +
                    ", the layer's content is " + stats.diff_id +
                    " (a damaged or tampered archive)",
                EINVAL);
  // Docker's layer size counts symlinks too (du -b of the layer, inodes once): walk it.
  const int64_t size = TRY(tree_size(layer_tmp));
  TRY(recorder->finish(static_cast<uint64_t>(size)));

  UnpackedLayer out;
  out.diff_id = stats.diff_id;
  out.size = size;
  out.reproducible = recorder->reproducible();
  out.stats = stats;
  if (has(out.diff_id)) {  // unpacked meanwhile (or before, for import)
    out.reproducible = path_exists(split_path(out.diff_id));
    return out;
  }
  TRY_CTX(make_directories(layers_dir(), 0700), "create layer directory");
  if (out.reproducible && ::rename(split_tmp.c_str(), split_path(out.diff_id).c_str()) != 0)
    return fail_errno("move tar-split into " + split_path(out.diff_id));
  if (::rename(layer_tmp.c_str(), dir(out.diff_id).c_str()) != 0) {
    if (errno == ENOTEMPTY || errno == EEXIST) {  // another process won: same content
      out.reproducible = path_exists(split_path(out.diff_id));
      return out;
    }
    return fail_errno("move layer into " + dir(out.diff_id));
  }
  out.created = true;
  return out;
}

Result<UnpackedLayer> LayerStore::unpack_file(const std::string& path, const std::string& diff_id,
                                              const ExtractOptions& options) {
  if (has(diff_id)) {
    UnpackedLayer out;
    out.diff_id = diff_id;
    out.size = TRY(size(diff_id));
    out.reproducible = path_exists(split_path(diff_id));
    return out;
  }
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail_errno("open layer " + path);
  return unpack(fd.get(), diff_id, options);
}

Result<int64_t> LayerStore::size(std::string_view diff_id) const {
  if (auto s = read_tar_split_summary(split_path(diff_id)))
    return static_cast<int64_t>(s->content_bytes);
  return tree_size(dir(diff_id));
}

Status LayerStore::remove(std::string_view diff_id) {
  // Directory first: a split file left alone by a crash is found by remove_stale_files.
  TRY_CTX(remove_tree(dir(diff_id)), "remove layer " + std::string(diff_id));
  if (::unlink(split_path(diff_id).c_str()) != 0 && errno != ENOENT)
    return fail_errno("remove " + split_path(diff_id));
  return {};
}

Result<std::vector<std::string>> LayerStore::list_on_disk() const {
  if (!is_directory(layers_dir())) return std::vector<std::string>{};
  std::set<std::string> found;
  for (const std::string& name : TRY(list_directory(layers_dir()))) {
    std::string_view n = name;
    if (n.ends_with(kSplitSuffix)) n.remove_suffix(kSplitSuffix.size());
    if (is_sha256_hex(n)) found.insert("sha256:" + std::string(n));
  }
  return std::vector<std::string>(found.begin(), found.end());
}

Result<int64_t> LayerStore::remove_stale_files() {
  int64_t freed = 0;
  if (is_directory(layers_dir())) {
    for (const std::string& name : TRY(list_directory(layers_dir()))) {
      std::string_view n = name;
      if (!n.ends_with(kSplitSuffix)) continue;
      n.remove_suffix(kSplitSuffix.size());
      if (!is_sha256_hex(n) || has(n)) continue;
      const std::string path = layers_dir() + "/" + name;
      struct stat st;
      if (::stat(path.c_str(), &st) == 0) freed += st.st_size;
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) return fail_errno("remove " + path);
    }
  }
  if (is_directory(tmp_dir())) {
    for (const std::string& name : TRY(list_directory(tmp_dir()))) {
      if (!name.starts_with(kStagingPrefix)) continue;  // R/tmp is shared with the engine
      const std::string path = tmp_dir() + "/" + name;
      if (auto s = tree_size(path)) freed += *s;
      TRY(remove_tree(path));
    }
  }
  return freed;
}

}  // namespace md::image
