// Two-sample resource numbers with a shared cache of the previous sample (seed_stats.h).
#include "api/seed_stats.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "engine/core/containers.h"

namespace md::api {
namespace {

std::mutex g_mu;
std::map<std::string, engine::ContainerStats> g_last;

constexpr int64_t kMaxAgeNs = 30LL * 1000000000;  // older than this: measure afresh

}  // namespace

Result<SeedStats> seed_sample(engine::Engine& e, const store::Container& c) {
  std::optional<engine::ContainerStats> prev;
  {
    std::lock_guard l(g_mu);
    if (auto it = g_last.find(c.id); it != g_last.end()) prev = it->second;
  }
  auto cur = TRY(engine::sample_container_stats(e, c));
  if (cur.running && (!prev || !prev->running || cur.read_ns - prev->read_ns > kMaxAgeNs || cur.read_ns <= prev->read_ns)) {
    prev = cur;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    cur = TRY(engine::sample_container_stats(e, c));
  }
  if (!prev) prev = cur;
  {
    std::lock_guard l(g_mu);
    g_last[c.id] = cur;
  }
  SeedStats out;
  out.entry = engine::stats_entry(*prev, cur);
  out.sample = std::move(cur);
  return out;
}

nlohmann::json seed_stats_json(const SeedStats& s) {
  const auto& x = s.entry;
  return {{"cpu_percent", x.cpu_percent},
          {"memory_usage", uint64_t(x.memory)},
          {"memory_limit", uint64_t(x.memory_limit)},
          {"memory_percent", x.memory_percent},
          {"pids", x.pids},
          {"net_rx", uint64_t(x.net_rx)},
          {"net_tx", uint64_t(x.net_tx)},
          {"block_read", uint64_t(x.block_read)},
          {"block_write", uint64_t(x.block_write)},
          {"time", engine::rfc3339_nano(s.sample.read_ns > 0 ? s.sample.read_ns : store::now_unix_nanos())}};
}

void seed_stats_retain(const std::vector<std::string>& ids) {
  std::lock_guard l(g_mu);
  std::erase_if(g_last, [&](const auto& kv) { return std::find(ids.begin(), ids.end(), kv.first) == ids.end(); });
}

}  // namespace md::api
