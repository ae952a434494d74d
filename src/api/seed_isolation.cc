// GET /api/containers/<name>/isolation: the teaching view of what isolates a running
// container, read live from the kernel (/proc/<pid>/ns, /proc/<pid>/status, mountinfo,
// the cgroup files) and from the OCI config the engine wrote (masked/readonly paths).
// 409 when the container is not running (it has no process to look at).
#include <sys/stat.h>

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/http_util.h"
#include "api/seed_routes.h"
#include "base/file_util.h"

namespace md::api {
namespace {

using nlohmann::json;

// Linux capability numbers → names (capability.h order).
const char* const kCapNames[] = {
    "CAP_CHOWN",           "CAP_DAC_OVERRIDE",  "CAP_DAC_READ_SEARCH", "CAP_FOWNER",          "CAP_FSETID",
    "CAP_KILL",            "CAP_SETGID",        "CAP_SETUID",          "CAP_SETPCAP",         "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",      "CAP_NET_RAW",         "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",       "CAP_SYS_MODULE",    "CAP_SYS_RAWIO",       "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",       "CAP_SYS_ADMIN",     "CAP_SYS_BOOT",        "CAP_SYS_NICE",        "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",        "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",          "CAP_LEASE",           "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",       "CAP_MAC_OVERRIDE",    "CAP_MAC_ADMIN",       "CAP_SYSLOG",
    "CAP_WAKE_ALARM",      "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",      "CAP_PERFMON",         "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE"};

json cap_names(const std::string& hex) {
  json out = json::array();
  unsigned long long mask = std::strtoull(hex.c_str(), nullptr, 16);
  for (size_t i = 0; i < sizeof kCapNames / sizeof kCapNames[0]; ++i)
    if (mask & (1ULL << i)) out.push_back(kCapNames[i]);
  return out;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  size_t i = s.find_first_not_of(" \t");
  return i == std::string::npos ? "" : s.substr(i);
}

std::string read_trim(const std::string& path) {
  auto t = read_file(path);
  return t ? trim(*t) : "";
}

json number_or_text(const std::string& v) {
  if (v.empty()) return nullptr;
  char* end = nullptr;
  long long n = std::strtoll(v.c_str(), &end, 10);
  if (*end == '\0') return n;
  return v;  // "max"
}

json namespaces(pid_t pid) {
  json out = json::array();
  for (const char* t : {"mnt", "uts", "ipc", "pid", "net", "user", "cgroup", "time"}) {
    std::string path = "/proc/" + std::to_string(pid) + "/ns/" + t;
    struct stat mine {}, host {};
    if (::stat(path.c_str(), &mine) != 0) continue;
    // The host's: PID 1's, or (when /proc/1 is not ours to look at, e.g. in a sandbox)
    // this server's own, which runs in the namespaces containers are isolated from.
    bool have_host = ::stat((std::string("/proc/1/ns/") + t).c_str(), &host) == 0 ||
                     ::stat((std::string("/proc/self/ns/") + t).c_str(), &host) == 0;
    out.push_back({{"type", t},
                   {"inode", mine.st_ino},
                   {"host_inode", have_host ? json(host.st_ino) : json(nullptr)},
                   {"shared_with_host", have_host && mine.st_ino == host.st_ino},
                   {"path", path}});
  }
  return out;
}

json cgroup_view(pid_t pid) {
  auto text = read_file("/proc/" + std::to_string(pid) + "/cgroup");
  std::string v2_path, mem_path, cpu_path, pids_path;
  bool v1 = false;
  if (text) {
    std::istringstream in(*text);
    std::string line;
    while (std::getline(in, line)) {
      auto a = line.find(':'), b = line.find(':', a + 1);
      if (a == std::string::npos || b == std::string::npos) continue;
      std::string ctrls = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
      if (line.substr(0, a) == "0" && ctrls.empty()) {
        v2_path = path;
        continue;
      }
      v1 = v1 || !ctrls.empty();
      std::string list = "," + ctrls + ",";
      if (list.find(",memory,") != std::string::npos) mem_path = path;
      if (list.find(",cpu,") != std::string::npos) cpu_path = path;
      if (list.find(",pids,") != std::string::npos) pids_path = path;
    }
  }
  bool unified = ::access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
  std::string version = unified ? "v2" : v1 && !v2_path.empty() ? "v1+v2" : "v1";
  json out = {{"path", !v2_path.empty() && unified ? v2_path : !mem_path.empty() ? mem_path : v2_path}, {"version", version}};
  std::string v2dir = "/sys/fs/cgroup" + (unified ? "" : std::string("/unified")) + v2_path;
  auto v2_file = [&](const std::string& f) { return read_trim(v2dir + "/" + f); };
  // Each controller where it lives: v1 hierarchy first (as the cgroup library writes), else v2.
  std::string mem = !mem_path.empty() ? read_trim("/sys/fs/cgroup/memory" + mem_path + "/memory.limit_in_bytes") : v2_file("memory.max");
  if (!mem_path.empty() && mem.size() > 15) mem = "max";  // v1 "unlimited" is 9223372036854771712
  std::string cpu;
  if (!cpu_path.empty()) {
    std::string quota = read_trim("/sys/fs/cgroup/cpu,cpuacct" + cpu_path + "/cpu.cfs_quota_us");
    if (quota.empty()) quota = read_trim("/sys/fs/cgroup/cpu" + cpu_path + "/cpu.cfs_quota_us");
    std::string period = read_trim("/sys/fs/cgroup/cpu,cpuacct" + cpu_path + "/cpu.cfs_period_us");
    if (period.empty()) period = read_trim("/sys/fs/cgroup/cpu" + cpu_path + "/cpu.cfs_period_us");
    cpu = (quota == "-1" ? "max" : quota) + " " + period;
  } else {
    cpu = v2_file("cpu.max");
  }
  std::string pids = !pids_path.empty() ? read_trim("/sys/fs/cgroup/pids" + pids_path + "/pids.max") : v2_file("pids.max");
  out["memory_max"] = number_or_text(mem);
  out["cpu_max"] = cpu;
  out["pids_max"] = number_or_text(pids);
  return out;
}

// mountinfo: "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue"
json mounts(pid_t pid) {
  json out = json::array();
  auto text = read_file("/proc/" + std::to_string(pid) + "/mountinfo");
  if (!text) return out;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::vector<std::string> w;
    std::string x;
    while (f >> x) w.push_back(x);
    auto dash = std::find(w.begin(), w.end(), "-");
    if (w.size() < 6 || dash == w.end() || dash + 2 >= w.end()) continue;
    out.push_back({{"target", w[4]}, {"source", *(dash + 2)}, {"fstype", *(dash + 1)}, {"options", w[5]}});
  }
  return out;
}

Response isolation(engine::Engine* e, const Request& q) {
  auto c = lookup(*e, q.params.at("name"));
  if (!c) return error_response(c.error());
  if (!(c->state == store::ContainerState::kRunning || c->state == store::ContainerState::kPaused) || c->pid <= 0)
    return error_response(409, "container " + c->name + " is not running");
  pid_t pid = c->pid;
  std::string proc = "/proc/" + std::to_string(pid);
  std::map<std::string, std::string> status;
  if (auto t = read_file(proc + "/status")) {
    std::istringstream in(*t);
    std::string line;
    while (std::getline(in, line))
      if (auto colon = line.find(':'); colon != std::string::npos) status[line.substr(0, colon)] = trim(line.substr(colon + 1));
  }
  int seccomp = std::atoi(status["Seccomp"].c_str());
  json spec = json::parse(read_file(e->paths().container_dir(c->id) + "/config.json").value_or("{}"), nullptr, false);
  json linux_spec = spec.is_object() ? spec.value("linux", json::object()) : json::object();
  json out = {
      {"pid", pid},
      {"namespaces", namespaces(pid)},
      {"cgroup", cgroup_view(pid)},
      {"mounts", mounts(pid)},
      {"capabilities",
       {{"effective", cap_names(status["CapEff"])},
        {"permitted", cap_names(status["CapPrm"])},
        {"bounding", cap_names(status["CapBnd"])}}},
      {"seccomp",
       {{"mode", seccomp == 2 ? "filter" : seccomp == 1 ? "strict" : "disabled"},
        {"filters", std::atoi(status.count("Seccomp_filters") ? status["Seccomp_filters"].c_str() : "0")}}},
      {"no_new_privs", status["NoNewPrivs"] == "1"},
      {"user", {{"uid_map", read_trim(proc + "/uid_map")}, {"gid_map", read_trim(proc + "/gid_map")}}},
      {"masked_paths", linux_spec.value("maskedPaths", json::array())},
      {"readonly_paths", linux_spec.value("readonlyPaths", json::array())},
      {"rootfs", {{"path", e->paths().merged(c->id)}, {"driver", "overlay"}}}};
  return json_response(200, out);
}

}  // namespace

void add_seed_isolation_routes(Router<Route>& r) {
  r.add("GET", "/api/containers/{name}/isolation", {isolation, RunOn::kPool});
}

}  // namespace md::api
