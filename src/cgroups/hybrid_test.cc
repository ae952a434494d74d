// Hybrid hosts (v1 controllers + cgroup2 at unified/ holding hugetlb), against a fake tree
// shaped like the project's build host.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include "cgroups/cgroup.h"
#include "cgroups/fake_tree_for_test.h"

namespace md::cgroups {
namespace {

using ::testing::ElementsAre;
using testing::FakeLayout;
using testing::FakeTree;
using ::testing::HasSubstr;

class HybridTest : public ::testing::Test {
 protected:
  FakeTree tree_{FakeLayout::kHybrid};
};

TEST_F(HybridTest, EachResourceGoesWhereItsControllerIs) {
  oci::Resources r;
  r.memory.emplace();
  r.memory->limit = 5000000;
  r.pids_limit = 20;
  r.hugepage_limits.push_back({"2MB", 2097152});
  r.unified["cgroup.max.depth"] = "3";
  auto cg = Cgroup::create("/minidocker/abc", &r, tree_.hierarchies);
  ASSERT_TRUE(cg) << cg.error().message;
  EXPECT_EQ(cg->layout(), Layout::kHybrid);
  auto writes = tree_.take_writes();
  // Only hugetlb is enabled in the unified parents: the resources need nothing else there.
  EXPECT_THAT(writes, ::testing::Contains("unified/cgroup.subtree_control=+hugetlb"));
  EXPECT_THAT(writes, ::testing::Contains("unified/minidocker/cgroup.subtree_control=+hugetlb"));
  EXPECT_EQ(tree_.read("memory/minidocker/abc/memory.limit_in_bytes"), "5000000");
  EXPECT_EQ(tree_.read("pids/minidocker/abc/pids.max"), "20");
  EXPECT_EQ(tree_.read("unified/minidocker/abc/hugetlb.2MB.max"), "2097152");
}

TEST_F(HybridTest, NoUnifiedControllersEnabledWithoutNeed) {
  ASSERT_TRUE(Cgroup::create("/minidocker/abc", nullptr, tree_.hierarchies));
  for (const auto& w : tree_.take_writes()) EXPECT_THAT(w, Not(HasSubstr("subtree_control")));
  EXPECT_TRUE(tree_.exists("unified/minidocker/abc/cgroup.procs"));
  EXPECT_TRUE(tree_.exists("systemd/minidocker/abc/cgroup.procs"));
}

TEST_F(HybridTest, UpdateEnablesAMissingUnifiedController) {
  auto cg = Cgroup::create("/minidocker/abc", nullptr, tree_.hierarchies);
  ASSERT_TRUE(cg);
  tree_.write("unified/minidocker/abc/cgroup.controllers", "\n");  // nothing enabled yet
  tree_.take_writes();
  oci::Resources r;
  r.hugepage_limits.push_back({"2MB", 2097152});
  ASSERT_TRUE(cg->apply(r));
  EXPECT_THAT(tree_.take_writes(), ElementsAre("unified/cgroup.subtree_control=+hugetlb",
                                               "unified/minidocker/cgroup.subtree_control=+hugetlb",
                                               "unified/minidocker/abc/hugetlb.2MB.max=2097152"));
}

TEST_F(HybridTest, ProcessesJoinV1AndUnified) {
  auto cg = Cgroup::create("/minidocker/abc", nullptr, tree_.hierarchies);
  tree_.take_writes();
  ASSERT_TRUE(cg->add_process(99));
  auto writes = tree_.take_writes();
  EXPECT_EQ(writes.size(), 10u);
  EXPECT_THAT(writes, ::testing::Contains("unified/minidocker/abc/cgroup.procs=99"));
  EXPECT_THAT(writes, ::testing::Contains("systemd/minidocker/abc/cgroup.procs=99"));
}

TEST_F(HybridTest, FreezerIsV1AndKillUsesCgroupKill) {
  auto cg = Cgroup::create("/minidocker/abc", nullptr, tree_.hierarchies);
  tree_.take_writes();
  ASSERT_TRUE(cg->freeze());
  ASSERT_TRUE(cg->thaw());
  ASSERT_TRUE(cg->kill_all(SIGKILL));
  EXPECT_THAT(tree_.take_writes(), ElementsAre("freezer/minidocker/abc/freezer.state=FROZEN",
                                               "freezer/minidocker/abc/freezer.state=THAWED",
                                               "unified/minidocker/abc/cgroup.kill=1"));
}

TEST_F(HybridTest, DevicesUseTheV1Controller) {
  oci::Resources r;
  r.devices.push_back({false, 'a', std::nullopt, std::nullopt, "rwm"});
  auto cg = Cgroup::create("/minidocker/abc", &r, tree_.hierarchies);
  ASSERT_TRUE(cg);
  EXPECT_EQ(tree_.read("devices/minidocker/abc/devices.deny"), "a *:* rwm");
}

TEST_F(HybridTest, MountSourcesIncludeUnified) {
  auto cg = Cgroup::create("/minidocker/abc", nullptr, tree_.hierarchies);
  std::vector<std::string> names;
  for (const auto& [name, dir] : cg->mount_sources()) names.push_back(name);
  EXPECT_THAT(names, ElementsAre("cpu", "cpuacct", "cpuset", "memory", "devices", "freezer",
                                 "blkio", "pids", "systemd", "unified"));
  EXPECT_EQ(cg->v2_fd(), -1) << "clone3 into a cgroup only on pure v2";
}

TEST_F(HybridTest, Stats) {
  oci::Resources r;
  r.memory.emplace();
  r.memory->limit = 1 << 20;
  auto cg = Cgroup::create("/minidocker/abc", &r, tree_.hierarchies);
  ASSERT_TRUE(cg);
  auto s = cg->stats();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->memory_limit, 1u << 20);
  EXPECT_EQ(s->cpu_usage_ns, 123456789u) << "cpuacct.usage from the v1 cpuacct hierarchy";
  EXPECT_FALSE(s->pids_limit);
}

TEST_F(HybridTest, DestroyCleansEveryHierarchy) {
  auto cg = Cgroup::create("/minidocker/abc", nullptr, tree_.hierarchies);
  ASSERT_TRUE(cg->destroy());
  for (const auto& h : tree_.hierarchies)
    EXPECT_FALSE(path_exists(h.mount_point + "/minidocker")) << h.mount_point;
}

}  // namespace
}  // namespace md::cgroups
