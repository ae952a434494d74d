// `docker load`: docker-archive or oci-archive → images, layers unpacked and checked.
#include <algorithm>

#include "engine/image/archive_read.h"
#include "engine/image/image_service.h"
#include "engine/store/ids.h"

namespace md::image {

using nlohmann::json;

namespace {

// The archive's names as tags. An OCI ref.name that is a bare word ("latest") names no
// repository: the image is loaded untagged rather than under a guessed name.
Result<std::vector<std::string>> tags_of(const ArchiveImage& img, ArchiveFormat format) {
  std::vector<std::string> out;
  for (const std::string& t : img.repo_tags) {
    if (format == ArchiveFormat::kOciArchive && t.find_first_of(":/") == std::string::npos)
      continue;
    std::string tag = TRY_CTX(store::normalize_tag(t), "archive tag");
    if (std::find(out.begin(), out.end(), tag) == out.end()) out.push_back(tag);
  }
  return out;
}

}  // namespace

Result<std::vector<LoadedImage>> ImageService::load(int fd) {
  std::vector<std::string> created;
  std::vector<LoadedImage> out;
  auto status = [&]() -> Status {
    // Held from the start: prune must not take the staging directory away meanwhile.
    LayerLock lock = TRY(layers_.lock_shared());
    StagingDir staging = TRY(layers_.make_staging("load"));
    ImageArchive archive = TRY_CTX(read_image_archive(fd, staging.path()), "load");
    if (archive.images.empty()) return fail("load: the archive holds no image", EINVAL);
    for (const ArchiveImage& img : archive.images) {
      const std::string shown = "load image " + img.config_digest.substr(7, 12);
      json config = json::parse(img.config, nullptr, false);
      if (!config.is_object()) return fail(shown + ": its config is not a JSON object", EINVAL);
      if (auto os = config.find("os"); os != config.end() && os->is_string() && *os != "linux")
        return fail(shown + ": cannot load a " + os->get<std::string>() + " image on linux",
                    EINVAL);
      std::vector<std::string> tags = TRY_CTX(tags_of(img, archive.format), shown);

      std::vector<std::string> diff_ids;
      for (const LayerBlob& blob : img.layers) {
        UnpackedLayer l = TRY_CTX(layers_.unpack_file(blob.path, blob.diff_id),
                                  shown + ", layer " + blob.diff_id);
        if (l.created) created.push_back(l.diff_id);
        diff_ids.push_back(blob.diff_id);
      }
      LoadedImage loaded;
      for (const std::string& t : tags)
        if (auto prev = store_.get(t); prev && prev->id != img.config_digest &&
                                       std::find(prev->tags.begin(), prev->tags.end(), t) !=
                                           prev->tags.end())
          loaded.moved_tags.emplace_back(t, prev->id);
      store::Image added = TRY_CTX(add_image(img.config, diff_ids, tags), shown);
      loaded.id = added.id;
      loaded.tags = tags;
      out.push_back(std::move(loaded));
    }
    return {};
  }();
  if (!status) {
    discard_unused(created);
    return std::unexpected(status.error());
  }
  return out;
}

}  // namespace md::image
