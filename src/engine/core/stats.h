// Container resource usage: what `docker stats` shows and what the Engine API's
// GET /containers/{id}/stats returns.
//
// A sample is read straight from the kernel: the container's cgroup (the runtime keeps
// the symlink <run root>/runtime/<id>/cgroup naming it), /proc/stat for the host's CPU
// time, /proc/<init pid>/net/dev for the container's network namespace and /proc/meminfo
// for the host's memory. It works on cgroup v1, v2 and hybrid hosts: each controller's
// files are read from whichever hierarchy holds it (v1 first), as the cgroup library
// writes them.
//
// The numbers are then computed the way the docker CLI computes them from the API
// (cli/command/container/stats_helpers.go):
//   CPU %   = Δcontainer CPU time / Δhost CPU time × online CPUs × 100, between two samples
//   MEM     = usage − inactive_file (v2) / total_inactive_file (v1), "without cache"
//   LIMIT   = the cgroup's memory limit, or the host's MemTotal when unlimited (or higher)
//   MEM %   = MEM / LIMIT × 100
//   NET I/O = rx / tx bytes over the container's interfaces except lo (0B / 0B with
//             --network none; also with --network host, as Docker shows)
//   BLOCK I/O = read / write bytes (blkio.throttle.io_service_bytes_recursive, io.stat)
//   PIDS    = pids.current
// A container that is not running gives a zero sample (Docker does the same).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "cgroups/cgroup.h"
#include "engine/core/engine.h"

namespace md::engine {

struct BlkioEntry {
  uint64_t major = 0, minor = 0;
  std::string op;  // v1: "Read", "Write", "Sync", "Async", "Discard", "Total"; v2: "read", "write"
  uint64_t value = 0;
};

struct NetDevStats {
  uint64_t rx_bytes = 0, rx_packets = 0, rx_errors = 0, rx_dropped = 0;
  uint64_t tx_bytes = 0, tx_packets = 0, tx_errors = 0, tx_dropped = 0;
};

// What one reading of the cgroup (and /proc) says.
struct CgroupSample {
  bool v2_memory = false;  // memory controller on cgroup2 (memory_stats shape differs)
  bool v2_cpu = false;
  // cpu
  uint64_t cpu_total_ns = 0, cpu_user_ns = 0, cpu_kernel_ns = 0;
  std::vector<uint64_t> percpu_ns;  // v1 only
  uint64_t throttle_periods = 0, throttled_periods = 0, throttled_time_ns = 0;
  // memory
  uint64_t mem_usage = 0, mem_max_usage = 0, mem_failcnt = 0;
  uint64_t mem_limit = 0;  // 0 = unlimited
  std::map<std::string, uint64_t> mem_stat;  // memory.stat as is
  // block I/O
  std::vector<BlkioEntry> io_service_bytes, io_serviced;
  // pids
  uint64_t pids_current = 0;
  uint64_t pids_limit = 0;  // 0 = unlimited
};

// One sample of one container.
struct ContainerStats {
  std::string id;
  std::string name;  // without the leading "/"
  bool running = false;
  int64_t read_ns = 0;  // Unix ns when taken; 0 for a zero sample
  CgroupSample cg;
  uint64_t system_cpu_ns = 0;  // host CPU time (/proc/stat "cpu" line, 7 fields)
  uint32_t online_cpus = 0;
  uint64_t host_mem_total = 0;  // bytes
  std::map<std::string, NetDevStats> networks;  // by interface, lo excluded
};

// Reads a sample of `c` now (a zero sample when it is not running or paused). Errors only
// when the kernel files cannot be read for a running container.
Result<ContainerStats> sample_container_stats(Engine& e, const store::Container& c);

// The numbers `docker stats` prints, computed from two samples of the same container
// (`prev` may be a zero sample: CPU % is then 0).
struct StatsEntry {
  std::string id, name;
  double cpu_percent = 0;
  double memory = 0, memory_limit = 0, memory_percent = 0;
  double net_rx = 0, net_tx = 0;
  double block_read = 0, block_write = 0;
  uint64_t pids = 0;
};
StatsEntry stats_entry(const ContainerStats& prev, const ContainerStats& cur);

// Docker's row for templates and `{{json .}}`: Container, ID, Name, CPUPerc, MemUsage,
// MemPerc, NetIO, BlockIO, PIDs, all strings ("0.00%", "1.5MiB / 7.637GiB", "0B / 0B").
// `container` is what the user named (or the 12-character id when listing).
nlohmann::json stats_row(const StatsEntry& s, const std::string& container, bool trunc);

// Docker Engine API stats object (types.StatsJSON): read, preread, pids_stats,
// blkio_stats, num_procs, storage_stats, cpu_stats, precpu_stats, memory_stats, name, id,
// networks (absent when there are none).
nlohmann::json stats_api_json(const ContainerStats& cur, const ContainerStats& prev);

// ---- pure pieces (unit-tested)
// Docker's calculateCPUPercentUnix.
double cpu_percent(uint64_t prev_container_ns, uint64_t prev_system_ns, uint64_t container_ns, uint64_t system_ns,
                   uint32_t online_cpus);
// Docker's calculateMemUsageUnixNoCache.
uint64_t memory_usage_no_cache(const CgroupSample& s);
// go-units HumanSizeWithPrecision (decimal units: "0B", "1.23kB", "12.3MB").
std::string human_size_precision(double bytes, int precision);
// go-units BytesSize ("1.5MiB", "7.637GiB").
std::string binary_size(double bytes);
// /proc/stat → (host CPU time in ns, number of cpuN lines).
std::pair<uint64_t, uint32_t> parse_proc_stat(const std::string& text, long clock_ticks);
// /proc/<pid>/net/dev → interfaces (lo dropped).
std::map<std::string, NetDevStats> parse_net_dev(const std::string& text);
// blkio.throttle.io_service_bytes[_recursive] ("8:0 Read 4096", "Total 0" skipped).
std::vector<BlkioEntry> parse_blkio_v1(const std::string& text);
// io.stat ("8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0") → bytes and ios entries.
void parse_io_stat(const std::string& text, std::vector<BlkioEntry>* bytes, std::vector<BlkioEntry>* ios);
// "key value" lines (memory.stat, cpu.stat, cpuacct.stat).
std::map<std::string, uint64_t> parse_key_values(const std::string& text);
// Reads the cgroup at `cgroup_path` (e.g. "/minidocker-<id>") in `hierarchies`.
Result<CgroupSample> read_cgroup_sample(const std::string& cgroup_path,
                                        const std::vector<cgroups::Hierarchy>& hierarchies, long clock_ticks);

}  // namespace md::engine
