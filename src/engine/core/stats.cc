#include "engine/core/stats.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <sstream>
#include <tuple>

#include "base/file_util.h"
#include "engine/core/containers.h"
#include "engine/store/ids.h"

namespace md::engine {

using nlohmann::json;
using store::ContainerState;

namespace {

std::vector<std::string> words_of(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream ss(line);
  std::string w;
  while (ss >> w) out.push_back(w);
  return out;
}

bool parse_u64(const std::string& s, uint64_t* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return false;
  *out = v;
  return true;
}

std::optional<std::string> read_if_exists(const std::string& path) {
  auto r = read_file(path);
  if (!r) return std::nullopt;
  return *r;
}

// A single number file ("max" → nullopt, as is an absent file).
std::optional<uint64_t> read_number(const std::string& path) {
  auto t = read_if_exists(path);
  if (!t) return std::nullopt;
  std::string s = *t;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  uint64_t v = 0;
  if (!parse_u64(s, &v)) return std::nullopt;
  return v;
}

bool has_controller(const cgroups::Hierarchy& h, const std::string& c) {
  for (auto& x : h.controllers)
    if (x == c) return true;
  return false;
}

// The directory of `path` in the hierarchy holding `controller` (v1 first, then cgroup2),
// "" when no hierarchy has it or the directory is missing.
std::string controller_dir(const std::vector<cgroups::Hierarchy>& hs, const std::string& path,
                           const std::string& controller, bool* v2) {
  for (int pass = 0; pass < 2; ++pass)
    for (auto& h : hs) {
      if (h.v2 != (pass == 1) || !has_controller(h, controller)) continue;
      std::string dir = h.mount_point + path;
      if (!is_directory(dir)) continue;
      if (v2) *v2 = h.v2;
      return dir;
    }
  return "";
}

uint64_t host_mem_total() {
  auto t = read_if_exists("/proc/meminfo");
  if (!t) return 0;
  std::istringstream ss(*t);
  std::string line;
  while (std::getline(ss, line))
    if (line.rfind("MemTotal:", 0) == 0) {
      auto w = words_of(line);
      uint64_t kb = 0;
      if (w.size() >= 2 && parse_u64(w[1], &kb)) return kb * 1024;
    }
  return 0;
}

std::string cgroup_path_of(Engine& e, const std::string& id) {
  char target[4096];
  std::string link = e.paths().runtime_root() + "/" + id + "/cgroup";
  ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
  if (n > 0) {
    target[n] = 0;
    std::string p = target;
    if (!p.empty() && p[0] != '/') p = "/" + p;
    return p;
  }
  return "/minidocker-" + id;  // spec_builder.cc's cgroupsPath
}

json blkio_json(const std::vector<BlkioEntry>& v) {
  if (v.empty()) return nullptr;
  json a = json::array();
  for (auto& b : v) a.push_back({{"major", b.major}, {"minor", b.minor}, {"op", b.op}, {"value", b.value}});
  return a;
}

json cpu_json(const ContainerStats& s) {
  json usage = {{"total_usage", s.cg.cpu_total_ns},
                {"usage_in_kernelmode", s.cg.cpu_kernel_ns},
                {"usage_in_usermode", s.cg.cpu_user_ns}};
  if (!s.cg.percpu_ns.empty()) usage["percpu_usage"] = s.cg.percpu_ns;
  json j = {{"cpu_usage", usage},
            {"throttling_data",
             {{"periods", s.cg.throttle_periods},
              {"throttled_periods", s.cg.throttled_periods},
              {"throttled_time", s.cg.throttled_time_ns}}}};
  if (s.system_cpu_ns) j["system_cpu_usage"] = s.system_cpu_ns;
  if (s.online_cpus) j["online_cpus"] = s.online_cpus;
  return j;
}

}  // namespace

// ---------------------------------------------------------------- parsers

std::map<std::string, uint64_t> parse_key_values(const std::string& text) {
  std::map<std::string, uint64_t> out;
  std::istringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) {
    auto w = words_of(line);
    uint64_t v = 0;
    if (w.size() == 2 && parse_u64(w[1], &v)) out[w[0]] = v;
  }
  return out;
}

