// md-check: a static conformance checker that runs AS the container process.
//
// It prints facts about the process it runs as (what the OCI runtime set up)
// as stable `key=value` lines, one per line, so that integration tests (and
// people) can verify each config.json field from inside the container:
//
//   md-check caps                  CapInh=... CapPrm=... CapEff=... CapBnd=... CapAmb=...
//   md-check ids + nnp             several subcommands, separated by '+'
//   md-check caps --expect CapAmb=0000000000000000
//                                  compare: exit 1 and say what differed
//
// Values are escaped: '\' -> "\\", newline -> "\n". Keys of subcommands that
// take a path or name embed it: `write:/ro=EROFS`, `stat:/dev/null.type=chr`.
//
// Exit status: 0 facts printed and every --expect matched; 1 an --expect
// differed or a self-judging check (exe-overwrite) failed; 2 usage error.
//
// Built with -static and only libc + libstdc++, so it runs in any rootfs.
// `md-check help` lists the subcommands; docs/testing.md maps config.json
// fields to them.

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace {

using Args = std::vector<std::string>;

// ---------------------------------------------------------------- output

std::map<std::string, std::string> g_facts;  // last value per key, for --expect
int g_status = 0;

std::string Escape(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Fact(const std::string& key, const std::string& value) {
  g_facts[key] = value;
  std::string line = key + "=" + Escape(value) + "\n";
  fputs(line.c_str(), stdout);
}

void Fail(const std::string& msg) {
  fflush(stdout);
  fprintf(stderr, "md-check: %s\n", msg.c_str());
  g_status = 1;
}

[[noreturn]] void Usage(const std::string& msg) {
  fflush(stdout);
  fprintf(stderr, "md-check: %s (try `md-check help`)\n", msg.c_str());
  exit(2);
}

// ---------------------------------------------------------------- helpers

std::string ErrnoName(int e) {
  switch (e) {
#define E(x) \
  case x:    \
    return #x;
    E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(ENOEXEC) E(EBADF) E(ECHILD)
    E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT) E(ENOTBLK) E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV)
    E(ENOTDIR) E(EISDIR) E(EINVAL) E(ENFILE) E(EMFILE) E(ENOTTY) E(ETXTBSY) E(EFBIG) E(ENOSPC)
    E(ESPIPE) E(EROFS) E(EMLINK) E(EPIPE) E(EDOM) E(ERANGE) E(EDEADLK) E(ENAMETOOLONG) E(ENOLCK)
    E(ENOSYS) E(ENOTEMPTY) E(ELOOP) E(ENOMSG) E(EIDRM) E(ENODATA) E(EOVERFLOW)
    E(EOPNOTSUPP) E(ECONNREFUSED) E(EPROTO) E(EBADMSG) E(ENOTCONN) E(EDQUOT) E(ESTALE)
    E(ENOTUNIQ) E(EUSERS) E(ECANCELED) E(EOWNERDEAD) E(EHWPOISON) E(ENOKEY)
#undef E
    default:
      return "errno" + std::to_string(e);
  }
}

bool ReadFile(const std::string& path, std::string* out, int* err, size_t limit = 4 << 20) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    *err = errno;
    return false;
  }
  out->clear();
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      *err = errno;
      close(fd);
      return false;
    }
    if (n == 0) break;
    out->append(buf, n);
    if (out->size() >= limit) break;
  }
  close(fd);
  return true;
}

std::string TrimNl(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t nl = s.find('\n', pos);
    if (nl == std::string::npos) nl = s.size();
    out.push_back(s.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t pos = 0;
  for (;;) {
    size_t i = s.find(sep, pos);
    out.push_back(s.substr(pos, i == std::string::npos ? std::string::npos : i - pos));
    if (i == std::string::npos) break;
    pos = i + 1;
  }
  return out;
}

std::string Join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += sep;
    out += v[i];
  }
  return out;
}

// Collapses runs of whitespace to one space.
std::string Squeeze(const std::string& s) {
  std::string out;
  bool space = false;
  for (char c : Trim(s)) {
    if (c == ' ' || c == '\t') {
      space = true;
    } else {
      if (space) out += ' ';
      space = false;
      out += c;
    }
  }
  return out;
}

