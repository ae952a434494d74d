// `docker rmi` and `docker image prune`: untag, delete images, delete unused layers.
// Both hold the layer lock exclusive: no other process is adding an image that might
// reuse a layer being deleted.
#include <algorithm>
#include <set>

#include "engine/image/image_config.h"
#include "engine/image/image_service.h"
#include "engine/store/ids.h"

namespace md::image {

namespace {

std::string short_image(const std::string& id) {
  return id.starts_with("sha256:") ? id.substr(7, 12) : id.substr(0, 12);
}

// Docker treats a reference that is a prefix of the image's id as an id reference, even
// when a tag of the same name exists.
bool is_id_prefix(std::string_view ref, const std::string& id) {
  if (ref.starts_with("sha256:")) ref.remove_prefix(7);
  if (ref.empty() || ref.size() > 64) return false;
  if (!std::all_of(ref.begin(), ref.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
      }))
    return false;
  return std::string_view(id).substr(7).starts_with(ref);
}

void append(RemoveResult& to, RemoveResult&& from) {
  for (auto& r : from.records) to.records.push_back(std::move(r));
  to.space_reclaimed += from.space_reclaimed;
}

}  // namespace

// With the exclusive lock held: the image's rows, then its unused layers' files.
Result<RemoveResult> ImageService::delete_image(const store::Image& image) {
  store::RemovedImage removed = TRY(store_.remove(image.id, /*force=*/false));
  RemoveResult r;
  for (const std::string& t : removed.untagged)
    r.records.push_back({DeleteRecord::Kind::kUntagged, t});
  r.records.push_back({DeleteRecord::Kind::kDeleted, removed.deleted});
  // Docker names deleted layers by chain id; a directory here holds one diff, which goes
  // when no image uses it any more.
  std::set<std::string> unused(removed.unused_layers.begin(), removed.unused_layers.end());
  std::vector<std::string> chains = chain_ids(image.layers);
  for (size_t i = 0; i < image.layers.size(); ++i) {
    if (!unused.erase(image.layers[i])) continue;
    if (auto size = layers_.size(image.layers[i])) r.space_reclaimed += *size;
    // The rows are gone already: a failure here leaves an orphan directory for prune.
    TRY(layers_.remove(image.layers[i]));
    r.records.push_back({DeleteRecord::Kind::kDeleted, chains[i]});
  }
  return r;
}

Result<RemoveResult> ImageService::remove(std::string_view ref, bool force,
                                          const std::vector<ImageUser>& users) {
  LayerLock lock = TRY(layers_.lock_exclusive());
  store::Image img = TRY(store_.get(ref));
  const std::string short_id = short_image(img.id);
  const ImageUser* running = nullptr;
  for (const ImageUser& u : users)
    if (u.running) running = &u;
  RemoveResult r;

  auto tag = store::normalize_tag(ref);
  const bool by_tag = !is_id_prefix(ref, img.id) && tag &&
                      std::find(img.tags.begin(), img.tags.end(), *tag) != img.tags.end();
  if (by_tag) {
    if (!force && img.tags.size() == 1 && !users.empty())
      return fail("conflict: unable to remove repository reference \"" + std::string(ref) +
                      "\" (must force) - container " + store::short_id(users[0].container_id) +
                      " is using its referenced image " + short_id,
                  EBUSY);
    TRY(store_.untag(*tag));
    r.records.push_back({DeleteRecord::Kind::kUntagged, *tag});
    // Other tags still name it, or a container still runs from it (it stays, dangling,
    // and prune deletes it once the container is gone).
    if (img.tags.size() > 1 || !users.empty()) return r;
    img.tags.clear();
    append(r, TRY(delete_image(img)));
    return r;
  }

  if (img.tags.size() > 1 && !force)
    return fail("conflict: unable to delete " + short_id +
                    " (must be forced) - image is referenced in multiple repositories",
                EBUSY);
  if (running)
    return fail("conflict: unable to delete " + short_id +
                    " (cannot be forced) - image is being used by running container " +
                    store::short_id(running->container_id),
                EBUSY);
  if (!users.empty()) {
    const std::string user = store::short_id(users[0].container_id);
    if (!force)
      return fail("conflict: unable to delete " + short_id +
                      " (must be forced) - image is being used by stopped container " + user,
                  EBUSY);
    // Forced: Docker would delete the image and keep its layers for the container. Here
    // the layers are the image's, so it is only untagged and stays until the container
    // is removed.
    if (img.tags.empty())
      return fail("unable to delete " + short_id + ": image is being used by stopped container " +
                      user + "; remove the container first",
                  EBUSY);
    for (const std::string& t : img.tags) {
      TRY(store_.untag(t));
      r.records.push_back({DeleteRecord::Kind::kUntagged, t});
    }
    return r;
  }
  append(r, TRY(delete_image(img)));
  return r;
}

Result<RemoveResult> ImageService::prune(const PruneOptions& options) {
  LayerLock lock = TRY(layers_.lock_exclusive());
  RemoveResult r;
  for (const store::Image& img : TRY(store_.list())) {
    if (!options.all && !img.tags.empty()) continue;
    if (options.in_use.contains(img.id)) continue;
    if (options.filter && !options.filter(img)) continue;
    auto deleted = delete_image(img);
    if (!deleted) {
      // A container row names it (the caller's list was older): not prunable.
      if (deleted.error().errno_value == EBUSY) continue;
      return std::unexpected(deleted.error());
    }
    append(r, std::move(*deleted));
  }
  // Layers no image uses: left by a crash between the database and the files.
  std::set<std::string> known;
  for (const auto& [digest, refs] : TRY(store_.list_layers())) known.insert(digest);
  for (const std::string& diff : TRY(layers_.list_on_disk())) {
    if (known.contains(diff) || !layers_.has(diff)) continue;
    if (auto size = tree_size(layers_.dir(diff))) r.space_reclaimed += *size;
    TRY(layers_.remove(diff));
  }
  r.space_reclaimed += TRY(layers_.remove_stale_files());
  return r;
}

}  // namespace md::image
