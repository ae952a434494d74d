// linux.namespaces (new vs. host vs. joined by path), user-namespace mappings, sysctl.
#include <signal.h>
#include <unistd.h>

#include <thread>

#include "harness.h"

namespace mdtest {
namespace {

using namespace std::chrono_literals;

class Namespaces : public RuntimeTest {
 protected:
  void SetNamespaces(const std::vector<std::string>& types) {
    json ns = json::array();
    for (const auto& t : types) ns.push_back({{"type", t}});
    bundle_.config["linux"]["namespaces"] = ns;
  }
  void AddUserNamespace(Bundle& b, int host_id = 100000) {
    b.config["linux"]["namespaces"].push_back({{"type", "user"}});
    b.config["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", host_id}, {"size", 65536}}};
    b.config["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", host_id}, {"size", 65536}}};
  }
};

// The /proc/self/ns name of each OCI namespace type.
std::string NsFile(const std::string& type) {
  if (type == "network") return "net";
  if (type == "mount") return "mnt";
  return type;
}

struct NsCase {
  const char* type;
  bool isolated;
};

void PrintTo(const NsCase& c, std::ostream* os) { *os << c.type << (c.isolated ? " (new)" : " (host)"); }

class NamespaceType : public Namespaces, public ::testing::WithParamInterface<NsCase> {};

TEST_P(NamespaceType, NewOrHost) {
  const auto [type, isolated] = GetParam();
  if (std::string(type) == "time") {
    if (access("/proc/self/ns/time", F_OK) != 0) GTEST_SKIP() << "kernel without time namespaces";
    if (isolated) KNOWN_FAILURE("runc", "runc 1.1.5 does not support the time namespace");
  }
  // Start from the minimal set every runtime needs and add/remove `type`.
  std::vector<std::string> types = {"mount", "pid", "network", "ipc", "uts"};
  types.erase(std::remove(types.begin(), types.end(), std::string(type)), types.end());
  if (isolated && std::string(type) != "user") types.push_back(type);
  SetNamespaces(types);
  if (std::find(types.begin(), types.end(), "uts") == types.end()) bundle_.config.erase("hostname");
  if (std::find(types.begin(), types.end(), "network") == types.end()) {
    // sysfs cannot be mounted for a network namespace we do not own: bind it.
    for (auto& m : bundle_.config["mounts"]) {
      if (m["destination"] == "/sys") m = {{"destination", "/sys"}, {"type", "bind"}, {"source", "/sys"},
                                           {"options", {"rbind", "nosuid", "noexec", "nodev", "ro"}}};
    }
  }
  if (std::string(type) == "user" && isolated) AddUserNamespace(bundle_);
  Facts f = Check({"ns"});
  std::string key = "ns." + NsFile(type);
  ASSERT_TRUE(f.has(key)) << f.raw;
  if (isolated) {
    EXPECT_NE(f[key], HostNs(NsFile(type))) << type << " namespace should be new";
  } else {
    EXPECT_EQ(f[key], HostNs(NsFile(type))) << type << " namespace should be the host's";
  }
}

INSTANTIATE_TEST_SUITE_P(Namespaces, NamespaceType,
                         ::testing::Values(NsCase{"pid", true}, NsCase{"pid", false}, NsCase{"network", true},
                                           NsCase{"network", false}, NsCase{"ipc", true}, NsCase{"ipc", false},
                                           NsCase{"uts", true}, NsCase{"uts", false}, NsCase{"cgroup", true},
                                           NsCase{"cgroup", false}, NsCase{"mount", true}, NsCase{"user", true},
                                           NsCase{"user", false}, NsCase{"time", true}, NsCase{"time", false}),
                         [](const auto& info) {
                           return std::string(info.param.type) + (info.param.isolated ? "_new" : "_host");
                         });

TEST_F(Namespaces, NewNetworkHasOnlyLoopback) {
  Facts f = Check({"net"});
  EXPECT_EQ(f["net.ifaces"], "lo");
}

TEST_F(Namespaces, CgroupNamespaceRootsTheCgroupView) {
  bundle_.config["linux"]["namespaces"].push_back({{"type", "cgroup"}});
  Facts f = Check({"cgroup"});
  EXPECT_EQ(f["cgroup.memory"], "/") << f.raw;
  EXPECT_EQ(f["cgroup.pids"], "/") << f.raw;
}