std::string Readlink(const std::string& path, int* err = nullptr) {
  char buf[4096];
  ssize_t n = readlink(path.c_str(), buf, sizeof buf - 1);
  if (n < 0) {
    if (err) *err = errno;
    return "";
  }
  return std::string(buf, n);
}

std::string StatusField(const std::string& name) {
  std::string s;
  int err = 0;
  if (!ReadFile("/proc/self/status", &s, &err)) return "";
  for (const auto& line : Lines(s)) {
    if (line.compare(0, name.size() + 1, name + ":") == 0) return Trim(line.substr(name.size() + 1));
  }
  return "";
}

std::string Octal(unsigned v) {
  char buf[16];
  snprintf(buf, sizeof buf, "%04o", v);
  return buf;
}

// Mountinfo escapes space, tab, newline and backslash as \ooo.
std::string UnescapeMount(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && isdigit(s[i + 1]) && isdigit(s[i + 2]) &&
        isdigit(s[i + 3])) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

const char* const kCapNames[] = {
    "CAP_CHOWN",           "CAP_DAC_OVERRIDE",   "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
    "CAP_FSETID",          "CAP_KILL",           "CAP_SETGID",          "CAP_SETUID",
    "CAP_SETPCAP",         "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",       "CAP_NET_RAW",        "CAP_IPC_LOCK",        "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",      "CAP_SYS_RAWIO",      "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",       "CAP_SYS_ADMIN",      "CAP_SYS_BOOT",        "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",    "CAP_SYS_TIME",       "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
    "CAP_LEASE",           "CAP_AUDIT_WRITE",    "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",    "CAP_MAC_ADMIN",      "CAP_SYSLOG",          "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",   "CAP_AUDIT_READ",     "CAP_PERFMON",         "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

std::string CapNames(uint64_t mask) {
  std::vector<std::string> names;
  for (int i = 0; i < 64; ++i) {
    if (!(mask & (uint64_t{1} << i))) continue;
    if (i < static_cast<int>(sizeof kCapNames / sizeof kCapNames[0])) {
      names.push_back(kCapNames[i]);
    } else {
      names.push_back("CAP_" + std::to_string(i));
    }
  }
  return Join(names, ",");
}

struct RlimitName {
  const char* name;
  int resource;
};
const RlimitName kRlimits[] = {
    {"CPU", RLIMIT_CPU},         {"FSIZE", RLIMIT_FSIZE},       {"DATA", RLIMIT_DATA},
    {"STACK", RLIMIT_STACK},     {"CORE", RLIMIT_CORE},         {"RSS", RLIMIT_RSS},
    {"NPROC", RLIMIT_NPROC},     {"NOFILE", RLIMIT_NOFILE},     {"MEMLOCK", RLIMIT_MEMLOCK},
    {"AS", RLIMIT_AS},           {"LOCKS", RLIMIT_LOCKS},       {"SIGPENDING", RLIMIT_SIGPENDING},
    {"MSGQUEUE", RLIMIT_MSGQUEUE}, {"NICE", RLIMIT_NICE},       {"RTPRIO", RLIMIT_RTPRIO},
    {"RTTIME", RLIMIT_RTTIME},
};

std::string RlimValue(rlim_t v) {
  if (v == RLIM_INFINITY) return "unlimited";
  return std::to_string(static_cast<unsigned long long>(v));
}

const char* const kSigNames[] = {
    nullptr,   "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",    "SIGTRAP", "SIGABRT",  "SIGBUS",
    "SIGFPE",  "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2",   "SIGPIPE", "SIGALRM",  "SIGTERM",
    "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP",   "SIGTTIN", "SIGTTOU",  "SIGURG",
    "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH",  "SIGIO",   "SIGPWR",   "SIGSYS",
};

std::string SigName(int sig) {
  if (sig > 0 && sig < static_cast<int>(sizeof kSigNames / sizeof kSigNames[0])) return kSigNames[sig];
  return "SIG" + std::to_string(sig);
}

std::string FileType(mode_t m) {
  switch (m & S_IFMT) {
    case S_IFREG: return "reg";
    case S_IFDIR: return "dir";
    case S_IFCHR: return "chr";
    case S_IFBLK: return "blk";
    case S_IFLNK: return "lnk";
    case S_IFIFO: return "fifo";
    case S_IFSOCK: return "sock";
  }
  return "unknown";
}

std::string CpuList(const cpu_set_t& set) {
  std::vector<std::string> parts;
  int start = -1;
  for (int i = 0; i <= CPU_SETSIZE; ++i) {
    bool in = i < CPU_SETSIZE && CPU_ISSET(i, &set);
    if (in && start < 0) start = i;
    if (!in && start >= 0) {
      parts.push_back(start == i - 1 ? std::to_string(start)
                                     : std::to_string(start) + "-" + std::to_string(i - 1));
      start = -1;
    }
  }
  return Join(parts, ",");
}

void Need(const Args& a, size_t n, const char* usage) {
  if (a.size() != n + 1) Usage(std::string("usage: md-check ") + usage);
}

// ---------------------------------------------------------------- subcommands

// fds: every open fd except 0,1,2 and the fd used to read /proc/self/fd.
void CmdFds(const Args&) {
  DIR* d = opendir("/proc/self/fd");
  if (!d) {
    Fact("fds.error", ErrnoName(errno));
    return;
  }
  int self = dirfd(d);
  std::vector<int> fds;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    int fd = atoi(e->d_name);
    if (fd <= 2 || fd == self) continue;
    fds.push_back(fd);
  }
  closedir(d);
  std::sort(fds.begin(), fds.end());
  std::vector<std::string> names;
  for (int fd : fds) names.push_back(std::to_string(fd));
  Fact("fds", Join(names, ","));
  for (int fd : fds) {
    Fact("fd." + std::to_string(fd), Readlink("/proc/self/fd/" + std::to_string(fd)));
  }
}

