// `docker import`: a root file system tar becomes a one-layer image.
#include <algorithm>

#include "engine/image/archive_read.h"
#include "engine/image/image_config.h"
#include "engine/image/image_service.h"

namespace md::image {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

struct Platform {
  std::string architecture;
  std::string variant;
};

// "linux", "linux/arm64", "linux/arm/v7" (Docker's os[/arch[/variant]]).
Result<Platform> parse_platform(const std::string& spec) {
  Platform p{host_architecture(), ""};
  if (spec.empty()) return p;
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos <= spec.size()) {
    size_t next = spec.find('/', pos);
    if (next == std::string::npos) next = spec.size();
    parts.push_back(spec.substr(pos, next - pos));
    pos = next + 1;
  }
  for (auto& s : parts) std::transform(s.begin(), s.end(), s.begin(), ::tolower);
  if (parts.size() > 3 || parts[0].empty())
    return fail("invalid platform \"" + spec + "\": want os[/arch[/variant]]", EINVAL);
  if (parts[0] != "linux")
    return fail("unsupported platform \"" + spec + "\": minidocker runs linux images only", EINVAL);
  if (parts.size() > 1) {
    if (parts[1].empty()) return fail("invalid platform \"" + spec + "\": empty architecture", EINVAL);
    // The common aliases, as Docker normalises them.
    if (parts[1] == "x86_64" || parts[1] == "x86-64") parts[1] = "amd64";
    if (parts[1] == "aarch64") parts[1] = "arm64";
    p.architecture = parts[1];
  }
  if (parts.size() > 2) p.variant = parts[2];
  return p;
}

}  // namespace

Result<store::Image> ImageService::import_tarball(int fd, const ImportOptions& options) {
  // Everything that can be refused is checked before a byte is read.
  Platform platform = TRY(parse_platform(options.platform));
  json config = {{"Env", json::array({kDefaultPathEnv})}};
  TRY_CTX(apply_changes(config, options.changes), "import");
  std::vector<std::string> tags;
  if (!options.tag.empty()) tags.push_back(TRY_CTX(store::normalize_tag(options.tag), "import"));
  const std::string message =
      options.message.empty() ? "Imported from " + options.source : options.message;

  std::vector<std::string> created;
  auto result = [&]() -> Result<store::Image> {
    LayerLock lock = TRY(layers_.lock_shared());
    UnpackedLayer layer = TRY_CTX(layers_.unpack(fd, ""), "import");
    if (layer.created) created.push_back(layer.diff_id);

    const std::string now = format_rfc3339_nano(unix_nanos_now());
    ordered_json cfg;
    cfg["architecture"] = platform.architecture;
    cfg["comment"] = message;
    cfg["config"] = config;
    cfg["created"] = now;
    cfg["history"] = ordered_json::array({ordered_json{{"created", now}, {"comment", message}}});
    cfg["os"] = "linux";
    cfg["rootfs"] = ordered_json{{"type", "layers"}, {"diff_ids", {layer.diff_id}}};
    if (!platform.variant.empty()) cfg["variant"] = platform.variant;
    return add_image(cfg.dump(), {layer.diff_id}, tags);
  }();
  if (!result) discard_unused(created);
  return result;
}

}  // namespace md::image
