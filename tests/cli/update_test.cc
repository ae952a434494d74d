// update: limits reach the cgroup of a running container, are stored for a stopped one,
// and survive a restart by the monitor.
#include <signal.h>
#include <unistd.h>

#include <fstream>

#include "cli_harness.h"

namespace mdcli {
namespace {

using Update = Cli;



std::string memory_limit(const std::string& id) {
  return read_text(cgroup_file(id, "memory", "memory.limit_in_bytes", "memory.max"));
}

TEST_F(Update, RunningContainerLimitsChangeInTheCgroup) {
  std::string name = unique("u");
  std::string id = md_ok({"run", "-d", "--name", name, "busybox", "sleep", "1000"});
  Out r = md({"update", "-m", "64m", "--cpus", "0.5", "--pids-limit", "20", name});
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out, name + "\n");
  EXPECT_EQ(memory_limit(id), "67108864");
  std::string q = read_text(cgroup_file(id, "cpu", "cpu.cfs_quota_us", "cpu.max"));
  EXPECT_TRUE(q == "50000" || q == "50000 100000") << q;
  EXPECT_EQ(read_text(cgroup_file(id, "pids", "pids.max", "pids.max")), "20");
  json hc = inspect(name)["HostConfig"];
  EXPECT_EQ(hc["Memory"], 67108864);
  EXPECT_EQ(hc["NanoCpus"], 500000000);
  EXPECT_EQ(hc["PidsLimit"], 20);
  EXPECT_NE(md_ok({"stats", "--no-stream", "--format", "{{.MemUsage}}", name}).find("/ 64MiB"), std::string::npos);
  // Growing it again, and back to unlimited pids.
  md_ok({"update", "--memory", "128m", "--pids-limit", "-1", name});
  EXPECT_EQ(memory_limit(id), "134217728");
  EXPECT_EQ(read_text(cgroup_file(id, "pids", "pids.max", "pids.max")), "max");
  EXPECT_TRUE(inspect(name)["HostConfig"]["PidsLimit"].is_null());
}

TEST_F(Update, StoppedContainerGetsTheLimitsAtStart) {
  std::string name = unique("c");
  std::string id = md_ok({"create", "--name", name, "busybox", "sleep", "1000"});
  md_ok({"update", "-m", "32m", "--restart", "on-failure:3", name});
  json hc = inspect(name)["HostConfig"];
  EXPECT_EQ(hc["Memory"], 33554432);
  EXPECT_EQ(hc["RestartPolicy"]["Name"], "on-failure");
  EXPECT_EQ(hc["RestartPolicy"]["MaximumRetryCount"], 3);
  md_ok({"start", name});
  EXPECT_EQ(memory_limit(id), "33554432");
}

TEST_F(Update, LiveLimitsSurviveARestartByTheMonitor) {
  std::string name = unique("r");
  std::string id = md_ok({"run", "-d", "--restart", "always", "--name", name, "busybox", "sleep", "1000"});
  md_ok({"update", "-m", "48m", name});
  int pid = inspect(name)["State"]["Pid"];
  ASSERT_GT(pid, 0);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ASSERT_TRUE(eventually([&] {
    json j = inspect(name);
    return j.is_object() && j["RestartCount"].get<int>() >= 1 && j["State"]["Status"] == "running" &&
           j["State"]["Pid"].get<int>() != pid;
  }));
  EXPECT_EQ(memory_limit(id), "50331648");
}

TEST_F(Update, DockersErrors) {
  std::string name = unique("e");
  md_ok({"run", "-d", "--name", name, "busybox", "sleep", "1000"});
  Out none = md({"update", name});
  EXPECT_EQ(none.code, 1);
  EXPECT_EQ(none.err, "you must provide one or more flags when using this command\n");
  Out small = md({"update", "-m", "1k", name});
  EXPECT_EQ(small.code, 1);
  EXPECT_EQ(small.err, "Error response from daemon: Minimum memory limit allowed is 6MB\n");
  Out bad = md({"update", "-m", "lots", name});
  EXPECT_EQ(bad.code, 125);
  EXPECT_NE(bad.err.find("invalid argument \"lots\" for \"-m, --memory\" flag"), std::string::npos) << bad;
  Out swap = md({"update", "-m", "64m", "--memory-swap", "32m", name});
  EXPECT_EQ(swap.code, 1);
  EXPECT_NE(swap.err.find("Minimum memoryswap limit should be larger than memory limit"), std::string::npos) << swap;
  Out missing = md({"update", "--cpus", "1", name, "nosuch"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.out, name + "\n");
  EXPECT_EQ(missing.err, "Error response from daemon: No such container: nosuch\n");
}

}  // namespace
}  // namespace mdcli