// fdread N: content of an inherited fd (read from its current offset).
void CmdFdread(const Args& a) {
  Need(a, 1, "fdread FD");
  int fd = atoi(a[1].c_str());
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      Fact("fdread:" + a[1] + ".error", ErrnoName(errno));
      return;
    }
    if (n == 0) break;
    out.append(buf, n);
  }
  Fact("fdread:" + a[1], TrimNl(out));
}

void CmdCaps(const Args&) {
  for (const char* f : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
    std::string v = StatusField(f);
    Fact(f, v);
    Fact(std::string(f) + ".names", CapNames(strtoull(v.c_str(), nullptr, 16)));
  }
}

void CmdIds(const Args&) {
  uid_t r, e, s;
  gid_t gr, ge, gs;
  getresuid(&r, &e, &s);
  getresgid(&gr, &ge, &gs);
  Fact("uid", std::to_string(r));
  Fact("euid", std::to_string(e));
  Fact("suid", std::to_string(s));
  Fact("gid", std::to_string(gr));
  Fact("egid", std::to_string(ge));
  Fact("sgid", std::to_string(gs));
  gid_t groups[1024];
  int n = getgroups(1024, groups);
  std::vector<gid_t> g(groups, groups + std::max(n, 0));
  std::sort(g.begin(), g.end());
  std::vector<std::string> gs_str;
  for (gid_t x : g) gs_str.push_back(std::to_string(x));
  Fact("groups", Join(gs_str, ","));
  mode_t m = umask(0);
  umask(m);
  Fact("umask", Octal(m));
}

void CmdNnp(const Args&) { Fact("nnp", std::to_string(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0))); }

void CmdRlimit(const Args& a) {
  bool any = false;
  for (const auto& r : kRlimits) {
    bool want = a.size() == 1;
    for (size_t i = 1; i < a.size(); ++i) {
      std::string n = a[i];
      if (n.rfind("RLIMIT_", 0) == 0) n = n.substr(7);
      if (n == r.name) want = true;
    }
    if (!want) continue;
    any = true;
    rlimit l{};
    getrlimit(r.resource, &l);
    std::string k = std::string("RLIMIT_") + r.name;
    Fact(k + ".soft", RlimValue(l.rlim_cur));
    Fact(k + ".hard", RlimValue(l.rlim_max));
  }
  if (!any) Usage("rlimit: unknown resource " + Join(Args(a.begin() + 1, a.end()), " "));
}

void CmdHostname(const Args&) {
  utsname u{};
  uname(&u);
  Fact("hostname", u.nodename);
  Fact("domainname", u.domainname);
}

void CmdUname(const Args&) {
  utsname u{};
  uname(&u);
  Fact("sysname", u.sysname);
  Fact("release", u.release);
  Fact("machine", u.machine);
}

