// The container init between clone() and execve(): async-signal-safe only.
//
// Reads the ChildPlan prepared by the parent, talks to it over the sync socket
// (sync_protocol.h) and reports any failure as (errno, message) before exiting.
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>

#include "base/child_io.h"
#include "base/explain.h"
#include "runtime/child_fs.h"
#include "runtime/child_plan.h"
#include "runtime/proc_ns.h"
#include "runtime/sync_protocol.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

namespace md::runtime {
namespace {

using child::LineBuffer;
using childfs::fd_path;

const ChildPlan* g_plan;
int g_report_fd = -1;  // where errors go: sync socket, or the `start` connection
long long g_last_ns;
char g_state_json[65536];  // state handed over by kStart / `start` for startContainer hooks
ssize_t g_state_len = 0;

void explain(const char* what) {
  if (g_plan->explain_fd < 0) return;
  long long now = child::now_ns();
  char line[600];
  format_explain_line(line, sizeof line, now - g_last_ns, what);
  child::write_all(g_plan->explain_fd, line, child::str_len(line));
  g_last_ns = child::now_ns();
}

void explain(const LineBuffer& b) { explain(b.data()); }

[[noreturn]] void die(const char* what, int err) {
  SyncMessage m = {};
  m.type = MessageType::kError;
  m.errno_value = err;
  size_t n = child::str_len(what);
  if (n >= sizeof m.text) n = sizeof m.text - 1;
  for (size_t i = 0; i < n; ++i) m.text[i] = what[i];
  if (g_report_fd >= 0) send(g_report_fd, &m, sizeof m, MSG_NOSIGNAL);
  _exit(1);
}

[[noreturn]] void die(const LineBuffer& b, int err) { die(b.data(), err); }

void send_type(MessageType t) {
  SyncMessage m = {};
  m.type = t;
  if (send(g_plan->sync_fd, &m, sizeof m, MSG_NOSIGNAL) < 0) _exit(1);
}

void expect(MessageType t) {
  SyncMessage m;
  ssize_t n = recv(g_plan->sync_fd, &m, sizeof m, 0);
  if (n <= 0 || m.type != t) _exit(1);  // the parent went away or aborted: nothing to report to
}

unsigned long locked_flags(int fd) {
  struct statfs st;
  if (fstatfs(fd, &st) != 0) return 0;
  unsigned long f = 0;
  if (st.f_flags & ST_NOSUID) f |= MS_NOSUID;
  if (st.f_flags & ST_NODEV) f |= MS_NODEV;
  if (st.f_flags & ST_NOEXEC) f |= MS_NOEXEC;
  if (st.f_flags & ST_NOATIME) f |= MS_NOATIME;
  if (st.f_flags & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (st.f_flags & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

// ---------------------------------------------------------------- namespaces

// The parent writes cgroup.procs while we set up mounts; from here on we need to be in
// the cgroup (limits, and the cgroup namespace root must be the container's cgroup).
bool g_cgroup_joined = false;

void wait_cgroup_joined() {
  if (g_cgroup_joined) return;
  g_cgroup_joined = true;
  expect(MessageType::kCgroupJoined);
  explain("joined cgroup (written by the parent in parallel)");
  if ((g_plan->unshare_flags & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) != 0) die("unshare cgroup namespace", errno);
  if (g_plan->unshare_flags & CLONE_NEWCGROUP) explain("unshare(CLONE_NEWCGROUP)");
}

void enter_namespaces() {
  const ChildPlan& p = *g_plan;
  for (const auto& j : p.joins) {
    if (setns(j.fd.get(), j.clone_flag) != 0) die(LineBuffer().add("join namespace ").add(j.path.c_str()), errno);
    explain(LineBuffer().add("setns ").add(j.path.c_str()));
    if (j.clone_flag == CLONE_NEWUSER) {
      if (setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0) die("become root in the joined user namespace", errno);
    }
  }
  if (p.become_root_in_userns) {
    if (setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0) die("become root in the new user namespace", errno);
  }
  int flags = p.unshare_flags & ~CLONE_NEWCGROUP;  // cgroup ns: after the parent moved us
  if (flags) {
    if (unshare(flags) != 0) die(LineBuffer().add("unshare flags ").add_hex(static_cast<unsigned>(flags)), errno);
    LineBuffer b;
    b.add("unshare(");
    const char* sep = "";
    const struct {
      int flag;
      const char* name;
    } names[] = {{CLONE_NEWNS, "CLONE_NEWNS"}, {CLONE_NEWNET, "CLONE_NEWNET"}, {CLONE_NEWIPC, "CLONE_NEWIPC"},
                 {CLONE_NEWUTS, "CLONE_NEWUTS"}, {CLONE_NEWPID, "CLONE_NEWPID"}};
    for (const auto& n : names)
      if (flags & n.flag) {
        b.add(sep).add(n.name);
        sep = "|";
      }
    explain(b.add(") (in parallel with the parent creating the cgroup)"));
  }
}

// ---------------------------------------------------------------- mounts

void do_mount(int rootfd, const MountOp& m) {
  int fd = childfs::open_or_create_in_root(rootfd, m.destination.c_str(),
                                          m.file_target ? childfs::Leaf::kFile : childfs::Leaf::kDirectory);
  if (fd < 0) die(LineBuffer().add("create mount point ").add(m.destination.c_str()).add(" in rootfs"), -fd);
  char target[40];
  fd_path(fd, target, sizeof target);
  if (m.kind == MountKind::kBind) {
    unsigned long flags = MS_BIND | (m.recursive ? MS_REC : 0);
    if (mount(m.source.c_str(), target, nullptr, flags, nullptr) != 0)
      die(LineBuffer().add("bind mount ").add(m.source.c_str()).add(" on ").add(m.destination.c_str()), errno);
  } else {
    if (mount(m.source.c_str(), target, m.fstype.c_str(), m.flags, m.data.empty() ? nullptr : m.data.c_str()) != 0)
      die(LineBuffer().add("mount ").add(m.fstype.c_str()).add(" on ").add(m.destination.c_str()), errno);
  }
  close(fd);
  explain(LineBuffer().add(m.kind == MountKind::kBind ? "mount bind " : "mount ")
              .add(m.kind == MountKind::kBind ? m.source.c_str() : m.fstype.c_str())
              .add(" on ").add(m.destination.c_str()).add(m.data.empty() ? "" : " (").add(m.data.c_str())
              .add(m.data.empty() ? "" : ")"));
  if (!m.needs_remount && !m.propagation) return;
  // The fd above names the directory *under* the new mount; reopen to reach the mount.
  fd = childfs::open_in_root(rootfd, m.destination.c_str(), O_PATH);
  if (fd < 0) die(LineBuffer().add("reopen mount point ").add(m.destination.c_str()), -fd);
  fd_path(fd, target, sizeof target);
  if (m.needs_remount) {
    unsigned long flags = MS_BIND | MS_REMOUNT | (m.recursive ? MS_REC : 0) | m.flags | locked_flags(fd);
    if (mount(nullptr, target, nullptr, flags, nullptr) != 0)
      die(LineBuffer().add("remount ").add(m.destination.c_str()).add(" with its options"), errno);
    explain(LineBuffer().add("remount bind ").add(m.destination.c_str()).add(" flags ").add_hex(flags));
  }
  if (m.propagation) {
    if (mount(nullptr, target, nullptr, m.propagation, nullptr) != 0)
      die(LineBuffer().add("set propagation of ").add(m.destination.c_str()), errno);
  }
  close(fd);
}

void create_devices(int rootfd) {
  const ChildPlan& p = *g_plan;
  for (const auto& d : p.devices) {
    char dir[4096];
    const char* base = nullptr;
    if (!childfs::split_path(d.path.c_str(), dir, sizeof dir, &base)) die(LineBuffer().add("bad device path ").add(d.path.c_str()), EINVAL);
    if (d.bind_from_host) {
      int fd = childfs::open_or_create_in_root(rootfd, d.path.c_str(), childfs::Leaf::kFile);
      if (fd < 0) die(LineBuffer().add("create device bind target ").add(d.path.c_str()), -fd);
      char target[40];
      fd_path(fd, target, sizeof target);
      if (mount(d.path.c_str(), target, nullptr, MS_BIND, nullptr) != 0)
        die(LineBuffer().add("bind device ").add(d.path.c_str()), errno);
      close(fd);
      explain(LineBuffer().add("bind host device ").add(d.path.c_str()));
      continue;
    }
    int dirpath = childfs::open_or_create_in_root(rootfd, dir, childfs::Leaf::kDirectory);
    if (dirpath < 0) die(LineBuffer().add("create directory for device ").add(d.path.c_str()), -dirpath);
    char dp[40];
    fd_path(dirpath, dp, sizeof dp);
    int dirfd = open(dp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    close(dirpath);
    if (dirfd < 0) die(LineBuffer().add("open directory for device ").add(d.path.c_str()), errno);
    struct stat st;
    if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
      if (S_ISDIR(st.st_mode)) die(LineBuffer().add("device path ").add(d.path.c_str()).add(" is a directory"), EISDIR);
      unlinkat(dirfd, base, 0);
    }
    if (mknodat(dirfd, base, d.mode, d.dev) != 0) die(LineBuffer().add("mknod ").add(d.path.c_str()), errno);
    if (fchownat(dirfd, base, d.uid, d.gid, AT_SYMLINK_NOFOLLOW) != 0) die(LineBuffer().add("chown ").add(d.path.c_str()), errno);
    close(dirfd);
    explain(LineBuffer().add("mknod ").add(d.path.c_str()).add(" ").add_int(major(d.dev)).add(":").add_int(minor(d.dev)));
  }
  for (const auto& s : p.dev_symlinks) {
    char dir[4096];
    const char* base = nullptr;
    if (!childfs::split_path(s.path.c_str(), dir, sizeof dir, &base)) continue;
    int dirpath = childfs::open_or_create_in_root(rootfd, dir, childfs::Leaf::kDirectory);
    if (dirpath < 0) die(LineBuffer().add("create directory for ").add(s.path.c_str()), -dirpath);
    char dp[40];
    fd_path(dirpath, dp, sizeof dp);
    int dirfd = open(dp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    close(dirpath);
    if (dirfd < 0) die(LineBuffer().add("open directory for ").add(s.path.c_str()), errno);
    if (symlinkat(s.target.c_str(), dirfd, base) != 0 && errno != EEXIST)
      die(LineBuffer().add("symlink ").add(s.path.c_str()), errno);
    close(dirfd);
  }
  if (!p.dev_symlinks.empty()) explain("symlink /dev/fd, /dev/std{in,out,err}, /dev/ptmx");
}

void pivot_into_rootfs(int rootfd) {
  const ChildPlan& p = *g_plan;
  if (fchdir(rootfd) != 0) die("chdir to rootfs", errno);
  if (p.no_pivot) {
    if (mount(p.rootfs.c_str(), "/", nullptr, MS_MOVE, nullptr) != 0) die("move rootfs to / (--no-pivot)", errno);
    if (chroot(".") != 0) die("chroot to rootfs", errno);
    explain("mount --move rootfs / + chroot (--no-pivot)");
  } else {
    // The old root must be addressed by an fd: after pivot_root(".", ".") a plain "."
    // names the new root for mount(2) (runc fchdir()s to the old root the same way).
    int oldroot = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (oldroot < 0) die("open the old root", errno);
    if (syscall(SYS_pivot_root, ".", ".") != 0) die(LineBuffer().add("pivot_root to ").add(p.rootfs.c_str()), errno);
    if (fchdir(oldroot) != 0) die("chdir to the old root", errno);
    close(oldroot);
    // Detach the old root without propagating the unmount to the host.
    if (mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) != 0) die("make old root rslave", errno);
    if (umount2(".", MNT_DETACH) != 0) die("detach old root", errno);
    explain("pivot_root . . + umount2(old root, MNT_DETACH)");
  }
  if (chdir("/") != 0) die("chdir /", errno);
}

// ---------------------------------------------------------------- after pivot_root

void write_sysctls() {
  for (const auto& s : g_plan->sysctls) {
    int fd = open(s.path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) die(LineBuffer().add("open sysctl ").add(s.path.c_str()), errno);
    if (write(fd, s.value.c_str(), s.value.size()) < 0) die(LineBuffer().add("write sysctl ").add(s.path.c_str()).add(" = ").add(s.value.c_str()), errno);
    close(fd);
    explain(LineBuffer().add("sysctl ").add(s.path.c_str()).add(" = ").add(s.value.c_str()));
  }
}

void mask_paths() {
  const ChildPlan& p = *g_plan;
  if (p.masked_paths.empty()) return;
  // CVE-2025-31133: never trust the name /dev/null; check the node we bind from.
  int null_fd = open("/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (null_fd < 0 || fstat(null_fd, &st) != 0) die("open /dev/null for masking", errno);
  if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 1 || minor(st.st_rdev) != 3)
    die("refusing to mask paths: /dev/null in the container is not the null device (1:3)", EPERM);
  char null_path[40];
  fd_path(null_fd, null_path, sizeof null_path);
  int count = 0;
  // Symlinks are followed as the container sees them (inside its root), so masking a
  // link hides its target; magic links (/proc/*/root...) are refused.
  int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  for (const auto& path : p.masked_paths) {
    int fd = childfs::open_in_root(root, path.c_str(), O_PATH);
    if (fd < 0) errno = -fd;
    if (fd < 0) {
      if (errno == ENOENT) continue;
      die(LineBuffer().add("open masked path ").add(path.c_str()), errno);
    }
    if (fstat(fd, &st) != 0) die(LineBuffer().add("stat masked path ").add(path.c_str()), errno);
    char target[40];
    fd_path(fd, target, sizeof target);
    int rc;
    if (S_ISLNK(st.st_mode)) {
      close(fd);  // a symlink cannot be a mount point; it exposes nothing by itself
      continue;
    } else if (S_ISDIR(st.st_mode)) {
      rc = mount("tmpfs", target, "tmpfs", MS_RDONLY, nullptr);
    } else {
      rc = mount(null_path, target, nullptr, MS_BIND, nullptr);
    }
    if (rc != 0) die(LineBuffer().add("mask ").add(path.c_str()), errno);
    close(fd);
    ++count;
  }
  close(null_fd);
  close(root);
  explain(LineBuffer().add("mask ").add_int(count).add(" paths (bind /dev/null or ro tmpfs)"));
}

void readonly_paths() {
  int count = 0;
  for (const auto& path : g_plan->readonly_paths) {
    int fd = open(path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) continue;
      die(LineBuffer().add("open readonly path ").add(path.c_str()), errno);
    }
    char target[40];
    fd_path(fd, target, sizeof target);
    if (mount(target, target, nullptr, MS_BIND | MS_REC, nullptr) != 0)
      die(LineBuffer().add("bind readonly path ").add(path.c_str()), errno);
    close(fd);
    fd = open(path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) die(LineBuffer().add("reopen readonly path ").add(path.c_str()), errno);
    fd_path(fd, target, sizeof target);
    if (mount(nullptr, target, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | locked_flags(fd), nullptr) != 0)
      die(LineBuffer().add("remount readonly path ").add(path.c_str()), errno);
    close(fd);
    ++count;
  }
  if (count) explain(LineBuffer().add("make ").add_int(count).add(" paths read-only (bind + remount ro)"));
}

void setup_console() {
  const ChildPlan& p = *g_plan;
  int master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) die("open /dev/pts/ptmx", errno);
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) != 0) die("unlock pty", errno);
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) die("open pty peer", errno);
  if (p.console_rows || p.console_cols) {
    struct winsize ws = {};
    ws.ws_row = p.console_rows;
    ws.ws_col = p.console_cols;
    ioctl(slave, TIOCSWINSZ, &ws);
  }
  // /dev/console: bind the pty over it, refusing a symlink swapped in (CVE-2025-52565).
  // Only for the container's init: an exec'd process must not change the container's mounts.
  int dev = p.is_exec ? -1 : open("/dev", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dev >= 0) {
    int c = openat(dev, "console", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (c >= 0) close(c);
    int cfd = openat(dev, "console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (cfd < 0 || fstat(cfd, &st) != 0) die("open /dev/console", errno);
    if (S_ISLNK(st.st_mode) || S_ISDIR(st.st_mode)) die("refusing /dev/console: it is a symlink or directory", ELOOP);
    char src[40], dst[40];
    fd_path(slave, src, sizeof src);
    fd_path(cfd, dst, sizeof dst);
    if (mount(src, dst, nullptr, MS_BIND, nullptr) != 0) die("bind pty on /dev/console", errno);
    close(cfd);
    close(dev);
  }
  // Hand the master to whoever listens on --console-socket (runc's protocol).
  char name[] = "/dev/ptmx";
  struct iovec iov = {name, sizeof name};
  char control[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  struct cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  __builtin_memcpy(CMSG_DATA(cm), &master, sizeof(int));
  if (sendmsg(p.console_socket_fd, &msg, MSG_NOSIGNAL) < 0) die("send pty master over the console socket", errno);
  close(master);
  close(p.console_socket_fd);
  if (setsid() < 0 && errno != EPERM) die("setsid", errno);
  if (ioctl(slave, TIOCSCTTY, 0) != 0) die("make the pty the controlling terminal", errno);
  for (int i = 0; i < 3; ++i)
    if (dup2(slave, i) < 0) die("dup pty to stdio", errno);
  if (slave > 2) close(slave);
  explain("console: pty created, master sent over --console-socket, /dev/console bound");
}

// ---------------------------------------------------------------- identity

void apply_rlimits() {
  for (const auto& r : g_plan->rlimits) {
    struct rlimit rl = {static_cast<rlim_t>(r.soft), static_cast<rlim_t>(r.hard)};
    if (setrlimit(static_cast<__rlimit_resource>(r.resource), &rl) != 0)
      die(LineBuffer().add("setrlimit ").add(r.name.c_str()).add(" soft=").add_int(static_cast<long long>(r.soft))
              .add(" hard=").add_int(static_cast<long long>(r.hard)), errno);
  }
  if (!g_plan->rlimits.empty()) explain(LineBuffer().add("setrlimit x").add_int(static_cast<long long>(g_plan->rlimits.size())));
}

void load_seccomp() {
  const ChildPlan& p = *g_plan;
  struct sock_fprog prog = {static_cast<unsigned short>(p.seccomp_program.size()),
                            const_cast<struct sock_filter*>(p.seccomp_program.data())};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p.seccomp_flags, &prog) != 0) die("load seccomp filter", errno);
  explain(LineBuffer().add("seccomp: loaded BPF filter, ").add_int(static_cast<long long>(p.seccomp_program.size())).add(" instructions"));
}

void apply_identity() {
  const ChildPlan& p = *g_plan;
  if (p.has_caps) {
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) die("prctl(PR_SET_KEEPCAPS)", errno);
    int dropped = 0;
    for (int cap = 0; cap <= p.last_cap; ++cap) {
      if (p.cap_bounding & (1ULL << cap)) continue;
      if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
        die(LineBuffer().add("drop capability ").add_int(cap).add(" from the bounding set"), errno);
      ++dropped;
    }
    explain(LineBuffer().add("capabilities: dropped ").add_int(dropped).add(" from the bounding set, kept mask ").add_hex(p.cap_bounding));
  }
  if (setgroups(p.additional_gids.size(), p.additional_gids.data()) != 0) die("setgroups", errno);
  if (setresgid(p.gid, p.gid, p.gid) != 0) die(LineBuffer().add("setgid ").add_int(p.gid), errno);
  if (setresuid(p.uid, p.uid, p.uid) != 0) die(LineBuffer().add("setuid ").add_int(p.uid), errno);
  explain(LineBuffer().add("setresuid ").add_int(p.uid).add(" setresgid ").add_int(p.gid).add(" groups x").add_int(static_cast<long long>(p.additional_gids.size())));
  if (p.has_caps) {
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) die("prctl(PR_SET_KEEPCAPS, 0)", errno);
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2] = {};
    data[0].effective = static_cast<uint32_t>(p.cap_effective);
    data[1].effective = static_cast<uint32_t>(p.cap_effective >> 32);
    data[0].permitted = static_cast<uint32_t>(p.cap_permitted);
    data[1].permitted = static_cast<uint32_t>(p.cap_permitted >> 32);
    data[0].inheritable = static_cast<uint32_t>(p.cap_inheritable);
    data[1].inheritable = static_cast<uint32_t>(p.cap_inheritable >> 32);
    if (syscall(SYS_capset, &hdr, data) != 0) die("capset (effective/permitted/inheritable)", errno);
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) die("clear ambient capabilities", errno);
    // Like runc: an ambient capability missing from permitted or inheritable cannot be
    // raised (EPERM) and is skipped rather than failing the container.
    for (int cap = 0; cap <= p.last_cap; ++cap)
      if ((p.cap_ambient & (1ULL << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0 &&
          errno != EPERM && errno != EINVAL)
        die(LineBuffer().add("raise ambient capability ").add_int(cap), errno);
    explain(LineBuffer().add("capset effective ").add_hex(p.cap_effective).add(" permitted ").add_hex(p.cap_permitted)
                .add(" inheritable ").add_hex(p.cap_inheritable).add(" ambient ").add_hex(p.cap_ambient));
  }
}

