// stats and top on real containers.
#include <sstream>

#include "cli_harness.h"

namespace mdcli {
namespace {

using Stats = Cli;
using Top = Cli;



double percent(const std::string& s) { return std::atof(s.c_str()); }

TEST_F(Stats, NoStreamShowsPidsMemoryAndNoNetwork) {
  std::string name = unique("s");
  std::string id = md_ok({"run", "-d", "--network", "none", "--name", name, "busybox", "sleep", "100"});
  Out r = md({"stats", "--no-stream", "--format", "{{json .}}", name});
  ASSERT_TRUE(r.ok()) << r;
  json row = json::parse(r.out);
  EXPECT_EQ(row["Container"], name);
  EXPECT_EQ(row["Name"], name);
  EXPECT_EQ(row["ID"], id.substr(0, 12));
  EXPECT_EQ(row["PIDs"], "1");
  std::string mem = row["MemUsage"];
  EXPECT_NE(mem.rfind("0B /", 0), 0u) << mem;  // some memory is in use
  EXPECT_NE(mem.find(" / "), std::string::npos);
  EXPECT_EQ(row["NetIO"], "0B / 0B");  // --network none: loopback only, which Docker does not count
  EXPECT_EQ(std::string(row["CPUPerc"]).back(), '%');
  EXPECT_EQ(std::string(row["MemPerc"]).back(), '%');
  EXPECT_NE(std::string(row["BlockIO"]).find(" / "), std::string::npos);
}

// On a bridge network, the container's eth0 counters are its network I/O: after it
// pinged its gateway, both directions have bytes.
TEST_F(Stats, BridgeNetworkIoIsCounted) {
  std::string name = unique("net");
  md_ok({"run", "-d", "--name", name, "busybox", "sleep", "100"});
  std::string gw = md_ok({"inspect", "-f", "{{.NetworkSettings.Gateway}}", name});
  while (!gw.empty() && (gw.back() == '\n' || gw.back() == ' ')) gw.pop_back();
  ASSERT_FALSE(gw.empty());
  md_ok({"exec", name, "ping", "-c", "3", "-W", "5", gw});
  json row = json::parse(md_ok({"stats", "--no-stream", "--format", "{{json .}}", name}));
  std::string io = row["NetIO"];
  EXPECT_EQ(io.rfind("0B /", 0), std::string::npos) << io;
  EXPECT_EQ(io.find("/ 0B"), std::string::npos) << io;
}

TEST_F(Stats, DefaultTableAndAllFlag) {
  std::string up = unique("up"), down = unique("down");
  std::string id = md_ok({"run", "-d", "--name", up, "busybox", "sleep", "100"});
  md_ok({"create", "--name", down, "busybox", "true"});
  auto l = lines_of(md_ok({"stats", "--no-stream"}));
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].rfind("CONTAINER ID   NAME", 0), 0u) << l[0];
  for (auto h : {"CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"})
    EXPECT_NE(l[0].find(h), std::string::npos) << h;
  EXPECT_EQ(l[1].rfind(id.substr(0, 12), 0), 0u) << l[1];
  // -a: the created container too, with Docker's zero sample.
  auto all = lines_of(md_ok({"stats", "--no-stream", "-a", "--format", "{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}"}));
  ASSERT_EQ(all.size(), 2u);
  bool found = false;
  for (auto& x : all)
    if (x == down + " 0.00% 0B / 0B 0") found = true;
  EXPECT_TRUE(found) << all[0] << "\n" << all[1];
}

TEST_F(Stats, MemoryLimitAndBusyCpu) {
  std::string name = unique("busy");
  md_ok({"run", "-d", "--name", name, "-m", "64m", "busybox", "sh", "-c", "while :; do :; done"});
  std::string mem = md_ok({"stats", "--no-stream", "--format", "{{.MemUsage}}", name});
  EXPECT_NE(mem.find(" / 64MiB"), std::string::npos) << mem;
  // A spinning shell uses a CPU: some sample shows well above 10 %.
  EXPECT_TRUE(eventually([&] {
    return percent(md_ok({"stats", "--no-stream", "--format", "{{.CPUPerc}}", name})) > 10.0;
  }));
}

TEST_F(Stats, UnknownContainerIsAnError) {
  Out r = md({"stats", "--no-stream", "nosuch"});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_NE(r.err.find("No such container: nosuch"), std::string::npos) << r;
  EXPECT_EQ(r.out, "");
}

TEST_F(Stats, StreamingPrintsFramesUntilKilled) {
  std::string name = unique("st");
  md_ok({"run", "-d", "--name", name, "busybox", "sleep", "100"});
  // Not a terminal: frames follow each other; the harness stops it after its timeout.
  Out r = md({"stats", name}, "", std::chrono::seconds(3));
  auto l = lines_of(r.out);
  ASSERT_GE(l.size(), 2u) << r;
  EXPECT_EQ(l[0].rfind("CONTAINER ID", 0), 0u);
  EXPECT_EQ(r.out.find("\033[2J"), std::string::npos);  // no clear-screen when not a tty
}

TEST_F(Top, ShowsTheContainersProcesses) {
  std::string name = unique("t");
  md_ok({"run", "-d", "--name", name, "busybox", "sleep", "100"});
  int pid = inspect(name)["State"]["Pid"];
  Out r = md({"top", name});
  ASSERT_TRUE(r.ok()) << r;
  auto l = lines_of(r.out);
  ASSERT_EQ(l.size(), 2u) << r;
  EXPECT_EQ(l[0].rfind("UID", 0), 0u);
  EXPECT_NE(l[0].find("PID"), std::string::npos);
  EXPECT_NE(l[1].find(" " + std::to_string(pid) + " "), std::string::npos) << l[1];
  EXPECT_EQ(l[1].substr(l[1].size() - 9), "sleep 100");
  // ps options are passed through.
  auto o = lines_of(md_ok({"top", name, "-o", "pid,comm"}));
  ASSERT_EQ(o.size(), 2u);
  EXPECT_EQ(o[0].rfind("PID", 0), 0u) << o[0];
  EXPECT_NE(o[1].find("sleep"), std::string::npos);
  // BSD-style options that ps cannot combine with -q still work.
  auto aux = lines_of(md_ok({"top", name, "aux"}));
  ASSERT_EQ(aux.size(), 2u);
  EXPECT_EQ(aux[0].rfind("USER", 0), 0u);
}

TEST_F(Top, NotRunningAndUsage) {
  std::string name = unique("c");
  md_ok({"create", "--name", name, "busybox", "true"});
  Out r = md({"top", name});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("is not running"), std::string::npos) << r;
  Out u = md({"top"});
  EXPECT_NE(u.code, 0);
  EXPECT_NE(u.err.find("requires at least 1 argument"), std::string::npos) << u;
}

}  // namespace
}  // namespace mdcli