void CmdPersonality(const Args&) {
  int p = personality(0xffffffff);
  char buf[32];
  snprintf(buf, sizeof buf, "0x%x", p);
  Fact("personality", buf);
  utsname u{};
  uname(&u);
  Fact("machine", u.machine);
}

struct MountEntry {
  std::string root, point, opts, optional, fstype, source, super;
};

std::vector<MountEntry> ParseMountinfo(std::string* raw) {
  std::vector<MountEntry> out;
  int err = 0;
  if (!ReadFile("/proc/self/mountinfo", raw, &err)) return out;
  for (const auto& line : Lines(*raw)) {
    auto f = Split(line, ' ');
    if (f.size() < 10) continue;
    MountEntry m;
    m.root = UnescapeMount(f[3]);
    m.point = UnescapeMount(f[4]);
    m.opts = f[5];
    size_t i = 6;
    std::vector<std::string> optional;
    while (i < f.size() && f[i] != "-") optional.push_back(f[i++]);
    m.optional = optional.empty() ? "private" : Join(optional, " ");
    if (i + 2 >= f.size()) continue;
    m.fstype = f[i + 1];
    m.source = UnescapeMount(f[i + 2]);
    m.super = i + 3 < f.size() ? f[i + 3] : "";
    out.push_back(m);
  }
  return out;
}

void CmdMounts(const Args&) {
  std::string raw;
  ParseMountinfo(&raw);
  for (const auto& line : Lines(raw)) Fact("mountinfo", line);
}

// mount PATH: the topmost mount whose mount point is exactly PATH.
void CmdMount(const Args& a) {
  Need(a, 1, "mount PATH");
  std::string raw;
  auto mounts = ParseMountinfo(&raw);
  const MountEntry* found = nullptr;
  for (const auto& m : mounts) {
    if (m.point == a[1]) found = &m;
  }
  std::string k = "mount:" + a[1];
  Fact(k + ".found", found ? "1" : "0");
  if (!found) return;
  Fact(k + ".fstype", found->fstype);
  Fact(k + ".source", found->source);
  Fact(k + ".root", found->root);
  Fact(k + ".opts", found->opts);
  Fact(k + ".super", found->super);
  Fact(k + ".propagation", found->optional);
}

void CmdSeccomp(const Args&) {
  Fact("seccomp", StatusField("Seccomp"));
  std::string f = StatusField("Seccomp_filters");
  if (!f.empty()) Fact("seccomp.filters", f);
}

void CmdOom(const Args&) {
  std::string s;
  int err = 0;
  if (!ReadFile("/proc/self/oom_score_adj", &s, &err)) {
    Fact("oom_score_adj.error", ErrnoName(err));
    return;
  }
  Fact("oom_score_adj", Trim(s));
}

// cwd: where we are, and whether that place is reachable from our root
// (getcwd fails with ENOENT or returns "(unreachable)..." when the cwd is
// outside the root: the CVE-2024-21626 escape).
void CmdCwd(const Args&) {
  char buf[4096];
  if (!getcwd(buf, sizeof buf)) {
    Fact("cwd", ErrnoName(errno));
    Fact("cwd.reachable", "0");
    return;
  }
  std::string cwd = buf;
  Fact("cwd", cwd);
  bool reachable = !cwd.empty() && cwd[0] == '/';
  struct stat here {}, there {};
  if (reachable && (stat(".", &here) != 0 || stat(cwd.c_str(), &there) != 0 ||
                    here.st_dev != there.st_dev || here.st_ino != there.st_ino)) {
    reachable = false;
  }
  Fact("cwd.reachable", reachable ? "1" : "0");
}

void CmdEnv(const Args& a) {
  if (a.size() > 1) {
    for (size_t i = 1; i < a.size(); ++i) {
      const char* v = getenv(a[i].c_str());
      if (v) {
        Fact("env." + a[i], v);
      } else {
        Fact("env." + a[i] + ".unset", "1");
      }
    }
    return;
  }
  int n = 0;
  for (char** e = environ; e && *e; ++e, ++n) {
    std::string kv = *e;
    size_t eq = kv.find('=');
    if (eq == std::string::npos) {
      Fact("env." + kv, "");
    } else {
      Fact("env." + kv.substr(0, eq), kv.substr(eq + 1));
    }
  }
  Fact("env.count", std::to_string(n));
}

