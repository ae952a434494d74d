// Limits, volumes, restart policies, health checks and security defaults, checked on real
// containers (from inside and from the host's cgroup files).
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "cli_harness.h"

namespace mdcli {
namespace {

using Features = Cli;


// The container's cgroup directory for `controller` ("memory", "pids", "cpu") on this host.

TEST_F(Features, MemoryPidsCpuLimitsReachTheCgroup) {
  std::string name = unique("lim");
  std::string id = md_ok({"run", "-d", "--name", name, "-m", "64m", "--pids-limit", "50", "--cpus", "0.5",
                          "busybox", "sleep", "1000"});
  EXPECT_EQ(read_text(cgroup_file(id, "memory", "memory.limit_in_bytes", "memory.max")), "67108864");
  EXPECT_EQ(read_text(cgroup_file(id, "pids", "pids.max", "pids.max")), "50");
  std::string quota = cgroup_file(id, "cpu", "cpu.cfs_quota_us", "cpu.max");
  std::string q = read_text(quota);
  EXPECT_TRUE(q == "50000" || q == "50000 100000") << quota << ": " << q;
  json hc = inspect(name)["HostConfig"];
  EXPECT_EQ(hc["Memory"], 67108864);
  EXPECT_EQ(hc["NanoCpus"], 500000000);
  EXPECT_EQ(hc["PidsLimit"], 50);
}

TEST_F(Features, NamedVolumePersistsAcrossContainers) {
  std::string vol = unique("data");
  md_ok({"run", "--rm", "-v", vol + ":/data", "busybox", "sh", "-c", "echo kept > /data/file"});
  Out r = md({"run", "--rm", "-v", vol + ":/data:ro", "busybox", "sh", "-c", "cat /data/file; echo x > /data/other"});
  EXPECT_EQ(r.out, "kept\n") << r;
  EXPECT_NE(r.code, 0);  // read-only
}

TEST_F(Features, BindMountAndTmpfsAndReadOnlyRoot) {
  char tmpl[] = "/tmp/mdc-bind-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  { std::ofstream(dir + "/hello") << "from host\n"; }
  Out r = md({"run", "--rm", "--read-only", "-v", dir + ":/host", "--tmpfs", "/scratch", "busybox", "sh", "-c",
              "cat /host/hello; echo back > /host/reply; echo t > /scratch/t && cat /scratch/t; touch /rootfile || echo ro"});
  EXPECT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out, "from host\nt\nro\n") << r;
  EXPECT_EQ(read_text(dir + "/reply"), "back");
  ::unlink((dir + "/hello").c_str());
  ::unlink((dir + "/reply").c_str());
  ::rmdir(dir.c_str());
}

TEST_F(Features, DockerDefaultsInside) {
  Out r = md({"run", "--rm", "busybox", "sh", "-c",
              "grep -E '^(CapEff|Seccomp|NoNewPrivs):' /proc/self/status; cat /etc/hostname; "
              "grep -c localhost /etc/hosts; test -s /etc/resolv.conf && echo resolv; cat /proc/kcore 2>&1 | head -c 0; "
              "ls /proc/kcore -l | cut -c1-1"});
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_NE(r.out.find("CapEff:\t00000000a80425fb"), std::string::npos) << r;  // Docker's 14
  EXPECT_NE(r.out.find("Seccomp:\t2"), std::string::npos) << r;
  EXPECT_NE(r.out.find("resolv"), std::string::npos) << r;
  Out mount = md({"run", "--rm", "busybox", "sh", "-c", "mount -t tmpfs x /mnt"});
  EXPECT_NE(mount.code, 0) << mount;
  Out priv = md({"run", "--rm", "--privileged", "busybox", "sh", "-c", "mount -t tmpfs x /mnt && echo mounted"});
  EXPECT_EQ(priv.out, "mounted\n") << priv;
  Out drop = md({"run", "--rm", "--cap-drop", "CHOWN", "busybox", "sh", "-c", "chown 1000 /tmp || echo denied"});
  EXPECT_NE(drop.out.find("denied"), std::string::npos) << drop;
}

TEST_F(Features, RestartOnFailureGivesUp) {
  std::string name = unique("rs");
  md_ok({"run", "-d", "--name", name, "--restart", "on-failure:2", "busybox", "sh", "-c", "exit 1"});
  ASSERT_TRUE(eventually([&] {
    json j = inspect(name);
    return j.is_object() && j["State"]["Status"] == "exited" && j["RestartCount"] == 2;
  })) << inspect(name).dump(2);
  EXPECT_EQ(inspect(name)["State"]["ExitCode"], 1);
}

TEST_F(Features, RestartAlwaysStopsWhenStopped) {
  std::string name = unique("always");
  md_ok({"run", "-d", "--name", name, "--restart", "always", "busybox", "sh", "-c", "sleep 0.2; exit 3"});
  ASSERT_TRUE(eventually([&] { return inspect(name)["RestartCount"].get<int>() >= 1; })) << inspect(name).dump(2);
  md_ok({"stop", "-t", "1", name});
  EXPECT_EQ(state(name), "exited");
  int count = inspect(name)["RestartCount"];
  // Stopped by the user: no restart follows, however long we look (checked twice).
  EXPECT_EQ(state(name), "exited");
  EXPECT_EQ(inspect(name)["RestartCount"], count);
}

TEST_F(Features, HealthCheckBecomesHealthyAndUnhealthy) {
  std::string ok = unique("healthy"), bad = unique("sick");
  md_ok({"run", "-d", "--name", ok, "--health-cmd", "test -e /tmp/ready", "--health-interval", "200ms",
         "--health-retries", "2", "busybox", "sh", "-c", "touch /tmp/ready; sleep 1000"});
  md_ok({"run", "-d", "--name", bad, "--health-cmd", "exit 1", "--health-interval", "200ms", "--health-retries", "2",
         "busybox", "sleep", "1000"});
  ASSERT_TRUE(eventually([&] { return inspect(ok)["State"]["Health"]["Status"] == "healthy"; })) << inspect(ok).dump(2);
  ASSERT_TRUE(eventually([&] { return inspect(bad)["State"]["Health"]["Status"] == "unhealthy"; })) << inspect(bad).dump(2);
  json h = inspect(bad)["State"]["Health"];
  EXPECT_GE(h["FailingStreak"].get<int>(), 2);
  ASSERT_FALSE(h["Log"].empty());
  EXPECT_EQ(h["Log"].back()["ExitCode"], 1);
  EXPECT_NE(md_ok({"ps"}).find("(healthy)"), std::string::npos);
  EXPECT_NE(md_ok({"ps", "--filter", "health=unhealthy", "--format", "{{.Names}}"}).find(bad), std::string::npos);
}

}  // namespace
}  // namespace mdcli