std::pair<uint64_t, uint32_t> parse_proc_stat(const std::string& text, long clock_ticks) {
  if (clock_ticks <= 0) clock_ticks = 100;
  uint64_t total_ns = 0;
  uint32_t cpus = 0;
  std::istringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) {
    auto w = words_of(line);
    if (w.empty()) continue;
    if (w[0] == "cpu" && w.size() >= 8) {
      // Docker: user nice system idle iowait irq softirq (steal and guest not counted).
      uint64_t ticks = 0;
      for (size_t i = 1; i < 8; ++i) {
        uint64_t v = 0;
        if (parse_u64(w[i], &v)) ticks += v;
      }
      total_ns = ticks * (1000000000ull / uint64_t(clock_ticks));
    } else if (w[0].size() > 3 && w[0].rfind("cpu", 0) == 0) {
      ++cpus;
    }
  }
  return {total_ns, cpus};
}

std::map<std::string, NetDevStats> parse_net_dev(const std::string& text) {
  std::map<std::string, NetDevStats> out;
  std::istringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    name.erase(0, name.find_first_not_of(' '));
    auto w = words_of(line.substr(colon + 1));
    if (name.empty() || name == "lo" || w.size() < 16) continue;
    uint64_t v[16] = {};
    bool ok = true;
    for (int i = 0; i < 16; ++i) ok &= parse_u64(w[size_t(i)], &v[i]);
    if (!ok) continue;
    NetDevStats n;
    n.rx_bytes = v[0], n.rx_packets = v[1], n.rx_errors = v[2], n.rx_dropped = v[3];
    n.tx_bytes = v[8], n.tx_packets = v[9], n.tx_errors = v[10], n.tx_dropped = v[11];
    out[name] = n;
  }
  return out;
}

std::vector<BlkioEntry> parse_blkio_v1(const std::string& text) {
  std::vector<BlkioEntry> out;
  std::istringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) {
    auto w = words_of(line);
    if (w.size() != 3) continue;  // "Total 0"
    auto colon = w[0].find(':');
    BlkioEntry b;
    if (colon == std::string::npos || !parse_u64(w[0].substr(0, colon), &b.major) ||
        !parse_u64(w[0].substr(colon + 1), &b.minor) || !parse_u64(w[2], &b.value))
      continue;
    b.op = w[1];
    out.push_back(b);
  }
  return out;
}

void parse_io_stat(const std::string& text, std::vector<BlkioEntry>* bytes, std::vector<BlkioEntry>* ios) {
  std::istringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) {
    auto w = words_of(line);
    if (w.empty()) continue;
    auto colon = w[0].find(':');
    uint64_t major = 0, minor = 0;
    if (colon == std::string::npos || !parse_u64(w[0].substr(0, colon), &major) ||
        !parse_u64(w[0].substr(colon + 1), &minor))
      continue;
    for (size_t i = 1; i < w.size(); ++i) {
      auto eq = w[i].find('=');
      if (eq == std::string::npos) continue;
      std::string k = w[i].substr(0, eq);
      uint64_t v = 0;
      if (!parse_u64(w[i].substr(eq + 1), &v)) continue;
      if (k == "rbytes" && bytes) bytes->push_back({major, minor, "read", v});
      else if (k == "wbytes" && bytes) bytes->push_back({major, minor, "write", v});
      else if (k == "rios" && ios) ios->push_back({major, minor, "read", v});
      else if (k == "wios" && ios) ios->push_back({major, minor, "write", v});
    }
  }
}

