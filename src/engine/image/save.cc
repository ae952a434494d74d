// `docker save`: images → a docker-archive any Docker (and minidocker) loads.
//
// Each layer tar is rebuilt from its tar-split (tar_split.h) so its sha256 is the diff_id
// in the config and the image keeps its id. A layer without a usable split (its tar wrote
// a file twice) is re-made from its directory; its diff_id then changes, so the saved
// config gets the new diff_ids and the saved image a new id (SavedImage::saved_id).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>

#include "base/file_util.h"
#include "engine/image/image_service.h"
#include "engine/image/sha256.h"
#include "engine/image/tar_writer.h"
#include "engine/image/tree_tar.h"

namespace md::image {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

struct SaveEntry {
  store::Image image;
  std::vector<std::string> tags;
};

// "busybox:latest" → {"busybox", "latest"}
std::pair<std::string, std::string> split_tag(const std::string& tag) {
  size_t colon = tag.rfind(':');
  return {tag.substr(0, colon), tag.substr(colon + 1)};
}

std::string hex_of(const std::string& digest) { return digest.substr(7); }

// Where a layer's bytes come from, and under which diff_id they go into the archive.
struct LayerSource {
  std::string diff_id;     // in the archive
  uint64_t size = 0;       // of the tar
  std::string split;       // rebuild from this tar-split, or
  std::string file;        // copy this re-made tar
};

Status copy_file_to(const std::string& path, const ByteSink& sink) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail_errno("open " + path);
  std::vector<char> buf(1 << 17);
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno("read " + path);
    if (n == 0) return {};
    TRY(sink(buf.data(), static_cast<size_t>(n)));
  }
}

}  // namespace