namespace mdcli {
namespace {

// What happens at boot, simulated: the monitors and containers die (as in a reboot), then
// `system boot` starts `always` containers and `unless-stopped` ones the user did not stop.
TEST_F(Cli, SystemBootRestartsByPolicy) {
  std::string always = unique("always"), unless = unique("unless"), stopped = unique("stopped"), no = unique("no");
  md_ok({"run", "-d", "--name", always, "--restart", "always", "busybox", "sleep", "1000"});
  md_ok({"run", "-d", "--name", unless, "--restart", "unless-stopped", "busybox", "sleep", "1000"});
  md_ok({"run", "-d", "--name", stopped, "--restart", "unless-stopped", "busybox", "sleep", "1000"});
  md_ok({"run", "-d", "--name", no, "busybox", "sleep", "1000"});
  md_ok({"stop", "-t", "0", stopped});
  // "Reboot": every monitor and container is killed without a word.
  for (auto& n : {always, unless, no}) {
    std::string id = inspect(n)["Id"];
    std::ifstream f(root_ + "/run/" + id + "/monitor.pid");
    int pid = 0;
    f >> pid;
    ASSERT_GT(pid, 0);
    ::kill(pid, SIGKILL);
  }
  ASSERT_TRUE(eventually([&] { return state(always) == "exited" && state(unless) == "exited" && state(no) == "exited"; }));
  md_ok({"system", "boot"});
  EXPECT_EQ(state(always), "running");
  EXPECT_EQ(state(unless), "running");
  EXPECT_EQ(state(stopped), "exited");
  EXPECT_EQ(state(no), "exited");
}

}  // namespace
}  // namespace mdcli
