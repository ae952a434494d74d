#include "engine/core/stats.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>

#include "base/file_util.h"

namespace md::engine {
namespace {

TEST(StatsMath, CpuPercentIsDockersFormula) {
  // 0.5 s of container CPU over 4 s of host CPU time on 2 CPUs: 0.5/4 × 2 × 100 = 25 %.
  EXPECT_DOUBLE_EQ(cpu_percent(1'000'000'000, 10'000'000'000, 1'500'000'000, 14'000'000'000, 2), 25.0);
  // No progress of either counter: 0, never a division by zero.
  EXPECT_DOUBLE_EQ(cpu_percent(5, 10, 5, 10, 4), 0.0);
  EXPECT_DOUBLE_EQ(cpu_percent(5, 10, 9, 10, 4), 0.0);
  // A counter that went backwards (new container instance) is 0, as Docker.
  EXPECT_DOUBLE_EQ(cpu_percent(50, 10, 9, 20, 4), 0.0);
}

TEST(StatsMath, MemoryWithoutCacheV1AndV2) {
  CgroupSample v1;
  v1.mem_usage = 10 << 20;
  v1.mem_stat = {{"total_inactive_file", 4 << 20}, {"inactive_file", 1 << 20}};
  EXPECT_EQ(memory_usage_no_cache(v1), uint64_t(6 << 20));
  CgroupSample v2;
  v2.mem_usage = 10 << 20;
  v2.mem_stat = {{"inactive_file", 3 << 20}};
  EXPECT_EQ(memory_usage_no_cache(v2), uint64_t(7 << 20));
  // inactive_file larger than usage (racy reads): usage as is.
  v2.mem_stat = {{"inactive_file", 11 << 20}};
  EXPECT_EQ(memory_usage_no_cache(v2), uint64_t(10 << 20));
}

TEST(StatsFormat, DockerSizes) {
  EXPECT_EQ(human_size_precision(0, 3), "0B");
  EXPECT_EQ(human_size_precision(999, 3), "999B");
  EXPECT_EQ(human_size_precision(1234, 3), "1.23kB");
  EXPECT_EQ(human_size_precision(12345678, 3), "12.3MB");
  EXPECT_EQ(human_size_precision(1000, 3), "1kB");
  EXPECT_EQ(binary_size(0), "0B");
  EXPECT_EQ(binary_size(1572864), "1.5MiB");
  EXPECT_EQ(binary_size(8200000000.0), "7.637GiB");
  EXPECT_EQ(binary_size(1024), "1KiB");
}

TEST(StatsFormat, RowHasDockersFieldsAndText) {
  StatsEntry s;
  s.id = std::string(64, 'a');
  s.name = "web";
  s.cpu_percent = 12.345;
  s.memory = 1572864;
  s.memory_limit = 8200000000.0;
  s.memory_percent = 0.0192;
  s.net_rx = 1234;
  s.net_tx = 0;
  s.block_read = 4096;
  s.block_write = 12345678;
  s.pids = 3;
  auto row = stats_row(s, "web", true);
  EXPECT_EQ(row["Container"], "web");
  EXPECT_EQ(row["ID"], std::string(12, 'a'));
  EXPECT_EQ(row["Name"], "web");
  EXPECT_EQ(row["CPUPerc"], "12.35%");
  EXPECT_EQ(row["MemUsage"], "1.5MiB / 7.637GiB");
  EXPECT_EQ(row["MemPerc"], "0.02%");
  EXPECT_EQ(row["NetIO"], "1.23kB / 0B");
  EXPECT_EQ(row["BlockIO"], "4.1kB / 12.3MB");
  EXPECT_EQ(row["PIDs"], "3");
  EXPECT_EQ(stats_row(s, "x", false)["ID"], s.id);
  StatsEntry zero;
  auto z = stats_row(zero, "gone", true);
  EXPECT_EQ(z["Name"], "--");
  EXPECT_EQ(z["CPUPerc"], "0.00%");
  EXPECT_EQ(z["MemUsage"], "0B / 0B");
  EXPECT_EQ(z["NetIO"], "0B / 0B");
}

TEST(StatsParse, ProcStat) {
  std::string text =
      "cpu  914176 0 149448 1082285 5937 0 1315 403 0 0\n"
      "cpu0 435472 0 68566 570560 1451 0 150 200 0 0\n"
      "cpu1 478704 0 80881 511724 4486 0 1164 203 0 0\n"
      "intr 1 2 3\nctxt 5\n";
  auto [ns, cpus] = parse_proc_stat(text, 100);
  EXPECT_EQ(cpus, 2u);
  // user..softirq (7 fields), steal excluded; ticks of 10 ms.
  EXPECT_EQ(ns, uint64_t(914176 + 0 + 149448 + 1082285 + 5937 + 0 + 1315) * 10'000'000ull);
}

TEST(StatsParse, NetDevDropsLoopback) {
  std::string text =
      "Inter-|   Receive                                                |  Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
      "    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0\n"
      "  eth0: 1500 10 1 2 0 0 0 0 700 5 3 4 0 0 0 0\n";
  auto n = parse_net_dev(text);
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n["eth0"].rx_bytes, 1500u);
  EXPECT_EQ(n["eth0"].rx_packets, 10u);
  EXPECT_EQ(n["eth0"].rx_errors, 1u);
  EXPECT_EQ(n["eth0"].rx_dropped, 2u);
  EXPECT_EQ(n["eth0"].tx_bytes, 700u);
  EXPECT_EQ(n["eth0"].tx_packets, 5u);
  EXPECT_EQ(n["eth0"].tx_errors, 3u);
  EXPECT_EQ(n["eth0"].tx_dropped, 4u);
}

TEST(StatsParse, BlkioV1AndIoStat) {
  auto v1 = parse_blkio_v1("8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Async 12288\n8:0 Total 12288\nTotal 12288\n");
  ASSERT_EQ(v1.size(), 5u);
  EXPECT_EQ(v1[0].major, 8u);
  EXPECT_EQ(v1[0].op, "Read");
  EXPECT_EQ(v1[1].value, 8192u);
  std::vector<BlkioEntry> bytes, ios;
  parse_io_stat("259:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n", &bytes, &ios);
  ASSERT_EQ(bytes.size(), 2u);
  EXPECT_EQ(bytes[0].op, "read");
  EXPECT_EQ(bytes[0].major, 259u);
  EXPECT_EQ(bytes[1].value, 200u);
  ASSERT_EQ(ios.size(), 2u);
  EXPECT_EQ(ios[1].value, 2u);

  // Docker's BLOCK I/O sums the ops starting with r/R and w/W (not Total/Sync/Async).
  ContainerStats cur;
  cur.running = true;
  cur.cg.io_service_bytes = v1;
  auto e = stats_entry(ContainerStats{}, cur);
  EXPECT_DOUBLE_EQ(e.block_read, 4096);
  EXPECT_DOUBLE_EQ(e.block_write, 8192);
}

class FakeCgroupTree : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/md-stats-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { (void)remove_tree(dir_); }
  void put(const std::string& rel, const std::string& text) {
    std::string path = dir_ + "/" + rel;
    ASSERT_TRUE(make_directories(path.substr(0, path.rfind('/'))));
    std::ofstream(path) << text;
  }
  cgroups::Hierarchy h(const std::string& name, std::vector<std::string> ctrls, bool v2) {
    cgroups::Hierarchy x;
    x.mount_point = dir_ + "/" + name;
    x.name = name;
    x.controllers = std::move(ctrls);
    x.v2 = v2;
    return x;
  }
  std::string dir_;
};

