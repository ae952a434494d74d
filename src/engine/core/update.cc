#include "engine/core/update.h"

#include <set>

#include "base/explain.h"
#include "base/file_util.h"
#include "engine/core/container_config.h"
#include "engine/core/containers.h"
#include "engine/store/container_lock.h"
#include "oci/spec.h"
#include "runtime/container.h"

namespace md::engine {

using nlohmann::json;
using store::ContainerState;

namespace {

int64_t num(const json& j, const char* k) {
  return j.contains(k) && j[k].is_number() ? j[k].get<int64_t>() : 0;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string read_online(const std::string& path) {
  auto t = read_file(path);
  return t ? trim(*t) : "";
}

// Docker's cpuset check: well-formed, and every CPU (node) requested is available.
Status check_cpuset(const std::string& value, const std::string& available, const char* what, const char* avail_what) {
  if (value.empty()) return {};
  auto req = parse_cpu_list(value);
  if (!req) return fail("Invalid value " + value + " for cpuset " + what, EINVAL);
  if (available.empty()) return {};
  auto have = parse_cpu_list(available);
  if (!have) return {};
  std::set<int> ok(have->begin(), have->end());
  for (int c : *req)
    if (!ok.count(c))
      return fail(std::string("Requested ") + avail_what + " are not available - requested " + value +
                      ", available: " + available,
                  EINVAL);
  return {};
}

// linux.resources.{memory,cpu,pids} of config.json from a HostConfig: the same rules as
// spec_builder.cc, so a restart by the monitor runs with the updated limits.
void patch_spec_resources(json& resources, const json& hc) {
  resources.erase("memory");
  resources.erase("cpu");
  resources.erase("pids");
  json memory = json::object();
  int64_t mem = num(hc, "Memory"), swap = num(hc, "MemorySwap");
  if (mem > 0) {
    memory["limit"] = mem;
    memory["swap"] = swap == 0 ? mem * 2 : swap;
  }
  if (int64_t r = num(hc, "MemoryReservation"); r > 0) memory["reservation"] = r;
  if (!memory.empty()) resources["memory"] = memory;
  json cpu = json::object();
  if (int64_t nano = num(hc, "NanoCpus"); nano > 0) {
    cpu["period"] = 100000;
    cpu["quota"] = nano * 100000 / 1000000000;
  }
  if (int64_t q = num(hc, "CpuQuota"); q > 0) cpu["quota"] = q;
  if (int64_t p = num(hc, "CpuPeriod"); p > 0) cpu["period"] = p;
  if (int64_t s = num(hc, "CpuShares"); s > 0) cpu["shares"] = s;
  if (std::string set = hc.value("CpusetCpus", ""); !set.empty()) cpu["cpus"] = set;
  if (std::string set = hc.value("CpusetMems", ""); !set.empty()) cpu["mems"] = set;
  if (!cpu.empty()) resources["cpu"] = cpu;
  if (int64_t p = num(hc, "PidsLimit"); p > 0) resources["pids"] = {{"limit", p}};
}

// The cgroup writes for what `r` changes, with the merged values `hc`.
oci::Resources live_resources(const UpdateRequest& r, const json& hc) {
  oci::Resources res;
  if (r.memory || r.memory_swap || r.memory_reservation) {
    oci::MemoryResources m;
    int64_t mem = num(hc, "Memory"), swap = num(hc, "MemorySwap");
    if (mem > 0) {
      m.limit = mem;
      m.swap = swap == 0 ? mem * 2 : swap;
    }
    if (r.memory_reservation) m.reservation = num(hc, "MemoryReservation");
    res.memory = m;
  }
  if (r.nano_cpus || r.cpu_quota || r.cpu_period || r.cpu_shares || !r.cpuset_cpus.empty() || !r.cpuset_mems.empty()) {
    oci::CpuResources c;
    if (r.nano_cpus) {
      c.period = 100000;
      c.quota = r.nano_cpus * 100000 / 1000000000;
    }
    if (r.cpu_quota) c.quota = r.cpu_quota;
    if (r.cpu_period) c.period = uint64_t(r.cpu_period);
    if (r.cpu_shares) c.shares = uint64_t(r.cpu_shares);
    c.cpus = r.cpuset_cpus;
    c.mems = r.cpuset_mems;
    res.cpu = c;
  }
  if (r.pids_limit) res.pids_limit = *r.pids_limit > 0 ? *r.pids_limit : 0;  // ≤ 0: "max"
  return res;
}

}  // namespace

std::optional<std::vector<int>> parse_cpu_list(const std::string& s) {
  std::vector<int> out;
  if (s.empty()) return out;
  size_t i = 0;
  auto number = [&](int* v) {
    size_t start = i;
    long n = 0;
    while (i < s.size() && isdigit(static_cast<unsigned char>(s[i]))) {
      n = n * 10 + (s[i] - '0');
      if (n > 1 << 20) return false;
      ++i;
    }
    *v = int(n);
    return i > start;
  };
  for (;;) {
    int a = 0, b = 0;
    if (!number(&a)) return std::nullopt;
    b = a;
    if (i < s.size() && s[i] == '-') {
      ++i;
      if (!number(&b) || b < a) return std::nullopt;
    }
    for (int c = a; c <= b; ++c) out.push_back(c);
    if (i == s.size()) break;
    if (s[i] != ',') return std::nullopt;
    ++i;
  }
  return out;
}

Result<UpdateRequest> parse_update_body(const json& body) {
  if (!body.is_object()) return fail("update body must be a JSON object", EINVAL);
  UpdateRequest r;
  auto get = [&](const char* k, int64_t* out) -> Status {
    if (!body.contains(k) || body[k].is_null()) return {};
    if (!body[k].is_number_integer()) return fail(std::string("json: cannot unmarshal ") + k + " into an integer", EINVAL);
    *out = body[k].get<int64_t>();
    return {};
  };
  TRY(get("Memory", &r.memory));
  TRY(get("MemorySwap", &r.memory_swap));
  TRY(get("MemoryReservation", &r.memory_reservation));
  TRY(get("NanoCpus", &r.nano_cpus));
  TRY(get("CpuShares", &r.cpu_shares));
  TRY(get("CpuQuota", &r.cpu_quota));
  TRY(get("CpuPeriod", &r.cpu_period));
  if (body.contains("CpusetCpus") && body["CpusetCpus"].is_string()) r.cpuset_cpus = body["CpusetCpus"];
  if (body.contains("CpusetMems") && body["CpusetMems"].is_string()) r.cpuset_mems = body["CpusetMems"];
  if (body.contains("PidsLimit") && body["PidsLimit"].is_number_integer()) r.pids_limit = body["PidsLimit"].get<int64_t>();
  if (body.contains("RestartPolicy") && body["RestartPolicy"].is_object() &&
      !body["RestartPolicy"].value("Name", "").empty())
    r.restart_policy = body["RestartPolicy"];
  return r;
}

Status validate_update(const UpdateRequest& r, int cpus, const std::string& online) {
  const int64_t kMin = 6 * 1024 * 1024;
  if (r.memory != 0 && r.memory < kMin) return fail("Minimum memory limit allowed is 6MB", EINVAL);
  if (r.memory > 0 && r.memory_swap > 0 && r.memory_swap < r.memory)
    return fail("Minimum memoryswap limit should be larger than memory limit, see usage", EINVAL);
  if (r.memory_reservation != 0 && r.memory_reservation < kMin)
    return fail("Minimum memory reservation allowed is 6MB", EINVAL);
  if (r.memory > 0 && r.memory_reservation > 0 && r.memory < r.memory_reservation)
    return fail("Minimum memory limit can not be less than memory reservation limit, see usage", EINVAL);
  if (r.nano_cpus > 0 && r.cpu_period > 0)
    return fail("Conflicting options: Nano CPUs and CPU Period cannot both be set", EINVAL);
  if (r.nano_cpus > 0 && r.cpu_quota > 0)
    return fail("Conflicting options: Nano CPUs and CPU Quota cannot both be set", EINVAL);
  if (r.nano_cpus < 0 || r.nano_cpus > int64_t(cpus) * 1000000000)
    return fail("Range of CPUs is from 0.01 to " + std::to_string(cpus) + ".00, as there are only " +
                    std::to_string(cpus) + " CPUs available",
                EINVAL);
  if (r.cpu_period != 0 && (r.cpu_period < 1000 || r.cpu_period > 1000000))
    return fail("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1 second (i.e. 1000000)", EINVAL);
  if (r.cpu_quota > 0 && r.cpu_quota < 1000)
    return fail("CPU cfs quota can not be less than 1ms (i.e. 1000)", EINVAL);
  if (r.cpu_shares < 0) return fail("invalid CPU shares: " + std::to_string(r.cpu_shares), EINVAL);
  TRY(check_cpuset(r.cpuset_cpus, online, "cpus", "CPUs"));
  TRY(check_cpuset(r.cpuset_mems, read_online("/sys/devices/system/node/online"), "mems", "memory nodes"));
  if (r.restart_policy) {
    const json& rp = *r.restart_policy;
    std::string name = rp.value("Name", "");
    int retries = rp.value("MaximumRetryCount", 0);
    static const std::set<std::string> kPolicies = {"no", "always", "unless-stopped", "on-failure"};
    if (!kPolicies.count(name)) return fail("invalid restart policy '" + name + "'", EINVAL);
    if (name != "on-failure" && retries != 0)
      return fail("invalid restart policy: maximum retry count can only be used with 'on-failure'", EINVAL);
    if (retries < 0) return fail("invalid restart policy: maximum retry count cannot be negative", EINVAL);
  }
  return {};
}

Status merge_update(json& hc, const UpdateRequest& r) {
  auto conflict = [](const std::string& m) { return fail(m, EINVAL); };
  if (r.nano_cpus > 0 && num(hc, "CpuPeriod") > 0)
    return conflict("Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set");
  if (r.nano_cpus > 0 && num(hc, "CpuQuota") > 0)
    return conflict("Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set");
  if (r.cpu_period > 0 && num(hc, "NanoCpus") > 0)
    return conflict("Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set");
  if (r.cpu_quota > 0 && num(hc, "NanoCpus") > 0)
    return conflict("Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set");
  if (r.cpu_shares) hc["CpuShares"] = r.cpu_shares;
  if (r.nano_cpus) hc["NanoCpus"] = r.nano_cpus;
  if (r.cpu_period) hc["CpuPeriod"] = r.cpu_period;
  if (r.cpu_quota) hc["CpuQuota"] = r.cpu_quota;
  if (!r.cpuset_cpus.empty()) hc["CpusetCpus"] = r.cpuset_cpus;
  if (!r.cpuset_mems.empty()) hc["CpusetMems"] = r.cpuset_mems;
  if (r.memory) {
    // An explicit swap limit below the new memory limit: Docker's conflict. (A swap left
    // at its default, stored as 0, follows the memory limit: see update.h.)
    int64_t swap = num(hc, "MemorySwap");
    if (swap > 0 && r.memory > swap && r.memory_swap == 0)
      return conflict(
          "Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time");
    hc["Memory"] = r.memory;
  }
  if (r.memory_swap) hc["MemorySwap"] = r.memory_swap;
  if (r.memory_reservation) hc["MemoryReservation"] = r.memory_reservation;
  if (r.pids_limit) {
    if (*r.pids_limit > 0) hc["PidsLimit"] = *r.pids_limit;
    else hc["PidsLimit"] = nullptr;  // unlimited
  }
  int64_t mem = num(hc, "Memory"), swap = num(hc, "MemorySwap");
  if (swap > 0 && mem == 0)
    return conflict("You should always set the Memory limit when using Memoryswap limit, see usage");
  if (swap > 0 && swap < mem)
    return conflict("Minimum memoryswap limit should be larger than memory limit, see usage");
  if (int64_t res = num(hc, "MemoryReservation"); mem > 0 && res > mem)
    return conflict("Minimum memory limit can not be less than memory reservation limit, see usage");
  if (r.restart_policy) {
    std::string name = r.restart_policy->value("Name", "");
    if (hc.value("AutoRemove", false) && name != "no")
      return conflict("Restart policy cannot be updated because AutoRemove is enabled for the container");
    hc["RestartPolicy"] = {{"Name", name}, {"MaximumRetryCount", r.restart_policy->value("MaximumRetryCount", 0)}};
  }
  return {};
}

Result<std::vector<std::string>> update_container(Engine& e, const std::string& ref, const UpdateRequest& r) {
  TRY(validate_update(r, host_cpu_count(), read_online("/sys/devices/system/cpu/online")));
  std::string id = TRY(e.containers().resolve(ref));
  auto lock = TRY(store::ContainerLock::acquire(e.paths().root, id));
  store::Container c = TRY(refresh_locked(e, id));
  if (c.state == ContainerState::kRemoving || c.state == ContainerState::kDead)
    return fail("Cannot update container " + id + ": container is marked for removal and cannot be \"update\"", EINVAL);
  json hc = c.host_config;
  auto merged = merge_update(hc, r);
  if (!merged) return fail("Cannot update container " + id + ": " + merged.error().message, EINVAL);

  // Live: the cgroup now; the bundle's config.json for a restart by the monitor.
  if (c.state == ContainerState::kRunning || c.state == ContainerState::kPaused) {
    auto res = live_resources(r, hc);
    if (res.memory || res.cpu || res.pids_limit) {
      auto st = runtime::update_container(runtime::GlobalOptions{e.paths().runtime_root()}, id, res);
      if (!st) return fail("Cannot update container " + id + ": " + st.error().message, st.error().errno_value);
      Explain::step("update cgroup of " + c.name);
    }
  }
  std::string spec_path = e.paths().container_dir(id) + "/config.json";
  if (c.state != ContainerState::kCreated && c.state != ContainerState::kExited)
    if (auto text = read_file(spec_path)) {
      json spec = json::parse(*text, nullptr, false);
      if (spec.is_object() && spec.contains("linux") && spec["linux"].is_object()) {
        json& resources = spec["linux"]["resources"];
        if (!resources.is_object()) resources = json::object();
        patch_spec_resources(resources, hc);
        TRY(write_file_atomic(spec_path, spec.dump(), 0600));
      }
    }
  c = TRY(e.containers().update(id, [&](store::Container& row) -> Status {
    row.host_config = hc;
    return {};
  }));
  e.emit_container(c, "update");
  return std::vector<std::string>{};
}

}  // namespace md::engine
