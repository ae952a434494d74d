// cgroup v2 (one unified tree at the root) against a fake tree.
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

class V2Test : public ::testing::Test {
 protected:
  // Creates /minidocker/abc, then forgets the writes create() made.
  Cgroup make() {
    auto cg = Cgroup::create("/minidocker/abc", nullptr, tree_.hierarchies);
    EXPECT_TRUE(cg) << cg.error().message;
    tree_.take_writes();
    return std::move(*cg);
  }
  FakeTree tree_{FakeLayout::kV2};
  const std::string d_ = "minidocker/abc/";
};

TEST(SharesToWeight, StandardFormula) {
  EXPECT_EQ(shares_to_weight(2), 1u);
  EXPECT_EQ(shares_to_weight(1024), 39u);
  EXPECT_EQ(shares_to_weight(512), 20u);
  EXPECT_EQ(shares_to_weight(262144), 10000u);
  EXPECT_EQ(shares_to_weight(1), 1u) << "clamped, not wrapped";
  EXPECT_EQ(shares_to_weight(1u << 30), 10000u);
}

TEST(BlkioWeightToIoWeight, Scale) {
  EXPECT_EQ(blkio_weight_to_io_weight(10), 1u);
  EXPECT_EQ(blkio_weight_to_io_weight(1000), 10000u);
  EXPECT_EQ(blkio_weight_to_io_weight(500), 4950u);
}

TEST_F(V2Test, CreateEnablesControllersInEveryParent) {
  auto cg = Cgroup::create("/minidocker/abc", nullptr, tree_.hierarchies);
  ASSERT_TRUE(cg) << cg.error().message;
  EXPECT_EQ(cg->layout(), Layout::kV2);
  const std::string all = "+cpuset +cpu +io +memory +hugetlb +pids +rdma +misc";
  EXPECT_THAT(tree_.take_writes(), ElementsAre("cgroup.subtree_control=" + all,
                                               "minidocker/cgroup.subtree_control=" + all));
  EXPECT_EQ(tree_.read("minidocker/abc/cgroup.subtree_control"), "") << "not the leaf";
  EXPECT_GE(cg->v2_fd(), 0);
  auto m = cg->mount_sources();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].first, "");
  EXPECT_EQ(m[0].second, tree_.root + "/minidocker/abc");
}

TEST_F(V2Test, AlreadyEnabledControllersAreNotRewritten) {
  tree_.write("cgroup.subtree_control", "cpuset cpu io memory hugetlb pids\n");
  ASSERT_TRUE(Cgroup::create("/minidocker/abc", nullptr, tree_.hierarchies));
  auto writes = tree_.take_writes();
  ASSERT_EQ(writes.size(), 2u);
  EXPECT_EQ(writes[0], "cgroup.subtree_control=+rdma +misc");
}

TEST_F(V2Test, MemoryMaxSwapAndLow) {
  auto cg = make();
  oci::Resources r;
  r.memory.emplace();
  r.memory->limit = 5000000;
  r.memory->swap = 8000000;  // OCI: memory+swap
  r.memory->reservation = 1000000;
  r.memory->kernel = 1;       // no v2 file: ignored
  r.memory->swappiness = 10;  // no v2 file: ignored
  ASSERT_TRUE(cg.apply(r));
  EXPECT_THAT(tree_.take_writes(),
              ElementsAre(d_ + "memory.max=5000000", d_ + "memory.swap.max=3000000",
                          d_ + "memory.low=1000000"));
}

TEST_F(V2Test, UnlimitedMemoryMeansUnlimitedSwap) {
  auto cg = make();
  oci::Resources r;
  r.memory.emplace();
  r.memory->limit = -1;
  ASSERT_TRUE(cg.apply(r));
  EXPECT_THAT(tree_.take_writes(), ElementsAre(d_ + "memory.max=max", d_ + "memory.swap.max=max"));
}

TEST_F(V2Test, SwapErrors) {
  auto cg = make();
  oci::Resources r;
  r.memory.emplace();
  r.memory->swap = 8000000;
  auto s = cg.apply(r);
  ASSERT_FALSE(s);
  EXPECT_THAT(s.error().message, HasSubstr("needs a memory limit"));
  r.memory->limit = 9000000;
  s = cg.apply(r);
  ASSERT_FALSE(s);
  EXPECT_THAT(s.error().message, HasSubstr("below the memory limit"));
  tree_.remove(d_ + "memory.swap.max");  // no swap accounting
  r.memory->swap = 9000000;              // == limit: nothing to enforce
  EXPECT_TRUE(cg.apply(r));
  r.memory->swap = 10000000;
  s = cg.apply(r);
  ASSERT_FALSE(s);
  EXPECT_THAT(s.error().message, HasSubstr("swap accounting"));
}

TEST_F(V2Test, CpuWeightMaxAndIdle) {
  auto cg = make();
  oci::Resources r;
  r.cpu.emplace();
  r.cpu->shares = 1024;
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  r.cpu->idle = 1;
  ASSERT_TRUE(cg.apply(r));
  EXPECT_THAT(tree_.take_writes(),
              ElementsAre(d_ + "cpu.weight=39", d_ + "cpu.max=50000 100000", d_ + "cpu.idle=1"));
}

