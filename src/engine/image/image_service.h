// ImageService: the image verbs of the `minidocker` CLI (and of a Docker API server):
// import, load, save, history, rmi, tag, images, inspect, image prune, commit, plus the
// layer directories a container is mounted from. See docs/images.md.
//
// Ownership: the service keeps a reference to the caller's store::Database (which must
// outlive it and, like it, belongs to one thread) and owns nothing else; every result is
// a plain value. Files live under the engine root R (layer_store.h):
//   R/image/layers/<hex>/  R/image/layers/<hex>.tar-split  R/image/lock  R/tmp/image-*
//
// Errors: every call returns Result/Status; messages name what failed, on which value,
// and what to do ("no such image: busybox:latest"). Docker's wording is kept where the CLI
// prints it as is (rmi conflicts). errno values: ENOENT (no such image/file), EINVAL (bad
// input: a change, a reference, a damaged archive), EBUSY (image in use), EEXIST, EIO.
// Nothing half-created survives a failure: staging directories are removed, layers this
// call unpacked and no image ended up using are deleted again, and the database is
// written last (one transaction per image), so a crash leaves at worst files that
// prune() removes.
//
// Concurrency: several processes may run these at once. Adding images (import, load,
// commit) and reading layers (save) hold R/image/lock shared; deleting layers (remove,
// prune) holds it exclusive, so a layer is never deleted while another process is about
// to use it. The lock is waited for without a timeout (a load of a big archive holds it
// for as long as it runs).
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "engine/image/layer_extract.h"
#include "engine/image/layer_store.h"
#include "engine/store/database.h"
#include "engine/store/image_store.h"

namespace md::image {

// `docker import FILE|- [REPO[:TAG]] [-c CHANGE]... [-m MSG] [--platform P]`
struct ImportOptions {
  std::string tag;                   // "" = untagged (a dangling image)
  std::vector<std::string> changes;  // Dockerfile instructions (image_config.h: apply_changes)
  std::string message;               // -m; "" → "Imported from <source>"
  std::string source = "-";          // Docker says "-" for stdin and for a file alike
  std::string platform;              // "" (this machine) or "linux[/arch[/variant]]"
};

// One image `load` brought in. The CLI prints "Loaded image: <tag>" per tag, or
// "Loaded image ID: <id>" when it has none.
struct LoadedImage {
  std::string id;
  std::vector<std::string> tags;
  // Tags that were on another image before (Docker: "The image busybox:latest already
  // exists, renaming the old one with ID sha256:… to empty string"): {tag, old id}.
  std::vector<std::pair<std::string, std::string>> moved_tags;
};

// One image written by `save`.
struct SavedImage {
  std::string id;        // the image's id here
  std::string saved_id;  // its id in the archive: the same, unless a layer could not be
                         // reproduced byte for byte (see docs/images.md) and was re-made
  std::vector<std::string> tags;
};

// One row of `docker history`, newest first.
struct HistoryRow {
  std::string id;  // the image id on the top row, "<missing>" below (no parent chain here)
  int64_t created = 0;  // Unix ns; 0 when the config does not say
  std::string created_by;
  std::vector<std::string> tags;  // on the top row
  int64_t size = 0;               // the layer's size; 0 for an empty_layer step
  std::string comment;
};

// One line of `docker rmi` / `docker image prune` output, in order.
struct DeleteRecord {
  enum class Kind { kUntagged, kDeleted };
  Kind kind;
  std::string value;  // "busybox:latest", or "sha256:…" (the image, then its layers' chain ids)
};

struct RemoveResult {
  std::vector<DeleteRecord> records;
  int64_t space_reclaimed = 0;  // bytes of layer files deleted
};

// A container that uses an image (the caller knows them: reconciled container state).
struct ImageUser {
  std::string container_id;
  bool running = false;
};

struct PruneOptions {
  bool all = false;  // -a: every image no container uses, not only dangling ones
  std::set<std::string> in_use;  // image ids containers (any state) are created from
  // Extra condition (filters such as until=, label=): prune only where it returns true.
  std::function<bool(const store::Image&)> filter;
};

// `docker commit CONTAINER [REPO[:TAG]]`
struct CommitOptions {
  std::string upper_dir;     // the container's overlay upperdir (its changes)
  std::string parent;        // image id the container was created from ("" = none)
  // Docker's Config the container runs with; the image gets it, with `changes` applied.
  // null: the parent image's config.
  nlohmann::json container_config;
  std::vector<std::string> changes;
  std::string container_id;  // recorded in the config's "container"
  std::string comment;       // -m
  std::string author;        // -a
  std::string tag;           // "" = untagged
  OverlayXattr overlay_xattr = OverlayXattr::kTrusted;  // how the upper dir marks opaque dirs
};

class ImageService {
 public:
  // `root` is the engine root R. `db` must outlive the service.
  ImageService(std::string root, store::Database& db);