Result<CgroupSample> read_cgroup_sample(const std::string& path, const std::vector<cgroups::Hierarchy>& hs,
                                        long clock_ticks) {
  if (clock_ticks <= 0) clock_ticks = 100;
  const uint64_t tick_ns = 1000000000ull / uint64_t(clock_ticks);
  CgroupSample s;
  bool any = false;

  // --- cpu: cpuacct (v1) or cpu.stat (v2)
  bool v2 = false;
  if (std::string d = controller_dir(hs, path, "cpuacct", &v2); !d.empty()) {
    any = true;
    s.cpu_total_ns = read_number(d + "/cpuacct.usage").value_or(0);
    if (auto t = read_if_exists(d + "/cpuacct.usage_percpu"))
      for (auto& w : words_of(*t)) {
        uint64_t v = 0;
        if (parse_u64(w, &v)) s.percpu_ns.push_back(v);
      }
    if (auto t = read_if_exists(d + "/cpuacct.stat")) {
      auto kv = parse_key_values(*t);
      s.cpu_user_ns = kv["user"] * tick_ns;
      s.cpu_kernel_ns = kv["system"] * tick_ns;
    }
  }
  if (std::string d = controller_dir(hs, path, "cpu", &v2); !d.empty()) {
    any = true;
    if (auto t = read_if_exists(d + "/cpu.stat")) {
      auto kv = parse_key_values(*t);
      s.throttle_periods = kv["nr_periods"];
      s.throttled_periods = kv["nr_throttled"];
      if (v2) {
        s.v2_cpu = true;
        s.throttled_time_ns = kv["throttled_usec"] * 1000;
        if (s.cpu_total_ns == 0) {
          s.cpu_total_ns = kv["usage_usec"] * 1000;
          s.cpu_user_ns = kv["user_usec"] * 1000;
          s.cpu_kernel_ns = kv["system_usec"] * 1000;
        }
      } else {
        s.throttled_time_ns = kv["throttled_time"];
      }
    }
  }
  if (s.cpu_total_ns == 0) {
    // Hybrid hosts without cpu on v1: cgroup2 always has cpu.stat (usage_usec) in a
    // cgroup, even with the cpu controller disabled.
    for (auto& h : hs) {
      if (!h.v2) continue;
      std::string d = h.mount_point + path;
      if (auto t = read_if_exists(d + "/cpu.stat")) {
        auto kv = parse_key_values(*t);
        s.cpu_total_ns = kv["usage_usec"] * 1000;
        s.cpu_user_ns = kv["user_usec"] * 1000;
        s.cpu_kernel_ns = kv["system_usec"] * 1000;
        s.v2_cpu = true;
        any = true;
      }
    }
  }

  // --- memory
  if (std::string d = controller_dir(hs, path, "memory", &v2); !d.empty()) {
    any = true;
    s.v2_memory = v2;
    if (v2) {
      s.mem_usage = read_number(d + "/memory.current").value_or(0);
      s.mem_max_usage = read_number(d + "/memory.peak").value_or(0);
      s.mem_limit = read_number(d + "/memory.max").value_or(0);  // "max" → 0
    } else {
      s.mem_usage = read_number(d + "/memory.usage_in_bytes").value_or(0);
      s.mem_max_usage = read_number(d + "/memory.max_usage_in_bytes").value_or(0);
      s.mem_failcnt = read_number(d + "/memory.failcnt").value_or(0);
      s.mem_limit = read_number(d + "/memory.limit_in_bytes").value_or(0);
      if (s.mem_limit >= (uint64_t{1} << 62)) s.mem_limit = 0;  // v1's "unlimited" (PAGE_COUNTER_MAX)
    }
    if (auto t = read_if_exists(d + "/memory.stat")) s.mem_stat = parse_key_values(*t);
  }

  // --- block I/O
  if (std::string d = controller_dir(hs, path, "blkio", &v2); !d.empty()) {
    any = true;
    for (auto [file, out] : {std::pair{"blkio.throttle.io_service_bytes_recursive", &s.io_service_bytes},
                             std::pair{"blkio.throttle.io_serviced_recursive", &s.io_serviced}}) {
      auto t = read_if_exists(d + "/" + file);
      if (!t) t = read_if_exists(d + "/" + std::string(file).substr(0, std::string(file).size() - 10));
      if (t) *out = parse_blkio_v1(*t);
    }
  } else if (std::string d2 = controller_dir(hs, path, "io", &v2); !d2.empty()) {
    any = true;
    if (auto t = read_if_exists(d2 + "/io.stat")) parse_io_stat(*t, &s.io_service_bytes, &s.io_serviced);
  }

  // --- pids
  if (std::string d = controller_dir(hs, path, "pids", &v2); !d.empty()) {
    any = true;
    s.pids_current = read_number(d + "/pids.current").value_or(0);
    s.pids_limit = read_number(d + "/pids.max").value_or(0);  // "max" → 0
  }
  if (!any) return fail("cgroup " + path + " not found in any hierarchy", ENOENT);
  return s;
}