void CmdNs(const Args&) {
  DIR* d = opendir("/proc/self/ns");
  if (!d) {
    Fact("ns.error", ErrnoName(errno));
    return;
  }
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') names.push_back(e->d_name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  for (const auto& n : names) Fact("ns." + n, Readlink("/proc/self/ns/" + n));
}

// write PATH [DATA]: a directory gets a temporary file created and removed.
void CmdWrite(const Args& a) {
  if (a.size() < 2 || a.size() > 3) Usage("usage: md-check write PATH [DATA]");
  std::string k = "write:" + a[1];
  std::string data = a.size() == 3 ? a[2] : "md-check\n";
  struct stat st {};
  std::string target = a[1];
  bool dir = stat(a[1].c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  if (dir) target = a[1] + "/.md-check-write-" + std::to_string(getpid());
  int fd = open(target.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
  if (fd < 0) {
    Fact(k, ErrnoName(errno));
    return;
  }
  ssize_t n = write(fd, data.data(), data.size());
  int err = errno;
  close(fd);
  if (dir) unlink(target.c_str());
  Fact(k, n == static_cast<ssize_t>(data.size()) ? "ok" : ErrnoName(err));
}

void CmdRead(const Args& a) {
  Need(a, 1, "read PATH");
  std::string s;
  int err = 0;
  std::string k = "read:" + a[1];
  if (!ReadFile(a[1], &s, &err, 1 << 20)) {
    Fact(k, ErrnoName(err));
    return;
  }
  Fact(k, "ok");
  Fact(k + ".bytes", std::to_string(s.size()));
}

void CmdCat(const Args& a) {
  Need(a, 1, "cat PATH");
  std::string s;
  int err = 0;
  if (!ReadFile(a[1], &s, &err)) {
    Fact("cat:" + a[1] + ".error", ErrnoName(err));
    return;
  }
  Fact("cat:" + a[1], TrimNl(s));
}

void CmdLs(const Args& a) {
  Need(a, 1, "ls PATH");
  DIR* d = opendir(a[1].c_str());
  if (!d) {
    Fact("ls:" + a[1] + ".error", ErrnoName(errno));
    return;
  }
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  Fact("ls:" + a[1], Join(names, ","));
}

void CmdStat(const Args& a) {
  Need(a, 1, a[0] == "lstat" ? "lstat PATH" : "stat PATH");
  struct stat st {};
  bool l = a[0] == "lstat";
  std::string k = a[0] + ":" + a[1];
  if ((l ? lstat(a[1].c_str(), &st) : stat(a[1].c_str(), &st)) != 0) {
    Fact(k + ".error", ErrnoName(errno));
    return;
  }
  Fact(k + ".type", FileType(st.st_mode));
  Fact(k + ".mode", Octal(st.st_mode & 07777));
  Fact(k + ".owner", std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid));
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    Fact(k + ".rdev", std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev)));
  }
  if (S_ISREG(st.st_mode)) Fact(k + ".size", std::to_string(st.st_size));
  if (S_ISLNK(st.st_mode)) Fact(k + ".link", Readlink(a[1]));
}

