// cgroup v2: one tree, controllers enabled per level in cgroup.subtree_control.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>

#include "base/explain.h"
#include "cgroups/cgroup_internal.h"

namespace md::cgroups {

uint64_t shares_to_weight(uint64_t shares) {
  shares = std::clamp<uint64_t>(shares, 2, 262144);
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t blkio_weight_to_io_weight(uint64_t weight) {
  weight = std::clamp<uint64_t>(weight, 10, 1000);
  return 1 + ((weight - 10) * 9999) / 990;
}

namespace v2 {

using internal::IfMissing;

namespace {

std::string str(int64_t v) { return std::to_string(v); }
std::string limit_text(int64_t v) { return v < 0 ? "max" : str(v); }
std::string dev(int64_t major, int64_t minor) { return str(major) + ":" + str(minor); }

}  // namespace

Status apply_memory(const Node& n, const oci::MemoryResources& m) {
  if (m.limit) TRY(n.write("memory.max", limit_text(*m.limit)));
  // OCI's swap is memory+swap (the v1 memsw meaning); v2's memory.swap.max is swap alone.
  std::optional<std::string> swap_max;
  std::optional<int64_t> swap = m.swap;
  if (swap == 0) swap.reset();  // 0 means unset, as in runc
  if (!swap) {
    if (m.limit == -1) swap_max = "max";  // "unlimited memory" means unlimited swap too
  } else if (*swap == -1) {
    swap_max = "max";
  } else if (!m.limit || *m.limit == -1) {
    return fail("cgroup: memory+swap limit " + str(*swap) + " needs a memory limit too", EINVAL);
  } else if (*swap < *m.limit) {
    return fail(
        "cgroup: memory+swap limit " + str(*swap) + " is below the memory limit " + str(*m.limit),
        EINVAL);
  } else {
    swap_max = str(*swap - *m.limit);
  }
  if (swap_max && !TRY(n.write("memory.swap.max", *swap_max, IfMissing::kSkip))) {
    if (*swap_max != "max" && *swap_max != "0")
      return fail("cgroup: memory+swap limit " + str(m.swap.value_or(0)) +
                      " needs swap accounting, which this host lacks (no memory.swap.max)",
                  ENOTSUP);
  }
  if (m.reservation) TRY(n.write("memory.low", limit_text(*m.reservation)));
  // kernel/kernelTCP limits, swappiness and the OOM-killer switch have no v2 files.
  if (Explain::enabled() && (m.kernel || m.kernel_tcp || m.swappiness || m.disable_oom_killer))
    Explain::note("cgroup v2 ignores memory kernel/kernelTCP/swappiness/disableOOMKiller");
  return {};
}

Status apply_cpu(const Node& n, const oci::CpuResources& c) {
  if (c.realtime_runtime || c.realtime_period)
    return fail("cgroup: cpu realtime runtime/period is not supported on cgroup v2", ENOTSUP);
  if (c.shares && *c.shares)
    TRY(n.write("cpu.weight", std::to_string(shares_to_weight(*c.shares))));
  if (c.quota || c.period) {
    std::string quota;
    if (c.quota) {
      quota = *c.quota > 0 ? str(*c.quota) : "max";
    } else {  // keep the current quota, change only the period
      auto words = internal::split_words(TRY(n.read("cpu.max")));
      quota = words.empty() ? "max" : words[0];
    }
    std::string value = quota;
    if (c.period) value.append(" ").append(std::to_string(*c.period));
    TRY(n.write("cpu.max", value));
  }
  if (c.idle) TRY(n.write("cpu.idle", str(*c.idle)));
  return {};
}

Status apply_cpuset(const Node& n, const oci::CpuResources& c) {
  if (!c.cpus.empty()) TRY(n.write("cpuset.cpus", c.cpus));
  if (!c.mems.empty()) TRY(n.write("cpuset.mems", c.mems));
  return {};
}

Status apply_pids(const Node& n, int64_t limit) {
  return internal::to_status(n.write("pids.max", limit > 0 ? str(limit) : "max"));
}

Status apply_io(const Node& n, const oci::BlockIoResources& b) {
  // With BFQ, io.bfq.weight takes the v1 scale (1..1000) directly; io.weight is 1..10000.
  const bool bfq = n.exists("io.bfq.weight");
  auto weight = [&](const std::string& prefix, uint16_t w) -> Status {
    if (bfq) return internal::to_status(n.write("io.bfq.weight", prefix + std::to_string(w)));
    std::string value = prefix + std::to_string(blkio_weight_to_io_weight(w));
    if (!TRY(n.write("io.weight", value, IfMissing::kSkip)))
      return fail("cgroup: blkio weight " + std::to_string(w) +
                      " is not supported by this host (no io.weight or io.bfq.weight)",
                  ENOTSUP);
    return {};
  };
  if (b.weight) TRY(weight("", *b.weight));
  for (const auto& d : b.weight_device)
    if (d.weight) TRY(weight(dev(d.major, d.minor) + " ", *d.weight));
  const std::pair<const char*, const std::vector<oci::BlockIoDeviceRate>*> throttles[] = {
      {"rbps", &b.throttle_read_bps},
      {"wbps", &b.throttle_write_bps},
      {"riops", &b.throttle_read_iops},
      {"wiops", &b.throttle_write_iops}};
  for (const auto& [key, rates] : throttles)
    for (const auto& r : *rates)
      TRY(n.write("io.max", dev(r.major, r.minor) + " " + key + "=" + std::to_string(r.rate)));
  return {};
}

Status apply_hugetlb(const Node& n, const std::vector<oci::HugepageLimit>& limits) {
  for (const auto& l : limits) {
    std::string file = "hugetlb." + l.page_size + ".max";
    if (!TRY(n.write(file, std::to_string(l.limit), IfMissing::kSkip)))
      return fail("cgroup: hugepage size " + l.page_size + " is not supported by this host (no " +
                      file + ")",
                  EINVAL);
  }
  return {};
}

Status apply_unified(const Node& n, const std::map<std::string, std::string>& unified) {
  for (const auto& [key, value] : unified) {
    if (key.empty() || key.find('/') != std::string::npos || key[0] == '.')
      return fail("cgroup: unified key \"" + key + "\" is not a cgroup file name", EINVAL);
    if (!n.exists(key))
      return fail("cgroup: unified key " + key + ": no such file in " + n.dir +
                      " (is its controller enabled?)",
                  ENOENT);
    TRY(n.write(key, value));
  }
  return {};
}

Status enable_controllers(int parent_fd, const std::string& parent_dir,
                          const std::vector<std::string>& wanted,
                          const std::vector<std::string>& available) {
  std::vector<std::string> enabled =
      internal::split_words(TRY(internal::read_file(parent_fd, "cgroup.subtree_control")));
  for (auto& e : enabled)
    if (!e.empty() && e[0] == '+') e.erase(0, 1);
  std::vector<std::string> missing;
  for (const auto& c : wanted)
    if (internal::contains(available, c) && !internal::contains(enabled, c)) missing.push_back(c);
  if (missing.empty()) return {};
  std::string all;
  for (const auto& c : missing) all += (all.empty() ? "+" : " +") + c;
  if (internal::write_file(parent_fd, parent_dir, "cgroup.subtree_control", all)) return {};
  // One at a time, so one refusal (say cpu, with realtime tasks in the parent) does not
  // block the others. A controller left off shows up later as a missing file.
  for (const auto& c : missing) {
    auto r = internal::write_file(parent_fd, parent_dir, "cgroup.subtree_control", "+" + c);
    if (!r && Explain::enabled()) Explain::note(r.error().message);
  }
  return {};
}

Status set_frozen(const Node& n, bool frozen) {
  TRY(n.write("cgroup.freeze", frozen ? "1" : "0"));
  if (!frozen) return {};
  // The kernel flips "frozen 1" in cgroup.events once every task has stopped, and wakes
  // pollers (POLLPRI) when it does.
  UniqueFd events(::openat(n.fd.get(), "cgroup.events", O_RDONLY | O_CLOEXEC));
  if (!events) return fail("cgroup: read cgroup.events: " + internal::errno_text(errno), errno);
  for (int waited = 0;;) {
    char buf[256];
    ssize_t len = ::pread(events.get(), buf, sizeof buf - 1, 0);
    if (len < 0) return fail("cgroup: read cgroup.events: " + internal::errno_text(errno), errno);
    buf[len] = 0;
    std::string_view text(buf, static_cast<size_t>(len));
    if (text.find("frozen 1") != std::string_view::npos) return {};
    if (waited >= 2000) {
      (void)n.write("cgroup.freeze", "0");
      return fail("cgroup: freeze " + n.dir + ": not frozen after 2 s", ETIMEDOUT);
    }
    struct pollfd p = {events.get(), POLLPRI, 0};
    ::poll(&p, 1, 10);
    waited += 10;
  }
}

Result<bool> is_frozen(const Node& n) {
  std::string events = TRY(n.read("cgroup.events"));
  return events.find("frozen 1") != std::string::npos;
}

}  // namespace v2
}  // namespace md::cgroups
