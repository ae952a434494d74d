#include "runtime/seccomp_compiler.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/file_util.h"

namespace md::runtime {
namespace {

oci::SeccompSyscall rule(std::vector<std::string> names, std::string action,
                         std::optional<unsigned> errno_ret = std::nullopt,
                         std::vector<oci::SeccompArg> args = {}) {
  oci::SeccompSyscall sc;
  sc.names = std::move(names);
  sc.action = std::move(action);
  sc.errno_ret = errno_ret;
  sc.args = std::move(args);
  return sc;
}

oci::SeccompArg arg(unsigned index, std::string op, uint64_t value, uint64_t value_two = 0) {
  return oci::SeccompArg{index, value, value_two, std::move(op)};
}

oci::Seccomp allow_by_default() {
  oci::Seccomp s;
  s.default_action = "SCMP_ACT_ALLOW";
  s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  return s;
}

std::string error_of(const oci::Seccomp& s) {
  auto r = compile_seccomp(s);
  return r ? std::string("<no error>") : r.error().message;
}

// Runs `body` in a forked child after installing `c`; returns the raw wait status.
// The body's return value becomes the exit code.
int run_filtered(const CompiledSeccomp& c, const std::function<int()>& body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(100);
    struct sock_fprog prog = c.fprog();
    if (install_seccomp(&prog, c.flags) != 0) ::_exit(101);
    // Raw exit_group: sanitizer runtimes hook _exit() and make syscalls the filter denies.
    ::syscall(SYS_exit_group, body());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

// errno of a raw syscall, or 0 when it succeeded.
int errno_of(long r) { return r < 0 ? errno : 0; }

TEST(SeccompCompiler, CompilesSmallProfile) {
  oci::Seccomp s = allow_by_default();
  s.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
  s.syscalls = {rule({"getcwd", "mkdirat"}, "SCMP_ACT_ERRNO", 42),
                rule({"personality"}, "SCMP_ACT_KILL_PROCESS", {},
                     {arg(0, "SCMP_CMP_EQ", 0x1234)})};
  auto c = compile_seccomp(s);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_GT(c->program.size(), 0u);
  EXPECT_EQ(c->rule_count, 3u);
  EXPECT_EQ(c->flags, unsigned{SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW});
  EXPECT_EQ(c->fprog().len, c->program.size());
}

TEST(SeccompCompiler, AcceptsEveryOciArchitectureName) {
  oci::Seccomp s = allow_by_default();
  // Little-endian ones only: one filter cannot mix byte orders (see below).
  s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86",     "SCMP_ARCH_X32",
                     "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM",    "SCMP_ARCH_PPC64LE",
                     "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_RISCV64", "x86_64"};
  s.syscalls = {rule({"getcwd"}, "SCMP_ACT_ERRNO")};
  auto c = compile_seccomp(s);
  ASSERT_TRUE(c) << c.error().message;
}

TEST(SeccompCompiler, ForeignByteOrderArchitectureIsExplained) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  oci::Seccomp s = allow_by_default();
  s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_S390X"};
  EXPECT_EQ(error_of(s),
            "linux.seccomp.architectures[1]: architecture \"SCMP_ARCH_S390X\" cannot be combined "
            "with this machine's architecture (different byte order)");
#else
  GTEST_SKIP() << "big-endian host";
#endif
}

TEST(SeccompCompiler, UnknownActionNamesFieldAndValue) {
  oci::Seccomp s = allow_by_default();
  s.syscalls = {rule({"read"}, "SCMP_ACT_ERRNO"), rule({"read"}, "SCMP_ACT_LOG"),
                rule({"read"}, "SCMP_ACT_ERRNO"), rule({"getcwd"}, "SCMP_ACT_FOO")};
  EXPECT_EQ(error_of(s), "linux.seccomp.syscalls[3].action: unknown action \"SCMP_ACT_FOO\"");

  oci::Seccomp d = allow_by_default();
  d.default_action = "SCMP_ACT_NOPE";
  EXPECT_EQ(error_of(d), "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_NOPE\"");
}

TEST(SeccompCompiler, UnknownOperatorNamesArg) {
  oci::Seccomp s = allow_by_default();
  s.syscalls = {rule({"personality"}, "SCMP_ACT_ERRNO", {},
                     {arg(0, "SCMP_CMP_EQ", 1), arg(1, "SCMP_CMP_SIMILAR", 2)})};
  EXPECT_EQ(error_of(s),
            "linux.seccomp.syscalls[0].args[1].op: unknown operator \"SCMP_CMP_SIMILAR\"");
}

TEST(SeccompCompiler, ArgIndexOutOfRange) {
  oci::Seccomp s = allow_by_default();
  s.syscalls = {rule({"personality"}, "SCMP_ACT_ERRNO", {}, {arg(6, "SCMP_CMP_EQ", 1)})};
  EXPECT_EQ(error_of(s), "linux.seccomp.syscalls[0].args[0].index: 6 is out of range (0..5)");
}

TEST(SeccompCompiler, UnknownArchitecture) {
  oci::Seccomp s = allow_by_default();
  s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_VAX"};
  EXPECT_EQ(error_of(s), "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_VAX\"");
}

TEST(SeccompCompiler, UnknownFlag) {
  oci::Seccomp s = allow_by_default();
  s.flags = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_FAST"};
  EXPECT_EQ(error_of(s), "linux.seccomp.flags[1]: unknown flag \"SECCOMP_FILTER_FLAG_FAST\"");
}

TEST(SeccompCompiler, NotifyIsRefusedClearly) {
  oci::Seccomp s = allow_by_default();
  s.syscalls = {rule({"mount"}, "SCMP_ACT_NOTIFY")};
  auto r = compile_seccomp(s);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("syscalls[0].action"), std::string::npos);
  EXPECT_NE(r.error().message.find("not supported"), std::string::npos);
  EXPECT_EQ(r.error().errno_value, EOPNOTSUPP);
}

