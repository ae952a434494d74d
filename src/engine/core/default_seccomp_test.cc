#include "engine/core/default_seccomp.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "oci/default_spec.h"
#include "oci/spec.h"
#include "runtime/seccomp_compiler.h"

namespace md::engine {
namespace {

using nlohmann::json;

const SeccompHost kAmd64{"amd64", 6, 1};
const SeccompHost kArm64{"arm64", 6, 1};
const SeccompHost kS390x{"s390x", 6, 1};

std::vector<std::string> with(std::vector<std::string> caps, const std::string& extra) {
  caps.push_back(extra);
  return caps;
}

// Every syscall name the profile lets through without looking at arguments.
std::set<std::string> plain_allows(const json& p) {
  std::set<std::string> out;
  for (const auto& s : p["syscalls"])
    if (s["action"] == "SCMP_ACT_ALLOW" && !s.contains("args"))
      for (const auto& n : s["names"]) out.insert(n.get<std::string>());
  return out;
}

// Every name mentioned anywhere in the profile.
std::set<std::string> all_names(const json& p) {
  std::set<std::string> out;
  for (const auto& s : p["syscalls"])
    for (const auto& n : s["names"]) out.insert(n.get<std::string>());
  return out;
}

std::vector<json> entries_for(const json& p, const std::string& name) {
  std::vector<json> out;
  for (const auto& s : p["syscalls"])
    for (const auto& n : s["names"])
      if (n == name) out.push_back(s);
  return out;
}

// Through the real config.json parser and the runtime's compiler.
Result<runtime::CompiledSeccomp> compile(const json& profile) {
  json spec = oci::default_spec(false);
  spec["linux"]["seccomp"] = profile;
  oci::Spec s = TRY(oci::parse_spec_json(spec));
  return runtime::compile_seccomp(*s.linux->seccomp);
}

// ---- the default profile ---------------------------------------------------------------

TEST(DefaultSeccomp, DockerDefaultCapabilities) {
  const auto& caps = docker_default_capabilities();
  ASSERT_EQ(caps.size(), 14u);
  EXPECT_EQ(caps.front(), "CAP_CHOWN");
  EXPECT_EQ(caps[11], "CAP_SYS_CHROOT");
  EXPECT_EQ(caps.back(), "CAP_AUDIT_WRITE");
  EXPECT_EQ(std::set<std::string>(caps.begin(), caps.end()).size(), 14u);
}

TEST(DefaultSeccomp, DeniesByDefaultWithEperm) {
  json p = default_seccomp_profile(docker_default_capabilities(), kAmd64);
  EXPECT_EQ(p["defaultAction"], "SCMP_ACT_ERRNO");
  EXPECT_EQ(p["defaultErrnoRet"], 1);
  EXPECT_EQ(p["architectures"], json({"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
  EXPECT_EQ(default_seccomp_profile({}, kArm64)["architectures"],
            json({"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"}));
  EXPECT_FALSE(default_seccomp_profile({}, SeccompHost{"", 6, 1}).contains("architectures"));
}

TEST(DefaultSeccomp, AllowsWhatOrdinaryProgramsUse) {
  json p = default_seccomp_profile(docker_default_capabilities(), kAmd64);
  std::set<std::string> allowed = plain_allows(p);
  for (const char* name : {"read",
                           "write",
                           "openat",
                           "close",
                           "execve",
                           "exit_group",
                           "mmap",
                           "brk",
                           "futex",
                           "epoll_wait",
                           "getpid",
                           "wait4",
                           "kill",
                           "rt_sigaction",
                           "socketpair",
                           "connect",
                           "sendto",
                           "recvfrom",
                           "setuid",
                           "capset",
                           "prctl",
                           "clock_gettime",
                           "nanosleep",
                           "getdents64",
                           "statx",
                           "arch_prctl",
                           "modify_ldt",
                           "fork",
                           "vfork",
                           "ptrace",
                           "process_vm_readv",
                           "chroot",
                           "seccomp",
                           "rseq",
                           "close_range",
                           "mknodat",
                           "fchmodat2",
                           "uretprobe"})
    EXPECT_TRUE(allowed.count(name)) << name;
  // About Docker's ~360 (+ chroot with CAP_SYS_CHROOT), in one entry, no duplicates.
  EXPECT_GE(allowed.size(), 360u);
  EXPECT_LE(allowed.size(), 380u);
  ASSERT_EQ(p["syscalls"][0]["action"], "SCMP_ACT_ALLOW");
  EXPECT_EQ(p["syscalls"][0]["names"].size(), allowed.size());
}

TEST(DefaultSeccomp, DeniesGlobalKernelStateWithoutCapabilities) {
  json p = default_seccomp_profile(docker_default_capabilities(), kAmd64);
  std::set<std::string> named = all_names(p);
  for (const char* name : {"keyctl",
                           "add_key",
                           "request_key",
                           "kexec_load",
                           "kexec_file_load",
                           "io_uring_setup",
                           "io_uring_enter",
                           "io_uring_register",
                           "userfaultfd",
                           "pivot_root",
                           "mount",
                           "umount2",
                           "unshare",
                           "setns",
                           "fsopen",
                           "open_tree",
                           "move_mount",
                           "bpf",
                           "perf_event_open",
                           "reboot",
                           "init_module",
                           "finit_module",
                           "delete_module",
                           "open_by_handle_at",
                           "clock_settime",
                           "settimeofday",
                           "swapon",
                           "swapoff",
                           "acct",
                           "syslog",
                           "kcmp",
                           "pidfd_getfd",
                           "process_madvise",
                           "iopl",
                           "ioperm",
                           "vhangup",
                           "mbind",
                           "set_mempolicy",
                           "move_pages",
                           "migrate_pages",
                           "sethostname",
                           "setdomainname",
                           "quotactl",
                           "lookup_dcookie",
                           "fanotify_init",
                           "nfsservctl",
                           "uselib",
                           "vm86",
                           "lsm_set_self_attr",
                           "create_module"})
    EXPECT_FALSE(named.count(name)) << name;
}

TEST(DefaultSeccomp, PersonalityOnlyWithDockersValues) {
  json p = default_seccomp_profile({}, kAmd64);
  EXPECT_FALSE(plain_allows(p).count("personality"));
  std::set<uint64_t> values;
  for (const auto& e : entries_for(p, "personality")) {
    EXPECT_EQ(e["action"], "SCMP_ACT_ALLOW");
    ASSERT_EQ(e["args"].size(), 1u);
    EXPECT_EQ(e["args"][0]["index"], 0);
    EXPECT_EQ(e["args"][0]["op"], "SCMP_CMP_EQ");
    values.insert(e["args"][0]["value"].get<uint64_t>());
  }
  EXPECT_EQ(values, (std::set<uint64_t>{0x0, 0x8, 0x20000, 0x20008, 0xffffffff}));
}

TEST(DefaultSeccomp, SocketExceptVsock) {
  json p = default_seccomp_profile({}, kAmd64);
  auto e = entries_for(p, "socket");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0]["args"],
            json::parse(R"([{"index":0,"value":40,"valueTwo":0,"op":"SCMP_CMP_NE"}])"));
}

TEST(DefaultSeccomp, CloneWithoutNamespaceFlagsAndClone3Enosys) {
  json p = default_seccomp_profile(docker_default_capabilities(), kAmd64);
  auto clone = entries_for(p, "clone");
  ASSERT_EQ(clone.size(), 1u);
  EXPECT_EQ(clone[0]["action"], "SCMP_ACT_ALLOW");
  EXPECT_EQ(clone[0]["args"], json::parse(R"([{"index":0,"value":2114060288,"valueTwo":0,
                                               "op":"SCMP_CMP_MASKED_EQ"}])"));
  EXPECT_EQ(0x7E020000u, uint64_t(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |
                                  CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET));
  auto clone3 = entries_for(p, "clone3");
  ASSERT_EQ(clone3.size(), 1u);
  EXPECT_EQ(clone3[0]["action"], "SCMP_ACT_ERRNO");
  EXPECT_EQ(clone3[0]["errnoRet"], ENOSYS);

  // s390 takes the stack first: the flags are the second argument there.
  auto s390 = entries_for(default_seccomp_profile({}, kS390x), "clone");
  ASSERT_EQ(s390.size(), 1u);
  EXPECT_EQ(s390[0]["args"][0]["index"], 1);
}

TEST(DefaultSeccomp, SysAdminAllowsNamespacesMountsAndAnyClone) {
  json p = default_seccomp_profile(with(docker_default_capabilities(), "CAP_SYS_ADMIN"), kAmd64);
  std::set<std::string> allowed = plain_allows(p);
  for (const char* name :
       {"mount", "umount2", "unshare", "setns", "clone", "clone3", "fsopen", "fsmount",
        "move_mount", "open_tree", "mount_setattr", "sethostname", "setdomainname", "quotactl",
        "bpf", "perf_event_open", "syslog", "fanotify_init", "lsm_get_self_attr"})
    EXPECT_TRUE(allowed.count(name)) << name;
  // No conditional clone rule and no ENOSYS for clone3 any more.
  EXPECT_EQ(entries_for(p, "clone").size(), 1u);
  EXPECT_EQ(entries_for(p, "clone3").size(), 1u);
  EXPECT_EQ(entries_for(p, "clone3")[0]["action"], "SCMP_ACT_ALLOW");
  // Still never: not part of CAP_SYS_ADMIN's group in Docker either.
  EXPECT_FALSE(allowed.count("pivot_root"));
  EXPECT_FALSE(allowed.count("keyctl"));
}

TEST(DefaultSeccomp, CapabilityGroupsAppearOnlyWithTheirCapability) {
  const std::map<std::string, std::vector<std::string>> groups = {
      {"CAP_SYS_PTRACE", {"kcmp", "pidfd_getfd", "process_madvise"}},
      {"CAP_SYS_MODULE", {"init_module", "finit_module", "delete_module"}},
      {"CAP_SYS_BOOT", {"reboot"}},
      {"CAP_SYS_CHROOT", {"chroot"}},
      {"CAP_SYS_TIME", {"settimeofday", "clock_settime", "stime", "clock_settime64"}},
      {"CAP_SYS_NICE", {"mbind", "get_mempolicy", "set_mempolicy", "set_mempolicy_home_node"}},
      {"CAP_SYS_PACCT", {"acct"}},
      {"CAP_SYS_RAWIO", {"iopl", "ioperm"}},
      {"CAP_SYSLOG", {"syslog"}},
      {"CAP_SYS_TTY_CONFIG", {"vhangup"}},
      {"CAP_BPF", {"bpf"}},
      {"CAP_PERFMON", {"perf_event_open"}},
      {"CAP_DAC_READ_SEARCH", {"open_by_handle_at"}},
  };
  const std::set<std::string> base = all_names(default_seccomp_profile({}, kAmd64));
  for (const auto& [cap, names] : groups) {
    std::set<std::string> allowed = plain_allows(default_seccomp_profile({cap}, kAmd64));
    for (const auto& n : names) {
      EXPECT_FALSE(base.count(n)) << n << " without " << cap;
      EXPECT_TRUE(allowed.count(n)) << n << " with " << cap;
    }
    // Only that group was added (plus nothing else).
    std::set<std::string> extra;
    for (const auto& n : allowed)
      if (!base.count(n)) extra.insert(n);
    EXPECT_EQ(extra, std::set<std::string>(names.begin(), names.end())) << cap;
  }
  // Docker's profile has no CAP_SYS_RESOURCE group: the kernel checks that capability
  // on syscalls that are allowed anyway (setrlimit, …).
  EXPECT_EQ(all_names(default_seccomp_profile({"CAP_SYS_RESOURCE"}, kAmd64)), base);
}

TEST(DefaultSeccomp, CapabilityNamesAreNormalised) {
  EXPECT_EQ(default_seccomp_profile({"sys_admin"}, kAmd64),
            default_seccomp_profile({"CAP_SYS_ADMIN"}, kAmd64));
  EXPECT_EQ(default_seccomp_profile({"SYS_TIME"}, kAmd64),
            default_seccomp_profile({"CAP_SYS_TIME"}, kAmd64));
}

TEST(DefaultSeccomp, PtraceNeedsKernel48) {
  std::set<std::string> old = plain_allows(default_seccomp_profile({}, SeccompHost{"amd64", 4, 4}));
  EXPECT_FALSE(old.count("ptrace"));
  EXPECT_FALSE(old.count("process_vm_writev"));
  std::set<std::string> v48 = plain_allows(default_seccomp_profile({}, SeccompHost{"amd64", 4, 8}));
  EXPECT_TRUE(v48.count("ptrace"));
  // CAP_SYS_PTRACE allows them on any kernel.
  EXPECT_TRUE(plain_allows(default_seccomp_profile({"CAP_SYS_PTRACE"}, SeccompHost{"amd64", 4, 4}))
                  .count("ptrace"));
}

TEST(DefaultSeccomp, ArchitectureSpecificGroups) {
  std::set<std::string> arm = plain_allows(default_seccomp_profile({}, kArm64));
  EXPECT_TRUE(arm.count("set_tls"));
  EXPECT_TRUE(arm.count("cacheflush"));
  EXPECT_FALSE(arm.count("arch_prctl"));
  EXPECT_FALSE(arm.count("modify_ldt"));
  std::set<std::string> x86 = plain_allows(default_seccomp_profile({}, SeccompHost{"x86", 6, 1}));
  EXPECT_TRUE(x86.count("modify_ldt"));
  EXPECT_FALSE(x86.count("arch_prctl"));
  EXPECT_FALSE(x86.count("set_tls"));
}

TEST(DefaultSeccomp, ThisHostIsKnown) {
  const SeccompHost& h = this_seccomp_host();
#if defined(__x86_64__)
  EXPECT_EQ(h.arch, "amd64");
#elif defined(__aarch64__)
  EXPECT_EQ(h.arch, "arm64");
#endif
  EXPECT_GE(h.kernel, 3u);
  json p = default_seccomp_profile(docker_default_capabilities());
  EXPECT_EQ(p, default_seccomp_profile(docker_default_capabilities(), h));
}

TEST(DefaultSeccomp, CompilesForEveryCapabilitySet) {
  std::vector<std::string> all = {
      "CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_MODULE",     "CAP_SYS_BOOT", "CAP_SYS_TIME",
      "CAP_SYS_NICE",  "CAP_SYS_PACCT",  "CAP_SYS_RAWIO",      "CAP_SYSLOG",   "CAP_SYS_TTY_CONFIG",
      "CAP_BPF",       "CAP_PERFMON",    "CAP_DAC_READ_SEARCH"};
  for (const auto& caps : {std::vector<std::string>{}, docker_default_capabilities(), all}) {
    auto c = compile(default_seccomp_profile(caps));
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_GT(c->rule_count, 300u);
    EXPECT_LT(c->program.size(), 4096u);
  }
}

// Not a check. The integration tests run real containers under the default profile but
// do not link the engine, so they get the profile from this binary:
//   MD_EXPORT_DEFAULT_SECCOMP=FILE MD_EXPORT_SECCOMP_CAPS=CAP_A,CAP_B
//   unit_tests --gtest_filter=DefaultSeccompExport.*
// writes default_seccomp_profile({CAP_A, CAP_B}) to FILE. Skipped without the variable.
TEST(DefaultSeccompExport, WriteProfileForIntegrationTests) {
  const char* out = std::getenv("MD_EXPORT_DEFAULT_SECCOMP");
  if (!out) GTEST_SKIP() << "only writes a profile when MD_EXPORT_DEFAULT_SECCOMP is set";
  std::vector<std::string> caps;
  std::string list =
      std::getenv("MD_EXPORT_SECCOMP_CAPS") ? std::getenv("MD_EXPORT_SECCOMP_CAPS") : "";
  for (size_t start = 0; start < list.size();) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    if (comma > start) caps.push_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  std::ofstream f(out, std::ios::trunc);
  f << default_seccomp_profile(caps).dump(1) << "\n";
  f.close();
  ASSERT_TRUE(f.good()) << "write " << out;
}

// ---- the filter in the kernel ----------------------------------------------------------

// Runs `body` in a forked child under the compiled profile; returns its exit code, or
// 200 + signal. Only raw syscalls in the child: it is filtered.
int run_filtered(const runtime::CompiledSeccomp& c, const std::function<int()>& body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(100);
    struct sock_fprog prog = c.fprog();
    if (runtime::install_seccomp(&prog, c.flags) != 0) ::_exit(101);
    ::syscall(SYS_exit_group, body());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
}

// errno of a raw syscall, 0 on success.
int err(long r) { return r < 0 ? errno : 0; }

// Codes for the child's verdicts: each check returns 0 when it saw what it expected,
// otherwise a distinct number naming the check.
int expect_errno(long r, int want, int code) { return err(r) == want ? 0 : code; }

TEST(DefaultSeccompFilter, DefaultCapabilitiesInTheKernel) {
  auto c = compile(default_seccomp_profile(docker_default_capabilities()));
  ASSERT_TRUE(c) << c.error().message;
  int rc = run_filtered(*c, [] {
    if (int e = expect_errno(::syscall(SYS_getpid), 0, 1)) return e;
    if (int e = expect_errno(::syscall(SYS_personality, 0xffffffffUL), 0, 2)) return e;
    if (int e =
            expect_errno(::syscall(SYS_personality, 0x0040000UL /*ADDR_NO_RANDOMIZE*/), EPERM, 3))
      return e;
    if (int e = expect_errno(::syscall(SYS_unshare, CLONE_NEWNS), EPERM, 4)) return e;
    if (int e = expect_errno(::syscall(SYS_mount, "none", "/", "tmpfs", 0UL, nullptr), EPERM, 5))
      return e;
    if (int e = expect_errno(::syscall(SYS_keyctl, 0 /*KEYCTL_GET_KEYRING_ID*/, -3, 0), EPERM, 6))
      return e;
    struct clone_args ca = {};
    ca.exit_signal = SIGCHLD;
    if (int e = expect_errno(::syscall(SYS_clone3, &ca, sizeof ca), ENOSYS, 7)) return e;
    if (int e = expect_errno(::syscall(SYS_clone, CLONE_NEWUTS | SIGCHLD, 0, 0, 0, 0), EPERM, 8))
      return e;
    if (int e = expect_errno(::syscall(SYS_socket, 40 /*AF_VSOCK*/, SOCK_STREAM, 0), EPERM, 9))
      return e;
    long fd = ::syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) return 10;
    ::syscall(SYS_close, fd);
    if (int e = expect_errno(::syscall(SYS_io_uring_setup, 1, nullptr), EPERM, 11)) return e;
    if (int e = expect_errno(::syscall(SYS_setns, 0, 0), EPERM, 12)) return e;
    // A plain clone (fork) works: the child exits 7 at once.
    long pid = ::syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) ::syscall(SYS_exit_group, 7);
    if (pid < 0) return 13;
    int status = 0;
    if (::syscall(SYS_wait4, pid, &status, 0, nullptr) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 7)
      return 14;
    return 0;
  });
  EXPECT_EQ(rc, 0) << "check number " << rc << " failed (see the test body)";
}

