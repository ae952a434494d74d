// ImageStore: which images exist, their tags and the layers they share.
//
// Tables `images` (id = "sha256:" + sha256 of the image config JSON, exactly as stored),
// `image_tags` (tag → image; a tag names one image, an image has any number of tags),
// `layers` (layer digest → how many images use it) and `image_layers` (each image's layers
// in order, bottom first). The refcount tells the image code when a layer's unpacked
// directory can go: remove() returns the layers no image uses any more.
//
// This store keeps records only; it does not hash, unpack or delete files. The caller
// computes the id (sha256 of `config`) and writes layers to disk before add(), and
// deletes a layer's files after remove() reported it unused (a crash in between leaves an
// orphan directory, never a row pointing at missing files: prune compares the directory
// with list_layers()).
//
// Not thread-safe (one Database per thread).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "engine/store/database.h"

namespace md::store {

struct Image {
  std::string id;                   // "sha256:" + 64 hex
  std::vector<std::string> tags;    // normalised "repo:tag", sorted
  std::vector<std::string> layers;  // layer digests (diff ids), bottom first
  std::int64_t size = 0;            // bytes, unpacked
  std::int64_t created = 0;         // Unix ns, from the config's "created"
  std::int64_t added = 0;           // Unix ns, when it entered this store (set by add)
  std::string config;               // the config JSON, byte for byte (its sha256 is the id)
};

// What remove() did, in `docker rmi`'s words.
struct RemovedImage {
  std::vector<std::string> untagged;       // "busybox:latest"
  std::string deleted;                     // the image id
  std::vector<std::string> unused_layers;  // layers no image uses now: delete their files
};

// "busybox" → "busybox:latest", "docker.io/library/busybox:1.36" → "busybox:1.36",
// "localhost:5000/app" → "localhost:5000/app:latest". EINVAL for an empty reference,
// whitespace, upper case in the repository, or a digest reference (name@sha256:…).
Result<std::string> normalize_tag(std::string_view ref);

class ImageStore {
 public:
  // The store does not own the database; it must outlive the store.
  explicit ImageStore(Database& db) : db_(db) {}

  // Records `image` and its tags (normalised). Adding an id that exists only adds the
  // tags: `load` of an image we have is idempotent. A tag on another image moves here
  // (that image keeps its other tags, or becomes dangling "<none>"). Layers' refcounts
  // go up by one per use. Returns the stored image.
  Result<Image> add(const Image& image);

  // By full id ("sha256:…" or its 64 hex), then by tag ("busybox" → "busybox:latest"),
  // then by unique id prefix ("3f2a", "sha256:3f2a"). ENOENT "no such image: x";
  // ambiguous prefix EINVAL with the candidates.
  Result<Image> get(std::string_view ref);
  // Newest (by created) first.
  Result<std::vector<Image>> list();
  // Every layer digest with its refcount.
  Result<std::vector<std::pair<std::string, std::int64_t>>> list_layers();

  // Points `new_tag` at the image `ref`, moving it from another image if needed.
  Status tag(std::string_view ref, std::string_view new_tag);
  // Removes one tag. ENOENT when no image has it.
  Status untag(std::string_view tag);

  // Deletes the image `ref` with all its tags. Refused (EBUSY "unable to delete
  // 3f2a1b4c5d6e (must be forced): image is being used by container 9c8b7a6d5e4f") when a
  // container was created from it, unless `force`; the containers keep the id.
  Result<RemovedImage> remove(std::string_view ref, bool force);

 private:
  Result<std::string> resolve(std::string_view ref);
  Result<Image> get_by_id(const std::string& id);
  Database& db_;
};

}  // namespace md::store