TEST(SeccompCompiler, UnknownSyscallNamesAreSkipped) {
  oci::Seccomp s = allow_by_default();
  s.syscalls = {rule({"getcwd", "syscall_from_the_year_2040", "mkdirat"}, "SCMP_ACT_ERRNO")};
  auto c = compile_seccomp(s);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->rule_count, 2u);
}

TEST(SeccompCompiler, RulesEqualToDefaultAreSkipped) {
  oci::Seccomp s = allow_by_default();
  s.default_action = "SCMP_ACT_ERRNO";
  s.default_errno_ret = 38;
  s.syscalls = {rule({"read", "write"}, "SCMP_ACT_ALLOW"),
                rule({"getcwd"}, "SCMP_ACT_ERRNO", 38),   // same as default: skipped
                rule({"mkdirat"}, "SCMP_ACT_ERRNO", 1)};  // differs by errno: kept
  auto c = compile_seccomp(s);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->rule_count, 3u);
}

TEST(SeccompCompiler, ErrnoRetIsReturnedByTheKernel) {
  oci::Seccomp s = allow_by_default();
  s.syscalls = {rule({"getcwd"}, "SCMP_ACT_ERRNO", 42), rule({"mkdirat"}, "SCMP_ACT_ERRNO")};
  auto c = compile_seccomp(s);
  ASSERT_TRUE(c) << c.error().message;
  int st = run_filtered(*c, [] {
    char buf[256];
    if (errno_of(::syscall(SYS_getcwd, buf, sizeof buf)) != 42) return 1;
    if (errno_of(::syscall(SYS_mkdirat, AT_FDCWD, "/nonexistent/x", 0700)) != EPERM) return 2;
    if (errno_of(::syscall(SYS_getpid)) != 0) return 3;  // default: allowed
    return 0;
  });
  ASSERT_TRUE(WIFEXITED(st)) << st;
  EXPECT_EQ(WEXITSTATUS(st), 0);
}

