// linux.resources (cgroups), cgroupsPath, seccomp, personality.
#include <unistd.h>

#include "harness.h"

namespace mdtest {
namespace {

class Cgroups : public RuntimeTest {
 protected:
  std::string cg() { return bundle_.config["linux"]["cgroupsPath"]; }
};

TEST_F(Cgroups, ProcessIsInTheConfiguredCgroup) {
  Facts f = Check({"cgroup"});
  // Without a cgroup namespace /proc/self/cgroup shows the full path.
  if (!HostIsCgroupV2Only()) {
    EXPECT_EQ(f["cgroup.memory"], cg()) << f.raw;
    EXPECT_EQ(f["cgroup.pids"], cg()) << f.raw;
  } else {
    EXPECT_EQ(f["cgroup.unified"], cg()) << f.raw;
  }
}

TEST_F(Cgroups, CreatedWithCreateRemovedWithDelete) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"/md-check", "hold"};
  Create(bundle_, id);
  EXPECT_FALSE(CgroupDir(cg(), "pids").empty()) << "no pids cgroup " << cg() << " after create";
  EXPECT_FALSE(CgroupDir(cg(), "memory").empty()) << "no memory cgroup " << cg() << " after create";
  int pid = (*State(id))["pid"].get<int>();
  std::string procs = ReadFile(CgroupDir(cg(), "pids") + "/cgroup.procs");
  auto members = SplitLines(procs);
  EXPECT_NE(std::find(members.begin(), members.end(), std::to_string(pid)), members.end()) << procs;
  ASSERT_TRUE(Rt({"delete", "--force", id}).ok());
  EXPECT_TRUE(CgroupDirsFor(cg()).empty());
}

TEST_F(Cgroups, MemoryLimit) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"/md-check", "hold"};
  bundle_.config["linux"]["resources"]["memory"] = {{"limit", 64 * 1024 * 1024}};
  Create(bundle_, id);
  if (HostIsCgroupV2Only()) {
    EXPECT_EQ(CgroupValue(cg(), "memory", "memory.max"), "67108864");
  } else {
    EXPECT_EQ(CgroupValue(cg(), "memory", "memory.limit_in_bytes"), "67108864");
  }
}

TEST_F(Cgroups, MemoryLimitVisibleInside) {
  if (HostIsCgroupV2Only()) GTEST_SKIP() << "checks the v1 layout";
  bundle_.config["linux"]["resources"]["memory"] = {{"limit", 32 * 1024 * 1024}};
  Facts f = Check({"cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"});
  EXPECT_EQ(f["cat:/sys/fs/cgroup/memory/memory.limit_in_bytes"], "33554432");
}

TEST_F(Cgroups, PidsLimit) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"/md-check", "hold"};
  bundle_.config["linux"]["resources"]["pids"] = {{"limit", 42}};
  Create(bundle_, id);
  EXPECT_EQ(CgroupValue(cg(), "pids", "pids.max"), "42");
}

TEST_F(Cgroups, PidsLimitIsEnforced) {
  bundle_.config["linux"]["resources"]["pids"] = {{"limit", 1}};
  // sh is the only task allowed: forking /bin/true fails.
  bundle_.config["process"]["args"] = {"/bin/sh", "-c", "/bin/true; echo rc=$?"};
  Result r = RunBundle(bundle_);
  EXPECT_EQ(r.out.find("rc=0"), std::string::npos) << r;
  EXPECT_NE(r.err.find("fork"), std::string::npos) << r;
}

TEST_F(Cgroups, CpuShares) {
  if (HostIsCgroupV2Only()) GTEST_SKIP() << "checks the v1 cpu controller";
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"/md-check", "hold"};
  bundle_.config["linux"]["resources"]["cpu"] = {{"shares", 512}, {"quota", 50000}, {"period", 100000}};
  Create(bundle_, id);
  EXPECT_EQ(CgroupValue(cg(), "cpu", "cpu.shares"), "512");
  EXPECT_EQ(CgroupValue(cg(), "cpu", "cpu.cfs_quota_us"), "50000");
  EXPECT_EQ(CgroupValue(cg(), "cpu", "cpu.cfs_period_us"), "100000");
}

TEST_F(Cgroups, Cpuset) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"/md-check", "hold"};
  bundle_.config["linux"]["resources"]["cpu"] = {{"cpus", "0"}};
  Create(bundle_, id);
  ASSERT_TRUE(Rt({"start", id}).ok());
  Result r = Rt({"exec", id, "/md-check", "sched"});
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(ParseFacts(r.out)["cpus"], "0");
}

TEST_F(Cgroups, RelativeCgroupsPath) {
  // A relative path is placed under the runtime's own cgroup: still ours to clean.
  std::string rel = NewCgroupPath().substr(1);
  bundle_.config["linux"]["cgroupsPath"] = rel;
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"/md-check", "hold"};
  Create(bundle_, id);
  int pid = (*State(id))["pid"].get<int>();
  std::string cgfile = ReadFile("/proc/" + std::to_string(pid) + "/cgroup");
  EXPECT_NE(cgfile.find(rel), std::string::npos) << cgfile;
}

