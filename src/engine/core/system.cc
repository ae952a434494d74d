#include "engine/core/system.h"

#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "base/file_util.h"
#include "cgroups/cgroup.h"
#include "engine/core/containers.h"
#include "engine/core/volumes.h"
#include "engine/image/image_service.h"
#include "engine/store/ids.h"

namespace md::engine {

using nlohmann::json;
using nlohmann::ordered_json;
using store::ContainerState;

namespace {

bool is_up(ContainerState s) {
  return s == ContainerState::kRunning || s == ContainerState::kPaused || s == ContainerState::kRestarting;
}

std::map<std::string, std::string> labels_of(const json& j) {
  std::map<std::string, std::string> out;
  if (j.is_object())
    for (auto& [k, v] : j.items())
      if (v.is_string()) out[k] = v.get<std::string>();
  return out;
}

// The image config's config.Labels.
std::map<std::string, std::string> image_labels(const store::Image& img) {
  json cfg = json::parse(img.config, nullptr, false);
  if (!cfg.is_object()) return {};
  return labels_of(cfg.value("config", json::object()).value("Labels", json::object()));
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

std::map<std::string, std::string> os_release() {
  std::map<std::string, std::string> out;
  for (const char* path : {"/etc/os-release", "/usr/lib/os-release"}) {
    auto text = read_file(path);
    if (!text) continue;
    std::istringstream ss(*text);
    std::string line;
    while (std::getline(ss, line)) {
      auto eq = line.find('=');
      if (eq == std::string::npos) continue;
      std::string v = line.substr(eq + 1);
      if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) v = v.substr(1, v.size() - 2);
      out[line.substr(0, eq)] = v;
    }
    break;
  }
  return out;
}

uint64_t mem_total() {
  auto t = read_file("/proc/meminfo");
  if (!t) return 0;
  std::istringstream ss(*t);
  std::string k;
  uint64_t kb = 0;
  while (ss >> k) {
    if (k == "MemTotal:") {
      ss >> kb;
      return kb * 1024;
    }
    std::string rest;
    std::getline(ss, rest);
  }
  return 0;
}

std::string fs_type_name(const std::string& path) {
  struct statfs s {};
  if (::statfs(path.c_str(), &s) != 0) return "<unknown>";
  switch (static_cast<unsigned long>(s.f_type)) {
    case 0xEF53: return "extfs";
    case 0x58465342: return "xfs";
    case 0x9123683E: return "btrfs";
    case 0x01021994: return "tmpfs";
    case 0x794C7630: return "overlayfs";
    case 0x2FC12FC1: return "zfs";
    case 0x65735546: return "fuse";
    default: {
      char b[32];
      std::snprintf(b, sizeof b, "0x%lx", static_cast<unsigned long>(s.f_type));
      return b;
    }
  }
}

// A stable id for this engine root, made on first use (Docker keeps one in engine-id).
std::string engine_id(const Paths& p) {
  std::string file = p.root + "/engine-id";
  if (auto t = read_file(file); t && !trim(*t).empty()) return trim(*t);
  std::string hex = store::generate_id().value_or(std::string(64, '0'));
  // UUID shape, as Docker's engine-id.
  std::string id = hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) +
                   "-" + hex.substr(20, 12);
  (void)write_file_atomic(file, id + "\n", 0644);
  return id;
}

std::string command_of(const store::Container& c) {
  std::string cmd;
  for (auto k : {"Entrypoint", "Cmd"})
    if (c.config.contains(k) && c.config[k].is_array())
      for (auto& a : c.config[k])
        if (a.is_string()) cmd += (cmd.empty() ? "" : " ") + a.get<std::string>();
  return cmd;
}

}  // namespace

namespace {
// Docker's directory size: every entry but directories by its lstat size (symlinks too),
// a hard-linked file once.
int64_t tree_bytes_at(const std::string& path, std::set<std::pair<dev_t, ino_t>>& seen) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return 0;
  if (!S_ISDIR(st.st_mode)) {
    if (st.st_nlink > 1 && !seen.insert({st.st_dev, st.st_ino}).second) return 0;
    return S_ISREG(st.st_mode) || S_ISLNK(st.st_mode) ? st.st_size : 0;
  }
  int64_t total = 0;
  if (auto names = list_directory(path))
    for (auto& n : *names) total += tree_bytes_at(path + "/" + n, seen);
  return total;
}
}  // namespace

