#include "runtime/state_store.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "base/file_util.h"
#include "cgroups/cgroup.h"

namespace md::runtime {

using nlohmann::json;

const char* status_name(ContainerStatus s) {
  switch (s) {
    case ContainerStatus::kCreating: return "creating";
    case ContainerStatus::kCreated: return "created";
    case ContainerStatus::kRunning: return "running";
    case ContainerStatus::kPaused: return "paused";
    case ContainerStatus::kStopped: return "stopped";
  }
  return "unknown";
}

md::Status StateStore::validate_id(const std::string& id) {
  if (id.empty()) return fail("invalid container id: the id must not be empty", EINVAL);
  if (id == "." || id == "..") return fail("invalid container id \"" + id + "\"", EINVAL);
  if (id.size() > 1024) return fail("invalid container id: longer than 1024 characters", EINVAL);
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '+' || c == '-' || c == '.';
    if (!ok)
      return fail("invalid container id \"" + id + "\": only letters, digits and _ + - . are allowed", EINVAL);
  }
  return {};
}

md::Status StateStore::create_dir(const std::string& id) {
  TRY(make_directories(root_, 0711));
  if (::mkdir(dir(id).c_str(), 0711) != 0) {
    if (errno == EEXIST) return fail("container with id \"" + id + "\" already exists", EEXIST);
    return fail_errno("create state directory " + dir(id));
  }
  return {};
}

md::Status StateStore::save(const ContainerRecord& r) {
  json j = {{"id", r.id},
            {"pid", r.pid},
            {"pid_start_time", r.pid_start_time},
            {"bundle", r.bundle},
            {"rootfs", r.rootfs},
            {"created", r.created},
            {"owner", r.owner},
            {"cgroup_path", r.cgroup_path},
            {"own_pid_namespace", r.own_pid_namespace},
            {"annotations", r.annotations}};
  TRY(write_file_atomic(dir(r.id) + "/config.json", r.config.dump(), 0600));
  return write_file_atomic(dir(r.id) + "/state.json", j.dump(), 0600);
}

Result<ContainerRecord> StateStore::load(const std::string& id) const {
  TRY(validate_id(id));
  auto text = read_file(dir(id) + "/state.json");
  if (!text) {
    if (text.error().errno_value == ENOENT) return fail("container \"" + id + "\" does not exist", ENOENT);
    return std::unexpected(text.error());
  }
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail("state of container \"" + id + "\" is corrupt", EIO);
  ContainerRecord r;
  r.id = id;
  r.pid = j.value("pid", 0);
  r.pid_start_time = j.value("pid_start_time", 0ULL);
  r.bundle = j.value("bundle", "");
  r.rootfs = j.value("rootfs", "");
  r.created = j.value("created", "");
  r.owner = j.value("owner", "");
  r.cgroup_path = j.value("cgroup_path", "");
  r.own_pid_namespace = j.value("own_pid_namespace", true);
  r.annotations = j.value("annotations", json::object());
  auto config = read_file(dir(id) + "/config.json");
  if (config) r.config = json::parse(*config, nullptr, false);
  if (r.config.is_discarded()) r.config = json::object();
  return r;
}

Result<std::vector<std::string>> StateStore::list_ids() const {
  if (!is_directory(root_)) return std::vector<std::string>{};
  auto names = TRY(list_directory(root_));
  std::vector<std::string> ids;
  for (auto& n : names)
    if (path_exists(dir(n) + "/state.json")) ids.push_back(n);
  std::sort(ids.begin(), ids.end());
  return ids;
}

md::Status StateStore::remove(const std::string& id) const { return remove_tree(dir(id)); }

std::optional<unsigned long long> process_start_time(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  auto text = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return std::nullopt;
  // comm may contain spaces and parens: fields start after the last ')'.
  size_t close = text->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  const char* p = text->c_str() + close + 2;
  char state = *p;
  if (state == 'Z' || state == 'X') return std::nullopt;
  // field 3 is state; start time is field 22 → skip 19 more fields.
  int field = 3;
  while (*p && field < 22) {
    if (*p == ' ') ++field;
    ++p;
  }
  return std::strtoull(p, nullptr, 10);
}

ContainerStatus current_status(const StateStore& store, const ContainerRecord& r) {
  auto start = process_start_time(r.pid);
  if (!start || *start != r.pid_start_time) return ContainerStatus::kStopped;
  if (path_exists(store.dir(r.id) + "/start.sock")) return ContainerStatus::kCreated;
  if (!r.cgroup_path.empty()) {
    auto cg = cgroups::Cgroup::open(r.cgroup_path);
    if (cg) {
      auto frozen = cg->is_frozen();
      if (frozen && *frozen) return ContainerStatus::kPaused;
    }
  }
  return ContainerStatus::kRunning;
}

json oci_state(const ContainerRecord& r, ContainerStatus s) {
  json j = {{"ociVersion", "1.2.0"}, {"id", r.id},          {"status", status_name(s)},
            {"bundle", r.bundle},     {"rootfs", r.rootfs},  {"created", r.created},
            {"owner", r.owner}};
  if (s != ContainerStatus::kStopped) j["pid"] = r.pid;
  else j["pid"] = 0;
  j["annotations"] = r.annotations.is_object() ? r.annotations : json::object();
  return j;
}

}  // namespace md::runtime
