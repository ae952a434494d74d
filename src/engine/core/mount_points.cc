#include "engine/core/mount_points.h"

#include <algorithm>
#include <set>

#include "base/file_util.h"
#include "engine/core/volumes.h"

namespace md::engine {

namespace {
using nlohmann::json;

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p - start));
    if (p == std::string::npos) break;
    start = p + 1;
  }
  return out;
}

std::string clean(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

Result<json> volume_point(Engine& e, std::string name, const std::string& dest, bool rw,
                          const std::string& mode, bool anonymous,
                          std::vector<std::string>& created) {
  bool existed = !name.empty() && inspect_volume(e, name).has_value();
  auto v = TRY(create_volume(e, VolumeCreate{.name = name, .anonymous = anonymous}));
  if (!existed) created.push_back(v["Name"]);
  return json{{"Type", "volume"}, {"Name", v["Name"]}, {"Source", v["Mountpoint"]},
              {"Destination", dest}, {"Driver", "local"}, {"Mode", mode}, {"RW", rw},
              {"Propagation", ""}};
}

Result<json> parse_bind(Engine& e, const std::string& spec, std::vector<std::string>& created) {
  auto parts = split(spec, ':');
  if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() || parts[1].empty())
    return fail("invalid volume specification: '" + spec + "'", EINVAL);
  std::string src = parts[0], dst = clean(parts[1]);
  if (dst[0] != '/') return fail("invalid volume specification: '" + spec + "': invalid mount config: the destination path must be absolute", EINVAL);
  bool rw = true;
  std::string propagation = src[0] == '/' ? "rprivate" : "";
  std::string mode = parts.size() == 3 ? parts[2] : "";
  if (parts.size() == 3) {
    for (auto& o : split(parts[2], ',')) {
      if (o == "ro") rw = false;
      else if (o == "rw") rw = true;
      else if (o == "z" || o == "Z" || o == "nocopy" || o == "consistent" || o == "cached" || o == "delegated") {
      } else if (o == "shared" || o == "rshared" || o == "slave" || o == "rslave" || o == "private" || o == "rprivate") {
        propagation = o;
      } else {
        return fail("invalid mode: " + o, EINVAL);
      }
    }
  }
  if (src[0] != '/') return volume_point(e, src, dst, rw, mode, false, created);
  src = clean(src);
  if (!path_exists(src)) TRY_CTX(make_directories(src, 0755), "create bind source " + src);
  return json{{"Type", "bind"}, {"Source", src}, {"Destination", dst}, {"Mode", mode},
              {"RW", rw}, {"Propagation", propagation}};
}

Result<json> parse_mount(Engine& e, const json& m, std::vector<std::string>& created) {
  std::string type = m.value("Type", "");
  std::string src = m.value("Source", "");
  std::string dst = clean(m.value("Target", ""));
  bool rw = !m.value("ReadOnly", false);
  if (dst.empty() || dst[0] != '/')
    return fail("invalid mount config for type \"" + type + "\": invalid mount path: '" + dst + "' mount path must be absolute", EINVAL);
  if (type == "bind") {
    if (src.empty() || src[0] != '/')
      return fail("invalid mount config for type \"bind\": invalid mount path: '" + src + "' mount path must be absolute", EINVAL);
    if (!path_exists(src))
      return fail("invalid mount config for type \"bind\": bind source path does not exist: " + src, ENOENT);
    std::string prop = m.value("BindOptions", json::object()).value("Propagation", "rprivate");
    return json{{"Type", "bind"}, {"Source", clean(src)}, {"Destination", dst}, {"Mode", ""},
                {"RW", rw}, {"Propagation", prop}};
  }
  if (type == "volume") return volume_point(e, src, dst, rw, "z", src.empty(), created);
  if (type == "tmpfs") {
    json opts = m.value("TmpfsOptions", json::object());
    std::string o = "nosuid,nodev";
    if (opts.contains("SizeBytes") && opts["SizeBytes"].is_number() && opts["SizeBytes"].get<int64_t>() > 0)
      o += ",size=" + std::to_string(opts["SizeBytes"].get<int64_t>());
    if (opts.contains("Mode") && opts["Mode"].is_number()) {
      char b[16];
      snprintf(b, sizeof b, "%o", opts["Mode"].get<int>());
      o += std::string(",mode=") + b;
    }
    if (!rw) o += ",ro";
    return json{{"Type", "tmpfs"}, {"Source", ""}, {"Destination", dst}, {"Mode", ""},
                {"RW", rw}, {"Propagation", ""}, {"Options", o}};
  }
  return fail("invalid mount config: mount type unknown: \"" + type + "\"", EINVAL);
}

Result<json> resolve_impl(Engine& e, const json& config, const json& hc, std::vector<std::string>& created) {
  json points = json::array();
  std::set<std::string> dests;
  auto add = [&](json p) -> Status {
    std::string d = p["Destination"];
    if (!dests.insert(d).second) return fail("Duplicate mount point: " + d, EINVAL);
    points.push_back(std::move(p));
    return {};
  };
  if (hc.contains("Binds") && hc["Binds"].is_array())
    for (auto& b : hc["Binds"]) TRY(add(TRY(parse_bind(e, b.get<std::string>(), created))));
  if (hc.contains("Mounts") && hc["Mounts"].is_array())
    for (auto& m : hc["Mounts"]) TRY(add(TRY(parse_mount(e, m, created))));
  if (hc.contains("Tmpfs") && hc["Tmpfs"].is_object())
    for (auto& [dst, opts] : hc["Tmpfs"].items()) {
      std::string o = "nosuid,nodev,noexec";
      if (opts.is_string() && !opts.get<std::string>().empty()) o = opts.get<std::string>();
      TRY(add(json{{"Type", "tmpfs"}, {"Source", ""}, {"Destination", clean(dst)}, {"Mode", ""},
                   {"RW", true}, {"Propagation", ""}, {"Options", o}}));
    }
  if (config.contains("Volumes") && config["Volumes"].is_object())
    for (auto& [dst, _] : config["Volumes"].items()) {
      if (dests.count(clean(dst))) continue;  // a -v for the same path wins
      TRY(add(TRY(volume_point(e, "", clean(dst), true, "", true, created))));
    }
  std::stable_sort(points.begin(), points.end(), [](const json& a, const json& b) {
    auto depth = [](const std::string& s) { return std::count(s.begin(), s.end(), '/'); };
    return depth(a["Destination"]) < depth(b["Destination"]);
  });
  return points;
}
}  // namespace

Result<json> resolve_mount_points(Engine& e, const json& config, const json& hc,
                                  std::vector<std::string>& created) {
  auto r = resolve_impl(e, config, hc, created);
  if (!r) {
    for (auto& v : created) (void)remove_volume(e, v, true);
    created.clear();
  }
  return r;
}

}  // namespace md::engine
