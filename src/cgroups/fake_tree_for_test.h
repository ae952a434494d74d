// Test helper: a fake cgroupfs in a temp dir, with a matching mountinfo file, for v1, v2
// and hybrid layouts. Installs a FakeFs so new directories get interface files.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "base/file_util.h"
#include "cgroups/cgroup.h"
#include "cgroups/testing.h"

namespace md::cgroups::testing {

enum class FakeLayout { kV1CoMounted, kV2, kHybrid };

class FakeTree {
 public:
  explicit FakeTree(FakeLayout layout, bool blkio_weight = true)
      : layout_(layout), blkio_weight_(blkio_weight) {
    char tmpl[] = "/tmp/md-cgroup-test-XXXXXX";
    root = ::mkdtemp(tmpl);
    mountinfo = root + ".mountinfo";
    std::ostringstream mi;
    mi << "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n";
    int id = 30;
    auto v1 = [&](const std::string& dir, const std::string& opts) {
      mi << id << " 29 0:" << id << " / " << root << "/" << dir
         << " rw,nosuid,nodev,noexec,relatime shared:" << id << " - cgroup cgroup " << opts << "\n";
      ++id;
      ::mkdir((root + "/" + dir).c_str(), 0755);
    };
    switch (layout) {
      case FakeLayout::kV1CoMounted:
        mi << "29 23 0:28 / " << root
           << " ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n";
        v1("systemd", "rw,xattr,name=systemd");
        v1("cpu,cpuacct", "rw,cpu,cpuacct");
        v1("cpuset", "rw,cpuset");
        v1("memory", "rw,memory");
        v1("devices", "rw,devices");
        v1("freezer", "rw,freezer");
        v1("blkio", "rw,blkio");
        v1("pids", "rw,pids");
        v1("hugetlb", "rw,hugetlb");
        v1("net_cls,net_prio", "rw,net_cls,net_prio");
        ::symlink("cpu,cpuacct", (root + "/cpu").c_str());
        ::symlink("cpu,cpuacct", (root + "/cpuacct").c_str());
        break;
      case FakeLayout::kV2:
        mi << "29 23 0:27 / " << root
           << " rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
              "rw,nsdelegate,memory_recursiveprot\n";
        break;
      case FakeLayout::kHybrid:  // this project's build host
        mi << "29 23 0:28 / " << root << " rw,relatime - tmpfs tmpfs rw,mode=755\n";
        for (const char* c :
             {"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids"})
          v1(c, std::string("rw,") + c);
        v1("systemd", "rw,name=systemd");
        mi << id << " 29 0:" << id << " / " << root
           << "/unified rw,relatime - cgroup2 cgroup2 rw\n";
        ::mkdir((root + "/unified").c_str(), 0755);
        break;
    }
    // A bind mount of the memory hierarchy elsewhere: must be ignored.
    if (layout != FakeLayout::kV2)
      mi << "99 22 0:33 / /var/lib/other/memory rw - cgroup cgroup rw,memory\n";
    write_abs(mountinfo, mi.str());
    // The root directories' files (v2 root's cgroup.controllers is read by detection).
    if (layout == FakeLayout::kV2)
      populate_v2(root, {"cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"}, true);
    if (layout == FakeLayout::kHybrid) populate_v2(root + "/unified", {"hugetlb"}, true);
    auto hs = detect_hierarchies(mountinfo, root);
    EXPECT_TRUE(hs.has_value()) << (hs ? "" : hs.error().message);
    if (hs) hierarchies = *hs;
    for (const auto& h : hierarchies)
      if (!h.v2) populate_v1(h.mount_point, h.controllers, true);
    fs.populate = [this](const Hierarchy& h, const std::string& dir) {
      if (h.v2) {
        // A child lists what its parent enabled; keep it simple: everything the root has.
        populate_v2(dir, h.controllers, false);
      } else {
        populate_v1(dir, h.controllers, false);
      }
    };
    internal::install_fake_fs(&fs);
  }

  ~FakeTree() {
    internal::install_fake_fs(nullptr);
    (void)remove_tree(root);
    ::unlink(mountinfo.c_str());
  }