TEST(DefaultSeccompFilter, SysAdminLetsNamespacesThrough) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: unshare(CLONE_NEWNS) checks CAP_SYS_ADMIN";
  auto c = compile(default_seccomp_profile(with(docker_default_capabilities(), "CAP_SYS_ADMIN")));
  ASSERT_TRUE(c) << c.error().message;
  int rc = run_filtered(*c, [] {
    if (int e = expect_errno(::syscall(SYS_unshare, CLONE_NEWNS), 0, 1)) return e;
    // clone3 reaches the kernel now, which rejects a too-small struct with EINVAL.
    struct clone_args ca = {};
    if (int e = expect_errno(::syscall(SYS_clone3, &ca, 8UL), EINVAL, 2)) return e;
    if (int e = expect_errno(::syscall(SYS_keyctl, 0, -3, 0), EPERM, 3)) return e;
    return 0;
  });
  EXPECT_EQ(rc, 0) << "check number " << rc << " failed (see the test body)";
}

// ---- Docker-format profiles ------------------------------------------------------------

json convert(const std::string& text, const std::vector<std::string>& caps = {},
             const SeccompHost& host = kAmd64) {
  auto r = seccomp_profile_from_docker_json(text, caps, host);
  EXPECT_TRUE(r) << r.error().message;
  return r ? *r : json();
}