// ---------------------------------------------------------------- sampling

Result<ContainerStats> sample_container_stats(Engine& e, const store::Container& c) {
  ContainerStats s;
  s.id = c.id;
  s.name = c.name;
  s.running = c.state == ContainerState::kRunning || c.state == ContainerState::kPaused;
  if (!s.running) return s;
  s.read_ns = store::now_unix_nanos();
  long ticks = ::sysconf(_SC_CLK_TCK);
  auto hs = TRY(cgroups::host_hierarchies());
  auto cg = read_cgroup_sample(cgroup_path_of(e, c.id), *hs, ticks);
  if (!cg) {
    // The container may have exited since the row was read: a zero sample then.
    if (c.pid > 0 && !process_alive(c.pid, c.pid_start_time)) {
      s.running = false;
      s.read_ns = 0;
      return s;
    }
    return std::unexpected(cg.error());
  }
  s.cg = std::move(*cg);
  if (auto t = read_if_exists("/proc/stat")) std::tie(s.system_cpu_ns, s.online_cpus) = parse_proc_stat(*t, ticks);
  s.host_mem_total = host_mem_total();
  // Docker shows no networks for --network host (the container has no interfaces of its own).
  if (c.pid > 0 && c.host_config.value("NetworkMode", "") != "host")
    if (auto t = read_if_exists("/proc/" + std::to_string(c.pid) + "/net/dev")) s.networks = parse_net_dev(*t);
  return s;
}

// ---------------------------------------------------------------- numbers

double cpu_percent(uint64_t prev_container_ns, uint64_t prev_system_ns, uint64_t container_ns, uint64_t system_ns,
                   uint32_t online_cpus) {
  double cpu_delta = double(container_ns) - double(prev_container_ns);
  double system_delta = double(system_ns) - double(prev_system_ns);
  if (system_delta > 0.0 && cpu_delta > 0.0) return (cpu_delta / system_delta) * double(online_cpus) * 100.0;
  return 0.0;
}

uint64_t memory_usage_no_cache(const CgroupSample& s) {
  if (auto it = s.mem_stat.find("total_inactive_file"); it != s.mem_stat.end() && it->second < s.mem_usage)
    return s.mem_usage - it->second;  // cgroup v1
  auto it = s.mem_stat.find("inactive_file");
  uint64_t inactive = it == s.mem_stat.end() ? 0 : it->second;  // Go: a missing key reads 0
  if (inactive < s.mem_usage) return s.mem_usage - inactive;
  return s.mem_usage;
}

namespace {
uint64_t memory_limit_of(const ContainerStats& s) {
  uint64_t limit = s.cg.mem_limit;
  if (s.host_mem_total && (limit == 0 || limit > s.host_mem_total)) limit = s.host_mem_total;
  return limit;
}
}  // namespace

StatsEntry stats_entry(const ContainerStats& prev, const ContainerStats& cur) {
  StatsEntry e;
  e.id = cur.id;
  e.name = cur.name;
  if (!cur.running) return e;
  uint32_t cpus = cur.online_cpus ? cur.online_cpus : uint32_t(cur.cg.percpu_ns.size());
  if (prev.running) e.cpu_percent = cpu_percent(prev.cg.cpu_total_ns, prev.system_cpu_ns, cur.cg.cpu_total_ns, cur.system_cpu_ns, cpus);
  e.memory = double(memory_usage_no_cache(cur.cg));
  e.memory_limit = double(memory_limit_of(cur));
  if (e.memory_limit != 0) e.memory_percent = e.memory / e.memory_limit * 100.0;
  for (auto& [name, n] : cur.networks) {
    e.net_rx += double(n.rx_bytes);
    e.net_tx += double(n.tx_bytes);
  }
  for (auto& b : cur.cg.io_service_bytes) {
    if (b.op.empty()) continue;
    char c = b.op[0];
    if (c == 'r' || c == 'R') e.block_read += double(b.value);
    else if (c == 'w' || c == 'W') e.block_write += double(b.value);
  }
  e.pids = cur.cg.pids_current;
  return e;
}