TEST(SeccompCompiler, DefaultErrnoRetApplies) {
  oci::Seccomp s = allow_by_default();
  s.default_action = "SCMP_ACT_ERRNO";
  s.default_errno_ret = 38;  // ENOSYS, as Podman's profile does
  // Everything glibc's _exit and our checks need, nothing else.
  s.syscalls = {rule({"exit", "exit_group", "getpid"}, "SCMP_ACT_ALLOW")};
  auto c = compile_seccomp(s);
  ASSERT_TRUE(c) << c.error().message;
  int st = run_filtered(*c, [] {
    char buf[256];
    if (errno_of(::syscall(SYS_getcwd, buf, sizeof buf)) != ENOSYS) return 1;
    if (errno_of(::syscall(SYS_getpid)) != 0) return 2;
    return 0;
  });
  ASSERT_TRUE(WIFEXITED(st)) << st;
  EXPECT_EQ(WEXITSTATUS(st), 0);
}

TEST(SeccompCompiler, ArgumentFiltersMatchOnlyTheirValues) {
  oci::Seccomp s = allow_by_default();
  s.syscalls = {
      // AND of two different args: personality(0x1234) has arg1 garbage, test arg0 only
      rule({"personality"}, "SCMP_ACT_ERRNO", 43, {arg(0, "SCMP_CMP_EQ", 0x1234)}),
      // MASKED_EQ: value is the mask, valueTwo the expected masked result
      rule({"personality"}, "SCMP_ACT_ERRNO", 44, {arg(0, "SCMP_CMP_MASKED_EQ", 0xff00, 0x5500)}),
      // two tests of one index: alternatives (one rule each), as in Docker profiles
      rule({"getpriority"}, "SCMP_ACT_ERRNO", 45,
           {arg(0, "SCMP_CMP_EQ", PRIO_PGRP), arg(0, "SCMP_CMP_EQ", PRIO_USER)}),
  };
  auto c = compile_seccomp(s);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->rule_count, 4u);
  int st = run_filtered(*c, [] {
    if (errno_of(::syscall(SYS_personality, 0x1234)) != 43) return 1;
    if (errno_of(::syscall(SYS_personality, 0x5512)) != 44) return 2;
    if (errno_of(::syscall(SYS_personality, 0xffffffff)) != 0) return 3;  // query: allowed
    if (errno_of(::syscall(SYS_getpriority, PRIO_PGRP, 0)) != 45) return 4;
    if (errno_of(::syscall(SYS_getpriority, PRIO_USER, 0)) != 45) return 5;
    if (errno_of(::syscall(SYS_getpriority, PRIO_PROCESS, 0)) != 0) return 6;
    return 0;
  });
  ASSERT_TRUE(WIFEXITED(st)) << st;
  EXPECT_EQ(WEXITSTATUS(st), 0);
}

TEST(SeccompCompiler, KillProcessDeliversSigsys) {
  oci::Seccomp s = allow_by_default();
  s.syscalls = {rule({"getcwd"}, "SCMP_ACT_KILL_PROCESS")};
  auto c = compile_seccomp(s);
  ASSERT_TRUE(c) << c.error().message;
  int st = run_filtered(*c, [] {
    char buf[256];
    ::syscall(SYS_getcwd, buf, sizeof buf);
    return 7;  // not reached
  });
  ASSERT_TRUE(WIFSIGNALED(st)) << st;
  EXPECT_EQ(WTERMSIG(st), SIGSYS);
}

class SeccompCache : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/md-seccomp-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)remove_tree(dir_); }
  std::string dir_;
};