  LayerStore& layers() { return layers_; }
  store::ImageStore& store() { return store_; }

  // ---- adding images
  // The tar (any compression) read from `fd` becomes a one-layer image whose config is
  // Docker's import config (image_config.h). Streams once: hashed while unpacked.
  Result<store::Image> import_tarball(int fd, const ImportOptions& options);
  // docker-archive or oci-archive (any compression) from `fd`; every layer checked against
  // its diff_id. Images are added one by one: when a later one fails, the earlier ones stay.
  Result<std::vector<LoadedImage>> load(int fd);
  Result<store::Image> commit(const CommitOptions& options);

  // ---- writing images out
  // A docker-archive of the images `refs` name, written to `out_fd`: manifest.json
  // (Config, RepoTags, Layers), <config hex>.json, <diff hex>/layer.tar, repositories.
  // Layer tars are rebuilt byte for byte from their tar-split, so `save | load` (here or
  // into Docker) gives the same image ids. A name without a tag ("busybox") saves every
  // tag of that repository; an id saves the image without tags. On error part of the
  // stream may have been written: the caller discards it.
  Result<std::vector<SavedImage>> save(const std::vector<std::string>& refs, int out_fd);

  // ---- reading
  Result<store::Image> get(std::string_view ref) { return store_.get(ref); }
  Result<std::vector<store::Image>> list() { return store_.list(); }
  Result<std::vector<HistoryRow>> history(std::string_view ref);
  // Docker's `docker image inspect` object for one image.
  Result<nlohmann::ordered_json> inspect(std::string_view ref);
  // The image's layer directories, TOP layer first (overlayfs lowerdir order). ENOENT
  // naming the layer when one is missing on disk.
  Result<std::vector<std::string>> lower_dirs(const store::Image& image);

  // ---- changing names, deleting
  Status tag(std::string_view ref, std::string_view new_tag) { return store_.tag(ref, new_tag); }
  // `docker rmi`: a tag reference untags (and deletes the image when it was the last
  // tag and no container uses it); an id reference deletes the image with its tags.
  // Conflicts, in Docker's words (EBUSY): an id with several tags needs force; an image a
  // running container uses cannot be deleted, a stopped container's needs force. Unlike
  // Docker, force never deletes an image a container still uses (its layers are that
  // container's lowerdirs): it only untags it, and the image is deleted once unused.
  Result<RemoveResult> remove(std::string_view ref, bool force, const std::vector<ImageUser>& users);
  // `docker image prune`: dangling images (or all unused with options.all) that no
  // container uses, then layer directories no image uses (left by a crash), split files
  // without a layer, and staging directories of processes that died.
  Result<RemoveResult> prune(const PruneOptions& options);

 private:
  Result<store::Image> add_image(const std::string& config, const std::vector<std::string>& layers,
                                 const std::vector<std::string>& tags);
  // Deletes layers this call created that no image ended up using (after a failure).
  void discard_unused(const std::vector<std::string>& created);
  Result<RemoveResult> delete_image(const store::Image& image);

  std::string root_;
  store::Database& db_;
  store::ImageStore store_;
  LayerStore layers_;
};

}  // namespace md::image
