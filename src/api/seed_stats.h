// Resource numbers for the seeds' API: GET …/stats, the WebSocket's status_update and
// /metrics. CPU % needs two samples; the last sample of every container is kept here
// (process-wide, mutex-protected), so successive calls from any thread measure the time
// between them. A first call (or one after a long gap) takes two samples 100 ms apart.
#pragma once

#include <nlohmann/json.hpp>

#include "engine/core/engine.h"
#include "engine/core/stats.h"

namespace md::api {

struct SeedStats {
  engine::StatsEntry entry;       // cpu %, memory, net, block, pids
  engine::ContainerStats sample;  // the raw sample (counters for /metrics)
};

// Errors: the kernel files of a running container could not be read.
Result<SeedStats> seed_sample(engine::Engine& e, const store::Container& c);

// {"cpu_percent","memory_usage","memory_limit","memory_percent","pids","net_rx","net_tx",
//  "block_read","block_write","time"}
nlohmann::json seed_stats_json(const SeedStats& s);

// Forgets the samples of containers not in `ids` (so the cache does not grow forever).
void seed_stats_retain(const std::vector<std::string>& ids);

}  // namespace md::api
