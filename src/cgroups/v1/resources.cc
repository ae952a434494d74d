// cgroup v1: one hierarchy per controller, files named <controller>.<knob>.
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "cgroups/cgroup_internal.h"

namespace md::cgroups::v1 {

using internal::IfMissing;

namespace {

std::string str(int64_t v) { return std::to_string(v); }

std::string dev(int64_t major, int64_t minor) { return str(major) + ":" + str(minor); }

void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, nullptr);
}

// The kernel rejects limits it no longer implements with ENOTSUPP (524) or EOPNOTSUPP.
bool is_unsupported(int err) { return err == 524 || err == EOPNOTSUPP; }

}  // namespace

Status apply_memory(const Node& n, const oci::MemoryResources& m) {
  std::optional<int64_t> limit = m.limit, swap = m.swap;
  const bool memsw = n.exists("memory.memsw.limit_in_bytes");
  // An unlimited memory limit with no swap value means "both unlimited", as in runc;
  // otherwise the old memsw limit would keep capping memory.
  if (limit == -1 && !swap && memsw) swap = -1;
  if (swap && !memsw) {
    if (*swap == -1 || (limit && *swap == *limit)) {
      swap.reset();  // nothing to enforce
    } else {
      return fail("cgroup: memory+swap limit " + str(*swap) +
                      " needs swap accounting, which this host lacks "
                      "(no memory.memsw.limit_in_bytes; boot with swapaccount=1)",
                  ENOTSUP);
    }
  }
  if (limit && swap && *limit != -1 && *swap != -1 && *swap < *limit)
    return fail(
        "cgroup: memory+swap limit " + str(*swap) + " is below the memory limit " + str(*limit),
        EINVAL);
  if (limit && swap) {
    // The kernel keeps memsw >= limit at every moment: when the new memsw is above the
    // current limit (growing), write memsw first; when shrinking, the limit first.
    std::string cur = TRY(n.read("memory.limit_in_bytes"));
    bool grows =
        *swap == -1 || std::strtoull(cur.c_str(), nullptr, 10) < static_cast<uint64_t>(*swap);
    if (grows) {
      TRY(n.write("memory.memsw.limit_in_bytes", str(*swap)));
      TRY(n.write("memory.limit_in_bytes", str(*limit)));
    } else {
      TRY(n.write("memory.limit_in_bytes", str(*limit)));
      TRY(n.write("memory.memsw.limit_in_bytes", str(*swap)));
    }
  } else if (limit) {
    TRY(n.write("memory.limit_in_bytes", str(*limit)));
  } else if (swap) {
    TRY(n.write("memory.memsw.limit_in_bytes", str(*swap)));
  }
  if (m.reservation) TRY(n.write("memory.soft_limit_in_bytes", str(*m.reservation)));
  // Kernel memory limits are deprecated (gone in v2, ENOTSUPP on new kernels): best effort.
  const std::pair<const char*, const std::optional<int64_t>*> kmem[] = {
      {"memory.kmem.limit_in_bytes", &m.kernel}, {"memory.kmem.tcp.limit_in_bytes", &m.kernel_tcp}};
  for (const auto& [file, value] : kmem) {
    if (!*value) continue;
    auto r = n.write(file, str(**value), IfMissing::kSkip);
    if (!r && !is_unsupported(r.error().errno_value)) return std::unexpected(r.error());
  }
  if (m.swappiness) {
    if (*m.swappiness > 100)
      return fail(
          "cgroup: memory swappiness " + std::to_string(*m.swappiness) + " is out of range 0..100",
          EINVAL);
    TRY(n.write("memory.swappiness", std::to_string(*m.swappiness)));
  }
  if (m.disable_oom_killer.value_or(false)) TRY(n.write("memory.oom_control", "1"));
  return {};
}

Status apply_cpu(const Node& n, const oci::CpuResources& c) {
  if (c.shares) TRY(n.write("cpu.shares", std::to_string(*c.shares)));
  if (c.period) {
    auto r = n.write("cpu.cfs_period_us", std::to_string(*c.period));
    // A shorter period can make old_quota/new_period exceed the parent's share (EINVAL):
    // then set the quota first and retry the period.
    if (!r && r.error().errno_value == EINVAL && c.quota) {
      TRY(n.write("cpu.cfs_quota_us", str(*c.quota)));
      TRY(n.write("cpu.cfs_period_us", std::to_string(*c.period)));
    } else if (!r) {
      return std::unexpected(r.error());
    } else if (c.quota) {
      TRY(n.write("cpu.cfs_quota_us", str(*c.quota)));
    }
  } else if (c.quota) {
    TRY(n.write("cpu.cfs_quota_us", str(*c.quota)));
  }
  // The realtime period must be in place before the runtime that fits in it.
  if (c.realtime_period) TRY(n.write("cpu.rt_period_us", std::to_string(*c.realtime_period)));
  if (c.realtime_runtime) TRY(n.write("cpu.rt_runtime_us", str(*c.realtime_runtime)));
  if (c.idle) TRY(n.write("cpu.idle", str(*c.idle)));
  return {};
}

