#include "engine/core/default_seccomp.h"

#include <sys/utsname.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string_view>

namespace md::engine {

namespace {

using nlohmann::json;
using Names = std::span<const std::string_view>;

constexpr std::string_view kAllow = "SCMP_ACT_ALLOW";
constexpr std::string_view kErrno = "SCMP_ACT_ERRNO";
constexpr unsigned kEperm = 1;
constexpr unsigned kEnosys = 38;

// =====================================================================================
// The default profile, as data.
//
// Docker's policy in one sentence: a container may use every syscall an ordinary
// process needs, and nothing that reaches global (non-namespaced) kernel state, unless
// the container was given the capability that such a syscall would need anyway — in
// which case the filter gets out of the way and the capability check decides.
//
// The allow-list is split into topics below only for reading; the profile emits them as
// one entry. Legacy and 32-bit spellings (chown32, fcntl64, _llseek, *_time64, socketcall,
// ipc, …) sit with their modern forms: the filter also covers the compat architectures
// (i386 and x32 on x86_64, arm on aarch64), where those are the real syscalls.
// =====================================================================================

// clang-format off
// Reading, writing and moving data through file descriptors one already holds.
constexpr std::string_view kFileIo[] = {
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "preadv2", "pwritev",
    "pwritev2", "lseek", "_llseek", "sendfile", "sendfile64", "splice", "tee", "vmsplice",
    "copy_file_range", "fsync", "fdatasync", "sync", "syncfs", "sync_file_range", "readahead",
    "fadvise64", "fadvise64_64", "fallocate", "ftruncate", "ftruncate64", "truncate",
    "truncate64", "flock", "fcntl", "fcntl64", "ioctl", "dup", "dup2", "dup3", "close",
    "close_range", "pipe", "pipe2", "cachestat",
};

// The file system through paths: open, stat, create, rename, link, permissions, times.
// All of it is bounded by the container's mount namespace and by DAC/capabilities.
// mknod is allowed: CAP_MKNOD and the device cgroup decide what a node can reach.
// name_to_handle_at only produces a handle; using one (open_by_handle_at) bypasses
// path lookup and needs CAP_DAC_READ_SEARCH (the 2014 "shocker" escape), see below.
// statmount/listmount only read the caller's own mount namespace.
constexpr std::string_view kPaths[] = {
    "open", "openat", "openat2", "creat", "access", "faccessat", "faccessat2", "stat", "stat64",
    "lstat", "lstat64", "fstat", "fstat64", "fstatat64", "newfstatat", "statx", "statfs",
    "statfs64", "fstatfs", "fstatfs64", "getdents", "getdents64", "getcwd", "chdir", "fchdir",
    "mkdir", "mkdirat", "mknod", "mknodat", "rmdir", "rename", "renameat", "renameat2", "link",
    "linkat", "symlink", "symlinkat", "unlink", "unlinkat", "readlink", "readlinkat", "chmod",
    "fchmod", "fchmodat", "fchmodat2", "chown", "chown32", "fchown", "fchown32", "fchownat",
    "lchown", "lchown32", "umask", "utime", "utimes", "utimensat", "utimensat_time64",
    "futimesat", "name_to_handle_at", "statmount", "listmount",
};

// Extended attributes (security.* and trusted.* are guarded by the kernel itself).
constexpr std::string_view kXattrs[] = {
    "getxattr",    "lgetxattr",    "fgetxattr",    "getxattrat",    "setxattr",    "lsetxattr",
    "fsetxattr",   "setxattrat",   "listxattr",    "llistxattr",    "flistxattr",  "listxattrat",
    "removexattr", "lremovexattr", "fremovexattr", "removexattrat",
};

// Waiting for events: poll/select/epoll and the fd-shaped event sources. fanotify_mark
// only works on a group from fanotify_init, which is CAP_SYS_ADMIN's (below).
constexpr std::string_view kEvents[] = {
    "poll", "ppoll", "ppoll_time64", "select", "_newselect", "pselect6", "pselect6_time64",
    "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_wait",
    "epoll_wait_old", "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", "signalfd",
    "signalfd4", "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
    "timerfd_settime64", "inotify_init", "inotify_init1", "inotify_add_watch",
    "inotify_rm_watch", "fanotify_mark",
};

// Linux AIO. io_uring is deliberately NOT here (Docker 25 removed it): its operations
// run in kernel workers that seccomp never sees, so it would bypass this whole filter,
// and it has been the source of many container escapes.
constexpr std::string_view kAsyncIo[] = {
    "io_setup",    "io_destroy",    "io_submit",          "io_cancel",
    "io_getevents", "io_pgetevents", "io_pgetevents_time64",
};

// The process's own address space. mlock* is bounded by RLIMIT_MEMLOCK; NUMA policy
// (mbind, set_mempolicy, …) is CAP_SYS_NICE's group, and move_pages/migrate_pages
// (other processes' memory) are never allowed.
constexpr std::string_view kMemory[] = {
    "brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "madvise", "mincore", "msync",
    "mlock", "mlock2", "mlockall", "munlock", "munlockall", "remap_file_pages", "membarrier",
    "memfd_create", "memfd_secret", "pkey_alloc", "pkey_free", "pkey_mprotect",
    "map_shadow_stack", "mseal",
};

// Creating, running, signalling and reaping processes and threads. `clone` and `clone3`
// are not here: see the clone rules below. ptrace and process_vm_* follow separately.
// seccomp and landlock let a process restrict itself further; prctl is allowed whole
// (its dangerous options check capabilities themselves). uretprobe is the kernel's own
// return-probe trampoline: blocking it would crash probed programs.
constexpr std::string_view kProcesses[] = {
    "fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid", "waitpid",
    "kill", "tkill", "tgkill", "pidfd_open", "pidfd_send_signal", "process_mrelease", "getpid",
    "getppid", "gettid", "getpgid", "setpgid", "getpgrp", "getsid", "setsid", "set_tid_address",
    "set_robust_list", "get_robust_list", "set_thread_area", "get_thread_area", "rseq", "prctl",
    "capget", "capset", "seccomp", "landlock_create_ruleset", "landlock_add_rule",
    "landlock_restrict_self", "restart_syscall", "uretprobe",
};

// Signal handling.
constexpr std::string_view kSignals[] = {
    "rt_sigaction", "rt_sigprocmask",  "rt_sigreturn",           "rt_sigpending",
    "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_sigqueueinfo",
    "rt_tgsigqueueinfo", "sigaltstack", "sigprocmask",            "sigreturn",
    "pause",
};

// User and group ids: changing them needs CAP_SETUID/CAP_SETGID, which the kernel checks.
constexpr std::string_view kIdentity[] = {
    "getuid",    "getuid32",    "geteuid",    "geteuid32",   "getgid",     "getgid32",
    "getegid",   "getegid32",   "getresuid",  "getresuid32", "getresgid",  "getresgid32",
    "getgroups", "getgroups32", "setuid",     "setuid32",    "setgid",     "setgid32",
    "setreuid",  "setreuid32",  "setregid",   "setregid32",  "setresuid",  "setresuid32",
    "setresgid", "setresgid32", "setfsuid",   "setfsuid32",  "setfsgid",   "setfsgid32",
    "setgroups", "setgroups32",
};

// Scheduling, priorities and resource limits of one's own processes; raising them
// beyond the limits needs CAP_SYS_NICE/CAP_SYS_RESOURCE, which the kernel checks.
constexpr std::string_view kScheduling[] = {
    "sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getattr", "sched_setattr",
    "sched_getparam", "sched_setparam", "sched_getscheduler", "sched_setscheduler",
    "sched_get_priority_max", "sched_get_priority_min", "sched_rr_get_interval",
    "sched_rr_get_interval_time64", "getpriority", "setpriority", "ioprio_get", "ioprio_set",
    "getrlimit", "setrlimit", "ugetrlimit", "prlimit64", "getrusage", "getcpu",
};

// Reading clocks, sleeping, timers. adjtimex/clock_adjtime are allowed because with a
// zero mode they only read; setting the clock needs CAP_SYS_TIME (there is no time
// namespace for CLOCK_REALTIME), see the CAP_SYS_TIME group.
constexpr std::string_view kTime[] = {
    "time", "gettimeofday", "clock_gettime", "clock_gettime64", "clock_getres",
    "clock_getres_time64", "clock_nanosleep", "clock_nanosleep_time64", "nanosleep", "alarm",
    "getitimer", "setitimer", "times", "timer_create", "timer_delete", "timer_getoverrun",
    "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64", "adjtimex",
    "clock_adjtime", "clock_adjtime64",
};

// Machine information a program may need (riscv_hwprobe: CPU features on RISC-V).
constexpr std::string_view kSystemInfo[] = {"uname", "sysinfo", "getrandom", "riscv_hwprobe"};

// Sockets, except socket(2) itself, which has an argument rule below. socketcall is
// i386's multiplexer for all of them (its arguments sit behind a pointer seccomp cannot
// read, so it is allowed whole, as in Docker).
constexpr std::string_view kNetwork[] = {
    "socketpair", "bind", "listen", "accept", "accept4", "connect", "shutdown", "getsockname",
    "getpeername", "getsockopt", "setsockopt", "send", "sendto", "sendmsg", "sendmmsg", "recv",
    "recvfrom", "recvmsg", "recvmmsg", "recvmmsg_time64", "socketcall",
};

// Synchronisation and IPC: futexes, System V IPC and POSIX message queues, all scoped by
// the container's IPC namespace.
constexpr std::string_view kIpc[] = {
    "futex", "futex_time64", "futex_waitv", "futex_wait", "futex_wake", "futex_requeue", "ipc",
    "msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semtimedop",
    "semtimedop_time64", "semctl", "shmget", "shmat", "shmdt", "shmctl", "mq_open", "mq_unlink",
    "mq_timedsend", "mq_timedsend_time64", "mq_timedreceive", "mq_timedreceive_time64",
    "mq_notify", "mq_getsetattr",
};

// ptrace and reading/writing another process's memory. Before Linux 4.8 a traced
// process could change its syscall after seccomp had checked it, so these are only
// allowed on 4.8 and later; the kernel's ptrace access checks (same user, and
// CAP_SYS_PTRACE across users) still apply.
constexpr std::string_view kPtrace[] = {"ptrace", "process_vm_readv", "process_vm_writev"};

// Architecture-specific calls an ordinary program uses (TLS, cache flushes, LDT for
// 16-bit/Wine code), allowed only where they exist.
constexpr std::string_view kPpc64le[] = {"sync_file_range2", "swapcontext"};
constexpr std::string_view kArm[] = {"arm_fadvise64_64", "arm_sync_file_range",
                                     "sync_file_range2",  "breakpoint",
                                     "cacheflush",        "set_tls"};
constexpr std::string_view kArchPrctl[] = {"arch_prctl"};
constexpr std::string_view kModifyLdt[] = {"modify_ldt"};
constexpr std::string_view kS390[] = {"s390_pci_mmio_read", "s390_pci_mmio_write",
                                      "s390_runtime_instr"};
constexpr std::string_view kRiscv[] = {"riscv_flush_icache"};

// ---- capability groups ---------------------------------------------------------------
// Each group is what the capability's holder may do anyway; without the capability the
// kernel would refuse most of these calls too, but the filter shrinks the attack surface
// (bugs in code reached before the capability check) and closes the holes where a user
// namespace would grant the capability (unshare, clone with CLONE_NEWUSER).

// CAP_SYS_ADMIN: mounts (old and new API), namespaces, hostname, quotas, BPF and perf
// (before CAP_BPF/CAP_PERFMON existed), the kernel log, fanotify, and the new LSM
// attribute calls (Docker 28 put these here until they are known to be as safe as
// /proc/self/attr, which the LSM policy itself may guard). With CAP_SYS_ADMIN, clone and
// clone3 are allowed with any flags.
constexpr std::string_view kSysAdmin[] = {
    "bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
    "lookup_dcookie", "lsm_get_self_attr", "lsm_list_modules", "lsm_set_self_attr", "mount",
    "mount_setattr", "move_mount", "open_tree", "perf_event_open", "quotactl", "quotactl_fd",
    "setdomainname", "sethostname", "setns", "syslog", "umount", "umount2", "unshare",
};
constexpr std::string_view kDacReadSearch[] = {"open_by_handle_at"};
constexpr std::string_view kSysBoot[] = {"reboot"};  // in a pid namespace: kills its init
constexpr std::string_view kSysChroot[] = {"chroot"};
constexpr std::string_view kSysModule[] = {"delete_module", "init_module", "finit_module"};
constexpr std::string_view kSysPacct[] = {"acct"};
// Inspecting other processes beyond plain ptrace: comparing their kernel objects,
// stealing their fds, advising on their memory.
constexpr std::string_view kSysPtrace[] = {"kcmp",           "pidfd_getfd",      "process_madvise",
                                           "process_vm_readv", "process_vm_writev", "ptrace"};
constexpr std::string_view kSysRawio[] = {"iopl", "ioperm"};  // I/O ports of the host
constexpr std::string_view kSysTime[] = {"settimeofday", "stime", "clock_settime",
                                         "clock_settime64"};
constexpr std::string_view kSysTtyConfig[] = {"vhangup"};
constexpr std::string_view kSysNice[] = {"get_mempolicy", "mbind", "set_mempolicy",
                                         "set_mempolicy_home_node"};  // NUMA placement
constexpr std::string_view kSyslog[] = {"syslog"};
constexpr std::string_view kBpf[] = {"bpf"};
constexpr std::string_view kPerfmon[] = {"perf_event_open"};

constexpr std::string_view kCapSysAdmin[] = {"CAP_SYS_ADMIN"};

// ---- argument rules ---------------------------------------------------------------------

struct Arg {
  unsigned index;
  uint64_t value, value_two;
  std::string_view op;
};

constexpr std::string_view kPersonality[] = {"personality"};
// personality(2) values glibc and common tools use: PER_LINUX (0), PER_LINUX32 (0x8,
// `linux32`/`setarch`), UNAME26 (0x20000) with either, and 0xffffffff, which only
// queries. Everything else (READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE, …) weakens exploit
// mitigations and is denied. One entry per value: the values are alternatives.
constexpr Arg kPersonalityLinux[] = {{0, 0x0, 0, "SCMP_CMP_EQ"}};
constexpr Arg kPersonalityLinux32[] = {{0, 0x0008, 0, "SCMP_CMP_EQ"}};
constexpr Arg kPersonalityUname26[] = {{0, 0x20000, 0, "SCMP_CMP_EQ"}};
constexpr Arg kPersonalityUname26Linux32[] = {{0, 0x20008, 0, "SCMP_CMP_EQ"}};
constexpr Arg kPersonalityQuery[] = {{0, 0xffffffff, 0, "SCMP_CMP_EQ"}};

constexpr std::string_view kSocket[] = {"socket"};
// socket(2) for every address family except AF_VSOCK (40): vsock reaches the host and
// other VMs/containers by CID and is not scoped by the network namespace.
constexpr Arg kSocketNotVsock[] = {{0, 40, 0, "SCMP_CMP_NE"}};

constexpr std::string_view kClone[] = {"clone"};
constexpr std::string_view kClone3[] = {"clone3"};
// clone(2) without any CLONE_NEW* flag: (flags & mask) == 0. Without CAP_SYS_ADMIN a
// container may create processes and threads but not namespaces — in particular not a
// user namespace, in which it would be "root" and reach code otherwise behind
// capabilities. The flags are clone's first argument, except on s390, where the kernel
// takes the stack first.
constexpr uint64_t kCloneNamespaceFlags = 0x00020000     // CLONE_NEWNS
                                          | 0x02000000   // CLONE_NEWCGROUP
                                          | 0x04000000   // CLONE_NEWUTS
                                          | 0x08000000   // CLONE_NEWIPC
                                          | 0x10000000   // CLONE_NEWUSER
                                          | 0x20000000   // CLONE_NEWPID
                                          | 0x40000000;  // CLONE_NEWNET
constexpr Arg kCloneNoNamespaces[] = {{0, kCloneNamespaceFlags, 0, "SCMP_CMP_MASKED_EQ"}};
constexpr Arg kCloneNoNamespacesS390[] = {{1, kCloneNamespaceFlags, 0, "SCMP_CMP_MASKED_EQ"}};
constexpr std::string_view kS390Arches[] = {"s390", "s390x"};

constexpr std::string_view kArchesPpc64le[] = {"ppc64le"};
constexpr std::string_view kArchesArm[] = {"arm", "arm64"};
constexpr std::string_view kArchesX86_64[] = {"amd64", "x32"};
constexpr std::string_view kArchesX86[] = {"amd64", "x32", "x86"};
constexpr std::string_view kArchesRiscv[] = {"riscv64"};

// One entry of the profile, with Docker's conditions.
struct Group {
  Names names;
  std::string_view action = kAllow;
  int errno_ret = -1;  // -1: none
  std::span<const Arg> args = {};
  Names include_caps = {}, include_arches = {};
  Names exclude_caps = {}, exclude_arches = {};
  unsigned min_kernel = 0, min_major = 0;  // includes.minKernel; 0.0: none
};

constexpr std::string_view kCapDacReadSearch[] = {"CAP_DAC_READ_SEARCH"};
constexpr std::string_view kCapSysBoot[] = {"CAP_SYS_BOOT"};
constexpr std::string_view kCapSysChroot[] = {"CAP_SYS_CHROOT"};
constexpr std::string_view kCapSysModule[] = {"CAP_SYS_MODULE"};
constexpr std::string_view kCapSysPacct[] = {"CAP_SYS_PACCT"};
constexpr std::string_view kCapSysPtrace[] = {"CAP_SYS_PTRACE"};
constexpr std::string_view kCapSysRawio[] = {"CAP_SYS_RAWIO"};
constexpr std::string_view kCapSysTime[] = {"CAP_SYS_TIME"};
constexpr std::string_view kCapSysTtyConfig[] = {"CAP_SYS_TTY_CONFIG"};
constexpr std::string_view kCapSysNice[] = {"CAP_SYS_NICE"};
constexpr std::string_view kCapSyslog[] = {"CAP_SYSLOG"};
constexpr std::string_view kCapBpf[] = {"CAP_BPF"};
constexpr std::string_view kCapPerfmon[] = {"CAP_PERFMON"};

// The whole profile, in the order it is emitted. Unconditional allow groups first (they
// are merged into one entry), then the rest in Docker's order.
constexpr Group kDefaultProfile[] = {
    {.names = kFileIo},
    {.names = kPaths},
    {.names = kXattrs},
    {.names = kEvents},
    {.names = kAsyncIo},
    {.names = kMemory},
    {.names = kProcesses},
    {.names = kSignals},
    {.names = kIdentity},
    {.names = kScheduling},
    {.names = kTime},
    {.names = kSystemInfo},
    {.names = kNetwork},
    {.names = kIpc},
    {.names = kPtrace, .min_kernel = 4, .min_major = 8},
    {.names = kSocket, .args = kSocketNotVsock},
    {.names = kPersonality, .args = kPersonalityLinux},
    {.names = kPersonality, .args = kPersonalityLinux32},
    {.names = kPersonality, .args = kPersonalityUname26},
    {.names = kPersonality, .args = kPersonalityUname26Linux32},
    {.names = kPersonality, .args = kPersonalityQuery},
    {.names = kPpc64le, .include_arches = kArchesPpc64le},
    {.names = kArm, .include_arches = kArchesArm},
    {.names = kArchPrctl, .include_arches = kArchesX86_64},
    {.names = kModifyLdt, .include_arches = kArchesX86},
    {.names = kS390, .include_arches = kS390Arches},
    {.names = kRiscv, .include_arches = kArchesRiscv},
    {.names = kDacReadSearch, .include_caps = kCapDacReadSearch},
    {.names = kSysAdmin, .include_caps = kCapSysAdmin},
    {.names = kClone,
     .args = kCloneNoNamespaces,
     .exclude_caps = kCapSysAdmin,
     .exclude_arches = kS390Arches},
    {.names = kClone,
     .args = kCloneNoNamespacesS390,
     .include_arches = kS390Arches,
     .exclude_caps = kCapSysAdmin},
    // clone3 passes its flags in a struct behind a pointer, which seccomp cannot read.
    // ENOSYS ("this kernel has no clone3") makes glibc and Go fall back to clone, whose
    // flags the rule above checks; EPERM would be reported as a failure instead.
    {.names = kClone3, .action = kErrno, .errno_ret = kEnosys, .exclude_caps = kCapSysAdmin},
    {.names = kSysBoot, .include_caps = kCapSysBoot},
    {.names = kSysChroot, .include_caps = kCapSysChroot},
    {.names = kSysModule, .include_caps = kCapSysModule},
    {.names = kSysPacct, .include_caps = kCapSysPacct},
    {.names = kSysPtrace, .include_caps = kCapSysPtrace},
    {.names = kSysRawio, .include_caps = kCapSysRawio},
    {.names = kSysTime, .include_caps = kCapSysTime},
    {.names = kSysTtyConfig, .include_caps = kCapSysTtyConfig},
    {.names = kSysNice, .include_caps = kCapSysNice},
    {.names = kSyslog, .include_caps = kCapSyslog},
    {.names = kBpf, .include_caps = kCapBpf},
    {.names = kPerfmon, .include_caps = kCapPerfmon},
};

// Docker's archMap: the host architecture and the compat ones its kernel also runs.
struct ArchEntry {
  std::string_view arch;
  Names sub;
};
constexpr std::string_view kSubX86_64[] = {"SCMP_ARCH_X86", "SCMP_ARCH_X32"};
constexpr std::string_view kSubAarch64[] = {"SCMP_ARCH_ARM"};
constexpr std::string_view kSubMips64[] = {"SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64N32"};
constexpr std::string_view kSubMips64n32[] = {"SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64"};
constexpr std::string_view kSubMipsel64[] = {"SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64N32"};
constexpr std::string_view kSubMipsel64n32[] = {"SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64"};
constexpr std::string_view kSubS390x[] = {"SCMP_ARCH_S390"};
constexpr ArchEntry kDefaultArchMap[] = {
    {"SCMP_ARCH_X86_64", kSubX86_64},         {"SCMP_ARCH_AARCH64", kSubAarch64},
    {"SCMP_ARCH_MIPS64", kSubMips64},         {"SCMP_ARCH_MIPS64N32", kSubMips64n32},
    {"SCMP_ARCH_MIPSEL64", kSubMipsel64},     {"SCMP_ARCH_MIPSEL64N32", kSubMipsel64n32},
    {"SCMP_ARCH_S390X", kSubS390x},           {"SCMP_ARCH_RISCV64", {}},
};

// clang-format on

// =====================================================================================
// Profiles in Docker's format, resolved for one container.
// =====================================================================================

struct KernelVersion {
  unsigned kernel = 0, major = 0;
  bool set() const { return kernel != 0 || major != 0; }
};

struct Filter {
  std::vector<std::string> caps, arches;
  KernelVersion min_kernel;
};

struct Rule {
  std::vector<std::string> names;
  std::string action;
  std::optional<unsigned> errno_ret;
  json args = json::array();  // OCI args, already validated
  Filter includes, excludes;
};

struct DockerProfile {
  std::string default_action;
  std::optional<unsigned> default_errno_ret;
  std::vector<std::string> architectures;
  std::vector<std::pair<std::string, std::vector<std::string>>> arch_map;
  std::optional<json> flags, listener_path, listener_metadata;  // passed through
  std::vector<Rule> rules;
};

// "sys_admin" → "CAP_SYS_ADMIN".
std::string canonical_cap(std::string_view c) {
  std::string out(c);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
  if (!out.starts_with("CAP_")) out = "CAP_" + out;
  return out;
}

using CapSet = std::set<std::string>;

CapSet cap_set(const std::vector<std::string>& caps) {
  CapSet s;
  for (const auto& c : caps) s.insert(canonical_cap(c));
  return s;
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

bool kernel_at_least(const SeccompHost& host, KernelVersion v) {
  return host.kernel > v.kernel || (host.kernel == v.kernel && host.major >= v.major);
}

// moby's setupSeccomp, entry by entry.
bool applies(const Rule& r, const CapSet& caps, const SeccompHost& host) {
  const Filter& ex = r.excludes;
  if (!ex.arches.empty() && contains(ex.arches, host.arch)) return false;
  for (const auto& c : ex.caps)
    if (caps.count(canonical_cap(c))) return false;
  if (ex.min_kernel.set() && kernel_at_least(host, ex.min_kernel)) return false;
  const Filter& in = r.includes;
  if (!in.arches.empty() && !contains(in.arches, host.arch)) return false;
  for (const auto& c : in.caps)
    if (!caps.count(canonical_cap(c))) return false;
  if (in.min_kernel.set() && !kernel_at_least(host, in.min_kernel)) return false;
  return true;
}

// Docker's architecture name → the SCMP_ARCH_* the host's filter starts from.
std::string_view scmp_arch_of(std::string_view arch) {
  struct Pair {
    std::string_view native, scmp;
  };
  static constexpr Pair kMap[] = {
      {"x86", "SCMP_ARCH_X86"},
      {"amd64", "SCMP_ARCH_X86_64"},
      {"x32", "SCMP_ARCH_X32"},
      {"arm", "SCMP_ARCH_ARM"},
      {"arm64", "SCMP_ARCH_AARCH64"},
      {"mips", "SCMP_ARCH_MIPS"},
      {"mips64", "SCMP_ARCH_MIPS64"},
      {"mips64n32", "SCMP_ARCH_MIPS64N32"},
      {"mipsel", "SCMP_ARCH_MIPSEL"},
      {"mipsel64", "SCMP_ARCH_MIPSEL64"},
      {"mipsel64n32", "SCMP_ARCH_MIPSEL64N32"},
      {"ppc", "SCMP_ARCH_PPC"},
      {"ppc64", "SCMP_ARCH_PPC64"},
      {"ppc64le", "SCMP_ARCH_PPC64LE"},
      {"s390", "SCMP_ARCH_S390"},
      {"s390x", "SCMP_ARCH_S390X"},
      {"riscv64", "SCMP_ARCH_RISCV64"},
      {"loongarch64", "SCMP_ARCH_LOONGARCH64"},
  };
  for (const auto& p : kMap)
    if (p.native == arch) return p.scmp;
  return {};
}

json oci_rule(const Rule& r) {
  json j = {{"names", r.names}, {"action", r.action}};
  if (r.errno_ret) j["errnoRet"] = *r.errno_ret;
  if (!r.args.empty()) j["args"] = r.args;
  return j;
}

// The OCI object for `p` as seen by a container with `caps` on `host`. With
// `merge_plain`, every entry without arguments is folded into the first one with the
// same action and errno (names deduplicated): used for our own profile, whose topic and
// capability groups are a reading aid only. The kernel filter does not depend on how
// names are grouped into entries.
json resolve(const DockerProfile& p, const CapSet& caps, const SeccompHost& host,
             bool merge_plain) {
  json out = json::object();
  out["defaultAction"] = p.default_action;
  if (p.default_errno_ret) out["defaultErrnoRet"] = *p.default_errno_ret;
  std::vector<std::string> arches = p.architectures;
  if (std::string_view host_scmp = scmp_arch_of(host.arch); !host_scmp.empty()) {
    for (const auto& [arch, sub] : p.arch_map) {
      if (arch != host_scmp) continue;
      arches.push_back(arch);
      arches.insert(arches.end(), sub.begin(), sub.end());
      break;
    }
  }
  if (!arches.empty()) out["architectures"] = arches;
  if (p.flags) out["flags"] = *p.flags;
  if (p.listener_path) out["listenerPath"] = *p.listener_path;
  if (p.listener_metadata) out["listenerMetadata"] = *p.listener_metadata;

  json syscalls = json::array();
  struct Plain {
    size_t index;                 // in `syscalls`
    std::set<std::string> names;  // already listed there
  };
  std::map<std::pair<std::string, std::optional<unsigned>>, Plain> plain;
  for (const auto& r : p.rules) {
    if (r.names.empty() || !applies(r, caps, host)) continue;
    if (!merge_plain || !r.args.empty()) {
      syscalls.push_back(oci_rule(r));
      continue;
    }
    auto [it, fresh] = plain.try_emplace({r.action, r.errno_ret}, Plain{syscalls.size(), {}});
    if (fresh) {
      syscalls.push_back(oci_rule(r));
      syscalls.back()["names"] = json::array();
    }
    for (const auto& n : r.names)
      if (it->second.names.insert(n).second) syscalls[it->second.index]["names"].push_back(n);
  }
  out["syscalls"] = std::move(syscalls);
  return out;
}

std::vector<std::string> to_strings(Names n) { return {n.begin(), n.end()}; }

const DockerProfile& default_docker_profile() {
  static const DockerProfile profile = [] {
    DockerProfile p;
    p.default_action = std::string(kErrno);
    p.default_errno_ret = kEperm;
    for (const auto& a : kDefaultArchMap) p.arch_map.emplace_back(a.arch, to_strings(a.sub));
    for (const auto& g : kDefaultProfile) {
      Rule r;
      r.names = to_strings(g.names);
      r.action = std::string(g.action);
      if (g.errno_ret >= 0) r.errno_ret = static_cast<unsigned>(g.errno_ret);
      for (const auto& a : g.args)
        r.args.push_back({{"index", a.index},
                          {"value", a.value},
                          {"valueTwo", a.value_two},
                          {"op", std::string(a.op)}});
      r.includes.caps = to_strings(g.include_caps);
      r.includes.arches = to_strings(g.include_arches);
      r.includes.min_kernel = {g.min_kernel, g.min_major};
      r.excludes.caps = to_strings(g.exclude_caps);
      r.excludes.arches = to_strings(g.exclude_arches);
      p.rules.push_back(std::move(r));
    }
    return p;
  }();
  return profile;
}

// ---- parsing Docker's JSON ---------------------------------------------------------------

constexpr std::string_view kActions[] = {
    "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",        "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",          "SCMP_ACT_NOTIFY",
};
constexpr std::string_view kOps[] = {
    "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",        "SCMP_CMP_EQ",
    "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
};
// The runtime-spec's architecture names.
constexpr std::string_view kScmpArches[] = {
    "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",         "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",     "SCMP_ARCH_LOONGARCH64",
    "SCMP_ARCH_M68K",    "SCMP_ARCH_SH",       "SCMP_ARCH_SHEB",
};
constexpr std::string_view kFlags[] = {
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

bool one_of(Names list, const std::string& v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

std::unexpected<Error> bad(const std::string& where, const std::string& what) {
  return fail("seccomp profile: " + where + ": " + what, EINVAL);
}

std::string json_quoted(const std::string& s) { return json(s).dump(); }

std::string describe(const json& j) {
  std::string d = j.dump();
  if (d.size() > 40) d = d.substr(0, 37) + "...";
  return d;
}

Result<std::string> get_string(const json& j, const std::string& where) {
  if (!j.is_string()) return bad(where, "expected a string, got " + describe(j));
  return j.get<std::string>();
}

// A non-negative integer no larger than `max` (Go's uint / uint64 fields).
Result<uint64_t> get_uint(const json& j, const std::string& where,
                          uint64_t max = std::numeric_limits<uint64_t>::max()) {
  uint64_t v = 0;
  if (j.is_number_unsigned()) {
    v = j.get<uint64_t>();
  } else if (j.is_number_integer()) {
    if (j.get<int64_t>() < 0) return bad(where, "must not be negative, got " + j.dump());
    v = static_cast<uint64_t>(j.get<int64_t>());
  } else {
    return bad(where, "expected a non-negative integer, got " + describe(j));
  }
  if (v > max)
    return bad(where, std::to_string(v) + " is out of range (0.." + std::to_string(max) + ")");
  return v;
}

// An array of strings; null counts as empty (Go's nil slice).
Result<std::vector<std::string>> get_strings(const json& j, const std::string& where) {
  std::vector<std::string> out;
  if (j.is_null()) return out;
  if (!j.is_array()) return bad(where, "expected an array of strings, got " + describe(j));
  for (size_t i = 0; i < j.size(); ++i)
    out.push_back(TRY(get_string(j[i], where + "[" + std::to_string(i) + "]")));
  return out;
}

const json* field(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<KernelVersion> parse_kernel_version(const json& j, const std::string& where) {
  std::string s = TRY(get_string(j, where));
  if (s.empty()) return KernelVersion{};
  const std::string expected =
      "invalid kernel version " + json_quoted(s) + ", expected \"<kernel>.<major>\"";
  size_t dot = s.find('.');
  if (dot == std::string::npos || s.find('.', dot + 1) != std::string::npos)
    return bad(where, expected);
  auto number = [&](std::string_view part, unsigned& out) {
    if (part.empty() || part.size() > 3) return false;
    unsigned v = 0;
    for (char c : part) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + static_cast<unsigned>(c - '0');
    }
    out = v;
    return v <= 255;  // Docker parses each part as an 8-bit number
  };
  KernelVersion v;
  if (!number(std::string_view(s).substr(0, dot), v.kernel) ||
      !number(std::string_view(s).substr(dot + 1), v.major))
    return bad(where, expected);
  if (!v.set()) return bad(where, "kernel version cannot be 0.0");
  return v;
}

Result<Filter> parse_filter(const json& j, const std::string& where) {
  Filter f;
  if (j.is_null()) return f;
  if (!j.is_object()) return bad(where, "expected an object, got " + describe(j));
  if (const json* v = field(j, "caps")) f.caps = TRY(get_strings(*v, where + ".caps"));
  if (const json* v = field(j, "arches")) f.arches = TRY(get_strings(*v, where + ".arches"));
  if (const json* v = field(j, "minKernel"))
    f.min_kernel = TRY(parse_kernel_version(*v, where + ".minKernel"));
  return f;
}

Result<json> parse_arg(const json& j, const std::string& where) {
  if (!j.is_object()) return bad(where, "expected an object, got " + describe(j));
  if (!j.contains("op")) return bad(where + ".op", "required field is missing");
  std::string op = TRY(get_string(j["op"], where + ".op"));
  if (!one_of(kOps, op)) return bad(where + ".op", "unknown operator " + json_quoted(op));
  uint64_t index = 0, value = 0, value_two = 0;
  if (const json* v = field(j, "index")) index = TRY(get_uint(*v, where + ".index", 5));
  if (const json* v = field(j, "value")) value = TRY(get_uint(*v, where + ".value"));
  if (const json* v = field(j, "valueTwo")) value_two = TRY(get_uint(*v, where + ".valueTwo"));
  return json{{"index", index}, {"value", value}, {"valueTwo", value_two}, {"op", op}};
}

Result<Rule> parse_rule(const json& j, const std::string& where) {
  if (!j.is_object()) return bad(where, "expected an object, got " + describe(j));
  Rule r;
  std::string name;
  if (const json* v = field(j, "name")) name = TRY(get_string(*v, where + ".name"));
  if (const json* v = field(j, "names")) r.names = TRY(get_strings(*v, where + ".names"));
  if (!name.empty()) {
    if (!r.names.empty())
      return bad(where, "both \"name\" and \"names\" are given, use either one");
    r.names = {name};
  }
  for (size_t i = 0; i < r.names.size(); ++i)
    if (r.names[i].empty())
      return bad(where + ".names[" + std::to_string(i) + "]", "empty syscall name");
  const json* action = field(j, "action");
  if (!action) return bad(where + ".action", "required field is missing");
  r.action = TRY(get_string(*action, where + ".action"));
  if (!one_of(kActions, r.action))
    return bad(where + ".action", "unknown action " + json_quoted(r.action));
  if (const json* v = field(j, "errnoRet"))
    r.errno_ret = static_cast<unsigned>(
        TRY(get_uint(*v, where + ".errnoRet", std::numeric_limits<unsigned>::max())));
  if (const json* v = field(j, "args")) {
    if (!v->is_array()) return bad(where + ".args", "expected an array, got " + describe(*v));
    for (size_t i = 0; i < v->size(); ++i)
      r.args.push_back(TRY(parse_arg((*v)[i], where + ".args[" + std::to_string(i) + "]")));
  }
  if (const json* v = field(j, "comment")) (void)TRY(get_string(*v, where + ".comment"));
  if (const json* v = field(j, "includes")) r.includes = TRY(parse_filter(*v, where + ".includes"));
  if (const json* v = field(j, "excludes")) r.excludes = TRY(parse_filter(*v, where + ".excludes"));
  return r;
}

Result<std::vector<std::string>> parse_arches(const json& j, const std::string& where) {
  std::vector<std::string> out = TRY(get_strings(j, where));
  for (size_t i = 0; i < out.size(); ++i)
    if (!one_of(kScmpArches, out[i]))
      return bad(where + "[" + std::to_string(i) + "]",
                 "unknown architecture " + json_quoted(out[i]));
  return out;
}

// nullopt: the profile disables seccomp (no defaultAction and no syscalls).
Result<std::optional<DockerProfile>> parse_docker_profile(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    // Parse again with exceptions for the position and reason.
    try {
      json again = json::parse(text);
      (void)again;
    } catch (const json::parse_error& e) {
      return fail(std::string("seccomp profile: invalid JSON: ") + e.what(), EINVAL);
    }
    return fail("seccomp profile: invalid JSON", EINVAL);
  }
  if (!j.is_object())
    return fail("seccomp profile: expected a JSON object, got " + describe(j), EINVAL);

  DockerProfile p;
  if (const json* v = field(j, "defaultAction")) {
    p.default_action = TRY(get_string(*v, "defaultAction"));
    if (!p.default_action.empty() && !one_of(kActions, p.default_action))
      return bad("defaultAction", "unknown action " + json_quoted(p.default_action));
  }
  const json* syscalls = field(j, "syscalls");
  if (syscalls && !syscalls->is_array())
    return bad("syscalls", "expected an array, got " + describe(*syscalls));
  if (p.default_action.empty() && (!syscalls || syscalls->empty())) return std::nullopt;
  if (p.default_action.empty()) return bad("defaultAction", "required when syscalls are listed");

  if (const json* v = field(j, "defaultErrnoRet"))
    p.default_errno_ret = static_cast<unsigned>(
        TRY(get_uint(*v, "defaultErrnoRet", std::numeric_limits<unsigned>::max())));
  if (const json* v = field(j, "architectures"))
    p.architectures = TRY(parse_arches(*v, "architectures"));
  if (const json* v = field(j, "archMap")) {
    if (!v->is_array()) return bad("archMap", "expected an array, got " + describe(*v));
    for (size_t i = 0; i < v->size(); ++i) {
      const std::string w = "archMap[" + std::to_string(i) + "]";
      const json& e = (*v)[i];
      if (!e.is_object()) return bad(w, "expected an object, got " + describe(e));
      const json* arch = field(e, "architecture");
      if (!arch) return bad(w + ".architecture", "required field is missing");
      std::string a = TRY(get_string(*arch, w + ".architecture"));
      if (!one_of(kScmpArches, a))
        return bad(w + ".architecture", "unknown architecture " + json_quoted(a));
      std::vector<std::string> sub;
      if (const json* s = field(e, "subArchitectures"))
        sub = TRY(parse_arches(*s, w + ".subArchitectures"));
      p.arch_map.emplace_back(std::move(a), std::move(sub));
    }
  }
  if (!p.architectures.empty() && !p.arch_map.empty())
    return bad("archMap", "both \"architectures\" and \"archMap\" are given, use either one");
  if (const json* v = field(j, "flags")) {
    std::vector<std::string> flags = TRY(get_strings(*v, "flags"));
    for (size_t i = 0; i < flags.size(); ++i)
      if (!one_of(kFlags, flags[i]))
        return bad("flags[" + std::to_string(i) + "]", "unknown flag " + json_quoted(flags[i]));
    p.flags = *v;
  }
  if (const json* v = field(j, "listenerPath")) {
    (void)TRY(get_string(*v, "listenerPath"));
    p.listener_path = *v;
  }
  if (const json* v = field(j, "listenerMetadata")) {
    (void)TRY(get_string(*v, "listenerMetadata"));
    p.listener_metadata = *v;
  }
  if (syscalls)
    for (size_t i = 0; i < syscalls->size(); ++i)
      p.rules.push_back(TRY(parse_rule((*syscalls)[i], "syscalls[" + std::to_string(i) + "]")));
  return p;
}

// Docker's architecture name for the machine we were compiled for.
constexpr std::string_view compiled_arch() {
#if defined(__x86_64__) && !defined(__ILP32__)
  return "amd64";
#elif defined(__i386__)
  return "x86";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__arm__)
  return "arm";
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
  return "ppc64le";
#elif defined(__powerpc64__)
  return "ppc64";
#elif defined(__s390x__)
  return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
  return "riscv64";
#elif defined(__loongarch64)
  return "loongarch64";
#else
  return "";
#endif
}

}  // namespace

const SeccompHost& this_seccomp_host() {
  static const SeccompHost host = [] {
    SeccompHost h;
    h.arch = std::string(compiled_arch());
    struct utsname u;
    if (::uname(&u) == 0 && std::sscanf(u.release, "%u.%u", &h.kernel, &h.major) != 2)
      h.kernel = h.major = 0;
    return h;
  }();
  return host;
}

nlohmann::json default_seccomp_profile(const std::vector<std::string>& caps) {
  return default_seccomp_profile(caps, this_seccomp_host());
}

nlohmann::json default_seccomp_profile(const std::vector<std::string>& caps,
                                       const SeccompHost& host) {
  return resolve(default_docker_profile(), cap_set(caps), host, /*merge_plain=*/true);
}

Result<nlohmann::json> seccomp_profile_from_docker_json(const std::string& text,
                                                        const std::vector<std::string>& caps) {
  return seccomp_profile_from_docker_json(text, caps, this_seccomp_host());
}

Result<nlohmann::json> seccomp_profile_from_docker_json(const std::string& text,
                                                        const std::vector<std::string>& caps,
                                                        const SeccompHost& host) {
  std::optional<DockerProfile> p = TRY(parse_docker_profile(text));
  if (!p) return json(nullptr);
  return resolve(*p, cap_set(caps), host, /*merge_plain=*/false);
}

const std::vector<std::string>& docker_default_capabilities() {
  static const std::vector<std::string> caps = {
      "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
      "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
      "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
      "CAP_KILL",    "CAP_AUDIT_WRITE",
  };
  return caps;
}

}  // namespace md::engine