Result<std::vector<SavedImage>> ImageService::save(const std::vector<std::string>& refs,
                                                   int out_fd) {
  if (refs.empty()) return fail("save: no image given", EINVAL);
  // Which images, with which tags (Docker's rules, see image_service.h).
  std::vector<SaveEntry> entries;
  auto add = [&](const store::Image& img, const std::string* tag) {
    auto it = std::find_if(entries.begin(), entries.end(),
                           [&](const SaveEntry& e) { return e.image.id == img.id; });
    if (it == entries.end()) {
      entries.push_back({img, {}});
      it = entries.end() - 1;
    }
    if (tag && std::find(it->tags.begin(), it->tags.end(), *tag) == it->tags.end())
      it->tags.push_back(*tag);
  };
  const std::vector<store::Image> all = TRY(store_.list());
  for (const std::string& ref : refs) {
    bool done = false;
    auto tag = store::normalize_tag(ref);
    size_t slash = ref.rfind('/');
    size_t colon = ref.rfind(':');
    bool name_only = tag && (colon == std::string::npos || (slash != std::string::npos && colon < slash));
    if (name_only) {  // every tag of the repository
      std::string repo = split_tag(*tag).first;
      for (const store::Image& img : all)
        for (const std::string& t : img.tags)
          if (split_tag(t).first == repo) {
            add(img, &t);
            done = true;
          }
    } else if (tag) {
      for (const store::Image& img : all)
        if (std::find(img.tags.begin(), img.tags.end(), *tag) != img.tags.end()) {
          add(img, &*tag);
          done = true;
        }
    }
    if (!done) add(TRY_CTX(store_.get(ref), "save"), nullptr);
  }

  LayerLock lock = TRY(layers_.lock_shared());
  StagingDir staging;  // made on first need: re-made layers
  std::map<std::string, LayerSource> sources;  // by our diff_id
  for (const SaveEntry& e : entries)
    for (const std::string& diff : e.image.layers) {
      if (sources.contains(diff)) continue;
      if (!layers_.has(diff))
        return fail("save " + e.image.id.substr(7, 12) + ": layer " + diff +
                        " is missing on disk; remove the image and load it again",
                    ENOENT);
      LayerSource src;
      if (auto summary = read_tar_split_summary(layers_.split_path(diff))) {
        src.diff_id = diff;
        src.size = summary->tar_size;
        src.split = layers_.split_path(diff);
      } else {
        if (staging.path().empty()) staging = TRY(layers_.make_staging("save"));
        src.file = staging / hex_of(diff);
        UniqueFd dir(::open(layers_.dir(diff).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!dir) return fail_errno("open layer " + layers_.dir(diff));
        UniqueFd out(::open(src.file.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        if (!out) return fail_errno("create " + src.file);
        TreeTarOptions opts;
        opts.overlay_whiteouts = true;
        TRY_CTX(write_tree_tar(dir.get(), out.get(), opts), "re-make layer " + diff);
        if (::lseek(out.get(), 0, SEEK_SET) != 0) return fail_errno("seek " + src.file);
        src.diff_id = "sha256:" + TRY(sha256_hex_of_fd(out.get()));
        struct stat st;
        if (::fstat(out.get(), &st) != 0) return fail_errno("stat " + src.file);
        src.size = static_cast<uint64_t>(st.st_size);
      }
      sources.emplace(diff, std::move(src));
    }

  // The configs as saved: unchanged unless a layer was re-made.
  std::vector<SavedImage> saved;
  std::vector<std::string> configs;
  for (const SaveEntry& e : entries) {
    std::string config = e.image.config;
    bool remade = std::any_of(e.image.layers.begin(), e.image.layers.end(),
                              [&](const std::string& d) { return sources.at(d).diff_id != d; });
    if (remade) {
      ordered_json cfg = ordered_json::parse(config, nullptr, false);
      if (!cfg.is_object()) return fail("save " + e.image.id + ": config is not JSON", EINVAL);
      ordered_json ids = ordered_json::array();
      for (const std::string& d : e.image.layers) ids.push_back(sources.at(d).diff_id);
      cfg["rootfs"]["diff_ids"] = ids;
      config = cfg.dump();
    }
    saved.push_back({e.image.id, sha256_digest(config), e.tags});
    configs.push_back(std::move(config));
  }

  auto w = TRY(TarWriter::open_fd(out_fd));
  std::set<std::string> written;
  for (size_t i = 0; i < entries.size(); ++i) {
    const int64_t mtime = entries[i].image.created / 1000000000;
    for (const std::string& diff : entries[i].image.layers) {
      const LayerSource& src = sources.at(diff);
      const std::string hex = hex_of(src.diff_id);
      if (!written.insert(hex).second) continue;
      TRY(w->add_directory(hex, 0755, mtime));
      TRY(w->add_stream(hex + "/layer.tar", src.size, 0644, mtime,
                        [&](const ByteSink& sink) -> Status {
                          if (!src.file.empty()) return copy_file_to(src.file, sink);
                          UniqueFd dir(::open(layers_.dir(diff).c_str(),
                                              O_RDONLY | O_DIRECTORY | O_CLOEXEC));
                          if (!dir) return fail_errno("open layer " + layers_.dir(diff));
                          std::string got = TRY(rebuild_tar(src.split, dir.get(), sink));
                          if (got != diff)
                            return fail("layer " + diff + " on disk no longer matches its diff_id (rebuilt as " +
                                            got + "); remove the image and load it again",
                                        EIO);
                          return {};
                        }));
    }
    TRY(w->add_bytes(hex_of(saved[i].saved_id) + ".json", configs[i], 0644, mtime));
  }

  ordered_json manifest = ordered_json::array();
  ordered_json repositories = ordered_json::object();
  for (size_t i = 0; i < entries.size(); ++i) {
    ordered_json layers = ordered_json::array();
    for (const std::string& diff : entries[i].image.layers)
      layers.push_back(hex_of(sources.at(diff).diff_id) + "/layer.tar");
    ordered_json m;
    m["Config"] = hex_of(saved[i].saved_id) + ".json";
    m["RepoTags"] = entries[i].tags.empty() ? ordered_json(nullptr) : ordered_json(entries[i].tags);
    m["Layers"] = layers;
    manifest.push_back(m);
    // The legacy file older loaders read: repository → tag → top layer's directory.
    if (!entries[i].image.layers.empty())
      for (const std::string& t : entries[i].tags) {
        auto [repo, tag] = split_tag(t);
        repositories[repo][tag] = hex_of(sources.at(entries[i].image.layers.back()).diff_id);
      }
  }
  TRY(w->add_bytes("manifest.json", manifest.dump(), 0644, 0));
  if (!repositories.empty()) TRY(w->add_bytes("repositories", repositories.dump(), 0644, 0));
  TRY(w->close());
  return saved;
}

}  // namespace md::image