Status apply_cpuset(const Node& n, const oci::CpuResources& c) {
  if (!c.cpus.empty()) TRY(n.write("cpuset.cpus", c.cpus));
  if (!c.mems.empty()) TRY(n.write("cpuset.mems", c.mems));
  return {};
}

Status copy_cpuset_from_parent(int parent_fd, int child_fd, const std::string& child_dir) {
  for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
    if (!TRY(internal::read_file(child_fd, file)).empty()) continue;  // already usable
    std::string value = TRY(internal::read_file(parent_fd, file));
    if (!value.empty()) TRY(internal::write_file(child_fd, child_dir, file, value));
  }
  return {};
}

Status apply_pids(const Node& n, int64_t limit) {
  return internal::to_status(n.write("pids.max", limit > 0 ? str(limit) : "max"));
}

Status apply_blkio(const Node& n, const oci::BlockIoResources& b) {
  // Plain blkio.weight exists with CFQ; with BFQ the knobs are blkio.bfq.*; with other
  // schedulers there is no weight at all.
  auto write_either = [&](const char* file, const char* bfq_file,
                          const std::string& value) -> Status {
    if (TRY(n.write(file, value, IfMissing::kSkip))) return {};
    if (TRY(n.write(bfq_file, value, IfMissing::kSkip))) return {};
    return fail(std::string("cgroup: blkio weight ") + value +
                    " is not supported by this host (no " + file + " or " + bfq_file +
                    "; the I/O scheduler has no weights)",
                ENOTSUP);
  };
  if (b.weight) TRY(write_either("blkio.weight", "blkio.bfq.weight", std::to_string(*b.weight)));
  if (b.leaf_weight) TRY(n.write("blkio.leaf_weight", std::to_string(*b.leaf_weight)));
  for (const auto& d : b.weight_device) {
    if (d.weight)
      TRY(write_either("blkio.weight_device", "blkio.bfq.weight_device",
                       dev(d.major, d.minor) + " " + std::to_string(*d.weight)));
    if (d.leaf_weight)
      TRY(n.write("blkio.leaf_weight_device",
                  dev(d.major, d.minor) + " " + std::to_string(*d.leaf_weight)));
  }
  const std::pair<const char*, const std::vector<oci::BlockIoDeviceRate>*> throttles[] = {
      {"blkio.throttle.read_bps_device", &b.throttle_read_bps},
      {"blkio.throttle.write_bps_device", &b.throttle_write_bps},
      {"blkio.throttle.read_iops_device", &b.throttle_read_iops},
      {"blkio.throttle.write_iops_device", &b.throttle_write_iops}};
  for (const auto& [file, rates] : throttles)
    for (const auto& r : *rates)
      TRY(n.write(file, dev(r.major, r.minor) + " " + std::to_string(r.rate)));
  return {};
}

Status apply_hugetlb(const Node& n, const std::vector<oci::HugepageLimit>& limits) {
  for (const auto& l : limits) {
    std::string file = "hugetlb." + l.page_size + ".limit_in_bytes";
    if (!TRY(n.write(file, std::to_string(l.limit), IfMissing::kSkip)))
      return fail("cgroup: hugepage size " + l.page_size + " is not supported by this host (no " +
                      file + ")",
                  EINVAL);
  }
  return {};
}

std::string device_rule_text(const oci::DeviceCgroupRule& r) {
  std::string s(1, r.type);
  s += ' ';
  s += r.major ? std::to_string(*r.major) : "*";
  s += ':';
  s += r.minor ? std::to_string(*r.minor) : "*";
  s += ' ';
  s += r.access.empty() ? "rwm" : r.access;
  return s;
}

Status apply_devices(const Node& n, const std::vector<oci::DeviceCgroupRule>& rules) {
  // Rules apply in order, as the kernel does: "a" resets to allow-all (allow) or deny-all
  // (deny, the usual first rule), later rules punch holes or close them again.
  for (const auto& r : rules)
    TRY(n.write(r.allow ? "devices.allow" : "devices.deny", device_rule_text(r)));
  return {};
}

Status set_frozen(const Node& n, bool frozen) {
  if (!frozen) return internal::to_status(n.write("freezer.state", "THAWED"));
  // FREEZING until every task has stopped; rewriting FROZEN nudges tasks that were
  // forking or waking when the first request came.
  TRY(n.write("freezer.state", "FROZEN"));
  long waited = 0, delay = 1;
  for (int i = 1;; ++i) {
    std::string state = TRY(n.read("freezer.state"));
    if (state == "FROZEN") return {};
    if (waited >= 2000) {
      (void)n.write("freezer.state", "THAWED");
      return fail("cgroup: freeze " + n.dir + ": still " + state + " after 2 s", ETIMEDOUT);
    }
    sleep_ms(delay);
    waited += delay;
    delay = std::min(delay * 2, 20L);
    if (i % 10 == 0) TRY(n.write("freezer.state", "FROZEN"));
  }
}

Result<bool> is_frozen(const Node& n) {
  std::string state = TRY(n.read("freezer.state"));
  return state == "FROZEN";
}

}  // namespace md::cgroups::v1