class Seccomp : public RuntimeTest {
 protected:
  json Profile(const json& rules, const std::string& dflt = "SCMP_ACT_ALLOW") {
    return {{"defaultAction", dflt},
            {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
            {"syscalls", rules}};
  }
};

TEST_F(Seccomp, ErrnoRet) {
  bundle_.config["linux"]["seccomp"] =
      Profile({{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 42}}});
  AddMount(bundle_.config, "/w", "tmpfs", "tmpfs", {});
  Facts f = Check({"mkdir", "/w/d", "+", "seccomp", "+", "write", "/w/f"});
  EXPECT_EQ(f["mkdir:/w/d"], "ENOMSG");  // errno 42
  EXPECT_EQ(f["seccomp"], "2");
  EXPECT_EQ(f["write:/w/f"], "ok");  // other syscalls untouched
}

TEST_F(Seccomp, DefaultErrnoIsEPERM) {
  bundle_.config["linux"]["seccomp"] = Profile({{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}}});
  AddMount(bundle_.config, "/w", "tmpfs", "tmpfs", {});
  Facts f = Check({"mkdir", "/w/d"});
  EXPECT_EQ(f["mkdir:/w/d"], "EPERM");
}

TEST_F(Seccomp, DefaultActionErrnoWithAllowList) {
  // Deny everything except a broad allow list (what md-check, busybox and a
  // runtime's last steps before execve need); getcwd is denied explicitly.
  json allow = {"read", "write", "readv", "writev", "pread64", "pwrite64", "open", "openat", "openat2", "close",
                "close_range", "fstat", "newfstatat", "statx", "stat", "lstat", "statfs", "fstatfs", "access",
                "faccessat", "faccessat2", "readlink", "readlinkat", "getdents", "getdents64", "lseek", "fcntl",
                "dup", "dup2", "dup3", "pipe", "pipe2", "ioctl", "exit", "exit_group", "brk", "mmap", "munmap",
                "mremap", "mprotect", "madvise", "mincore", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn",
                "sigaltstack", "execve", "execveat", "arch_prctl", "set_tid_address", "set_robust_list", "rseq",
                "prlimit64", "getrlimit", "setrlimit", "futex", "uname", "getrandom", "capget", "capset", "prctl",
                "setgroups", "getgroups", "setresuid", "setresgid", "getresuid", "getresgid", "setuid", "setgid",
                "getuid", "getgid", "geteuid", "getegid", "getpid", "getppid", "gettid", "getpgid", "getsid",
                "setsid", "setpgid", "chdir", "fchdir", "umask", "poll", "ppoll", "select", "pselect6",
                "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "eventfd2", "nanosleep",
                "clock_nanosleep", "clock_gettime", "gettimeofday", "sched_yield", "sched_getaffinity",
                "sched_getscheduler", "getpriority", "ioprio_get", "tgkill", "tkill", "kill", "clone", "clone3",
                "wait4", "waitid", "keyctl", "sendmsg", "recvmsg", "socket", "connect", "personality",
                "getsockopt", "setsockopt", "sysinfo", "fsync", "fdatasync"};
  json deny_getcwd = {{"names", {"getcwd"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 38}};
  json rules = {{{"names", allow}, {"action", "SCMP_ACT_ALLOW"}}};
  bundle_.config["linux"]["seccomp"] = Profile(rules, "SCMP_ACT_ERRNO");
  bundle_.config["linux"]["seccomp"]["syscalls"].push_back(deny_getcwd);
  Facts f = Check({"cwd", "+", "seccomp"});
  EXPECT_EQ(f["seccomp"], "2");
  EXPECT_EQ(f["cwd"], "ENOSYS");
}

TEST_F(Seccomp, ArgumentConditions) {
  // personality(0xffffffff) (a query) is allowed, personality(PER_LINUX32) is not.
  json rule = {{"names", {"personality"}},
               {"action", "SCMP_ACT_ERRNO"},
               {"errnoRet", 1},
               {"args", {{{"index", 0}, {"value", 8}, {"op", "SCMP_CMP_EQ"}}}}};
  bundle_.config["linux"]["seccomp"] = Profile(json::array({rule}));
  bundle_.config["process"]["args"] = {"/bin/sh", "-c", "linux32 true; echo rc=$?; /md-check personality"};
  Result r = RunBundle(bundle_);
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_NE(r.out.find("rc=1"), std::string::npos) << r;
  EXPECT_NE(r.out.find("personality=0x0"), std::string::npos) << r;
}

TEST_F(Seccomp, AppliedAfterNoNewPrivsToTheProcessOnly) {
  // The filter must not stop the runtime from setting the process up (the
  // filter denies setuid-family calls with an odd errno; the user switch
  // still happens before it is loaded).
  bundle_.config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
  bundle_.config["linux"]["seccomp"] =
      Profile({{{"names", {"setresuid", "setuid", "setresgid", "setgid", "setgroups"}},
                {"action", "SCMP_ACT_ERRNO"},
                {"errnoRet", 42}}});
  Facts f = Check({"ids", "+", "seccomp"});
  EXPECT_EQ(f["uid"], "1000");
  EXPECT_EQ(f["seccomp"], "2");
}

class Personality : public RuntimeTest {};

TEST_F(Personality, Linux32) {
  KNOWN_FAILURE("runc", "runc 1.1.5 ignores linux.personality (support arrived in runc 1.2)");
  bundle_.config["linux"]["personality"] = {{"domain", "LINUX32"}};
  Facts f = Check({"personality"});
  EXPECT_EQ(f["machine"], "i686");
  EXPECT_EQ(f["personality"], "0x8");
}

TEST_F(Personality, Linux) {
  bundle_.config["linux"]["personality"] = {{"domain", "LINUX"}};
  Facts f = Check({"personality"});
  EXPECT_EQ(f["machine"], "x86_64");
  EXPECT_EQ(f["personality"], "0x0");
}

}  // namespace
}  // namespace mdtest