// open PATH r|w|rw: open (and close) with that access mode.
void CmdOpen(const Args& a) {
  Need(a, 2, "open PATH r|w|rw");
  int flags = a[2] == "r" ? O_RDONLY : a[2] == "w" ? O_WRONLY : a[2] == "rw" ? O_RDWR : -1;
  if (flags < 0) Usage("open: mode must be r, w or rw");
  int fd = open(a[1].c_str(), flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  Fact("open:" + a[1], fd >= 0 ? "ok" : ErrnoName(errno));
  if (fd >= 0) close(fd);
}

// mkdir PATH: create (and remove again) a directory.
void CmdMkdir(const Args& a) {
  Need(a, 1, "mkdir PATH");
  if (mkdir(a[1].c_str(), 0755) != 0) {
    Fact("mkdir:" + a[1], ErrnoName(errno));
    return;
  }
  rmdir(a[1].c_str());
  Fact("mkdir:" + a[1], "ok");
}

void CmdSysctl(const Args& a) {
  Need(a, 1, "sysctl NAME");
  std::string path = "/proc/sys/" + a[1];
  std::replace(path.begin() + 10, path.end(), '.', '/');
  std::string s;
  int err = 0;
  if (!ReadFile(path, &s, &err)) {
    Fact("sysctl." + a[1] + ".error", ErrnoName(err));
    return;
  }
  Fact("sysctl." + a[1], Squeeze(TrimNl(s)));
}

void CmdCgroup(const Args&) {
  std::string s;
  int err = 0;
  if (!ReadFile("/proc/self/cgroup", &s, &err)) {
    Fact("cgroup.error", ErrnoName(err));
    return;
  }
  for (const auto& line : Lines(s)) {
    size_t c1 = line.find(':');
    size_t c2 = line.find(':', c1 + 1);
    if (c1 == std::string::npos || c2 == std::string::npos) continue;
    std::string ctrl = line.substr(c1 + 1, c2 - c1 - 1);
    Fact("cgroup." + (ctrl.empty() ? std::string("unified") : ctrl), line.substr(c2 + 1));
  }
}

// exe-overwrite: CVE-2019-5736. No executable of a process we can see (our
// own, or a runtime helper visible in our pid namespace) may be opened for
// writing, neither directly nor by re-opening an O_PATH fd.
void CmdExeOverwrite(const Args&) {
  std::vector<std::string> writable;
  auto try_open = [&](const std::string& key, const std::string& path) {
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
      close(fd);
      writable.push_back(path);
      Fact(key, "WRITABLE");
    } else {
      Fact(key, ErrnoName(errno));
    }
  };
  try_open("exe-overwrite.self", "/proc/self/exe");
  int p = open("/proc/self/exe", O_PATH | O_CLOEXEC);
  if (p >= 0) {
    try_open("exe-overwrite.self-reopen", "/proc/self/fd/" + std::to_string(p));
    close(p);
  }
  if (DIR* d = opendir("/proc")) {
    std::string me = std::to_string(getpid());
    while (dirent* e = readdir(d)) {
      if (!isdigit(e->d_name[0]) || me == e->d_name) continue;
      std::string exe = std::string("/proc/") + e->d_name + "/exe";
      int err = 0;
      if (Readlink(exe, &err).empty()) continue;  // kernel thread or not ours
      try_open(std::string("exe-overwrite.pid") + e->d_name, exe);
    }
    closedir(d);
  }
  Fact("exe-overwrite", writable.empty() ? "blocked" : "WRITABLE");
  if (!writable.empty()) Fail("exe-overwrite: could open for writing: " + Join(writable, " "));
}

void CmdUsermap(const Args&) {
  for (const char* f : {"uid_map", "gid_map", "setgroups"}) {
    std::string s;
    int err = 0;
    if (!ReadFile(std::string("/proc/self/") + f, &s, &err)) {
      Fact(std::string(f) + ".error", ErrnoName(err));
      continue;
    }
    std::vector<std::string> rows;
    for (const auto& line : Lines(s)) {
      if (!Trim(line).empty()) rows.push_back(Squeeze(line));
    }
    Fact(f, Join(rows, ";"));
  }
}

void CmdNet(const Args&) {
  std::string s;
  int err = 0;
  if (!ReadFile("/proc/net/dev", &s, &err)) {
    Fact("net.error", ErrnoName(err));
    return;
  }
  std::vector<std::string> ifaces;
  for (const auto& line : Lines(s)) {
    size_t c = line.find(':');
    if (c == std::string::npos) continue;
    ifaces.push_back(Trim(line.substr(0, c)));
  }
  std::sort(ifaces.begin(), ifaces.end());
  Fact("net.ifaces", Join(ifaces, ","));
}

void CmdTty(const Args&) {
  for (int fd = 0; fd <= 2; ++fd) Fact("tty.isatty" + std::to_string(fd), isatty(fd) ? "1" : "0");
  char* n = ttyname(0);
  Fact("tty.name", n ? n : ErrnoName(errno));
  int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  Fact("tty.ctty", fd >= 0 ? "1" : "0");
  if (fd >= 0) close(fd);
  winsize ws{};
  if (ioctl(0, TIOCGWINSZ, &ws) == 0) {
    Fact("tty.size", std::to_string(ws.ws_row) + "x" + std::to_string(ws.ws_col));
  }
}