int64_t tree_bytes(const std::string& path) {
  std::set<std::pair<dev_t, ino_t>> seen;
  return tree_bytes_at(path, seen);
}

bool prune_labels_match(const PruneFilter& f, const std::map<std::string, std::string>& labels) {
  auto has = [&](const std::string& spec) {
    auto eq = spec.find('=');
    auto it = labels.find(spec.substr(0, eq));
    if (it == labels.end()) return false;
    return eq == std::string::npos || it->second == spec.substr(eq + 1);
  };
  for (auto& l : f.labels)
    if (!has(l)) return false;
  for (auto& l : f.not_labels)
    if (has(l)) return false;
  return true;
}

Result<PruneReport> prune_containers(Engine& e, const PruneFilter& f) {
  (void)reconcile_all(e);
  store::ContainerFilter all;
  all.all = true;
  PruneReport rep;
  for (auto& c : TRY(e.containers().list(all))) {
    if (is_up(c.state) || c.state == ContainerState::kRemoving) continue;
    if (f.until_ns && c.created > *f.until_ns) continue;  // Docker: created after until is kept
    if (!prune_labels_match(f, c.labels)) continue;
    int64_t size = tree_bytes(e.paths().upper(c.id));
    auto st = remove_container(e, c.id, false, false);
    if (!st) {
      if (st.error().errno_value == EBUSY) continue;  // started meanwhile
      return std::unexpected(st.error());
    }
    rep.deleted.push_back(c.id);
    rep.reclaimed += size;
  }
  e.emit({.type = "container", .action = "prune", .attributes = {{"reclaimed", std::to_string(rep.reclaimed)}}});
  return rep;
}

Result<PruneReport> prune_unused_volumes(Engine& e, bool all, const PruneFilter& f) {
  PruneReport rep;
  for (auto& v : TRY(list_volumes(e))) {
    std::string name = v.value("Name", "");
    auto labels = labels_of(v.value("Labels", json::object()));
    if (!all && !labels.count("com.docker.volume.anonymous")) continue;
    if (!prune_labels_match(f, labels)) continue;
    if (!TRY(volume_users(e, name)).empty()) continue;
    int64_t size = tree_bytes(v.value("Mountpoint", ""));
    auto st = remove_volume(e, name, false);
    if (!st) {
      if (st.error().errno_value == EBUSY || st.error().errno_value == ENOENT) continue;
      return std::unexpected(st.error());
    }
    rep.deleted.push_back(name);
    rep.reclaimed += size;
  }
  e.emit({.type = "volume", .action = "prune", .attributes = {{"reclaimed", std::to_string(rep.reclaimed)}}});
  return rep;
}

Result<ImagePruneReport> prune_images(Engine& e, bool all, const PruneFilter& f) {
  image::ImageService svc(e.paths().root, e.db());
  image::PruneOptions o;
  o.all = all;
  store::ContainerFilter every;
  every.all = true;
  for (auto& c : TRY(e.containers().list(every))) o.in_use.insert(c.image);
  if (f.until_ns || !f.labels.empty() || !f.not_labels.empty())
    o.filter = [f](const store::Image& img) {
      if (f.until_ns && img.created > *f.until_ns) return false;
      return prune_labels_match(f, image_labels(img));
    };
  auto r = TRY(svc.prune(o));
  ImagePruneReport rep;
  for (auto& rec : r.records)
    rep.records.emplace_back(rec.kind == image::DeleteRecord::Kind::kUntagged ? "untagged" : "deleted", rec.value);
  rep.reclaimed = r.space_reclaimed;
  return rep;
}

