// `docker commit`: a container's changes (its overlay upper directory) become a new layer
// on top of its image's layers.
#include <fcntl.h>
#include <unistd.h>

#include "base/file_util.h"
#include "engine/image/archive_read.h"
#include "engine/image/image_config.h"
#include "engine/image/image_service.h"
#include "engine/image/tree_tar.h"

namespace md::image {

using nlohmann::json;
using nlohmann::ordered_json;

Result<store::Image> ImageService::commit(const CommitOptions& o) {
  std::optional<store::Image> parent;
  // Ordered: the parent's history is carried over with its keys as they were.
  ordered_json parent_config = ordered_json::object();
  if (!o.parent.empty()) {
    parent = TRY_CTX(store_.get(o.parent), "commit");
    parent_config = ordered_json::parse(parent->config, nullptr, false);
    if (!parent_config.is_object())
      return fail("commit: config of image " + parent->id + " is not a JSON object", EIO);
  }
  json config = o.container_config;
  if (config.is_null() && parent_config.contains("config")) config = json(parent_config["config"]);
  if (!config.is_object()) config = json::object();
  TRY_CTX(apply_changes(config, o.changes), "commit");
  std::vector<std::string> tags;
  if (!o.tag.empty()) tags.push_back(TRY_CTX(store::normalize_tag(o.tag), "commit"));
  UniqueFd upper(::open(o.upper_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!upper) return fail_errno("commit: open the container's changes " + o.upper_dir);

  std::vector<std::string> created;
  auto result = [&]() -> Result<store::Image> {
    LayerLock lock = TRY(layers_.lock_shared());
    std::vector<std::string> diff_ids;
    if (parent) {
      for (const std::string& l : parent->layers)
        if (!layers_.has(l))
          return fail("commit: layer " + l + " of image " + parent->id +
                          " is missing; remove the image and load it again",
                      ENOENT);
      diff_ids = parent->layers;
    }
    // No change at all: Docker records an empty_layer step and adds no layer.
    const bool empty = TRY(list_directory(o.upper_dir)).empty();
    if (!empty) {
      StagingDir staging = TRY(layers_.make_staging("commit"));
      const std::string tar = staging / "layer.tar";
      UniqueFd fd(::open(tar.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
      if (!fd) return fail_errno("commit: create " + tar);
      TreeTarOptions opts;
      opts.overlay_whiteouts = true;
      opts.overlay_xattr = o.overlay_xattr;
      TRY_CTX(write_tree_tar(upper.get(), fd.get(), opts), "commit: archive " + o.upper_dir);
      if (::lseek(fd.get(), 0, SEEK_SET) != 0) return fail_errno("commit: seek " + tar);
      UnpackedLayer layer = TRY_CTX(layers_.unpack(fd.get(), ""), "commit");
      if (layer.created) created.push_back(layer.diff_id);
      diff_ids.push_back(layer.diff_id);
    }

    const std::string now = format_rfc3339_nano(unix_nanos_now());
    ordered_json cfg;
    auto inherit = [&](const char* key, ordered_json dflt) {
      auto it = parent_config.find(key);
      cfg[key] = it != parent_config.end() ? *it : dflt;
    };
    inherit("architecture", host_architecture());
    if (!o.author.empty()) cfg["author"] = o.author;
    if (!o.comment.empty()) cfg["comment"] = o.comment;
    cfg["config"] = config;
    if (!o.container_id.empty()) cfg["container"] = o.container_id;
    cfg["created"] = now;
    ordered_json history = ordered_json::array();
    if (auto h = parent_config.find("history"); h != parent_config.end() && h->is_array())
      for (const ordered_json& step : *h) history.push_back(step);
    ordered_json step;
    step["created"] = now;
    if (!o.author.empty()) step["author"] = o.author;
    // Docker's created_by for a commit: the container's command.
    std::string created_by;
    if (o.container_config.is_object())
      if (auto cmd = o.container_config.find("Cmd"); cmd != o.container_config.end() && cmd->is_array())
        for (const json& a : *cmd)
          if (a.is_string()) created_by += (created_by.empty() ? "" : " ") + a.get<std::string>();
    if (!created_by.empty()) step["created_by"] = created_by;
    if (!o.comment.empty()) step["comment"] = o.comment;
    if (empty) step["empty_layer"] = true;
    history.push_back(step);
    cfg["history"] = history;
    inherit("os", "linux");
    for (const char* key : {"os.version", "os.features", "variant"})
      if (parent_config.contains(key)) cfg[key] = parent_config[key];
    cfg["rootfs"] = ordered_json{{"type", "layers"}, {"diff_ids", diff_ids}};
    return add_image(cfg.dump(), diff_ids, tags);
  }();
  if (!result) discard_unused(created);
  return result;
}

}  // namespace md::image
