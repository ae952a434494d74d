// cgroup v1 against a fake tree (cpu and cpuacct co-mounted, as on most v1 hosts).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include "cgroups/cgroup.h"
#include "cgroups/fake_tree_for_test.h"

namespace md::cgroups {
namespace {

using ::testing::ElementsAre;
using testing::FakeLayout;
using testing::FakeTree;
using ::testing::HasSubstr;

class V1Test : public ::testing::Test {
 protected:
  Result<Cgroup> create(const oci::Resources* r = nullptr) {
    auto cg = Cgroup::create("/minidocker/abc", r, tree_.hierarchies);
    return cg;
  }
  FakeTree tree_{FakeLayout::kV1CoMounted};
};

TEST_F(V1Test, CreateMakesTheDirectoryInEveryHierarchy) {
  auto cg = create();
  ASSERT_TRUE(cg) << cg.error().message;
  EXPECT_EQ(cg->layout(), Layout::kV1);
  EXPECT_EQ(cg->path(), "/minidocker/abc");
  for (const char* h : {"systemd", "cpu,cpuacct", "cpuset", "memory", "devices", "freezer", "blkio",
                        "pids", "hugetlb", "net_cls,net_prio"})
    EXPECT_TRUE(tree_.exists(std::string(h) + "/minidocker/abc/cgroup.procs")) << h;
}

TEST_F(V1Test, NewCpusetLevelsCopyCpusAndMemsFromTheParent) {
  ASSERT_TRUE(create());
  EXPECT_EQ(tree_.read("cpuset/minidocker/cpuset.cpus"), "0-3");
  EXPECT_EQ(tree_.read("cpuset/minidocker/cpuset.mems"), "0");
  EXPECT_EQ(tree_.read("cpuset/minidocker/abc/cpuset.cpus"), "0-3");
  EXPECT_EQ(tree_.read("cpuset/minidocker/abc/cpuset.mems"), "0");
}

TEST_F(V1Test, NoResourcesMeansNoLimitWrites) {
  ASSERT_TRUE(create());
  for (const auto& w : tree_.take_writes()) EXPECT_THAT(w, HasSubstr("cpuset.")) << w;
}

TEST_F(V1Test, RelativeAndMessyPathsNormalize) {
  auto cg = Cgroup::create("minidocker//abc/", nullptr, tree_.hierarchies);
  ASSERT_TRUE(cg) << cg.error().message;
  EXPECT_EQ(cg->path(), "/minidocker/abc");
  EXPECT_TRUE(tree_.exists("memory/minidocker/abc"));
}

TEST_F(V1Test, RefusesDotDotRootAndSystemdPaths) {
  for (const char* p : {"/minidocker/../../etc", "/", "", "system.slice:docker:abc"}) {
    auto cg = Cgroup::create(p, nullptr, tree_.hierarchies);
    EXPECT_FALSE(cg) << p;
  }
}

TEST_F(V1Test, MemoryLimitsOnAFreshCgroupWriteLimitBeforeSwap) {
  oci::Resources r;
  r.memory.emplace();
  r.memory->limit = 5000000;
  r.memory->swap = 10000000;
  r.memory->reservation = 4000000;
  r.memory->swappiness = 10;
  r.memory->disable_oom_killer = true;
  ASSERT_TRUE(create());
  tree_.take_writes();
  auto cg = Cgroup::open("/minidocker/abc", tree_.hierarchies);
  ASSERT_TRUE(cg);
  ASSERT_TRUE(cg->apply(r));
  // Current limit is "unlimited", above the new memsw: shrinking, so the limit goes first.
  EXPECT_THAT(tree_.take_writes(),
              ElementsAre("memory/minidocker/abc/memory.limit_in_bytes=5000000",
                          "memory/minidocker/abc/memory.memsw.limit_in_bytes=10000000",
                          "memory/minidocker/abc/memory.soft_limit_in_bytes=4000000",
                          "memory/minidocker/abc/memory.swappiness=10",
                          "memory/minidocker/abc/memory.oom_control=1"));
}

TEST_F(V1Test, RaisingMemoryWritesMemswFirst) {
  ASSERT_TRUE(create());
  tree_.write("memory/minidocker/abc/memory.limit_in_bytes", "5000000\n");
  tree_.take_writes();
  auto cg = Cgroup::open("/minidocker/abc", tree_.hierarchies);
  oci::Resources r;
  r.memory.emplace();
  r.memory->limit = 8000000;
  r.memory->swap = 16000000;
  ASSERT_TRUE(cg->apply(r));
  EXPECT_THAT(tree_.take_writes(),
              ElementsAre("memory/minidocker/abc/memory.memsw.limit_in_bytes=16000000",
                          "memory/minidocker/abc/memory.limit_in_bytes=8000000"));
}

TEST_F(V1Test, UnlimitedMemoryAlsoLiftsMemsw) {
  auto cg = create();
  tree_.take_writes();
  oci::Resources r;
  r.memory.emplace();
  r.memory->limit = -1;
  ASSERT_TRUE(cg->apply(r));
  EXPECT_THAT(tree_.take_writes(),
              ElementsAre("memory/minidocker/abc/memory.memsw.limit_in_bytes=-1",
                          "memory/minidocker/abc/memory.limit_in_bytes=-1"));
}

TEST_F(V1Test, SwapWithoutSwapAccounting) {
  tree_.remove("memory/memory.memsw.limit_in_bytes");
  tree_.fs.populate = [&, inner = tree_.fs.populate](const Hierarchy& h, const std::string& d) {
    inner(h, d);
    ::unlink((d + "/memory.memsw.limit_in_bytes").c_str());
  };
  auto cg = create();
  ASSERT_TRUE(cg);
  oci::Resources r;
  r.memory.emplace();
  r.memory->limit = 5000000;
  r.memory->swap = 5000000;  // "no swap": nothing to enforce, fine
  EXPECT_TRUE(cg->apply(r));
  r.memory->swap = -1;  // unlimited: fine
  EXPECT_TRUE(cg->apply(r));
  r.memory->swap = 9000000;
  auto s = cg->apply(r);
  ASSERT_FALSE(s);
  EXPECT_THAT(s.error().message, HasSubstr("swap accounting"));
  EXPECT_THAT(s.error().message, HasSubstr("9000000"));
}

TEST_F(V1Test, SwapBelowLimitIsRejected) {
  auto cg = create();
  oci::Resources r;
  r.memory.emplace();
  r.memory->limit = 5000000;
  r.memory->swap = 1000;
  auto s = cg->apply(r);
  ASSERT_FALSE(s);
  EXPECT_THAT(s.error().message, HasSubstr("below the memory limit"));
}

TEST_F(V1Test, KernelMemoryIsSkippedWhenTheHostLacksIt) {
  auto cg = create();
  tree_.remove("memory/minidocker/abc/memory.kmem.limit_in_bytes");
  tree_.take_writes();
  oci::Resources r;
  r.memory.emplace();
  r.memory->kernel = 1 << 20;
  r.memory->kernel_tcp = 1 << 19;
  ASSERT_TRUE(cg->apply(r));
  EXPECT_THAT(tree_.take_writes(),
              ElementsAre("memory/minidocker/abc/memory.kmem.tcp.limit_in_bytes=524288"));
}

TEST_F(V1Test, WriteErrorsNameFileAndValue) {
  auto cg = create();
  // A directory in place of the file makes the open fail, as a busy kernel file would.
  tree_.remove("memory/minidocker/abc/memory.limit_in_bytes");
  ::mkdir(tree_.path("memory/minidocker/abc/memory.limit_in_bytes").c_str(), 0755);
  oci::Resources r;
  r.memory.emplace();
  r.memory->limit = 5000000;
  auto s = cg->apply(r);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, "cgroup: write 5000000 to memory.limit_in_bytes: is a directory");
  EXPECT_EQ(s.error().errno_value, EISDIR);
  ::rmdir(tree_.path("memory/minidocker/abc/memory.limit_in_bytes").c_str());
}

TEST_F(V1Test, Cpu) {
  oci::Resources r;
  r.cpu.emplace();
  r.cpu->shares = 512;
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  r.cpu->realtime_period = 1000000;
  r.cpu->realtime_runtime = 950000;
  r.cpu->idle = 1;
  ASSERT_TRUE(create());
  tree_.take_writes();
  auto cg = Cgroup::open("/minidocker/abc", tree_.hierarchies);
  ASSERT_TRUE(cg->apply(r));
  const std::string d = "cpu,cpuacct/minidocker/abc/";
  EXPECT_THAT(tree_.take_writes(),
              ElementsAre(d + "cpu.shares=512", d + "cpu.cfs_period_us=100000",
                          d + "cpu.cfs_quota_us=50000", d + "cpu.rt_period_us=1000000",
                          d + "cpu.rt_runtime_us=950000", d + "cpu.idle=1"));
}

TEST_F(V1Test, CpusetCpusAndMems) {
  oci::Resources r;
  r.cpu.emplace();
  r.cpu->cpus = "1-2";
  r.cpu->mems = "0";
  ASSERT_TRUE(create(&r));
  EXPECT_EQ(tree_.read("cpuset/minidocker/abc/cpuset.cpus"), "1-2");
  EXPECT_EQ(tree_.read("cpuset/minidocker/abc/cpuset.mems"), "0");
  EXPECT_EQ(tree_.read("cpuset/minidocker/cpuset.cpus"), "0-3");
}

TEST_F(V1Test, PidsLimitZeroOrNegativeIsMax) {
  oci::Resources r;
  r.pids_limit = 100;
  auto cg = create(&r);
  ASSERT_TRUE(cg);
  EXPECT_EQ(tree_.read("pids/minidocker/abc/pids.max"), "100");
  r.pids_limit = 0;
  ASSERT_TRUE(cg->apply(r));
  EXPECT_EQ(tree_.read("pids/minidocker/abc/pids.max"), "max");
  r.pids_limit = -1;
  ASSERT_TRUE(cg->apply(r));
  EXPECT_EQ(tree_.read("pids/minidocker/abc/pids.max"), "max");
}

TEST_F(V1Test, BlkioWeightsAndThrottles) {
  oci::Resources r;
  r.block_io.emplace();
  r.block_io->weight = 300;
  r.block_io->weight_device.push_back({8, 0, 200, std::nullopt});
  r.block_io->throttle_read_bps.push_back({8, 0, 1048576});
  r.block_io->throttle_write_iops.push_back({8, 16, 100});
  ASSERT_TRUE(create());
  tree_.take_writes();
  auto cg = Cgroup::open("/minidocker/abc", tree_.hierarchies);
  ASSERT_TRUE(cg->apply(r));
  const std::string d = "blkio/minidocker/abc/";
  EXPECT_THAT(tree_.take_writes(),
              ElementsAre(d + "blkio.weight=300", d + "blkio.weight_device=8:0 200",
                          d + "blkio.throttle.read_bps_device=8:0 1048576",
                          d + "blkio.throttle.write_iops_device=8:16 100"));
}

TEST(V1Blkio, WeightMissingOnTheHost) {
  FakeTree tree(FakeLayout::kV1CoMounted, /*blkio_weight=*/false);
  oci::Resources r;
  r.block_io.emplace();
  r.block_io->throttle_read_bps.push_back({8, 0, 1048576});
  // Weight unset: the throttle alone works.
  auto cg = Cgroup::create("/minidocker/abc", &r, tree.hierarchies);
  ASSERT_TRUE(cg) << cg.error().message;
  // Weight set: a clear error.
  r.block_io->weight = 300;
  auto s = cg->apply(r);
  ASSERT_FALSE(s);
  EXPECT_THAT(s.error().message, HasSubstr("blkio weight 300 is not supported by this host"));
  // With BFQ the weight lives in blkio.bfq.weight.
  tree.write("blkio/minidocker/abc/blkio.bfq.weight", "100\n");
  ASSERT_TRUE(cg->apply(r));
  EXPECT_EQ(tree.read("blkio/minidocker/abc/blkio.bfq.weight"), "300");
}

TEST_F(V1Test, Hugetlb) {
  oci::Resources r;
  r.hugepage_limits.push_back({"2MB", 4194304});
  auto cg = create(&r);
  ASSERT_TRUE(cg);
  EXPECT_EQ(tree_.read("hugetlb/minidocker/abc/hugetlb.2MB.limit_in_bytes"), "4194304");
  r.hugepage_limits = {{"3MB", 1}};
  auto s = cg->apply(r);
  ASSERT_FALSE(s);
  EXPECT_THAT(s.error().message, HasSubstr("hugepage size 3MB is not supported"));
}

TEST_F(V1Test, DevicesDenyAllThenAllowList) {
  oci::Resources r;
  r.devices.push_back({false, 'a', std::nullopt, std::nullopt, "rwm"});
  r.devices.push_back({true, 'c', 1, 3, "rwm"});
  r.devices.push_back({true, 'c', std::nullopt, std::nullopt, "m"});
  r.devices.push_back({true, 'b', 8, std::nullopt, "r"});
  r.devices.push_back({false, 'c', 5, 1, "w"});
  ASSERT_TRUE(create());
  tree_.take_writes();
  auto cg = Cgroup::open("/minidocker/abc", tree_.hierarchies);
  ASSERT_TRUE(cg->apply(r));
  const std::string d = "devices/minidocker/abc/";
  EXPECT_THAT(tree_.take_writes(),
              ElementsAre(d + "devices.deny=a *:* rwm", d + "devices.allow=c 1:3 rwm",
                          d + "devices.allow=c *:* m", d + "devices.allow=b 8:* r",
                          d + "devices.deny=c 5:1 w"));
}

TEST_F(V1Test, UnifiedNeedsV2) {
  oci::Resources r;
  r.unified["memory.high"] = "100M";
  auto cg = create(&r);
  ASSERT_FALSE(cg);
  EXPECT_THAT(cg.error().message, HasSubstr("needs cgroup v2"));
  EXPECT_FALSE(tree_.exists("memory/minidocker")) << "a failed create leaves nothing behind";
}

TEST_F(V1Test, FailedCreateRemovesOnlyWhatItMade) {
  ::mkdir(tree_.path("memory/minidocker").c_str(), 0755);  // someone else's parent
  oci::Resources r;
  r.hugepage_limits.push_back({"3MB", 1});
  auto cg = create(&r);
  ASSERT_FALSE(cg);
  EXPECT_TRUE(tree_.exists("memory/minidocker"));
  EXPECT_FALSE(tree_.exists("memory/minidocker/abc"));
  EXPECT_FALSE(tree_.exists("pids/minidocker"));
  EXPECT_FALSE(tree_.exists("cpuset/minidocker"));
}

TEST_F(V1Test, AddProcessJoinsEveryHierarchy) {
  auto cg = create();
  tree_.take_writes();
  ASSERT_TRUE(cg->add_process(4242));
  auto writes = tree_.take_writes();
  EXPECT_EQ(writes.size(), tree_.hierarchies.size());
  for (const auto& w : writes) EXPECT_THAT(w, HasSubstr("/minidocker/abc/cgroup.procs=4242"));
}

TEST_F(V1Test, FreezeAndThawUseFreezerState) {
  auto cg = create();
  EXPECT_FALSE(*cg->is_frozen());
  ASSERT_TRUE(cg->freeze());
  EXPECT_EQ(tree_.read("freezer/minidocker/abc/freezer.state"), "FROZEN");
  EXPECT_TRUE(*cg->is_frozen());
  ASSERT_TRUE(cg->thaw());
  EXPECT_EQ(tree_.read("freezer/minidocker/abc/freezer.state"), "THAWED");
}

TEST_F(V1Test, PidsIncludeSubCgroupsSortedAndUnique) {
  auto cg = create();
  tree_.write("freezer/minidocker/abc/cgroup.procs", "30\n7\n");
  ::mkdir(tree_.path("freezer/minidocker/abc/inner").c_str(), 0755);
  tree_.write("freezer/minidocker/abc/inner/cgroup.procs", "12\n7\n");
  auto pids = cg->pids();
  ASSERT_TRUE(pids) << pids.error().message;
  EXPECT_THAT(*pids, ElementsAre(7, 12, 30));
}

TEST_F(V1Test, KillAllFreezesSignalsAndThaws) {
  auto cg = create();  // no processes: just the freeze/thaw dance
  tree_.take_writes();
  ASSERT_TRUE(cg->kill_all(SIGTERM));
  EXPECT_THAT(tree_.take_writes(), ElementsAre("freezer/minidocker/abc/freezer.state=FROZEN",
                                               "freezer/minidocker/abc/freezer.state=THAWED"));
}

TEST_F(V1Test, MountSourcesNameEachHierarchy) {
  auto cg = create();
  auto m = cg->mount_sources();
  ASSERT_EQ(m.size(), tree_.hierarchies.size());
  EXPECT_EQ(m[1].first, "cpu,cpuacct");
  EXPECT_EQ(m[1].second, tree_.root + "/cpu,cpuacct/minidocker/abc");
  EXPECT_EQ(m[0].first, "systemd");
  EXPECT_EQ(cg->v2_fd(), -1);
}

TEST_F(V1Test, DestroyRemovesLeafAndCreatedParentsButKeepsSharedOnes) {
  auto a = Cgroup::create("/minidocker/a", nullptr, tree_.hierarchies);
  auto b = Cgroup::create("/minidocker/b", nullptr, tree_.hierarchies);
  ASSERT_TRUE(a && b);
  ::mkdir(tree_.path("memory/minidocker/a/nested").c_str(), 0755);
  ASSERT_TRUE(a->destroy());  // made /minidocker, but b still uses it
  EXPECT_FALSE(tree_.exists("memory/minidocker/a"));
  EXPECT_TRUE(tree_.exists("memory/minidocker/b"));
  ASSERT_TRUE(b->destroy());
  EXPECT_FALSE(tree_.exists("memory/minidocker/b"));
  EXPECT_TRUE(tree_.exists("memory/minidocker")) << "b did not create /minidocker";
  ASSERT_TRUE(a->destroy()) << "destroying twice is fine";
}

TEST_F(V1Test, OpenMissingCgroup) {
  auto cg = Cgroup::open("/minidocker/nope", tree_.hierarchies);
  ASSERT_FALSE(cg);
  EXPECT_EQ(cg.error().errno_value, ENOENT);
}

TEST_F(V1Test, Stats) {
  oci::Resources r;
  r.memory.emplace();
  r.memory->limit = 1 << 20;
  r.pids_limit = 50;
  auto cg = create(&r);
  auto s = cg->stats();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->memory_usage, 4096u);
  EXPECT_EQ(s->memory_limit, 1u << 20);
  EXPECT_EQ(s->cpu_usage_ns, 123456789u);
  EXPECT_EQ(s->pids_current, 0u);
  EXPECT_EQ(s->pids_limit, 50u);
}

}  // namespace
}  // namespace md::cgroups