const char* resolve_executable() {
  const ChildPlan& p = *g_plan;
  for (const auto& c : p.exec_candidates) {
    struct stat st;
    if (stat(c.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(c.c_str(), X_OK) == 0) return c.c_str();
  }
  if (p.exec_candidates.size() == 1 && p.args_storage[0].find('/') != std::string::npos) {
    // It exists but cannot be executed (a directory, no x bit): runc's "permission
    // denied", which Docker turns into exit code 126 (127 is for "not found").
    struct stat st;
    if (stat(p.exec_candidates[0].c_str(), &st) == 0)
      die(LineBuffer().add("exec: \"").add(p.args_storage[0].c_str()).add("\": permission denied"), EACCES);
    die(LineBuffer().add("exec: \"").add(p.args_storage[0].c_str()).add("\": stat ").add(p.args_storage[0].c_str()), ENOENT);
  }
  die(LineBuffer().add("exec: \"").add(p.args_storage[0].c_str()).add("\": executable file not found in $PATH"), ENOENT);
}

void run_start_container_hooks() {
  for (const auto& h : g_plan->start_container_hooks) {
    // A socketpair rather than a pipe: MSG_NOSIGNAL, so a hook that exits without
    // reading its stdin cannot kill the init with SIGPIPE.
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) die("socketpair for startContainer hook", errno);
    long pid = clone_process(0);
    if (pid < 0) die("fork startContainer hook", errno);
    if (pid == 0) {
      dup2(fds[0], 0);
      execve(h.path.c_str(), h.argv.data(), h.envp.data());
      _exit(127);
    }
    close(fds[0]);
    send(fds[1], g_state_json, static_cast<size_t>(g_state_len), MSG_NOSIGNAL);
    close(fds[1]);
    if (h.timeout_seconds > 0) {
      int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
      struct pollfd pfd = {pidfd, POLLIN, 0};
      if (pidfd >= 0 && poll(&pfd, 1, h.timeout_seconds * 1000) == 0) {
        kill(static_cast<pid_t>(pid), SIGKILL);
        waitpid(static_cast<pid_t>(pid), nullptr, 0);
        die(LineBuffer().add("startContainer hook ").add(h.path.c_str()).add(" timed out after ").add_int(h.timeout_seconds).add("s"),
            ETIMEDOUT);
      }
      if (pidfd >= 0) close(pidfd);
    }
    int status = 0;
    while (waitpid(static_cast<pid_t>(pid), &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      die(LineBuffer().add("startContainer hook ").add(h.path.c_str()).add(" failed with status ").add_int(status), ECANCELED);
    explain(LineBuffer().add("hook startContainer ").add(h.path.c_str()));
  }
}

void wait_for_start() {
  const ChildPlan& p = *g_plan;
  if (p.run_mode) {
    expect(MessageType::kStart);
    g_state_len = recv(p.sync_fd, g_state_json, sizeof g_state_json, 0);
    if (g_state_len < 0) _exit(1);
    return;
  }
  int conn;
  do {
    conn = accept4(p.start_listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
  } while (conn < 0 && errno == EINTR);
  if (conn < 0) _exit(1);
  close(p.start_listen_fd);
  g_report_fd = conn;  // errors from here on go to `start`
  g_state_len = recv(conn, g_state_json, sizeof g_state_json, 0);
  if (g_state_len < 0) g_state_len = 0;
}

}  // namespace

void ChildPlan::finalize_arrays() {
  argv.clear();
  envp.clear();
  for (auto& a : args_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);
}

[[noreturn]] void child_main(const ChildPlan& p) {
  g_plan = &p;
  g_report_fd = p.sync_fd;
  g_last_ns = child::now_ns();
  expect(MessageType::kGo);
  g_last_ns = child::now_ns();
  enter_namespaces();
  umask(0);  // device and mount-point modes exactly as configured

  if (!p.is_exec) {
    if (mount(nullptr, "/", nullptr, p.root_propagation, nullptr) != 0) die("set propagation of / in the new mount namespace", errno);
    if (!p.rootfs_parent_mount.empty() && mount(nullptr, p.rootfs_parent_mount.c_str(), nullptr, MS_PRIVATE, nullptr) != 0)
      die(LineBuffer().add("make the mount holding the rootfs private: ").add(p.rootfs_parent_mount.c_str()), errno);
    if (mount(p.rootfs.c_str(), p.rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
      die(LineBuffer().add("bind rootfs ").add(p.rootfs.c_str()).add(" onto itself"), errno);
    explain(LineBuffer().add("mount --make-rslave / ; mount --rbind ").add(p.rootfs.c_str()).add(" (rootfs becomes a mount point)"));
    int rootfd = open(p.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) die(LineBuffer().add("open rootfs ").add(p.rootfs.c_str()), errno);
    for (const auto& m : p.mounts) {
      if (m.needs_cgroup) wait_cgroup_joined();  // the parent creates the cgroup meanwhile
      do_mount(rootfd, m);
    }
    create_devices(rootfd);
    wait_cgroup_joined();
    if (p.hooks_before_pivot) {
      send_type(MessageType::kRunHooks);
      expect(MessageType::kHooksDone);
    }
    pivot_into_rootfs(rootfd);
    close(rootfd);
    if (p.set_hostname && sethostname(p.hostname.c_str(), p.hostname.size()) != 0) die("sethostname", errno);
    if (p.set_domainname && setdomainname(p.domainname.c_str(), p.domainname.size()) != 0) die("setdomainname", errno);
    if (p.set_hostname) explain(LineBuffer().add("sethostname ").add(p.hostname.c_str()));
    write_sysctls();
    if (p.terminal) setup_console();
    mask_paths();
    readonly_paths();
    if (p.readonly_root) {
      int rfd = open("/", O_PATH | O_CLOEXEC);
      unsigned long keep = locked_flags(rfd);
      close(rfd);
      if (mount(nullptr, "/", nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, nullptr) != 0)
        die("remount / read-only", errno);
      explain("remount / read-only");
    }
    // Last: an unbindable root would refuse the binds of masks and read-only paths.
    if (p.root_propagation_after_pivot && mount(nullptr, "/", nullptr, p.root_propagation_after_pivot, nullptr) != 0)
      die("set rootfsPropagation on /", errno);
  } else {
    wait_cgroup_joined();
    if (p.terminal) setup_console();
  }

  apply_rlimits();
  if (p.personality >= 0 && personality(static_cast<unsigned long>(p.personality)) < 0) die("personality", errno);
  if (p.no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("prctl(PR_SET_NO_NEW_PRIVS)", errno);
  if (p.has_seccomp && !p.no_new_privileges) load_seccomp();  // needs CAP_SYS_ADMIN: before caps drop
  apply_identity();
  umask(static_cast<mode_t>(p.umask >= 0 ? p.umask : 022));
  if (chdir(p.cwd.c_str()) != 0) die(LineBuffer().add("chdir to cwd (\"").add(p.cwd.c_str()).add("\") set in config.json"), errno);
  // CVE-2024-21626: the cwd must be inside the container's root.
  char cwd[4096];
  long n = syscall(SYS_getcwd, cwd, sizeof cwd);
  if (n < 0 || cwd[0] != '/') die("current working directory is outside of the container's root", EPERM);
  const char* exe = resolve_executable();
  // No fd other than stdio and --preserve-fds may reach the container process.
  if (syscall(SYS_close_range, 3 + p.preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) != 0) die("close_range", errno);
  send_type(MessageType::kReady);
  explain(p.run_mode || p.is_exec ? "ready" : "ready: waiting for `start` on start.sock");
  wait_for_start();
  run_start_container_hooks();
  if (p.has_seccomp && p.no_new_privileges) load_seccomp();  // as late as possible
  explain(LineBuffer().add("execve ").add(exe));
  execve(exe, p.argv.data(), p.envp.data());
  die(LineBuffer().add("exec ").add(exe), errno);
}

}  // namespace md::runtime
