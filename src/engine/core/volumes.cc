#include "engine/core/volumes.h"

#include <sys/stat.h>

#include "base/file_util.h"
#include "engine/store/ids.h"

namespace md::engine {

namespace {
using nlohmann::json;

std::string rfc3339_now() {
  time_t t = time(nullptr);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char b[64];
  strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return b;
}

int64_t dir_size(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return 0;
  if (!S_ISDIR(st.st_mode)) return S_ISREG(st.st_mode) ? st.st_size : 0;
  int64_t total = 0;
  auto names = list_directory(path);
  if (!names) return 0;
  for (auto& n : *names) total += dir_size(path + "/" + n);
  return total;
}
}  // namespace

bool is_valid_volume_name(const std::string& name) { return store::is_valid_name(name); }

Result<json> inspect_volume(Engine& e, const std::string& name) {
  if (!is_valid_volume_name(name)) return fail("no such volume: " + name, ENOENT);
  std::string dir = e.paths().volumes() + "/" + name;
  auto meta = read_file(dir + "/volume.json");
  if (!meta || !is_directory(dir + "/_data")) return fail("get " + name + ": no such volume", ENOENT);
  json j = json::parse(*meta, nullptr, false);
  if (!j.is_object()) return fail("volume " + name + ": metadata is corrupt", EIO);
  j["Mountpoint"] = dir + "/_data";
  j["Scope"] = "local";
  j["Driver"] = "local";
  return j;
}

Result<json> create_volume(Engine& e, const VolumeCreate& v) {
  std::string name = v.name;
  if (name.empty()) name = TRY(store::generate_id());
  if (!is_valid_volume_name(name))
    return fail("create " + name +
                    ": \"" + name + "\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed",
                EINVAL);
  if (auto existing = inspect_volume(e, name)) return existing;
  std::string dir = e.paths().volumes() + "/" + name;
  TRY(make_directories(e.paths().volumes(), 0701));
  // Build it under a temporary name, then rename: a crash never leaves a half volume.
  std::string tmp = e.paths().volumes() + "/.tmp-" + name;
  (void)remove_tree(tmp);
  TRY(make_directories(tmp + "/_data", 0755));
  json labels = json::object();
  for (auto& [k, val] : v.labels) labels[k] = val;
  json options = json::object();
  for (auto& [k, val] : v.options) options[k] = val;
  json meta = {{"Name", name}, {"CreatedAt", rfc3339_now()}, {"Driver", "local"}, {"Labels", labels},
               {"Options", options}, {"Scope", "local"}};
  if (v.anonymous) meta["Labels"]["com.docker.volume.anonymous"] = "";
  TRY(write_file_atomic(tmp + "/volume.json", meta.dump(), 0600));
  if (::rename(tmp.c_str(), dir.c_str()) != 0) {
    int err = errno;
    (void)remove_tree(tmp);
    if (err == EEXIST || err == ENOTEMPTY) return inspect_volume(e, name);
    return fail_errno("create volume " + name, err);
  }
  e.emit({.type = "volume", .action = "create", .id = name, .attributes = {{"driver", "local"}}});
  return inspect_volume(e, name);
}

Result<std::vector<json>> list_volumes(Engine& e) {
  std::vector<json> out;
  if (!is_directory(e.paths().volumes())) return out;
  for (auto& n : TRY(list_directory(e.paths().volumes()))) {
    if (n.starts_with(".")) continue;
    if (auto v = inspect_volume(e, n)) out.push_back(*v);
  }
  return out;
}

Result<std::vector<std::string>> volume_users(Engine& e, const std::string& name) {
  std::vector<std::string> users;
  store::ContainerFilter all;
  all.all = true;
  for (auto& c : TRY(e.containers().list(all))) {
    auto mps = c.host_config.value("MountPoints", json::array());
    for (auto& m : mps)
      if (m.value("Type", "") == "volume" && m.value("Name", "") == name) users.push_back(c.id);
  }
  return users;
}

Status remove_volume(Engine& e, const std::string& name, bool force) {
  TRY(inspect_volume(e, name));
  auto users = TRY(volume_users(e, name));
  if (!users.empty() && !force) {
    std::string list;
    for (auto& u : users) list += (list.empty() ? "" : ", ") + store::short_id(u);
    return fail("remove " + name + ": volume is in use - [" + list + "]", EBUSY);
  }
  std::string dir = e.paths().volumes() + "/" + name;
  std::string tmp = e.paths().volumes() + "/.rm-" + name;
  if (::rename(dir.c_str(), tmp.c_str()) != 0) return fail_errno("remove volume " + name);
  TRY(remove_tree(tmp));
  e.emit({.type = "volume", .action = "destroy", .id = name, .attributes = {{"driver", "local"}}});
  return {};
}

Result<std::vector<std::string>> prune_volumes(Engine& e, bool all, int64_t* reclaimed) {
  std::vector<std::string> removed;
  for (auto& v : TRY(list_volumes(e))) {
    std::string name = v["Name"];
    bool anonymous = v.value("Labels", json::object()).contains("com.docker.volume.anonymous");
    if (!all && !anonymous) continue;
    if (!TRY(volume_users(e, name)).empty()) continue;
    int64_t size = dir_size(v["Mountpoint"].get<std::string>());
    if (remove_volume(e, name, false)) {
      removed.push_back(name);
      if (reclaimed) *reclaimed += size;
    }
  }
  return removed;
}

}  // namespace md::engine