TEST_F(V2Test, CpuMaxVariants) {
  auto cg = make();
  oci::Resources r;
  r.cpu.emplace();
  r.cpu->quota = -1;
  ASSERT_TRUE(cg.apply(r));
  EXPECT_EQ(tree_.read(d_ + "cpu.max"), "max");
  tree_.write(d_ + "cpu.max", "20000 100000\n");
  r.cpu->quota.reset();
  r.cpu->period = 50000;  // keeps the quota
  ASSERT_TRUE(cg.apply(r));
  EXPECT_EQ(tree_.read(d_ + "cpu.max"), "20000 50000");
}

TEST_F(V2Test, RealtimeIsAnError) {
  auto cg = make();
  oci::Resources r;
  r.cpu.emplace();
  r.cpu->realtime_runtime = 1000;
  auto s = cg.apply(r);
  ASSERT_FALSE(s);
  EXPECT_THAT(s.error().message, HasSubstr("not supported on cgroup v2"));
}

TEST_F(V2Test, CpusetPidsHugetlb) {
  auto cg = make();
  oci::Resources r;
  r.cpu.emplace();
  r.cpu->cpus = "0-1";
  r.cpu->mems = "0";
  r.pids_limit = 0;
  r.hugepage_limits.push_back({"1GB", 1073741824});
  ASSERT_TRUE(cg.apply(r));
  EXPECT_THAT(tree_.take_writes(),
              ElementsAre(d_ + "cpuset.cpus=0-1", d_ + "cpuset.mems=0", d_ + "pids.max=max",
                          d_ + "hugetlb.1GB.max=1073741824"));
}

TEST_F(V2Test, IoWeightAndMax) {
  auto cg = make();
  oci::Resources r;
  r.block_io.emplace();
  r.block_io->weight = 500;
  r.block_io->leaf_weight = 10;  // no v2 equivalent: ignored
  r.block_io->weight_device.push_back({8, 0, 1000, std::nullopt});
  r.block_io->throttle_read_bps.push_back({8, 0, 1048576});
  r.block_io->throttle_write_iops.push_back({8, 0, 100});
  ASSERT_TRUE(cg.apply(r));
  EXPECT_THAT(tree_.take_writes(),
              ElementsAre(d_ + "io.weight=4950", d_ + "io.weight=8:0 10000",
                          d_ + "io.max=8:0 rbps=1048576", d_ + "io.max=8:0 wiops=100"));
  tree_.write(d_ + "io.bfq.weight", "default 100\n");  // BFQ takes the v1 scale
  r.block_io->weight_device.clear();
  r.block_io->throttle_read_bps.clear();
  r.block_io->throttle_write_iops.clear();
  ASSERT_TRUE(cg.apply(r));
  EXPECT_THAT(tree_.take_writes(), ElementsAre(d_ + "io.bfq.weight=500"));
}

TEST_F(V2Test, Unified) {
  auto cg = make();
  oci::Resources r;
  r.unified["memory.max"] = "1G";
  r.unified["pids.max"] = "10";
  ASSERT_TRUE(cg.apply(r));
  EXPECT_THAT(tree_.take_writes(), ElementsAre(d_ + "memory.max=1G", d_ + "pids.max=10"));
  r.unified = {{"memory.bogus", "1"}};
  auto s = cg.apply(r);
  ASSERT_FALSE(s);
  EXPECT_THAT(s.error().message, HasSubstr("unified key memory.bogus: no such file"));
  r.unified = {{"../escape", "1"}};
  s = cg.apply(r);
  ASSERT_FALSE(s);
  EXPECT_THAT(s.error().message, HasSubstr("is not a cgroup file name"));
}

TEST_F(V2Test, DevicesAttachAProgram) {
  auto cg = make();
  oci::Resources r;
  r.devices.push_back({false, 'a', std::nullopt, std::nullopt, "rwm"});
  r.devices.push_back({true, 'c', 1, 3, "rwm"});
  ASSERT_TRUE(cg.apply(r));
  auto writes = tree_.take_writes();
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_THAT(writes[0], HasSubstr("minidocker/abc/[bpf device program]="));
}

TEST_F(V2Test, FreezeWaitsForFrozenInEvents) {
  auto cg = make();
  tree_.write(d_ + "cgroup.events", "populated 1\nfrozen 1\n");  // the "kernel" froze it
  ASSERT_TRUE(cg.freeze());
  EXPECT_EQ(tree_.read(d_ + "cgroup.freeze"), "1");
  EXPECT_TRUE(*cg.is_frozen());
  ASSERT_TRUE(cg.thaw());
  EXPECT_EQ(tree_.read(d_ + "cgroup.freeze"), "0");
}

TEST_F(V2Test, KillAllWithSigkillUsesCgroupKill) {
  auto cg = make();
  ASSERT_TRUE(cg.kill_all(SIGKILL));
  EXPECT_THAT(tree_.take_writes(), ElementsAre(d_ + "cgroup.kill=1"));
}

TEST_F(V2Test, AddProcessAndStats) {
  auto cg = make();
  ASSERT_TRUE(cg.add_process(77));
  EXPECT_THAT(tree_.take_writes(), ElementsAre(d_ + "cgroup.procs=77"));
  auto s = cg.stats();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->memory_usage, 8192u);
  EXPECT_FALSE(s->memory_limit) << "max";
  EXPECT_EQ(s->cpu_usage_ns, 1500000u);
  EXPECT_EQ(s->pids_current, 1u);
  EXPECT_FALSE(s->pids_limit);
}

TEST_F(V2Test, DestroyRemovesEverythingItCreated) {
  auto cg = make();
  ASSERT_TRUE(cg.destroy());
  EXPECT_FALSE(tree_.exists("minidocker"));
}

}  // namespace
}  // namespace md::cgroups
