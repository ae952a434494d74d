// `docker history` and `docker image inspect`: views of a stored image's config.
#include <algorithm>

#include "engine/image/archive_read.h"
#include "engine/image/image_config.h"
#include "engine/image/image_service.h"

namespace md::image {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

std::string string_field(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Result<std::vector<HistoryRow>> ImageService::history(std::string_view ref) {
  store::Image img = TRY(store_.get(ref));
  json config = json::parse(img.config, nullptr, false);
  if (!config.is_object()) return fail("image " + img.id + ": config is not a JSON object", EIO);
  std::vector<HistoryRow> rows;
  size_t layer = 0;
  if (auto h = config.find("history"); h != config.end() && h->is_array()) {
    for (const json& step : *h) {
      if (!step.is_object()) continue;
      HistoryRow row;
      row.id = "<missing>";
      if (auto t = parse_rfc3339(string_field(step, "created"))) row.created = *t;
      row.created_by = string_field(step, "created_by");
      row.comment = string_field(step, "comment");
      bool empty = step.contains("empty_layer") && step["empty_layer"].is_boolean() &&
                   step["empty_layer"].get<bool>();
      if (!empty) {
        // Each non-empty step made the next layer, in order (Docker's matching rule).
        if (layer >= img.layers.size())
          return fail("image " + img.id.substr(7, 12) +
                          ": its history has more non-empty steps than it has layers",
                      EINVAL);
        row.size = TRY(layers_.size(img.layers[layer]));
        ++layer;
      }
      rows.push_back(std::move(row));
    }
  }
  std::reverse(rows.begin(), rows.end());
  if (!rows.empty()) {
    rows.front().id = img.id;
    rows.front().tags = img.tags;
  }
  return rows;
}

Result<ordered_json> ImageService::inspect(std::string_view ref) {
  store::Image img = TRY(store_.get(ref));
  json config = json::parse(img.config, nullptr, false);
  if (!config.is_object()) return fail("image " + img.id + ": config is not a JSON object", EIO);

  ordered_json out;
  out["Id"] = img.id;
  out["RepoTags"] = img.tags;  // [] when dangling
  out["RepoDigests"] = ordered_json::array();
  out["Parent"] = "";
  out["Comment"] = string_field(config, "comment");
  std::string created = string_field(config, "created");
  if (auto t = parse_rfc3339(created)) created = format_rfc3339_nano(*t);
  out["Created"] = created;
  out["DockerVersion"] = string_field(config, "docker_version");
  out["Author"] = string_field(config, "author");
  out["Config"] = inspect_container_config(config.contains("config") ? config["config"] : json());
  out["Architecture"] = string_field(config, "architecture");
  if (std::string v = string_field(config, "variant"); !v.empty()) out["Variant"] = v;
  out["Os"] = string_field(config, "os");
  if (std::string v = string_field(config, "os.version"); !v.empty()) out["OsVersion"] = v;
  out["Size"] = img.size;
  // Where the layers are, in Docker's overlay2 terms: the top layer is "UpperDir".
  ordered_json data = ordered_json::object();
  if (!img.layers.empty()) {
    std::string lower;
    for (size_t i = img.layers.size() - 1; i-- > 0;) {
      if (!lower.empty()) lower += ":";
      lower += layers_.dir(img.layers[i]);
    }
    if (!lower.empty()) data["LowerDir"] = lower;
    data["UpperDir"] = layers_.dir(img.layers.back());
  }
  out["GraphDriver"] = ordered_json{{"Data", data}, {"Name", "overlay"}};
  out["RootFS"] = ordered_json{{"Type", "layers"}, {"Layers", img.layers}};
  // Tag times are not recorded; Docker shows its zero time for images never tagged here.
  out["Metadata"] = ordered_json{{"LastTagTime", "0001-01-01T00:00:00Z"}};
  return out;
}

}  // namespace md::image