TEST_F(FakeCgroupTree, ReadsV1Hierarchies) {
  put("cpuacct/c1/cpuacct.usage", "5000000000\n");
  put("cpuacct/c1/cpuacct.usage_percpu", "3000000000 2000000000 \n");
  put("cpuacct/c1/cpuacct.stat", "user 300\nsystem 100\n");
  put("cpu/c1/cpu.stat", "nr_periods 10\nnr_throttled 2\nthrottled_time 777\n");
  put("memory/c1/memory.usage_in_bytes", "10485760\n");
  put("memory/c1/memory.max_usage_in_bytes", "20971520\n");
  put("memory/c1/memory.limit_in_bytes", "9223372036854771712\n");
  put("memory/c1/memory.failcnt", "0\n");
  put("memory/c1/memory.stat", "cache 4096\ntotal_inactive_file 1048576\n");
  put("blkio/c1/blkio.throttle.io_service_bytes_recursive", "8:0 Read 4096\n8:0 Write 0\nTotal 4096\n");
  put("pids/c1/pids.current", "3\n");
  put("pids/c1/pids.max", "max\n");
  std::vector<cgroups::Hierarchy> hs = {h("cpu", {"cpu"}, false), h("cpuacct", {"cpuacct"}, false),
                                        h("memory", {"memory"}, false), h("blkio", {"blkio"}, false),
                                        h("pids", {"pids"}, false), h("unified", {"hugetlb"}, true)};
  auto s = read_cgroup_sample("/c1", hs, 100);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_FALSE(s->v2_memory);
  EXPECT_EQ(s->cpu_total_ns, 5000000000u);
  EXPECT_EQ(s->percpu_ns, (std::vector<uint64_t>{3000000000u, 2000000000u}));
  EXPECT_EQ(s->cpu_user_ns, 3000000000u);
  EXPECT_EQ(s->cpu_kernel_ns, 1000000000u);
  EXPECT_EQ(s->throttled_periods, 2u);
  EXPECT_EQ(s->throttled_time_ns, 777u);
  EXPECT_EQ(s->mem_usage, 10485760u);
  EXPECT_EQ(s->mem_max_usage, 20971520u);
  EXPECT_EQ(s->mem_limit, 0u);  // v1 "unlimited"
  EXPECT_EQ(memory_usage_no_cache(*s), 10485760u - 1048576u);
  ASSERT_EQ(s->io_service_bytes.size(), 2u);
  EXPECT_EQ(s->pids_current, 3u);
  EXPECT_EQ(s->pids_limit, 0u);

  // The limit reported is the host's memory when unlimited, as Docker.
  ContainerStats cur;
  cur.running = true;
  cur.cg = *s;
  cur.host_mem_total = 100 << 20;
  auto e = stats_entry(ContainerStats{}, cur);
  EXPECT_DOUBLE_EQ(e.memory_limit, 100 << 20);
  EXPECT_DOUBLE_EQ(e.memory_percent, double(10485760 - 1048576) / double(100 << 20) * 100.0);
  auto api = stats_api_json(cur, ContainerStats{});
  EXPECT_EQ(api["memory_stats"]["limit"], 100 << 20);
  EXPECT_EQ(api["memory_stats"]["max_usage"], 20971520);
  EXPECT_EQ(api["cpu_stats"]["cpu_usage"]["percpu_usage"].size(), 2u);
  EXPECT_EQ(api["blkio_stats"]["io_service_bytes_recursive"][0]["op"], "Read");
  EXPECT_TRUE(api["pids_stats"].contains("current"));
  EXPECT_FALSE(api["pids_stats"].contains("limit"));
  EXPECT_FALSE(api.contains("networks"));
  EXPECT_EQ(api["preread"], "0001-01-01T00:00:00Z");
}