void CmdPid(const Args&) {
  Fact("pid", std::to_string(getpid()));
  Fact("ppid", std::to_string(getppid()));
  Fact("pgid", std::to_string(getpgid(0)));
  Fact("sid", std::to_string(getsid(0)));
}

void CmdStatus(const Args& a) {
  if (a.size() < 2) Usage("usage: md-check status FIELD...");
  for (size_t i = 1; i < a.size(); ++i) Fact("status." + a[i], StatusField(a[i]));
}

void CmdSched(const Args&) {
  errno = 0;
  int nice = getpriority(PRIO_PROCESS, 0);
  Fact("nice", std::to_string(nice));
  int pol = sched_getscheduler(0);
  const char* name = pol == SCHED_OTHER   ? "SCHED_OTHER"
                     : pol == SCHED_FIFO  ? "SCHED_FIFO"
                     : pol == SCHED_RR    ? "SCHED_RR"
                     : pol == SCHED_BATCH ? "SCHED_BATCH"
                     : pol == SCHED_IDLE  ? "SCHED_IDLE"
                                          : "other";
  Fact("sched.policy", name);
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) Fact("cpus", CpuList(set));
  long io = syscall(SYS_ioprio_get, 1 /*IOPRIO_WHO_PROCESS*/, 0);
  if (io >= 0) Fact("ioprio", std::to_string(io >> 13) + ":" + std::to_string(io & 0x1fff));
}

// wait-signal FILE: block every catchable signal, create FILE.ready, wait for
// one signal, write its name to FILE, print it and exit 0.
void CmdWaitSignal(const Args& a) {
  Need(a, 1, "wait-signal FILE");
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, nullptr);
  std::string ready = a[1] + ".ready";
  int fd = open(ready.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) close(fd);
  siginfo_t info{};
  int sig;
  do {
    sig = sigwaitinfo(&all, &info);
  } while (sig < 0 && errno == EINTR);
  std::string name = SigName(sig);
  fd = open(a[1].c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    std::string line = name + "\n";
    if (write(fd, line.data(), line.size()) < 0) Fail("wait-signal: write " + a[1]);
    close(fd);
  }
  Fact("signal", name);
}

[[noreturn]] void CmdHold(const Args&) {
  fflush(stdout);
  for (;;) pause();
}

[[noreturn]] void CmdExit(const Args& a) {
  Need(a, 1, "exit CODE");
  fflush(stdout);
  exit(atoi(a[1].c_str()));
}

void CmdEcho(const Args& a) {
  std::string s = Join(Args(a.begin() + 1, a.end()), " ") + "\n";
  fputs(s.c_str(), stdout);
}

