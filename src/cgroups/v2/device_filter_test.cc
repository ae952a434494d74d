// The v2 device filter: v1-compatible rule replay, and the compiled program run in a tiny
// interpreter of the instructions it uses (the real kernel run is in real_cgroup_test.cc).
#include "cgroups/v2/device_filter.h"

#include <gtest/gtest.h>

namespace md::cgroups::v2 {
namespace {

using oci::DeviceCgroupRule;
constexpr auto kAny = std::nullopt;

// Runs `p` for one device access; returns r0. Supports exactly what compile emits.
int run(const std::vector<bpf_insn>& p, char type, uint32_t major, uint32_t minor,
        const char* access) {
  uint32_t acc = 0;
  for (const char* a = access; *a; ++a)
    acc |= *a == 'r' ? BPF_DEVCG_ACC_READ : *a == 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
  uint32_t ctx[3] = {(acc << 16) | (type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR), major,
                     minor};
  uint64_t r[11] = {};
  for (size_t pc = 0; pc < p.size(); ++pc) {
    const bpf_insn& i = p[pc];
    switch (i.code) {
      case BPF_LDX | BPF_MEM | BPF_W:
        r[i.dst_reg] = ctx[i.off / 4];
        break;
      case BPF_ALU | BPF_K | BPF_AND:
        r[i.dst_reg] = uint32_t(r[i.dst_reg]) & uint32_t(i.imm);
        break;
      case BPF_ALU | BPF_K | BPF_RSH:
        r[i.dst_reg] = uint32_t(r[i.dst_reg]) >> i.imm;
        break;
      case BPF_ALU | BPF_X | BPF_MOV:
        r[i.dst_reg] = uint32_t(r[i.src_reg]);
        break;
      case BPF_ALU64 | BPF_K | BPF_MOV:
        r[i.dst_reg] = uint64_t(int64_t(i.imm));
        break;
      case BPF_JMP | BPF_K | BPF_JNE:
        if (r[i.dst_reg] != uint64_t(int64_t(i.imm))) pc += i.off;
        break;
      case BPF_JMP | BPF_K | BPF_JEQ:
        if (r[i.dst_reg] == uint64_t(int64_t(i.imm))) pc += i.off;
        break;
      case BPF_JMP | BPF_EXIT:
        return static_cast<int>(r[0]);
      default:
        ADD_FAILURE() << "unexpected opcode " << int(i.code);
        return -1;
    }
  }
  ADD_FAILURE() << "fell off the end";
  return -1;
}

// Docker's default device rules.
std::vector<DeviceCgroupRule> docker_defaults() {
  return {
      {false, 'a', kAny, kAny, "rwm"}, {true, 'c', kAny, kAny, "m"}, {true, 'b', kAny, kAny, "m"},
      {true, 'c', 1, 3, "rwm"},        {true, 'c', 1, 8, "rwm"},     {true, 'c', 1, 7, "rwm"},
      {true, 'c', 5, 0, "rwm"},        {true, 'c', 1, 5, "rwm"},     {true, 'c', 1, 9, "rwm"},
      {true, 'c', 136, kAny, "rwm"},   {true, 'c', 5, 2, "rwm"},
  };
}

TEST(DeviceFilter, NoRulesAllowsEverything) {
  auto f = emulate_device_rules({});
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->default_allow);
  auto p = compile_device_filter(*f);
  EXPECT_EQ(run(p, 'b', 8, 0, "rwm"), 1);
}

TEST(DeviceFilter, DockerDefaults) {
  auto f = emulate_device_rules(docker_defaults());
  ASSERT_TRUE(f);
  EXPECT_FALSE(f->default_allow);
  EXPECT_EQ(f->exceptions.size(), 10u);
  auto p = compile_device_filter(*f);
  EXPECT_EQ(run(p, 'c', 1, 3, "rw"), 1) << "/dev/null";
  EXPECT_EQ(run(p, 'c', 136, 4, "rw"), 1) << "/dev/pts/4";
  EXPECT_EQ(run(p, 'c', 10, 200, "m"), 1) << "mknod of any char device";
  EXPECT_EQ(run(p, 'c', 10, 200, "rw"), 0) << "/dev/net/tun";
  EXPECT_EQ(run(p, 'b', 8, 0, "r"), 0) << "/dev/sda";
  EXPECT_EQ(run(p, 'b', 8, 0, "m"), 1);
  EXPECT_EQ(run(p, 'c', 1, 1, "r"), 0) << "/dev/mem";
}

TEST(DeviceFilter, RequestMustBeFullyCoveredInDenyMode) {
  auto f = emulate_device_rules({{false, 'a', kAny, kAny, "rwm"}, {true, 'c', 1, 3, "r"}});
  auto p = compile_device_filter(*f);
  EXPECT_EQ(run(p, 'c', 1, 3, "r"), 1);
  EXPECT_EQ(run(p, 'c', 1, 3, "rw"), 0);
}

TEST(DeviceFilter, AllowModeDeniesAnyOverlap) {
  auto f = emulate_device_rules({{true, 'a', kAny, kAny, "rwm"}, {false, 'b', 8, kAny, "w"}});
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->default_allow);
  auto p = compile_device_filter(*f);
  EXPECT_EQ(run(p, 'b', 8, 1, "r"), 1);
  EXPECT_EQ(run(p, 'b', 8, 1, "rw"), 0);
  EXPECT_EQ(run(p, 'c', 8, 1, "w"), 1) << "char device with the same numbers";
}

TEST(DeviceFilter, LaterRulesWithdrawExceptionsLikeV1) {
  auto f = emulate_device_rules({{false, 'a', kAny, kAny, "rwm"},
                                 {true, 'c', 1, 3, "rwm"},
                                 {false, 'c', 1, 3, "w"},
                                 {true, 'c', 1, 5, "r"},
                                 {false, 'c', 1, 5, "r"}});
  ASSERT_TRUE(f);
  ASSERT_EQ(f->exceptions.size(), 1u);
  auto p = compile_device_filter(*f);
  EXPECT_EQ(run(p, 'c', 1, 3, "rm"), 1);
  EXPECT_EQ(run(p, 'c', 1, 3, "w"), 0);
  EXPECT_EQ(run(p, 'c', 1, 5, "r"), 0);
}

TEST(DeviceFilter, ResetClearsEarlierExceptions) {
  auto f = emulate_device_rules(
      {{false, 'a', kAny, kAny, "rwm"}, {true, 'c', 1, 3, "rwm"}, {true, 'a', kAny, kAny, "rwm"}});
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->default_allow);
  EXPECT_TRUE(f->exceptions.empty());
}

TEST(DeviceFilter, BadAccessIsAnError) {
  auto f = emulate_device_rules({{true, 'c', 1, 3, "rx"}});
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().message.find("only r, w and m"), std::string::npos);
}

}  // namespace
}  // namespace md::cgroups::v2