Result<json> disk_usage(Engine& e) {
  (void)reconcile_all(e);
  store::ContainerFilter every;
  every.all = true;
  auto containers = TRY(e.containers().list(every));
  auto images = TRY(e.images().list());
  // Layer sizes (a layer's files), and how many images use each.
  image::LayerStore layer_files(e.paths().root);
  std::map<std::string, int64_t> layer_size;
  std::map<std::string, int> layer_users;
  for (auto& img : images)
    for (auto& l : img.layers) {
      ++layer_users[l];
      if (!layer_size.count(l)) {
        auto sz = layer_files.size(l);  // what image sizes are made of
        layer_size[l] = sz ? *sz : tree_bytes(e.paths().layer(l));
      }
    }
  int64_t layers_total = 0;
  for (auto& [l, s] : layer_size) layers_total += s;
  std::map<std::string, int> image_containers;
  for (auto& c : containers) ++image_containers[c.image];

  json jimages = json::array();
  for (auto& img : images) {
    int64_t shared = 0;
    for (auto& l : img.layers)
      if (layer_users[l] > 1) shared += layer_size[l];
    json tags = json::array();
    for (auto& t : img.tags) tags.push_back(t);
    json labels = json::object();
    for (auto& [k, v] : image_labels(img)) labels[k] = v;
    jimages.push_back({{"Id", img.id}, {"ParentId", ""}, {"RepoTags", tags}, {"RepoDigests", json::array()},
                       {"Created", img.created / 1000000000}, {"Size", img.size}, {"SharedSize", shared},
                       {"Labels", labels}, {"Containers", image_containers[img.id]}});
  }
  int64_t now = store::now_unix_nanos();
  json jcontainers = json::array();
  std::map<std::string, int> volume_refs;
  for (auto& c : containers) {
    int64_t rw = tree_bytes(e.paths().upper(c.id));
    int64_t image_size = 0;
    for (auto& img : images)
      if (img.id == c.image) image_size = img.size;
    json mounts = json::array();
    for (auto& m : c.host_config.value("MountPoints", json::array())) {
      if (m.value("Type", "") == "volume") ++volume_refs[m.value("Name", "")];
      json o = {{"Type", m.value("Type", "")}, {"Source", m.value("Source", "")}, {"Destination", m.value("Destination", "")},
                {"Mode", m.value("Mode", "")}, {"RW", m.value("RW", true)}, {"Propagation", m.value("Propagation", "")}};
      if (m.value("Type", "") == "volume") {
        o["Name"] = m.value("Name", "");
        o["Driver"] = "local";
      }
      mounts.push_back(o);
    }
    json labels = json::object();
    for (auto& [k, v] : c.labels) labels[k] = v;
    jcontainers.push_back({{"Id", c.id}, {"Names", json::array({"/" + c.name})}, {"Image", c.config.value("Image", c.image)},
                           {"ImageID", c.image}, {"Command", command_of(c)}, {"Created", c.created / 1000000000},
                           {"Ports", json::array()}, {"SizeRw", rw}, {"SizeRootFs", rw + image_size}, {"Labels", labels},
                           {"State", store::state_name(c.state)}, {"Status", status_text(c, now)},
                           {"HostConfig", {{"NetworkMode", c.host_config.value("NetworkMode", "none")}}},
                           {"Mounts", mounts}});
  }
  json jvolumes = json::array();
  for (auto& v : TRY(list_volumes(e))) {
    json o = v;
    std::string name = v.value("Name", "");
    o["UsageData"] = {{"Size", tree_bytes(v.value("Mountpoint", ""))}, {"RefCount", volume_refs[name]}};
    jvolumes.push_back(o);
  }
  return json{{"LayersSize", layers_total}, {"Images", jimages}, {"Containers", jcontainers},
              {"Volumes", jvolumes}, {"BuildCache", json::array()}};
}