TEST_F(FakeCgroupTree, ReadsPureV2) {
  put("c2/cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 4\nnr_throttled 1\nthrottled_usec 20\n");
  put("c2/memory.current", "8388608\n");
  put("c2/memory.max", "16777216\n");
  put("c2/memory.stat", "anon 4194304\ninactive_file 2097152\n");
  put("c2/io.stat", "8:0 rbytes=512 wbytes=1024 rios=1 wios=2 dbytes=0 dios=0\n");
  put("c2/pids.current", "2\n");
  put("c2/pids.max", "50\n");
  cgroups::Hierarchy root;
  root.mount_point = dir_;
  root.v2 = true;
  root.controllers = {"cpuset", "cpu", "io", "memory", "pids"};
  auto s = read_cgroup_sample("/c2", {root}, 100);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_TRUE(s->v2_memory);
  EXPECT_EQ(s->cpu_total_ns, 1500000u);
  EXPECT_EQ(s->cpu_user_ns, 1000000u);
  EXPECT_EQ(s->throttled_time_ns, 20000u);
  EXPECT_EQ(s->mem_limit, 16777216u);
  EXPECT_EQ(memory_usage_no_cache(*s), 8388608u - 2097152u);
  ASSERT_EQ(s->io_service_bytes.size(), 2u);
  EXPECT_EQ(s->pids_limit, 50u);
  ContainerStats cur;
  cur.running = true;
  cur.cg = *s;
  cur.host_mem_total = 1 << 30;
  auto api = stats_api_json(cur, cur);
  EXPECT_FALSE(api["memory_stats"].contains("max_usage"));
  EXPECT_EQ(api["memory_stats"]["limit"], 16777216);
  EXPECT_EQ(api["pids_stats"]["limit"], 50);
  EXPECT_FALSE(api["cpu_stats"]["cpu_usage"].contains("percpu_usage"));
}

TEST_F(FakeCgroupTree, MissingEverywhereIsENOENT) {
  std::vector<cgroups::Hierarchy> hs = {h("memory", {"memory"}, false)};
  auto s = read_cgroup_sample("/nope", hs, 100);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().errno_value, ENOENT);
}

}  // namespace
}  // namespace md::engine