namespace {
std::string custom_size(const char* fmt, int precision, double size, double base, const char* const* units, int n) {
  int i = 0;
  while (size >= base && i < n - 1) {
    size /= base;
    ++i;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, precision, size, units[i]);
  return buf;
}
const char* const kDecimal[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
const char* const kBinary[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};

std::string percent(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f%%", v);
  return buf;
}
}  // namespace

std::string human_size_precision(double bytes, int precision) {
  return custom_size("%.*g%s", precision, bytes, 1000.0, kDecimal, 9);
}

std::string binary_size(double bytes) { return custom_size("%.*g%s", 4, bytes, 1024.0, kBinary, 9); }

json stats_row(const StatsEntry& s, const std::string& container, bool trunc) {
  return {
      {"Container", container},
      {"ID", trunc ? store::short_id(s.id) : s.id},
      {"Name", s.name.empty() ? "--" : s.name},
      {"CPUPerc", percent(s.cpu_percent)},
      {"MemUsage", binary_size(s.memory) + " / " + binary_size(s.memory_limit)},
      {"MemPerc", percent(s.memory_percent)},
      {"NetIO", human_size_precision(s.net_rx, 3) + " / " + human_size_precision(s.net_tx, 3)},
      {"BlockIO", human_size_precision(s.block_read, 3) + " / " + human_size_precision(s.block_write, 3)},
      {"PIDs", std::to_string(s.pids)},
  };
}

json stats_api_json(const ContainerStats& cur, const ContainerStats& prev) {
  json j;
  j["read"] = rfc3339_nano(cur.read_ns);
  j["preread"] = rfc3339_nano(prev.running ? prev.read_ns : 0);
  json pids = json::object();
  if (cur.running) {
    pids["current"] = cur.cg.pids_current;
    if (cur.cg.pids_limit) pids["limit"] = cur.cg.pids_limit;
  }
  j["pids_stats"] = pids;
  j["blkio_stats"] = {{"io_service_bytes_recursive", blkio_json(cur.cg.io_service_bytes)},
                      {"io_serviced_recursive", blkio_json(cur.cg.io_serviced)},
                      {"io_queue_recursive", nullptr},
                      {"io_service_time_recursive", nullptr},
                      {"io_wait_time_recursive", nullptr},
                      {"io_merged_recursive", nullptr},
                      {"io_time_recursive", nullptr},
                      {"sectors_recursive", nullptr}};
  j["num_procs"] = 0;
  j["storage_stats"] = json::object();
  j["cpu_stats"] = cpu_json(cur);
  j["precpu_stats"] = prev.running ? cpu_json(prev) : cpu_json(ContainerStats{});
  json mem = json::object();
  if (cur.running) {
    mem["usage"] = cur.cg.mem_usage;
    if (!cur.cg.v2_memory) {
      mem["max_usage"] = cur.cg.mem_max_usage;
      mem["failcnt"] = cur.cg.mem_failcnt;
    }
    json st = json::object();
    for (auto& [k, v] : cur.cg.mem_stat) st[k] = v;
    mem["stats"] = st;
    mem["limit"] = memory_limit_of(cur);
  }
  j["memory_stats"] = mem;
  j["name"] = "/" + cur.name;
  j["id"] = cur.id;
  if (!cur.networks.empty()) {
    json nets = json::object();
    for (auto& [name, n] : cur.networks)
      nets[name] = {{"rx_bytes", n.rx_bytes}, {"rx_packets", n.rx_packets}, {"rx_errors", n.rx_errors},
                    {"rx_dropped", n.rx_dropped}, {"tx_bytes", n.tx_bytes}, {"tx_packets", n.tx_packets},
                    {"tx_errors", n.tx_errors}, {"tx_dropped", n.tx_dropped}};
    j["networks"] = nets;
  }
  return j;
}

}  // namespace md::engine
