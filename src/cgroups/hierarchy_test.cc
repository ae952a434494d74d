#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>

#include "base/file_util.h"
#include "cgroups/cgroup.h"

namespace md::cgroups {
namespace {

// A temp dir with a mountinfo file whose text uses @ROOT@ for the temp dir.
class MountinfoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/md-mountinfo-XXXXXX";
    root_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { (void)remove_tree(root_); }

  std::string write_mountinfo(std::string text) {
    for (size_t pos; (pos = text.find("@ROOT@")) != std::string::npos;) text.replace(pos, 6, root_);
    std::string path = root_ + "/mountinfo";
    std::ofstream(path) << text;
    return path;
  }
  void make_v2_root(const std::string& rel, const std::string& controllers) {
    std::string dir = rel.empty() ? root_ : root_ + "/" + rel;
    ::mkdir(dir.c_str(), 0755);
    std::ofstream(dir + "/cgroup.controllers") << controllers << "\n";
  }

  std::string root_;
};

// /proc/self/mountinfo of the build host (hybrid, cpu and cpuacct mounted separately).
constexpr char kHybrid[] =
    "23 1 0:22 / /sys rw,nosuid,nodev,noexec,relatime - sysfs sysfs rw\n"
    "31 23 0:28 / @ROOT@ rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / @ROOT@/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / @ROOT@/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / @ROOT@/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / @ROOT@/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 31 0:33 / @ROOT@/devices rw,relatime - cgroup cgroup rw,devices\n"
    "37 31 0:34 / @ROOT@/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "38 31 0:35 / @ROOT@/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "39 31 0:36 / @ROOT@/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / @ROOT@/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / @ROOT@/unified rw,relatime - cgroup2 cgroup2 rw\n";

TEST_F(MountinfoTest, HybridHost) {
  make_v2_root("unified", "hugetlb");
  auto hs = detect_hierarchies(write_mountinfo(kHybrid), root_);
  ASSERT_TRUE(hs) << hs.error().message;
  ASSERT_EQ(hs->size(), 10u);
  EXPECT_EQ(layout_of(*hs), Layout::kHybrid);
  EXPECT_EQ((*hs)[0].mount_point, root_ + "/cpu");
  EXPECT_EQ((*hs)[0].name, "cpu");
  EXPECT_EQ((*hs)[0].controllers, std::vector<std::string>{"cpu"});
  EXPECT_FALSE((*hs)[0].v2);
  EXPECT_EQ((*hs)[8].controllers, std::vector<std::string>{"name=systemd"});
  EXPECT_EQ((*hs)[9].name, "unified");
  EXPECT_TRUE((*hs)[9].v2);
  EXPECT_EQ((*hs)[9].controllers, std::vector<std::string>{"hugetlb"});
  EXPECT_EQ((*hs)[9].mount_options, "rw");
}

TEST_F(MountinfoTest, V1CoMountedCpuCpuacct) {
  auto hs = detect_hierarchies(
      write_mountinfo(
          "25 24 0:23 / @ROOT@/systemd rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup "
          "rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd\n"
          "28 24 0:26 / @ROOT@/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:10 - cgroup "
          "cgroup rw,cpu,cpuacct\n"
          "29 24 0:27 / @ROOT@/net_cls,net_prio rw,nosuid shared:11 - cgroup cgroup "
          "rw,net_cls,net_prio\n"),
      root_);
  ASSERT_TRUE(hs) << hs.error().message;
  ASSERT_EQ(hs->size(), 3u);
  EXPECT_EQ(layout_of(*hs), Layout::kV1);
  EXPECT_EQ((*hs)[0].controllers, std::vector<std::string>{"name=systemd"});
  EXPECT_EQ((*hs)[1].name, "cpu,cpuacct");
  EXPECT_EQ((*hs)[1].controllers, (std::vector<std::string>{"cpu", "cpuacct"}));
  EXPECT_EQ((*hs)[1].mount_options, "rw,cpu,cpuacct");
  EXPECT_EQ((*hs)[2].controllers, (std::vector<std::string>{"net_cls", "net_prio"}));
}

TEST_F(MountinfoTest, PureV2) {
  make_v2_root("", "cpuset cpu io memory hugetlb pids rdma misc");
  auto hs = detect_hierarchies(
      write_mountinfo("29 23 0:27 / @ROOT@ rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 "
                      "cgroup2 rw,nsdelegate,memory_recursiveprot\n"),
      root_);
  ASSERT_TRUE(hs) << hs.error().message;
  ASSERT_EQ(hs->size(), 1u);
  EXPECT_EQ(layout_of(*hs), Layout::kV2);
  EXPECT_EQ((*hs)[0].name, "");
  EXPECT_EQ((*hs)[0].controllers.size(), 8u);
  EXPECT_EQ((*hs)[0].mount_options, "rw,nsdelegate,memory_recursiveprot");
}

TEST_F(MountinfoTest, IgnoresMountsOutsideRootAndBindMountDuplicates) {
  auto hs = detect_hierarchies(
      write_mountinfo(
          "35 31 0:32 / @ROOT@/memory rw - cgroup cgroup rw,memory\n"
          "36 31 0:32 / @ROOT@/memory-again rw - cgroup cgroup rw,memory\n"  // same device
          "37 31 0:33 / /other/pids rw - cgroup cgroup rw,pids\n"            // outside
          "38 31 0:34 / @ROOT@X/pids rw - cgroup cgroup rw,pids\n"           // prefix only
          "39 31 0:35 / @ROOT@/with\\040space rw master:3 - cgroup cgroup rw,freezer\n"),
      root_);
  ASSERT_TRUE(hs) << hs.error().message;
  ASSERT_EQ(hs->size(), 2u);
  EXPECT_EQ((*hs)[0].name, "memory");
  EXPECT_EQ((*hs)[1].mount_point, root_ + "/with space");
  EXPECT_EQ((*hs)[1].controllers, std::vector<std::string>{"freezer"});
}

TEST_F(MountinfoTest, NoCgroupMountsIsAnError) {
  auto hs =
      detect_hierarchies(write_mountinfo("22 1 0:21 / /proc rw,nosuid - proc proc rw\n"), root_);
  ASSERT_FALSE(hs);
  EXPECT_NE(hs.error().message.find("no cgroup filesystem is mounted under " + root_),
            std::string::npos)
      << hs.error().message;
}

TEST_F(MountinfoTest, MissingMountinfoNamesTheFile) {
  auto hs = detect_hierarchies(root_ + "/nope", root_);
  ASSERT_FALSE(hs);
  EXPECT_NE(hs.error().message.find(root_ + "/nope"), std::string::npos) << hs.error().message;
}

TEST(HostHierarchies, CachedOncePerProcess) {
  auto a = host_hierarchies();
  auto b = host_hierarchies();
  if (!a) GTEST_SKIP() << "no cgroups on this machine: " << a.error().message;
  EXPECT_EQ(*a, *b);
}

TEST(LayoutName, Names) {
  EXPECT_STREQ(layout_name(Layout::kV1), "v1");
  EXPECT_STREQ(layout_name(Layout::kV2), "v2");
  EXPECT_STREQ(layout_name(Layout::kHybrid), "hybrid");
}

}  // namespace
}  // namespace md::cgroups
