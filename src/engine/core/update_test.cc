#include "engine/core/update.h"

#include <gtest/gtest.h>

namespace md::engine {
namespace {

using nlohmann::json;

TEST(UpdateValidate, DockersMessages) {
  UpdateRequest r;
  r.memory = 1024;
  EXPECT_EQ(validate_update(r, 4, "0-3").error().message, "Minimum memory limit allowed is 6MB");
  r = {};
  r.memory = 64 << 20;
  r.memory_swap = 32 << 20;
  EXPECT_EQ(validate_update(r, 4, "0-3").error().message,
            "Minimum memoryswap limit should be larger than memory limit, see usage");
  r = {};
  r.nano_cpus = 8'000'000'000;
  EXPECT_EQ(validate_update(r, 4, "0-3").error().message,
            "Range of CPUs is from 0.01 to 4.00, as there are only 4 CPUs available");
  r = {};
  r.nano_cpus = 1'000'000'000;
  r.cpu_quota = 50000;
  EXPECT_EQ(validate_update(r, 4, "0-3").error().message, "Conflicting options: Nano CPUs and CPU Quota cannot both be set");
  r = {};
  r.cpu_period = 10;
  EXPECT_NE(validate_update(r, 4, "0-3").error().message.find("CPU cfs period can not be less than 1ms"), std::string::npos);
  r = {};
  r.cpu_quota = 10;
  EXPECT_EQ(validate_update(r, 4, "0-3").error().message, "CPU cfs quota can not be less than 1ms (i.e. 1000)");
  r = {};
  r.cpuset_cpus = "0-";
  EXPECT_EQ(validate_update(r, 4, "0-3").error().message, "Invalid value 0- for cpuset cpus");
  r.cpuset_cpus = "5";
  EXPECT_EQ(validate_update(r, 4, "0-3").error().message,
            "Requested CPUs are not available - requested 5, available: 0-3");
  r.cpuset_cpus = "1,3";
  EXPECT_TRUE(validate_update(r, 4, "0-3"));
  r = {};
  r.restart_policy = json{{"Name", "sometimes"}};
  EXPECT_EQ(validate_update(r, 4, "0-3").error().message, "invalid restart policy 'sometimes'");
  r.restart_policy = json{{"Name", "always"}, {"MaximumRetryCount", 3}};
  EXPECT_FALSE(validate_update(r, 4, "0-3"));
  r.restart_policy = json{{"Name", "on-failure"}, {"MaximumRetryCount", 3}};
  EXPECT_TRUE(validate_update(r, 4, "0-3"));
}

TEST(UpdateMerge, DockersRules) {
  json hc = {{"Memory", 0}, {"MemorySwap", 0}, {"NanoCpus", 0}, {"CpuQuota", 0}, {"CpuPeriod", 0}, {"PidsLimit", nullptr},
             {"RestartPolicy", {{"Name", "no"}, {"MaximumRetryCount", 0}}}};
  UpdateRequest r;
  r.memory = 64 << 20;
  r.pids_limit = 10;
  r.cpu_shares = 512;
  ASSERT_TRUE(merge_update(hc, r));
  EXPECT_EQ(hc["Memory"], 64 << 20);
  EXPECT_EQ(hc["MemorySwap"], 0);  // default swap follows the memory limit
  EXPECT_EQ(hc["PidsLimit"], 10);
  EXPECT_EQ(hc["CpuShares"], 512);
  EXPECT_EQ(hc["RestartPolicy"]["Name"], "no");  // untouched

  // An explicit swap below a new memory limit: Docker's conflict.
  json hc2 = {{"Memory", 64 << 20}, {"MemorySwap", 128 << 20}};
  UpdateRequest r2;
  r2.memory = 256 << 20;
  EXPECT_EQ(merge_update(hc2, r2).error().message,
            "Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time");
  r2.memory_swap = 512 << 20;
  EXPECT_TRUE(merge_update(hc2, r2));
  EXPECT_EQ(hc2["MemorySwap"], 512 << 20);

  // NanoCpus vs period/quota already set.
  json hc3 = {{"CpuQuota", 50000}};
  UpdateRequest r3;
  r3.nano_cpus = 1'000'000'000;
  EXPECT_EQ(merge_update(hc3, r3).error().message,
            "Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set");
  json hc4 = {{"NanoCpus", 1'000'000'000}};
  UpdateRequest r4;
  r4.cpu_period = 50000;
  EXPECT_EQ(merge_update(hc4, r4).error().message,
            "Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set");

  // Unlimited pids; restart policy with AutoRemove.
  json hc5 = {{"PidsLimit", 10}, {"AutoRemove", true}};
  UpdateRequest r5;
  r5.pids_limit = -1;
  ASSERT_TRUE(merge_update(hc5, r5));
  EXPECT_TRUE(hc5["PidsLimit"].is_null());
  r5.restart_policy = json{{"Name", "always"}};
  EXPECT_EQ(merge_update(hc5, r5).error().message,
            "Restart policy cannot be updated because AutoRemove is enabled for the container");
  json hc6 = json::object();
  UpdateRequest r6;
  r6.restart_policy = json{{"Name", "on-failure"}, {"MaximumRetryCount", 2}};
  ASSERT_TRUE(merge_update(hc6, r6));
  EXPECT_EQ(hc6["RestartPolicy"], (json{{"Name", "on-failure"}, {"MaximumRetryCount", 2}}));

  // Swap without any memory limit.
  json hc7 = json::object();
  UpdateRequest r7;
  r7.memory_swap = 64 << 20;
  EXPECT_EQ(merge_update(hc7, r7).error().message,
            "You should always set the Memory limit when using Memoryswap limit, see usage");
}

TEST(UpdateParse, CpuListsAndApiBody) {
  EXPECT_EQ(*parse_cpu_list("0-2,4"), (std::vector<int>{0, 1, 2, 4}));
  EXPECT_EQ(*parse_cpu_list("3"), (std::vector<int>{3}));
  EXPECT_FALSE(parse_cpu_list("2-1"));
  EXPECT_FALSE(parse_cpu_list("a"));
  EXPECT_FALSE(parse_cpu_list("1,"));
  auto r = parse_update_body(json{{"Memory", 314572800}, {"CpuShares", 512}, {"PidsLimit", 5},
                                  {"RestartPolicy", {{"Name", "always"}, {"MaximumRetryCount", 0}}}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->memory, 314572800);
  EXPECT_EQ(r->cpu_shares, 512);
  EXPECT_EQ(*r->pids_limit, 5);
  EXPECT_EQ((*r->restart_policy)["Name"], "always");
  auto none = parse_update_body(json{{"RestartPolicy", {{"Name", ""}}}});
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->restart_policy);
  EXPECT_FALSE(parse_update_body(json{{"Memory", "lots"}}));
}

}  // namespace
}  // namespace md::engine
