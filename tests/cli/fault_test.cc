// Faults: SIGKILL of a container's process, of its monitor, of a CLI in the middle of
// `run`; 50 parallel `run -d`. Afterwards ps/inspect tell the truth, stop and rm -f work,
// and nothing is left behind (mounts, cgroups, rows).
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "cli_harness.h"

namespace mdcli {
namespace {

using Faults = Cli;


int mounts_under(const std::string& root) {
  std::stringstream ss(read_text("/proc/self/mountinfo"));
  std::string line;
  int n = 0;
  while (std::getline(ss, line)) {
    std::stringstream ls(line);
    std::string a, b, c, d, mp;
    ls >> a >> b >> c >> d >> mp;
    if (mp.rfind(root + "/", 0) == 0) ++n;
  }
  return n;
}

bool cgroup_exists(const std::string& id) {
  Out r = run_process({"sh", "-c", "ls -d /sys/fs/cgroup/minidocker-" + id + " /sys/fs/cgroup/*/minidocker-" + id + " 2>/dev/null"});
  return !r.out.empty();
}

TEST_F(Faults, KilledContainerProcessIsExited137) {
  std::string name = unique("victim");
  md_ok({"run", "-d", "--name", name, "busybox", "sleep", "1000"});
  int pid = inspect(name)["State"]["Pid"];
  ASSERT_GT(pid, 0);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ASSERT_TRUE(eventually([&] { return state(name) == "exited"; }));
  EXPECT_EQ(inspect(name)["State"]["ExitCode"], 137);
  std::string id = inspect(name)["Id"];
  EXPECT_EQ(mounts_under(root_), 0);
  EXPECT_FALSE(cgroup_exists(id));
  md_ok({"rm", name});
}

TEST_F(Faults, KilledMonitorIsReconciled) {
  std::string name = unique("orphan");
  std::string id = md_ok({"run", "-d", "--name", name, "busybox", "sleep", "1000"});
  int container_pid = inspect(name)["State"]["Pid"];
  int monitor_pid = std::stoi(read_text(root_ + "/run/" + id + "/monitor.pid"));
  ASSERT_GT(monitor_pid, 0);
  ASSERT_EQ(::kill(monitor_pid, SIGKILL), 0);
  ASSERT_TRUE(eventually([&] { return ::kill(monitor_pid, 0) != 0; }));
  // The next command notices: the container is killed and recorded as exited, with a reason.
  json j = inspect(name);
  EXPECT_EQ(j["State"]["Status"], "exited") << j.dump(2);
  EXPECT_NE(j["State"]["Error"].get<std::string>().find("monitor"), std::string::npos) << j.dump(2);
  EXPECT_TRUE(eventually([&] { return ::kill(container_pid, 0) != 0; }));
  EXPECT_EQ(mounts_under(root_), 0);
  EXPECT_FALSE(cgroup_exists(id));
  md_ok({"rm", "-f", name});
  EXPECT_EQ(md_ok({"ps", "-aq"}), "");
}

// A crash of the monitor of a container with a published port: the next command tears its
// network down — the veth, the nftables DNAT entry and the port reservation — and a new
// container can publish the same port.
TEST_F(Faults, KilledMonitorReleasesNetworkAndPort) {
  std::string name = unique("netorphan");
  std::string id = md_ok({"run", "-d", "--name", name, "-p", "38181:80", "busybox", "sleep", "1000"});
  auto veths = [&] {
    return lines_of(run_process({"ip", "-o", "link", "show", "master", bridge_}).out).size();
  };
  auto nft_has_port = [&] {
    return run_process({"nft", "list", "map", "ip", nft_table_, "ports_any"}).out.find("38181") != std::string::npos;
  };
  ASSERT_EQ(veths(), 1u);
  ASSERT_TRUE(nft_has_port());
  int monitor_pid = std::stoi(read_text(root_ + "/run/" + id + "/monitor.pid"));
  ASSERT_EQ(::kill(monitor_pid, SIGKILL), 0);
  ASSERT_TRUE(eventually([&] { return ::kill(monitor_pid, 0) != 0; }));
  EXPECT_EQ(inspect(name)["State"]["Status"], "exited");  // the reconciling command
  EXPECT_FALSE(nft_has_port());
  EXPECT_TRUE(eventually([&] { return veths() == 0; }));
  EXPECT_NE(::access((root_ + "/run/netns/" + id).c_str(), F_OK), 0);
  // The port is free again.
  md_ok({"run", "-d", "--name", unique("again"), "-p", "38181:80", "busybox", "sleep", "1000"});
  EXPECT_TRUE(nft_has_port());
}

TEST_F(Faults, StopAndRmForceWorkAfterMonitorKill) {
  std::string name = unique("stopme");
  std::string id = md_ok({"run", "-d", "--name", name, "busybox", "sleep", "1000"});
  int monitor_pid = std::stoi(read_text(root_ + "/run/" + id + "/monitor.pid"));
  ::kill(monitor_pid, SIGKILL);
  eventually([&] { return ::kill(monitor_pid, 0) != 0; });
  EXPECT_TRUE(md({"stop", name}).ok());
  EXPECT_TRUE(md({"rm", "-f", name}).ok());
  EXPECT_EQ(mounts_under(root_), 0);
  EXPECT_FALSE(cgroup_exists(id));
}

TEST_F(Faults, KilledCliDuringRunLeavesATruthfulState) {
  // A foreground `run` killed while its container runs: the container keeps running
  // (Docker's behaviour: the CLI is only a client), ps tells so, rm -f cleans it.
  std::string name = unique("cli");
  pid_t pid = ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execl(cli_binary().c_str(), "minidocker", "--root", root_.c_str(), "run", "--name", name.c_str(), "busybox",
            "sleep", "1000", nullptr);
    ::_exit(127);
  }
  ASSERT_TRUE(eventually([&] { return state(name) == "running"; }));
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  EXPECT_EQ(state(name), "running");
  md_ok({"rm", "-f", name});
  EXPECT_EQ(mounts_under(root_), 0);
}

TEST_F(Faults, FiftyParallelDetachedRuns) {
  std::vector<pid_t> pids;
  std::string dir = root_ + "/out";
  ::mkdir(dir.c_str(), 0700);
  for (int i = 0; i < 50; ++i) {
    pid_t pid = ::fork();
    if (pid == 0) {
      std::string out = dir + "/" + std::to_string(i);
      int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(fd, 1);
      ::execl(cli_binary().c_str(), "minidocker", "--root", root_.c_str(), "run", "-d", "busybox", "sleep", "1000", nullptr);
      ::_exit(127);
    }
    pids.push_back(pid);
  }
  int failures = 0;
  for (pid_t p : pids) {
    int status = 0;
    ::waitpid(p, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failures;
  }
  EXPECT_EQ(failures, 0);
  std::set<std::string> ids;
  for (int i = 0; i < 50; ++i) {
    std::string id = read_text(dir + "/" + std::to_string(i));
    while (!id.empty() && id.back() == '\n') id.pop_back();
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 50u);
  std::string names = md_ok({"ps", "--format", "{{.Names}}"});
  std::set<std::string> unique_names;
  std::stringstream ss(names);
  std::string n;
  while (std::getline(ss, n)) unique_names.insert(n);
  EXPECT_EQ(unique_names.size(), 50u);
}

}  // namespace
}  // namespace mdcli