TEST_F(SeccompCache, RoundTripAndCorruption) {
  oci::Seccomp s = allow_by_default();
  s.flags = {"SECCOMP_FILTER_FLAG_LOG"};
  s.syscalls = {rule({"getcwd"}, "SCMP_ACT_ERRNO", 42)};
  const std::string cache = dir_ + "/cache";
  auto fresh = compile_seccomp(s);
  ASSERT_TRUE(fresh) << fresh.error().message;

  auto first = compile_seccomp_cached(s, cache);  // miss: compiles and stores
  ASSERT_TRUE(first) << first.error().message;
  const std::string file = cache + "/" + seccomp_cache_key(s) + ".bpf";
  ASSERT_TRUE(path_exists(file));
  struct stat st;
  ASSERT_EQ(::stat(cache.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  auto second = compile_seccomp_cached(s, cache);  // hit
  ASSERT_TRUE(second) << second.error().message;
  ASSERT_EQ(second->program.size(), fresh->program.size());
  EXPECT_EQ(std::memcmp(second->program.data(), fresh->program.data(),
                        fresh->program.size() * sizeof(struct sock_filter)),
            0);
  EXPECT_EQ(second->flags, fresh->flags);
  EXPECT_EQ(second->rule_count, fresh->rule_count);

  // The cached program really works.
  int ws = run_filtered(*second, [] {
    char buf[64];
    return errno_of(::syscall(SYS_getcwd, buf, sizeof buf)) == 42 ? 0 : 1;
  });
  ASSERT_TRUE(WIFEXITED(ws));
  EXPECT_EQ(WEXITSTATUS(ws), 0);

  // A truncated entry is ignored and rewritten.
  ASSERT_TRUE(write_file_atomic(file, "mdbpf1\n"));
  auto third = compile_seccomp_cached(s, cache);
  ASSERT_TRUE(third) << third.error().message;
  EXPECT_EQ(third->program.size(), fresh->program.size());
  auto data = read_file(file);
  ASSERT_TRUE(data);
  EXPECT_GT(data->size(), 100u);
}

TEST_F(SeccompCache, KeyDependsOnEveryField) {
  oci::Seccomp a = allow_by_default();
  a.syscalls = {rule({"getcwd"}, "SCMP_ACT_ERRNO", 42)};
  std::set<std::string> keys{seccomp_cache_key(a)};
  oci::Seccomp b = a;
  b.syscalls[0].errno_ret = 43;
  keys.insert(seccomp_cache_key(b));
  oci::Seccomp c = a;
  c.syscalls[0].names = {"getcwd", ""};
  keys.insert(seccomp_cache_key(c));
  oci::Seccomp d = a;
  d.syscalls[0].args = {arg(0, "SCMP_CMP_EQ", 1)};
  keys.insert(seccomp_cache_key(d));
  oci::Seccomp e = a;
  e.flags = {"SECCOMP_FILTER_FLAG_LOG"};
  keys.insert(seccomp_cache_key(e));
  oci::Seccomp f = a;
  f.architectures.pop_back();
  keys.insert(seccomp_cache_key(f));
  EXPECT_EQ(keys.size(), 6u);
  EXPECT_EQ(seccomp_cache_key(a).size(), 32u);
  oci::Seccomp same = a;
  EXPECT_EQ(seccomp_cache_key(a), seccomp_cache_key(same));
}

TEST_F(SeccompCache, ErrorsAreNotCached) {
  oci::Seccomp s = allow_by_default();
  s.syscalls = {rule({"getcwd"}, "SCMP_ACT_FOO")};
  auto r = compile_seccomp_cached(s, dir_);
  ASSERT_FALSE(r);
  EXPECT_FALSE(path_exists(dir_ + "/" + seccomp_cache_key(s) + ".bpf"));
}

// Podman's default profile (containers-common), reduced the way Docker/Podman do for a
// container without extra capabilities on x86_64. Returns nullopt when not installed.
std::optional<oci::Seccomp> load_podman_default_profile() {
  std::ifstream in("/usr/share/containers/seccomp.json");
  if (!in) return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(in);
  oci::Seccomp s;
  s.default_action = j.at("defaultAction");
  if (j.contains("defaultErrnoRet")) s.default_errno_ret = j["defaultErrnoRet"].get<unsigned>();
  for (const auto& m : j.value("archMap", nlohmann::json::array()))
    if (m.at("architecture") == "SCMP_ARCH_X86_64") {
      s.architectures.push_back("SCMP_ARCH_X86_64");
      for (const auto& sub : m.value("subArchitectures", nlohmann::json::array()))
        s.architectures.push_back(sub);
    }
  auto has = [](const nlohmann::json& e, const char* list, const char* v) {
    if (!e.contains(list) || !e[list].is_object() || !e[list].contains(v)) return false;
    return !e[list][v].empty();
  };
  auto lists_amd64 = [](const nlohmann::json& arches) {
    for (const auto& a : arches)
      if (a == "amd64") return true;
    return false;
  };
  for (const auto& e : j.at("syscalls")) {
    if (has(e, "includes", "caps")) continue;  // needs a capability we do not grant
    if (has(e, "includes", "arches") && !lists_amd64(e["includes"]["arches"])) continue;
    if (has(e, "excludes", "arches") && lists_amd64(e["excludes"]["arches"])) continue;
    oci::SeccompSyscall sc;
    sc.names = e.at("names").get<std::vector<std::string>>();
    sc.action = e.at("action");
    if (e.contains("errnoRet")) sc.errno_ret = e["errnoRet"].get<unsigned>();
    for (const auto& a : e.value("args", nlohmann::json::array()))
      sc.args.push_back(arg(a.at("index"), a.at("op"), a.at("value"), a.value("valueTwo", 0ull)));
    s.syscalls.push_back(std::move(sc));
  }
  return s;
}

// Not a timed assertion: prints compile vs cache-hit cost for the report.
TEST_F(SeccompCache, BenchmarkPodmanDefaultProfile) {
  auto profile = load_podman_default_profile();
  if (!profile) GTEST_SKIP() << "/usr/share/containers/seccomp.json not installed";
  size_t names = 0;
  for (const auto& sc : profile->syscalls) names += sc.names.size();

  using Clock = std::chrono::steady_clock;
  auto us = [](Clock::duration d) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count() / 1000.0;
  };
  constexpr int kRounds = 20;
  auto compiled = compile_seccomp(*profile);  // warm-up (libseccomp tables, page faults)
  ASSERT_TRUE(compiled) << compiled.error().message;
  auto t0 = Clock::now();
  for (int i = 0; i < kRounds; ++i) ASSERT_TRUE(compile_seccomp(*profile));
  auto t1 = Clock::now();
  ASSERT_TRUE(compile_seccomp_cached(*profile, dir_));  // fills the cache
  auto t2 = Clock::now();
  for (int i = 0; i < kRounds; ++i) {
    auto hit = compile_seccomp_cached(*profile, dir_);
    ASSERT_TRUE(hit);
    ASSERT_EQ(hit->program.size(), compiled->program.size());
  }
  auto t3 = Clock::now();
  std::printf("[ bench    ] podman default profile: %zu entries, %zu names, %zu rules, "
              "%zu BPF insns\n",
              profile->syscalls.size(), names, compiled->rule_count, compiled->program.size());
  std::printf("[ bench    ] compile_seccomp:          %8.1f us/op\n", us(t1 - t0) / kRounds);
  std::printf("[ bench    ] compile_seccomp_cached hit: %6.1f us/op\n", us(t3 - t2) / kRounds);

  // Sanity: the real profile installs and denies what it should.
  int st = run_filtered(*compiled, [] {
    if (errno_of(::syscall(SYS_getpid)) != 0) return 1;
    if (errno_of(::syscall(SYS_acct, nullptr)) != EPERM) return 2;  // CAP_SYS_PACCT only
    if (errno_of(::syscall(SYS_personality, 0x0040000)) != ENOSYS) return 3;  // default action
    return 0;
  });
  ASSERT_TRUE(WIFEXITED(st)) << st;
  EXPECT_EQ(WEXITSTATUS(st), 0);
}

}  // namespace
}  // namespace md::runtime