Result<ordered_json> system_info(Engine& e) {
  (void)reconcile_all(e);
  store::ContainerFilter every;
  every.all = true;
  auto containers = TRY(e.containers().list(every));
  int running = 0, paused = 0, stopped = 0;
  for (auto& c : containers) {
    if (c.state == ContainerState::kPaused) ++paused;
    else if (c.state == ContainerState::kRunning || c.state == ContainerState::kRestarting) ++running;
    else ++stopped;
  }
  auto images = TRY(e.images().list());
  struct utsname u {};
  ::uname(&u);
  auto osr = os_release();
  std::string cgroup_version = "1";
  bool swap_limit = false;
  if (auto hs = cgroups::host_hierarchies(); hs) {
    if (cgroups::layout_of(**hs) == cgroups::Layout::kV2) cgroup_version = "2";
    for (auto& h : **hs)
      for (auto& c : h.controllers)
        if (c == "memory")
          swap_limit |= h.v2 || path_exists(h.mount_point + "/memory.memsw.limit_in_bytes");
  }
  int nfd = 0;
  if (auto fds = list_directory("/proc/self/fd")) nfd = int(fds->size());
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  bool ip_forward = false;
  if (auto t = read_file("/proc/sys/net/ipv4/ip_forward")) ip_forward = trim(*t) == "1";
  long ncpu = ::sysconf(_SC_NPROCESSORS_ONLN);
  json warnings = nullptr;
  if (!swap_limit) warnings = json::array({"WARNING: No swap limit support"});
  json security = json::array({"name=seccomp,profile=builtin", "name=cgroupns"});

  ordered_json j;
  j["ID"] = engine_id(e.paths());
  j["Containers"] = containers.size();
  j["ContainersRunning"] = running;
  j["ContainersPaused"] = paused;
  j["ContainersStopped"] = stopped;
  j["Images"] = images.size();
  j["Driver"] = "overlay2";
  j["DriverStatus"] = ordered_json::array({ordered_json::array({"Backing Filesystem", fs_type_name(e.paths().root)}),
                                           ordered_json::array({"Supports d_type", "true"}),
                                           ordered_json::array({"Using metacopy", "false"}),
                                           ordered_json::array({"Native Overlay Diff", "true"}),
                                           ordered_json::array({"userxattr", "false"})});
  j["Plugins"] = {{"Volume", {"local"}}, {"Network", {"host", "null"}}, {"Authorization", nullptr}, {"Log", {"json-file"}}};
  j["MemoryLimit"] = true;
  j["SwapLimit"] = swap_limit;
  j["CpuCfsPeriod"] = true;
  j["CpuCfsQuota"] = true;
  j["CPUShares"] = true;
  j["CPUSet"] = true;
  j["PidsLimit"] = true;
  j["IPv4Forwarding"] = ip_forward;
  j["Debug"] = false;
  j["NFd"] = nfd;
  j["OomKillDisable"] = cgroup_version == "1";
  j["NGoroutines"] = 1;
  j["SystemTime"] = rfc3339_nano(store::now_unix_nanos());
  j["LoggingDriver"] = "json-file";
  j["CgroupDriver"] = "cgroupfs";
  j["CgroupVersion"] = cgroup_version;
  j["NEventsListener"] = 0;
  j["KernelVersion"] = u.release;
  j["OperatingSystem"] = osr.count("PRETTY_NAME") ? osr["PRETTY_NAME"] : "Linux";
  j["OSVersion"] = osr.count("VERSION_ID") ? osr["VERSION_ID"] : "";
  j["OSType"] = "linux";
  j["Architecture"] = u.machine;
  j["IndexServerAddress"] = "https://index.docker.io/v1/";
  j["RegistryConfig"] = {{"AllowNondistributableArtifactsCIDRs", nullptr},
                         {"AllowNondistributableArtifactsHostnames", nullptr},
                         {"InsecureRegistryCIDRs", {"127.0.0.0/8"}},
                         {"IndexConfigs",
                          {{"docker.io", {{"Name", "docker.io"}, {"Mirrors", ordered_json::array()}, {"Secure", true}, {"Official", true}}}}},
                         {"Mirrors", nullptr}};
  j["NCPU"] = ncpu > 0 ? ncpu : 1;
  j["MemTotal"] = mem_total();
  j["GenericResources"] = nullptr;
  j["DockerRootDir"] = e.paths().root;
  j["HttpProxy"] = std::getenv("HTTP_PROXY") ? std::getenv("HTTP_PROXY") : "";
  j["HttpsProxy"] = std::getenv("HTTPS_PROXY") ? std::getenv("HTTPS_PROXY") : "";
  j["NoProxy"] = std::getenv("NO_PROXY") ? std::getenv("NO_PROXY") : "";
  j["Name"] = host;
  j["Labels"] = ordered_json::array();
  j["ExperimentalBuild"] = false;
  j["ServerVersion"] = "0.1.0";
  j["Runtimes"] = {{"minidocker", {{"path", "minidocker-runtime"}}}};
  j["DefaultRuntime"] = "minidocker";
  j["Swarm"] = {{"NodeID", ""}, {"NodeAddr", ""}, {"LocalNodeState", "inactive"}, {"ControlAvailable", false},
                {"Error", ""}, {"RemoteManagers", nullptr}};
  // Daemonless: containers never depend on a daemon staying up.
  j["LiveRestoreEnabled"] = true;
  j["Isolation"] = "";
  j["InitBinary"] = "";
  j["ContainerdCommit"] = {{"ID", ""}};
  j["RuncCommit"] = {{"ID", "minidocker-runtime 0.1.0"}};
  j["InitCommit"] = {{"ID", ""}};
  j["SecurityOptions"] = security;
  j["CDISpecDirs"] = ordered_json::array();
  j["Warnings"] = warnings;
  return j;
}

}  // namespace md::engine