TEST_F(Namespaces, JoinNetworkNamespaceByPath) {
  // A network namespace held by a sleeping process (killed in TearDown).
  Child holder = Spawn({"/usr/bin/unshare", "--net", "/bin/sleep", "1000000"});
  std::string ns_path = "/proc/" + std::to_string(holder.pid) + "/ns/net";
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (Readlink(ns_path) == HostNs("net") || Readlink(ns_path).empty()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "unshare --net never entered its namespace";
    std::this_thread::sleep_for(5ms);
  }
  std::string want = Readlink(ns_path);
  for (auto& ns : bundle_.config["linux"]["namespaces"]) {
    if (ns["type"] == "network") ns["path"] = ns_path;
  }
  Facts f = Check({"ns", "+", "net"});
  EXPECT_EQ(f["ns.net"], want);
  EXPECT_EQ(f["net.ifaces"], "lo");
  kill(holder.pid, SIGKILL);
  Wait(holder);
}

TEST_F(Namespaces, JoinAnotherContainersNamespaces) {
  // A second container shares the first one's ipc and uts namespaces by path.
  std::string first = NewId();
  bundle_.config["process"]["args"] = {"/md-check", "hold"};
  bundle_.config["hostname"] = "first";
  Create(bundle_, first);
  int pid = (*State(first))["pid"].get<int>();
  Bundle second = NewBundle();
  for (auto& ns : second.config["linux"]["namespaces"]) {
    if (ns["type"] == "ipc" || ns["type"] == "uts") ns["path"] = "/proc/" + std::to_string(pid) + "/ns/" + NsFile(ns["type"]);
  }
  second.config.erase("hostname");
  Facts f = Check(second, {"ns", "+", "hostname"});
  EXPECT_EQ(f["ns.ipc"], Readlink("/proc/" + std::to_string(pid) + "/ns/ipc"));
  EXPECT_EQ(f["ns.uts"], Readlink("/proc/" + std::to_string(pid) + "/ns/uts"));
  EXPECT_EQ(f["hostname"], "first");
  EXPECT_NE(f["ns.net"], Readlink("/proc/" + std::to_string(pid) + "/ns/net"));
}

TEST_F(Namespaces, UserNamespaceMappings) {
  AddUserNamespace(bundle_, 100000);
  Facts f = Check({"usermap", "+", "ids", "+", "stat", "/md-check", "+", "caps"});
  EXPECT_EQ(f["uid_map"], "0 100000 65536");
  EXPECT_EQ(f["gid_map"], "0 100000 65536");
  EXPECT_EQ(f["uid"], "0");
  EXPECT_EQ(f["gid"], "0");
  // Host root (uid 0) is not mapped: its files show up as the overflow id.
  EXPECT_EQ(f["stat:/md-check.owner"], "65534:65534");
}

TEST_F(Namespaces, UserNamespaceProcessIsUnprivilegedOnTheHost) {
  AddUserNamespace(bundle_, 100000);
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"/md-check", "hold"};
  Create(bundle_, id);
  ASSERT_TRUE(Rt({"start", id}).ok());
  int pid = (*State(id))["pid"].get<int>();
  std::string status = ReadFile("/proc/" + std::to_string(pid) + "/status");
  EXPECT_NE(status.find("\nUid:\t100000\t100000\t100000\t100000\n"), std::string::npos) << status;
  EXPECT_EQ(Trim(ReadFile("/proc/" + std::to_string(pid) + "/uid_map")), "0     100000      65536");
}