  std::string path(const std::string& rel) const { return root + "/" + rel; }
  std::string read(const std::string& rel) const {
    std::ifstream in(path(rel));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  void write(const std::string& rel, const std::string& value) const {
    write_abs(path(rel), value);
  }
  bool exists(const std::string& rel) const { return path_exists(path(rel)); }
  void remove(const std::string& rel) const { ::unlink(path(rel).c_str()); }
  // The writes recorded since the last call, as "rel/path=value" strings.
  std::vector<std::string> take_writes() {
    std::vector<std::string> out;
    for (const auto& [p, v] : fs.writes) out.push_back(p.substr(root.size() + 1) + "=" + v);
    fs.writes.clear();
    return out;
  }

  std::string root, mountinfo;
  std::vector<Hierarchy> hierarchies;
  internal::FakeFs fs;

 private:
  static void write_abs(const std::string& p, const std::string& value) {
    std::ofstream out(p, std::ios::trunc);
    out << value;
  }
  static bool has(const std::vector<std::string>& v, const std::string& s) {
    for (const auto& x : v)
      if (x == s) return true;
    return false;
  }

  void populate_v1(const std::string& dir, const std::vector<std::string>& ctrls, bool is_root) {
    std::map<std::string, std::string> f = {{"cgroup.procs", ""}, {"tasks", ""}};
    if (has(ctrls, "memory")) {
      for (const char* k : {"memory.limit_in_bytes", "memory.memsw.limit_in_bytes"})
        f[k] = "9223372036854771712\n";
      f["memory.soft_limit_in_bytes"] = "9223372036854771712\n";
      f["memory.kmem.limit_in_bytes"] = "9223372036854771712\n";
      f["memory.kmem.tcp.limit_in_bytes"] = "9223372036854771712\n";
      f["memory.swappiness"] = "60\n";
      f["memory.oom_control"] = "oom_kill_disable 0\nunder_oom 0\n";
      f["memory.usage_in_bytes"] = "4096\n";
    }
    if (has(ctrls, "cpu")) {
      f["cpu.shares"] = "1024\n";
      f["cpu.cfs_quota_us"] = "-1\n";
      f["cpu.cfs_period_us"] = "100000\n";
      f["cpu.rt_period_us"] = "1000000\n";
      f["cpu.rt_runtime_us"] = "0\n";
      f["cpu.idle"] = "0\n";
    }
    if (has(ctrls, "cpuacct")) f["cpuacct.usage"] = "123456789\n";
    if (has(ctrls, "cpuset")) {
      f["cpuset.cpus"] = is_root ? "0-3\n" : "\n";
      f["cpuset.mems"] = is_root ? "0\n" : "\n";
    }
    if (has(ctrls, "devices")) f["devices.allow"] = f["devices.deny"] = f["devices.list"] = "";
    if (has(ctrls, "freezer") && !is_root) f["freezer.state"] = "THAWED\n";
    if (has(ctrls, "blkio")) {
      if (blkio_weight_) {
        f["blkio.weight"] = "500\n";
        f["blkio.weight_device"] = "";
        f["blkio.leaf_weight"] = "500\n";
        f["blkio.leaf_weight_device"] = "";
      }
      for (const char* k : {"read_bps", "write_bps", "read_iops", "write_iops"})
        f[std::string("blkio.throttle.") + k + "_device"] = "";
    }
    if (has(ctrls, "pids") && !is_root) f["pids.max"] = "max\n", f["pids.current"] = "0\n";
    if (has(ctrls, "hugetlb"))
      f["hugetlb.2MB.limit_in_bytes"] = f["hugetlb.1GB.limit_in_bytes"] = "9223372036854771712\n";
    for (const auto& [name, value] : f) write_abs(dir + "/" + name, value);
  }

  void populate_v2(const std::string& dir, const std::vector<std::string>& ctrls, bool is_root) {
    std::map<std::string, std::string> f = {{"cgroup.procs", ""},
                                            {"cgroup.subtree_control", ""},
                                            {"cgroup.max.depth", "max\n"},
                                            {"cpu.stat", "usage_usec 1500\n"}};
    std::string list;
    for (const auto& c : ctrls) list += (list.empty() ? "" : " ") + c;
    f["cgroup.controllers"] = list + "\n";
    if (!is_root) {
      f["cgroup.freeze"] = "0\n";
      f["cgroup.events"] = "populated 0\nfrozen 0\n";
      f["cgroup.kill"] = "";
    }
    if (has(ctrls, "memory") && !is_root) {
      f["memory.max"] = f["memory.swap.max"] = "max\n";
      f["memory.low"] = "0\n";
      f["memory.current"] = "8192\n";
    }
    if (has(ctrls, "cpu") && !is_root) {
      f["cpu.weight"] = "100\n";
      f["cpu.max"] = "max 100000\n";
      f["cpu.idle"] = "0\n";
    }
    if (has(ctrls, "cpuset")) f["cpuset.cpus"] = f["cpuset.mems"] = "\n";
    if (has(ctrls, "pids") && !is_root) f["pids.max"] = "max\n", f["pids.current"] = "1\n";
    if (has(ctrls, "io") && !is_root) f["io.weight"] = "default 100\n", f["io.max"] = "";
    if (has(ctrls, "hugetlb") && !is_root) f["hugetlb.2MB.max"] = f["hugetlb.1GB.max"] = "max\n";
    for (const auto& [name, value] : f) write_abs(dir + "/" + name, value);
  }

  FakeLayout layout_;
  bool blkio_weight_;
};

}  // namespace md::cgroups::testing
