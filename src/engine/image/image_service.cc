// ImageService: construction, the shared add/discard steps, and lower_dirs. The verbs
// live in their own files: import.cc, load.cc, save.cc, history.cc (history, inspect),
// remove.cc (rmi, prune), commit.cc.
#include "engine/image/image_service.h"

#include <algorithm>
#include <set>

#include "base/file_util.h"
#include "engine/image/image_config.h"
#include "engine/image/sha256.h"

namespace md::image {

using nlohmann::json;

ImageService::ImageService(std::string root, store::Database& db)
    : root_(std::move(root)), db_(db), store_(db), layers_(root_) {}

Result<store::Image> ImageService::add_image(const std::string& config,
                                             const std::vector<std::string>& layers,
                                             const std::vector<std::string>& tags) {
  store::Image img;
  img.id = sha256_digest(config);
  img.config = config;
  img.layers = layers;
  img.tags = tags;
  json parsed = json::parse(config, nullptr, false);
  if (parsed.is_object()) {
    if (auto it = parsed.find("created"); it != parsed.end() && it->is_string())
      if (auto t = parse_rfc3339(it->get<std::string>())) img.created = *t;
  }
  for (const std::string& l : layers) img.size += TRY(layers_.size(l));
  return store_.add(img);
}

void ImageService::discard_unused(const std::vector<std::string>& created) {
  if (created.empty()) return;
  // Exclusive: another process may have found one of these layers present and be about to
  // add an image using it; it holds the shared lock until its image is recorded.
  auto lock = layers_.lock_exclusive();
  if (!lock) return;  // left for prune
  auto known = store_.list_layers();
  if (!known) return;
  std::set<std::string> used;
  for (const auto& [digest, refs] : *known) used.insert(digest);
  for (const std::string& l : created)
    if (!used.contains(l)) (void)layers_.remove(l);
}

Result<std::vector<std::string>> ImageService::lower_dirs(const store::Image& image) {
  std::vector<std::string> out;
  for (auto it = image.layers.rbegin(); it != image.layers.rend(); ++it) {
    std::string dir = layers_.dir(*it);
    if (!is_directory(dir))
      return fail("layer " + *it + " of image " + image.id + " is missing (" + dir +
                      "); remove the image and load or pull it again",
                  ENOENT);
    out.push_back(std::move(dir));
  }
  return out;
}

}  // namespace md::image