std::string error_of(const std::string& text) {
  auto r = seccomp_profile_from_docker_json(text, {}, kAmd64);
  if (r) return "<no error>";
  EXPECT_EQ(r.error().errno_value, EINVAL);
  return r.error().message;
}

std::vector<std::string> names_of(const json& p) {
  std::vector<std::string> out;
  for (const auto& s : p["syscalls"])
    for (const auto& n : s["names"]) out.push_back(n.get<std::string>());
  return out;
}

constexpr const char* kConditional = R"({
  "defaultAction": "SCMP_ACT_ERRNO",
  "defaultErrnoRet": 1,
  "archMap": [
    {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
    {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
    {"architecture": "SCMP_ARCH_RISCV64", "subArchitectures": null}
  ],
  "syscalls": [
    {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW", "comment": "always",
     "includes": {}, "excludes": {}},
    {"names": ["needs_admin"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
    {"names": ["needs_both"], "action": "SCMP_ACT_ALLOW",
     "includes": {"caps": ["CAP_SYS_ADMIN", "CAP_NET_ADMIN"]}},
    {"names": ["unless_admin"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38,
     "excludes": {"caps": ["CAP_SYS_ADMIN", "CAP_BPF"]}},
    {"names": ["x86_only"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x86"]}},
    {"names": ["not_arm"], "action": "SCMP_ACT_ALLOW", "excludes": {"arches": ["arm64"]}},
    {"names": ["new_kernel"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "5.10"}},
    {"names": ["old_kernel"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "5.10"}},
    {"name": "single", "action": "SCMP_ACT_LOG"},
    {"names": ["masked"], "action": "SCMP_ACT_ALLOW",
     "args": [{"index": 1, "value": 18446744073709551615, "op": "SCMP_CMP_MASKED_EQ"}]}
  ]
})";

TEST(DockerSeccompProfile, FiltersByCapsArchesAndKernel) {
  json p = convert(kConditional, {}, SeccompHost{"amd64", 6, 1});
  EXPECT_EQ(p["defaultAction"], "SCMP_ACT_ERRNO");
  EXPECT_EQ(p["defaultErrnoRet"], 1);
  EXPECT_EQ(p["architectures"], json({"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
  EXPECT_EQ(names_of(p), (std::vector<std::string>{"read", "write", "unless_admin", "x86_only",
                                                   "not_arm", "new_kernel", "single", "masked"}));
  // Entries keep their shape; Docker-only fields are gone.
  EXPECT_EQ(p["syscalls"][0],
            json::parse(R"({"names":["read","write"],"action":"SCMP_ACT_ALLOW"})"));
  EXPECT_EQ(p["syscalls"][1]["errnoRet"], 38);
  EXPECT_EQ(p["syscalls"][5], json::parse(R"({"names":["single"],"action":"SCMP_ACT_LOG"})"));
  EXPECT_EQ(p["syscalls"][6]["args"],
            json::parse(R"([{"index":1,"value":18446744073709551615,"valueTwo":0,
                            "op":"SCMP_CMP_MASKED_EQ"}])"));

  // includes.caps needs every listed cap; excludes.caps drops on any.
  EXPECT_EQ(names_of(convert(kConditional, {"CAP_SYS_ADMIN"})),
            (std::vector<std::string>{"read", "write", "needs_admin", "x86_only", "not_arm",
                                      "new_kernel", "single", "masked"}));
  EXPECT_EQ(names_of(convert(kConditional, {"CAP_SYS_ADMIN", "CAP_NET_ADMIN"})),
            (std::vector<std::string>{"read", "write", "needs_admin", "needs_both", "x86_only",
                                      "not_arm", "new_kernel", "single", "masked"}));
  auto bpf = names_of(convert(kConditional, {"CAP_BPF"}));
  EXPECT_EQ(std::count(bpf.begin(), bpf.end(), "unless_admin"), 0);

  // Another architecture and an old kernel.
  json arm = convert(kConditional, {}, SeccompHost{"arm64", 4, 19});
  EXPECT_EQ(arm["architectures"], json({"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"}));
  EXPECT_EQ(names_of(arm), (std::vector<std::string>{"read", "write", "unless_admin", "old_kernel",
                                                     "single", "masked"}));
  json riscv = convert(kConditional, {}, SeccompHost{"riscv64", 5, 10});
  EXPECT_EQ(riscv["architectures"], json({"SCMP_ARCH_RISCV64"}));
  // A host absent from archMap gets no architectures (the runtime uses the native one).
  EXPECT_FALSE(convert(kConditional, {}, SeccompHost{"ppc64le", 6, 1}).contains("architectures"));
}

TEST(DockerSeccompProfile, PlainArchitecturesAndPassThroughFields) {
  json p = convert(R"({"defaultAction": "SCMP_ACT_ALLOW",
                       "architectures": ["SCMP_ARCH_X86_64"],
                       "flags": ["SECCOMP_FILTER_FLAG_LOG"],
                       "syscalls": [{"names": ["keyctl"], "action": "SCMP_ACT_ERRNO"}],
                       "someFutureField": {"ignored": true}})");
  EXPECT_EQ(p, json::parse(R"({"defaultAction": "SCMP_ACT_ALLOW",
                               "architectures": ["SCMP_ARCH_X86_64"],
                               "flags": ["SECCOMP_FILTER_FLAG_LOG"],
                               "syscalls": [{"names": ["keyctl"], "action": "SCMP_ACT_ERRNO"}]})"));
  // Without syscalls and without architectures.
  EXPECT_EQ(convert(R"({"defaultAction": "SCMP_ACT_LOG"})"),
            json::parse(R"({"defaultAction": "SCMP_ACT_LOG", "syscalls": []})"));
}

TEST(DockerSeccompProfile, EmptyProfileMeansNoSeccomp) {
  EXPECT_TRUE(convert("{}").is_null());
  EXPECT_TRUE(convert(R"({"syscalls": []})").is_null());
}

TEST(DockerSeccompProfile, ConvertedProfileCompilesAndFilters) {
  std::string text = R"({
    "defaultAction": "SCMP_ACT_ALLOW",
    "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]},
                {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
    "syscalls": [
      {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 42,
       "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
      {"names": ["ptrace", "getcwd"], "action": "SCMP_ACT_ERRNO", "errnoRet": 43},
      {"names": ["ptrace"], "action": "SCMP_ACT_ERRNO", "errnoRet": 43,
       "includes": {"caps": ["CAP_SYS_PTRACE"]}},
      {"names": ["a_syscall_no_libseccomp_knows"], "action": "SCMP_ACT_ERRNO"}
    ]})";
  for (bool admin : {false, true}) {
    std::vector<std::string> caps = {"CAP_SYS_PTRACE"};
    if (admin) caps.push_back("CAP_SYS_ADMIN");
    auto p = seccomp_profile_from_docker_json(text, caps);
    ASSERT_TRUE(p) << p.error().message;
    auto c = compile(*p);
    ASSERT_TRUE(c) << c.error().message;  // duplicate ptrace rules and unknown names are fine
    int rc = run_filtered(*c, [admin] {
      if (int e = expect_errno(::syscall(SYS_getppid), admin ? 0 : 42, 1)) return e;
      char buf[256];
      if (int e = expect_errno(::syscall(SYS_getcwd, buf, sizeof buf), 43, 2)) return e;
      return 0;
    });
    EXPECT_EQ(rc, 0) << "admin=" << admin << ": check " << rc;
  }
}

TEST(DockerSeccompProfile, ErrorsNameTheField) {
  EXPECT_NE(error_of("{").find("seccomp profile: invalid JSON"), std::string::npos)
      << error_of("{");
  EXPECT_EQ(error_of("[]"), "seccomp profile: expected a JSON object, got []");
  EXPECT_EQ(error_of(R"({"defaultAction": "SCMP_ACT_NOPE"})"),
            "seccomp profile: defaultAction: unknown action \"SCMP_ACT_NOPE\"");
  EXPECT_EQ(error_of(R"({"syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]})"),
            "seccomp profile: defaultAction: required when syscalls are listed");
  EXPECT_EQ(error_of(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": {}})"),
            "seccomp profile: syscalls: expected an array, got {}");
  const std::string head = R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
      {"names": ["read"], "action": "SCMP_ACT_ALLOW"}, )";
  auto entry = [&](const std::string& e) { return error_of(head + e + "]}"); };
  EXPECT_EQ(entry(R"({"names": ["x"], "action": "SCMP_ACT_FOO"})"),
            "seccomp profile: syscalls[1].action: unknown action \"SCMP_ACT_FOO\"");
  EXPECT_EQ(entry(R"({"names": ["x"]})"),
            "seccomp profile: syscalls[1].action: required field is missing");
  EXPECT_EQ(entry(R"({"names": "x", "action": "SCMP_ACT_ALLOW"})"),
            "seccomp profile: syscalls[1].names: expected an array of strings, got \"x\"");
  EXPECT_EQ(entry(R"({"names": ["x", 3], "action": "SCMP_ACT_ALLOW"})"),
            "seccomp profile: syscalls[1].names[1]: expected a string, got 3");
  EXPECT_EQ(entry(R"({"name": "x", "names": ["y"], "action": "SCMP_ACT_ALLOW"})"),
            "seccomp profile: syscalls[1]: both \"name\" and \"names\" are given, use either one");
  EXPECT_EQ(entry(R"({"names": ["x"], "action": "SCMP_ACT_ERRNO", "errnoRet": -1})"),
            "seccomp profile: syscalls[1].errnoRet: must not be negative, got -1");
  EXPECT_EQ(entry(R"({"names": ["x"], "action": "SCMP_ACT_ALLOW",
                      "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]})"),
            "seccomp profile: syscalls[1].args[0].index: 6 is out of range (0..5)");
  EXPECT_EQ(entry(R"({"names": ["x"], "action": "SCMP_ACT_ALLOW",
                      "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_ABOUT"}]})"),
            "seccomp profile: syscalls[1].args[0].op: unknown operator \"SCMP_CMP_ABOUT\"");
  EXPECT_EQ(
      entry(R"({"names": ["x"], "action": "SCMP_ACT_ALLOW",
                      "args": [{"index": 0, "value": "1", "op": "SCMP_CMP_EQ"}]})"),
      "seccomp profile: syscalls[1].args[0].value: expected a non-negative integer, got \"1\"");
  EXPECT_EQ(
      entry(R"({"names": ["x"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4"}})"),
      "seccomp profile: syscalls[1].includes.minKernel: invalid kernel version \"4\", "
      "expected \"<kernel>.<major>\"");
  EXPECT_EQ(
      entry(R"({"names": ["x"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "0.0"}})"),
      "seccomp profile: syscalls[1].excludes.minKernel: kernel version cannot be 0.0");
  EXPECT_EQ(
      entry(R"({"names": ["x"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": "CAP_X"}})"),
      "seccomp profile: syscalls[1].includes.caps: expected an array of strings, got \"CAP_X\"");
  EXPECT_EQ(entry(R"({"names": ["x"], "action": "SCMP_ACT_ALLOW", "excludes": []})"),
            "seccomp profile: syscalls[1].excludes: expected an object, got []");
  EXPECT_EQ(error_of(R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_Z80"]})"),
            "seccomp profile: architectures[0]: unknown architecture \"SCMP_ARCH_Z80\"");
  EXPECT_EQ(
      error_of(R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86"],
                         "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]})"),
      "seccomp profile: archMap: both \"architectures\" and \"archMap\" are given, use either one");
  EXPECT_EQ(error_of(R"({"defaultAction": "SCMP_ACT_ERRNO",
                         "archMap": [{"architecture": "SCMP_ARCH_X86_64",
                                      "subArchitectures": ["x86"]}]})"),
            "seccomp profile: archMap[0].subArchitectures[0]: unknown architecture \"x86\"");
  EXPECT_EQ(error_of(R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1.5})"),
            "seccomp profile: defaultErrnoRet: expected a non-negative integer, got 1.5");
  EXPECT_EQ(error_of(R"({"defaultAction": "SCMP_ACT_ERRNO", "flags": ["SECCOMP_FILTER_FLAG_X"]})"),
            "seccomp profile: flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_X\"");
}

// Docker's own default.json, when installed (docker-ce ships none in a fixed place;
// MD_DOCKER_SECCOMP_JSON may point at one): it converts, and allows what ours allows.
TEST(DockerSeccompProfile, DockersDefaultJsonMatchesOurs) {
  const char* path = std::getenv("MD_DOCKER_SECCOMP_JSON");
  if (!path) GTEST_SKIP() << "set MD_DOCKER_SECCOMP_JSON to moby's profiles/seccomp/default.json";
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const auto& caps : {std::vector<std::string>{}, docker_default_capabilities(),
                           with(docker_default_capabilities(), "CAP_SYS_ADMIN")}) {
    json theirs = convert(text, caps);
    json ours = default_seccomp_profile(caps, kAmd64);
    EXPECT_EQ(plain_allows(theirs), plain_allows(ours));
    EXPECT_EQ(theirs["architectures"], ours["architectures"]);
  }
}

}  // namespace
}  // namespace md::engine
