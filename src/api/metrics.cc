// GET /metrics: container resource usage and states in Prometheus text format 0.0.4
// (docs/api-seeds.md). Numbers come from the same kernel readings as `docker stats`
// (engine/core/stats.h): counters are the cgroup's and the netns' own totals, so
// Prometheus' rate() gives CPU and I/O rates; only running containers are sampled.
#include <map>

#include "api/http_util.h"
#include "api/metrics_format.h"
#include "engine/core/containers.h"
#include "engine/core/stats.h"

namespace md::api {
namespace {

using store::ContainerState;

const ContainerState kStates[] = {ContainerState::kCreated, ContainerState::kRestarting, ContainerState::kRunning,
                                  ContainerState::kPaused,  ContainerState::kExited,     ContainerState::kDead,
                                  ContainerState::kRemoving};

Response metrics(engine::Engine* e, const Request&) {
  (void)engine::reconcile_all(*e);
  store::ContainerFilter f;
  f.all = true;
  auto rows = e->containers().list(f);
  if (!rows) return error_response(rows.error());
  MetricFamily cpu{"minidocker_container_cpu_usage_seconds_total", "CPU time used by the container's processes.", "counter", {}};
  MetricFamily mem{"minidocker_container_memory_usage_bytes", "Memory used, without the page cache (as docker stats).", "gauge", {}};
  MetricFamily lim{"minidocker_container_memory_limit_bytes", "Memory limit (the host's memory when unlimited).", "gauge", {}};
  MetricFamily rx{"minidocker_container_network_receive_bytes_total", "Bytes received on the container's interfaces (lo excluded).", "counter", {}};
  MetricFamily tx{"minidocker_container_network_transmit_bytes_total", "Bytes sent on the container's interfaces (lo excluded).", "counter", {}};
  MetricFamily br{"minidocker_container_blkio_read_bytes_total", "Bytes read from block devices.", "counter", {}};
  MetricFamily bw{"minidocker_container_blkio_write_bytes_total", "Bytes written to block devices.", "counter", {}};
  MetricFamily pids{"minidocker_container_pids", "Processes (and threads) in the container's cgroup.", "gauge", {}};
  MetricFamily health{"minidocker_container_health_status", "1 healthy, 0 unhealthy (containers with a health check that has a result).", "gauge", {}};
  MetricFamily state{"minidocker_container_state", "1 for the state the container is in, 0 for the others.", "gauge", {}};
  MetricFamily count{"minidocker_containers", "Containers by state.", "gauge", {}};
  std::map<std::string, int> by_state;
  for (auto s : kStates) by_state[store::state_name(s)] = 0;
  for (auto& c : *rows) {
    std::vector<std::pair<std::string, std::string>> labels = {
        {"id", c.id}, {"name", c.name}, {"image", c.config.value("Image", c.image)}};
    ++by_state[store::state_name(c.state)];
    for (auto s : kStates) {
      auto l = labels;
      l.emplace_back("state", store::state_name(s));
      state.samples.push_back({l, c.state == s ? 1.0 : 0.0});
    }
    if (c.health.is_object()) {
      std::string h = c.health.value("Status", "");
      if (h == "healthy" || h == "unhealthy") health.samples.push_back({labels, h == "healthy" ? 1.0 : 0.0});
    }
    if (c.state != ContainerState::kRunning && c.state != ContainerState::kPaused) continue;
    auto s = engine::sample_container_stats(*e, c);
    if (!s || !s->running) continue;
    auto entry = engine::stats_entry(*s, *s);
    cpu.samples.push_back({labels, double(s->cg.cpu_total_ns) / 1e9});
    mem.samples.push_back({labels, entry.memory});
    lim.samples.push_back({labels, entry.memory_limit});
    rx.samples.push_back({labels, entry.net_rx});
    tx.samples.push_back({labels, entry.net_tx});
    br.samples.push_back({labels, entry.block_read});
    bw.samples.push_back({labels, entry.block_write});
    pids.samples.push_back({labels, double(s->cg.pids_current)});
  }
  for (auto& [name, n] : by_state) count.samples.push_back({{{"state", name}}, double(n)});
  Response r;
  r.content_type = kPrometheusContentType;
  r.body = prometheus_text({cpu, mem, lim, rx, tx, br, bw, pids, health, state, count});
  return r;
}

}  // namespace

void add_metrics_routes(Router<Route>& r) { r.add("GET", "/metrics", {metrics, RunOn::kPool}); }

}  // namespace md::api