TEST_F(Namespaces, UserNamespaceMultipleMappings) {
  bundle_.config["linux"]["namespaces"].push_back({{"type", "user"}});
  bundle_.config["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 200000}, {"size", 1000}},
                                            {{"containerID", 1000}, {"hostID", 300000}, {"size", 1}}};
  bundle_.config["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 200000}, {"size", 65536}}};
  bundle_.config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
  Facts f = Check({"usermap", "+", "ids"});
  EXPECT_EQ(f["uid_map"], "0 200000 1000;1000 300000 1");
  EXPECT_EQ(f["gid_map"], "0 200000 65536");
  EXPECT_EQ(f["uid"], "1000");
}

class Sysctl : public RuntimeTest {};

TEST_F(Sysctl, NetworkSysctlInNewNetns) {
  std::string host_before = Trim(ReadFile("/proc/sys/net/ipv4/ip_forward"));
  std::string want = host_before == "1" ? "0" : "1";
  bundle_.config["linux"]["sysctl"] = {{"net.ipv4.ip_forward", want}};
  Facts f = Check({"sysctl", "net.ipv4.ip_forward"});
  EXPECT_EQ(f["sysctl.net.ipv4.ip_forward"], want);
  EXPECT_EQ(Trim(ReadFile("/proc/sys/net/ipv4/ip_forward")), host_before) << "the host's value changed";
}

TEST_F(Sysctl, IpcSysctlInNewIpcns) {
  bundle_.config["linux"]["sysctl"] = {{"kernel.msgmax", "12345"}, {"kernel.shm_rmid_forced", "1"}};
  Facts f = Check({"sysctl", "kernel.msgmax", "+", "sysctl", "kernel.shm_rmid_forced"});
  EXPECT_EQ(f["sysctl.kernel.msgmax"], "12345");
  EXPECT_EQ(f["sysctl.kernel.shm_rmid_forced"], "1");
}

TEST_F(Sysctl, SlashSeparatedName) {
  bundle_.config["linux"]["sysctl"] = {{"net/ipv4/ip_unprivileged_port_start", "80"}};
  Facts f = Check({"sysctl", "net.ipv4.ip_unprivileged_port_start"});
  EXPECT_EQ(f["sysctl.net.ipv4.ip_unprivileged_port_start"], "80");
}

TEST_F(Sysctl, HostNamespaceSysctlIsRefused) {
  // net.* without a private network namespace would change the host.
  std::string host_before = Trim(ReadFile("/proc/sys/net/ipv4/ip_forward"));
  json ns = json::array();
  for (const auto& n : bundle_.config["linux"]["namespaces"]) {
    if (n["type"] != "network") ns.push_back(n);
  }
  bundle_.config["linux"]["namespaces"] = ns;
  for (auto& m : bundle_.config["mounts"]) {
    if (m["destination"] == "/sys") m = {{"destination", "/sys"}, {"type", "bind"}, {"source", "/sys"},
                                         {"options", {"rbind", "ro"}}};
  }
  bundle_.config["linux"]["sysctl"] = {{"net.ipv4.ip_forward", host_before == "1" ? "0" : "1"}};
  bundle_.config["process"]["args"] = {"/bin/true"};
  Result r = RunBundle(bundle_);
  EXPECT_NE(r.exit_code, 0) << r;
  std::string host_after = Trim(ReadFile("/proc/sys/net/ipv4/ip_forward"));
  EXPECT_EQ(host_after, host_before) << "the host's net.ipv4.ip_forward changed (restored now)";
  if (host_after != host_before) WriteFile("/proc/sys/net/ipv4/ip_forward", host_before + "\n");
}

}  // namespace
}  // namespace mdtest

namespace mdtest {
namespace {

// Kubernetes' case: containers join the pod's user namespace by path and get a pid
// namespace of their own, which the joined user namespace must own (else mounting
// /proc fails). Maps are repeated in config.json because runc 1.1 insists on them.
TEST_F(Namespaces, JoinUserNamespaceWithNewPidNamespace) {
  Child holder = Spawn({"/usr/bin/unshare", "--user", "/bin/sleep", "1000000"});
  std::string ns_path = "/proc/" + std::to_string(holder.pid) + "/ns/user";
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (Readlink(ns_path) == HostNs("user") || Readlink(ns_path).empty()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "unshare --user never entered its namespace";
    std::this_thread::sleep_for(5ms);
  }
  WriteFile("/proc/" + std::to_string(holder.pid) + "/uid_map", "0 100000 65536\n");
  WriteFile("/proc/" + std::to_string(holder.pid) + "/gid_map", "0 100000 65536\n");
  bundle_.config["linux"]["namespaces"].push_back({{"type", "user"}, {"path", ns_path}});
  bundle_.config["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  bundle_.config["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  json mounts = json::array();  // no sysfs/cgroup: not what this test is about
  for (const auto& m : bundle_.config["mounts"])
    if (m["type"] != "sysfs" && m["type"] != "cgroup") mounts.push_back(m);
  bundle_.config["mounts"] = mounts;
  Facts f = Check({"ns", "+", "ids"});
  EXPECT_EQ(f["ns.user"], Readlink(ns_path)) << f.raw;
  EXPECT_NE(f["ns.pid"], HostNs("pid")) << f.raw;
  EXPECT_EQ(f["uid"], "0") << f.raw;
  kill(holder.pid, SIGKILL);
  Wait(holder);
}

}  // namespace
}  // namespace mdtest