void CmdTouch(const Args& a) {
  Need(a, 1, "touch PATH");
  int fd = open(a[1].c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  Fact("touch:" + a[1], fd >= 0 ? "ok" : ErrnoName(errno));
  if (fd >= 0) close(fd);
}

void CmdHelp(const Args&);

struct Command {
  const char* name;
  void (*fn)(const Args&);
  const char* help;
};

const Command kCommands[] = {
    {"fds", CmdFds, "open fds other than 0,1,2: fds=3,4 and fd.N=target"},
    {"fdread", CmdFdread, "FD: content of an inherited fd"},
    {"caps", CmdCaps, "CapInh/CapPrm/CapEff/CapBnd/CapAmb (hex) and .names"},
    {"ids", CmdIds, "uid euid suid gid egid sgid groups umask"},
    {"nnp", CmdNnp, "no_new_privs flag: nnp=0|1"},
    {"rlimit", CmdRlimit, "[NAME...]: RLIMIT_<NAME>.soft/.hard (all without NAME)"},
    {"hostname", CmdHostname, "hostname and domainname (uts namespace)"},
    {"uname", CmdUname, "sysname release machine"},
    {"personality", CmdPersonality, "personality=0x.. and machine"},
    {"mounts", CmdMounts, "every /proc/self/mountinfo line as mountinfo=..."},
    {"mount", CmdMount, "PATH: fstype source root opts super propagation of the mount at PATH"},
    {"seccomp", CmdSeccomp, "seccomp mode (0 none, 1 strict, 2 filter) and filter count"},
    {"oom", CmdOom, "oom_score_adj"},
    {"cwd", CmdCwd, "cwd and cwd.reachable (0 if outside our root)"},
    {"env", CmdEnv, "[NAME...]: env.NAME=value"},
    {"ns", CmdNs, "ns.<type>=readlink of /proc/self/ns/<type>"},
    {"write", CmdWrite, "PATH [DATA]: write:PATH=ok|EROFS|EACCES|..."},
    {"read", CmdRead, "PATH: read:PATH=ok|errno and .bytes"},
    {"cat", CmdCat, "PATH: content of a file"},
    {"ls", CmdLs, "PATH: sorted directory entries"},
    {"stat", CmdStat, "PATH: type mode owner rdev size (follows symlinks)"},
    {"lstat", CmdStat, "PATH: like stat, does not follow a final symlink; .link"},
    {"open", CmdOpen, "PATH r|w|rw: open:PATH=ok|errno"},
    {"mkdir", CmdMkdir, "PATH: mkdir:PATH=ok|errno (removed again)"},
    {"sysctl", CmdSysctl, "NAME: value of /proc/sys/NAME (dots as slashes)"},
    {"cgroup", CmdCgroup, "cgroup.<controllers>=path from /proc/self/cgroup"},
    {"exe-overwrite", CmdExeOverwrite, "fails if any visible /proc/*/exe opens for writing"},
    {"usermap", CmdUsermap, "uid_map gid_map setgroups"},
    {"net", CmdNet, "net.ifaces: network interfaces"},
    {"tty", CmdTty, "isatty of 0,1,2, ttyname, controlling tty, window size"},
    {"pid", CmdPid, "pid ppid pgid sid"},
    {"status", CmdStatus, "FIELD...: fields of /proc/self/status"},
    {"sched", CmdSched, "nice, scheduling policy, cpu affinity, ioprio"},
    {"wait-signal", CmdWaitSignal, "FILE: create FILE.ready, wait for a signal, write its name"},
    {"hold", CmdHold, "sleep until killed"},
    {"exit", CmdExit, "CODE: exit with CODE"},
    {"echo", CmdEcho, "ARGS: print ARGS"},
    {"touch", CmdTouch, "PATH: create a file"},
    {"help", CmdHelp, "this list"},
};

void CmdHelp(const Args&) {
  printf(
      "usage: md-check SUBCOMMAND [ARGS] [+ SUBCOMMAND [ARGS]]... [--expect KEY=VALUE]...\n"
      "Prints key=value facts; --expect compares a key's value (exit 1 if it differs).\n\n");
  for (const auto& c : kCommands) printf("  %-14s %s\n", c.name, c.help);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<Args> cmds(1);
  std::vector<std::pair<std::string, std::string>> expects;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--expect") {
      if (i + 1 >= argc) Usage("--expect needs KEY=VALUE");
      std::string kv = argv[++i];
      size_t eq = kv.find('=');
      if (eq == std::string::npos) Usage("--expect needs KEY=VALUE, got " + kv);
      expects.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    } else if (a.rfind("--expect=", 0) == 0) {
      std::string kv = a.substr(9);
      size_t eq = kv.find('=');
      if (eq == std::string::npos) Usage("--expect needs KEY=VALUE, got " + kv);
      expects.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    } else if (a == "+") {
      cmds.emplace_back();
    } else {
      cmds.back().push_back(a);
    }
  }
  cmds.erase(std::remove_if(cmds.begin(), cmds.end(), [](const Args& c) { return c.empty(); }),
             cmds.end());
  if (cmds.empty()) {
    CmdHelp({});
    return 2;
  }
  // Resolve every subcommand first so a typo fails before anything runs.
  std::vector<const Command*> resolved;
  for (const auto& c : cmds) {
    const Command* found = nullptr;
    for (const auto& k : kCommands) {
      if (c[0] == k.name) found = &k;
    }
    if (!found) Usage("unknown subcommand " + c[0]);
    resolved.push_back(found);
  }
  for (size_t i = 0; i < cmds.size(); ++i) resolved[i]->fn(cmds[i]);
  for (const auto& [key, want] : expects) {
    auto it = g_facts.find(key);
    if (it == g_facts.end()) {
      Fail(key + ": expected '" + want + "', but no such fact was printed");
    } else if (it->second != want) {
      Fail(key + ": expected '" + want + "', got '" + it->second + "'");
    }
  }
  fflush(stdout);
  return g_status;
}
