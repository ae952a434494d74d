#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#ifndef MD_DEFAULT_RUNTIME
#define MD_DEFAULT_RUNTIME "minidocker-runtime"
#endif
#ifndef MD_DEFAULT_ROOTFS
#define MD_DEFAULT_ROOTFS "/tmp/minidocker-test-rootfs"
#endif
#ifndef MD_CHECK_BIN
#define MD_CHECK_BIN "md-check"
#endif
#ifndef MD_ROOTFS_SCRIPT
#define MD_ROOTFS_SCRIPT "scripts/build-busybox-rootfs.sh"
#endif

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace mdtest {

namespace {

std::string EnvOr(const char* name, const std::string& dflt) {
  const char* v = getenv(name);
  return v && *v ? std::string(v) : dflt;
}

std::string Basename(const std::string& p) {
  auto i = p.rfind('/');
  return i == std::string::npos ? p : p.substr(i + 1);
}

std::string Join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += sep;
    out += v[i];
  }
  return out;
}

int g_seq = 0;  // per-process sequence for ids and cgroup names

}  // namespace

// ---------------------------------------------------------------- helpers

std::string Readlink(const std::string& p) {
  char buf[4096];
  ssize_t n = readlink(p.c_str(), buf, sizeof buf - 1);
  return n < 0 ? std::string() : std::string(buf, n);
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> SplitLines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string line;
  while (std::getline(in, line)) {
    if (!Trim(line).empty()) out.push_back(Trim(line));
  }
  return out;
}

std::vector<std::string> SplitCsv(const std::string& s) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  size_t pos = 0;
  for (;;) {
    size_t i = s.find(',', pos);
    out.push_back(s.substr(pos, i == std::string::npos ? std::string::npos : i - pos));
    if (i == std::string::npos) break;
    pos = i + 1;
  }
  return out;
}

std::string ProcState(pid_t pid) {
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  auto rp = stat.rfind(')');
  if (rp == std::string::npos || rp + 2 >= stat.size()) return "";
  return stat.substr(rp + 2, 1);
}

bool WaitProcessGone(pid_t pid, std::chrono::seconds bound) {
  auto deadline = std::chrono::steady_clock::now() + bound;
  for (;;) {
    std::string st = ProcState(pid);
    if (st.empty() || st == "Z" || st == "X") return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
}

void AddMount(json& config, const std::string& dest, const std::string& type, const std::string& source,
              const std::vector<std::string>& options) {
  json m = {{"destination", dest}, {"type", type}, {"source", source}};
  if (!options.empty()) m["options"] = options;
  config["mounts"].push_back(m);
}

// Every cgroup hierarchy mounted under /sys/fs/cgroup (v1 controllers, the
// v2 unified tree in hybrid mode, or /sys/fs/cgroup itself on pure v2).
std::vector<std::string> CgroupRoots() {
  std::vector<std::string> roots;
  std::ifstream mi("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mi, line)) {
    std::istringstream ls(line);
    std::vector<std::string> f;
    std::string w;
    while (ls >> w) f.push_back(w);
    auto dash = std::find(f.begin(), f.end(), "-");
    if (dash == f.end() || dash + 1 == f.end() || f.size() < 5) continue;
    if (*(dash + 1) == "cgroup" || *(dash + 1) == "cgroup2") roots.push_back(f[4]);
  }
  return roots;
}

std::string CgroupDir(const std::string& cgroup_path, const std::string& controller) {
  struct stat st {};
  std::string v1 = "/sys/fs/cgroup/" + controller + cgroup_path;
  if (stat(v1.c_str(), &st) == 0) return v1;
  for (const auto& root : CgroupRoots()) {
    std::string ctrls = ReadFile(root + "/cgroup.controllers");
    std::istringstream in(ctrls);
    std::string c;
    while (in >> c) {
      if (c == controller && stat((root + cgroup_path).c_str(), &st) == 0) return root + cgroup_path;
    }
  }
  return "";
}

std::string CgroupValue(const std::string& cgroup_path, const std::string& controller, const std::string& file) {
  std::string dir = CgroupDir(cgroup_path, controller);
  if (dir.empty() || access((dir + "/" + file).c_str(), F_OK) != 0) return "<missing>";
  return Trim(ReadFile(dir + "/" + file));
}

bool HostIsCgroupV2Only() {
  auto roots = CgroupRoots();
  return roots.size() == 1 && access((roots[0] + "/cgroup.controllers").c_str(), F_OK) == 0;
}

// ---------------------------------------------------------------- config

const Config& GetConfig() {
  static const Config cfg = [] {
    Config c;
    c.runtime = EnvOr("MD_RUNTIME", MD_DEFAULT_RUNTIME);
    c.rootfs = EnvOr("MD_ROOTFS", MD_DEFAULT_ROOTFS);
    c.md_check = EnvOr("MD_CHECK", MD_CHECK_BIN);
    c.run_known_failures = EnvOr("MD_RUN_KNOWN_FAILURES", "0") == "1";
    c.keep_tmp = EnvOr("MD_KEEP_TMP", "0") == "1";
    return c;
  }();
  return cfg;
}

std::string RuntimeName() {
  std::string n = Basename(GetConfig().runtime);
  std::transform(n.begin(), n.end(), n.begin(), ::tolower);
  return n;
}

bool RuntimeIs(const std::string& name) { return RuntimeName() == name; }

bool KnownGap(const std::string& runtime, const std::string& reason) {
  if (!RuntimeIs(runtime) || GetConfig().run_known_failures) return false;
  printf("[ KNOWN    ] %s gap, check not made (MD_RUN_KNOWN_FAILURES=1 makes it): %s\n", runtime.c_str(),
         reason.c_str());
  return true;
}

// ---------------------------------------------------------------- results

std::string Result::Describe() const {
  std::ostringstream os;
  os << "command: " << command << "\n  exit: " << exit_code << (timed_out ? " (TIMED OUT)" : "")
     << "\n  stdout: " << (out.empty() ? "<empty>" : out) << "\n  stderr: " << (err.empty() ? "<empty>" : err);
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Result& r) { return os << r.Describe(); }

// ---------------------------------------------------------------- facts

std::string Facts::operator[](const std::string& k) const {
  auto it = kv.find(k);
  return it == kv.end() ? "<missing>" : it->second;
}

std::vector<std::string> Facts::all(const std::string& k) const {
  std::vector<std::string> out;
  for (const auto& [key, v] : lines) {
    if (key == k) out.push_back(v);
  }
  return out;
}

Facts ParseFacts(const std::string& out) {
  Facts f;
  f.raw = out;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string k = line.substr(0, eq), raw = line.substr(eq + 1), v;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '\\' && i + 1 < raw.size()) {
        ++i;
        v += raw[i] == 'n' ? '\n' : raw[i];
      } else {
        v += raw[i];
      }
    }
    f.kv[k] = v;
    f.lines.emplace_back(k, v);
  }
  return f;
}

// ---------------------------------------------------------------- capabilities

std::vector<std::string> AllCapNames() {
  return {"CAP_CHOWN",          "CAP_DAC_OVERRIDE",     "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
          "CAP_FSETID",         "CAP_KILL",             "CAP_SETGID",          "CAP_SETUID",
          "CAP_SETPCAP",        "CAP_LINUX_IMMUTABLE",  "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
          "CAP_NET_ADMIN",      "CAP_NET_RAW",          "CAP_IPC_LOCK",        "CAP_IPC_OWNER",
          "CAP_SYS_MODULE",     "CAP_SYS_RAWIO",        "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
          "CAP_SYS_PACCT",      "CAP_SYS_ADMIN",        "CAP_SYS_BOOT",        "CAP_SYS_NICE",
          "CAP_SYS_RESOURCE",   "CAP_SYS_TIME",         "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
          "CAP_LEASE",          "CAP_AUDIT_WRITE",      "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
          "CAP_MAC_OVERRIDE",   "CAP_MAC_ADMIN",        "CAP_SYSLOG",          "CAP_WAKE_ALARM",
          "CAP_BLOCK_SUSPEND",  "CAP_AUDIT_READ",       "CAP_PERFMON",         "CAP_BPF",
          "CAP_CHECKPOINT_RESTORE"};
}

uint64_t CapMask(const std::vector<std::string>& names) {
  auto all = AllCapNames();
  uint64_t m = 0;
  for (const auto& n : names) {
    auto it = std::find(all.begin(), all.end(), n);
    if (it == all.end()) {
      ADD_FAILURE() << "unknown capability in test: " << n;
      continue;
    }
    m |= uint64_t{1} << (it - all.begin());
  }
  return m;
}

std::vector<std::string> HostCapNames() {
  std::string status = ReadFile("/proc/self/status");
  auto pos = status.find("CapBnd:");
  uint64_t mask = pos == std::string::npos ? 0 : strtoull(status.c_str() + pos + 7, nullptr, 16);
  std::vector<std::string> out;
  auto all = AllCapNames();
  for (size_t i = 0; i < all.size(); ++i) {
    if (mask & (uint64_t{1} << i)) out.push_back(all[i]);
  }
  return out;
}

std::string CapHex(uint64_t mask) {
  char buf[32];
  snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(mask));
  return buf;
}

// ---------------------------------------------------------------- bundles

void Bundle::Save() const {
  std::ofstream f(dir + "/config.json", std::ios::trunc);
  f << config.dump(2) << "\n";
}

json DefaultConfig() {
  // Equivalent of `runc spec` (runc 1.1.5) with terminal false.
  std::vector<std::string> caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  json c = {
      {"ociVersion", "1.0.2-dev"},
      {"process",
       {{"terminal", false},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", {"/md-check", "help"}},
        {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
        {"cwd", "/"},
        {"capabilities",
         {{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"ambient", caps}}},
        {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
        {"noNewPrivileges", true}}},
      {"root", {{"path", "rootfs"}, {"readonly", true}}},
      {"hostname", "runc"},
      {"mounts",
       {
           {{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
           {{"destination", "/dev"},
            {"type", "tmpfs"},
            {"source", "tmpfs"},
            {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
           {{"destination", "/dev/pts"},
            {"type", "devpts"},
            {"source", "devpts"},
            {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}},
           {{"destination", "/dev/shm"},
            {"type", "tmpfs"},
            {"source", "shm"},
            {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
           {{"destination", "/dev/mqueue"},
            {"type", "mqueue"},
            {"source", "mqueue"},
            {"options", {"nosuid", "noexec", "nodev"}}},
           {{"destination", "/sys"},
            {"type", "sysfs"},
            {"source", "sysfs"},
            {"options", {"nosuid", "noexec", "nodev", "ro"}}},
           {{"destination", "/sys/fs/cgroup"},
            {"type", "cgroup"},
            {"source", "cgroup"},
            {"options", {"nosuid", "noexec", "nodev", "relatime", "ro"}}},
       }},
      {"linux",
       {{"resources", {{"devices", {{{"allow", false}, {"access", "rwm"}}}}}},
        {"namespaces",
         {{{"type", "pid"}}, {{"type", "network"}}, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}}}},
        {"maskedPaths",
         {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
          "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"}},
        {"readonlyPaths", {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}}}},
  };
  return c;
}

// ---------------------------------------------------------------- fixture

void RuntimeTest::SetUp() {
  if (geteuid() != 0) GTEST_SKIP() << "integration tests need root";
  const Config& cfg = GetConfig();
  ASSERT_EQ(access(cfg.runtime.c_str(), X_OK), 0)
      << "runtime binary " << cfg.runtime << " is not executable; build it or set MD_RUNTIME";
  ASSERT_EQ(access(cfg.md_check.c_str(), X_OK), 0) << "md-check not found at " << cfg.md_check;
  ASSERT_EQ(access((cfg.rootfs + "/bin/busybox").c_str(), X_OK), 0)
      << "rootfs " << cfg.rootfs << " is missing (run scripts/build-busybox-rootfs.sh)";
  // Orphaned container processes (the init of a created container once the
  // runtime has exited) are re-parented to us, as to a containerd shim, and
  // reaped by us: the host's pid 1 here does not reap them.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  char tmpl[] = "/tmp/md-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr) << strerror(errno);
  tmp_ = tmpl;
  // A private tmpfs: bundles are copied fast (the host disk is slow at
  // creating the rootfs' symlinks) and cleanup is a single unmount. Not
  // nodev/nosuid: a rootfs without a /dev tmpfs gets real device nodes.
  if (getenv("MD_TEST_NO_TMPFS") == nullptr) {
    if (mount("md-test", tmp_.c_str(), "tmpfs", 0, "mode=0755,size=1g") != 0) {
      fprintf(stderr, "[harness] tmpfs on %s failed (%s); using the disk\n", tmp_.c_str(), strerror(errno));
    }
  }
  // Traversable by mapped (user-namespace) roots.
  chmod(tmp_.c_str(), 0755);
  state_ = tmp_ + "/state";
  tag_ = tmp_;
  fs::create_directories(tmp_ + "/io");
  bundle_ = NewBundle("bundle");
}

std::string RuntimeTest::NewId() {
  std::string id = "mdt-" + std::to_string(getpid()) + "-" + std::to_string(++g_seq);
  ids_.push_back(id);
  return id;
}

std::string RuntimeTest::NewCgroupPath() {
  std::string p = "/minidocker-test-" + std::to_string(getpid()) + "-" + std::to_string(++g_seq);
  cgroups_.push_back(p);
  return p;
}

Bundle RuntimeTest::NewBundle(const std::string& name) {
  Bundle b;
  b.dir = tmp_ + "/" + (name.empty() ? "bundle-" + std::to_string(++g_seq) : name);
  b.rootfs = b.dir + "/rootfs";
  fs::create_directories(b.dir);
  chmod(b.dir.c_str(), 0755);
  fs::copy(GetConfig().rootfs, b.rootfs, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  chmod(b.rootfs.c_str(), 0755);
  fs::copy_file(GetConfig().md_check, b.rootfs + "/md-check", fs::copy_options::overwrite_existing);
  chmod((b.rootfs + "/md-check").c_str(), 0755);
  b.config = DefaultConfig();
  b.config["linux"]["cgroupsPath"] = NewCgroupPath();
  b.config["process"]["env"].push_back("MD_TEST_TAG=" + tag_);
  return b;
}

std::string RuntimeTest::ShareDir(Bundle& b, const std::string& name) {
  std::string p = Scratch(name);
  AddMount(b.config, p, "bind", p, {"rbind", "rw"});
  return p;
}

std::string RuntimeTest::Scratch(const std::string& name) {
  std::string p = tmp_ + "/" + name;
  fs::create_directories(p);
  chmod(p.c_str(), 0777);
  return p;
}

Child RuntimeTest::Spawn(const std::vector<std::string>& argv, const SpawnOptions& opts) {
  Child c;
  c.command = Join(argv, " ");
  c.timeout = opts.timeout;
  int n = ++io_counter_;
  c.out_path = opts.stdout_path.empty() ? tmp_ + "/io/" + std::to_string(n) + ".out" : opts.stdout_path;
  c.err_path = opts.stderr_path.empty() ? tmp_ + "/io/" + std::to_string(n) + ".err" : opts.stderr_path;
  std::string in_path = "/dev/null";
  if (!opts.stdin_data.empty()) {
    in_path = tmp_ + "/io/" + std::to_string(n) + ".in";
    WriteFile(in_path, opts.stdin_data);
  }
  // Everything the child needs is prepared before fork (no allocation after).
  int in = open(in_path.c_str(), O_RDONLY | O_CLOEXEC);
  int out = open(c.out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int err = open(c.err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  std::vector<std::pair<int, int>> extras;  // target, source
  for (const auto& [target, path] : opts.extra_files) {
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    EXPECT_GE(fd, 0) << path << ": " << strerror(errno);
    extras.emplace_back(target, fd);
  }
  for (const auto& [target, path] : opts.extra_dirs) {
    int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    EXPECT_GE(fd, 0) << path << ": " << strerror(errno);
    extras.emplace_back(target, fd);
  }
  std::vector<std::string> env_strs;
  for (char** e = environ; e && *e; ++e) {
    if (strncmp(*e, "MD_TEST_TAG=", 12) != 0) env_strs.push_back(*e);
  }
  env_strs.push_back("MD_TEST_TAG=" + tag_);
  for (const auto& e : opts.env) env_strs.push_back(e);
  std::vector<char*> cargv, cenv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const auto& e : env_strs) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);
  std::vector<int> keep = {0, 1, 2};
  for (auto& [t, s] : extras) keep.push_back(t);
  std::sort(keep.begin(), keep.end());

  pid_t pid = fork();
  if (pid == 0) {
    // Move sources out of the way of the targets first.
    for (size_t i = 0; i < extras.size(); ++i) extras[i].second = fcntl(extras[i].second, F_DUPFD_CLOEXEC, 1000 + i);
    in = fcntl(in, F_DUPFD_CLOEXEC, 900);
    out = fcntl(out, F_DUPFD_CLOEXEC, 901);
    err = fcntl(err, F_DUPFD_CLOEXEC, 902);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    for (auto& [t, s] : extras) dup2(s, t);  // dup2 clears CLOEXEC on the target
    // Close everything else (the test binary's own fds must not leak in).
    int prev = -1;
    for (int k : keep) {
      if (k > prev + 1) syscall(SYS_close_range, prev + 1, k - 1, 0);
      prev = k;
    }
    syscall(SYS_close_range, prev + 1, ~0U, 0);
    signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(cargv[0], cargv.data(), cenv.data());
    _exit(127);
  }
  close(in);
  close(out);
  close(err);
  for (auto& [t, s] : extras) close(s);
  EXPECT_GT(pid, 0) << "fork: " << strerror(errno);
  c.pid = pid;
  c.pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  children_.push_back(pid);
  return c;
}

Result RuntimeTest::Wait(Child& c) {
  Result r;
  r.command = c.command;
  if (c.pid <= 0) return r;
  pollfd p{c.pidfd, POLLIN, 0};
  int ready = poll(&p, 1, static_cast<int>(std::chrono::milliseconds(c.timeout).count()));
  if (ready == 0) {
    r.timed_out = true;
    kill(c.pid, SIGKILL);
  }
  int status = 0;
  while (waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
  }
  close(c.pidfd);
  children_.erase(std::remove(children_.begin(), children_.end(), c.pid), children_.end());
  c.pid = -1;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = ReadFile(c.out_path);
  r.err = ReadFile(c.err_path);
  r.out_file = c.out_path;
  r.err_file = c.err_path;
  return r;
}

Result RuntimeTest::Exec(const std::vector<std::string>& argv, const SpawnOptions& opts) {
  Child c = Spawn(argv, opts);
  return Wait(c);
}

Child RuntimeTest::RtSpawn(const std::vector<std::string>& args, const SpawnOptions& opts) {
  std::vector<std::string> argv = {GetConfig().runtime, "--root", state_};
  argv.insert(argv.end(), args.begin(), args.end());
  return Spawn(argv, opts);
}

Result RuntimeTest::Rt(const std::vector<std::string>& args, const SpawnOptions& opts) {
  Child c = RtSpawn(args, opts);
  return Wait(c);
}

Result RuntimeTest::RunBundle(Bundle& b, const std::string& id_in) {
  std::string id = id_in.empty() ? NewId() : id_in;
  b.Save();
  return Rt({"run", "--bundle", b.dir, id});
}

Facts RuntimeTest::Check(const std::vector<std::string>& args) { return Check(bundle_, args); }

Facts RuntimeTest::Check(Bundle& b, const std::vector<std::string>& args) {
  json a = json::array({"/md-check"});
  for (const auto& x : args) a.push_back(x);
  b.config["process"]["args"] = a;
  Result r = RunBundle(b);
  EXPECT_EQ(r.exit_code, 0) << r;
  return ParseFacts(r.out);
}

Result RuntimeTest::Create(Bundle& b, const std::string& id, std::vector<std::string> extra) {
  b.Save();
  std::vector<std::string> args = {"create", "--bundle", b.dir};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(id);
  Result r = Rt(args);
  EXPECT_EQ(r.exit_code, 0) << r;
  return r;
}

std::optional<json> RuntimeTest::State(const std::string& id) {
  Result r = Rt({"state", id});
  if (r.exit_code != 0) return std::nullopt;
  try {
    return json::parse(r.out);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "state output is not JSON: " << e.what() << "\n" << r;
    return std::nullopt;
  }
}

void RuntimeTest::ReapOrphans() {
  DIR* d = opendir("/proc");
  if (!d) return;
  std::string me = std::to_string(getpid());
  std::vector<pid_t> zombies;
  while (dirent* e = readdir(d)) {
    if (!isdigit(e->d_name[0])) continue;
    std::string stat = ReadFile(std::string("/proc/") + e->d_name + "/stat");
    auto rp = stat.rfind(')');
    if (rp == std::string::npos || rp + 4 >= stat.size() || stat[rp + 2] != 'Z') continue;
    std::istringstream rest(stat.substr(rp + 4));
    std::string ppid;
    rest >> ppid;
    pid_t pid = atoi(e->d_name);
    if (ppid == me && std::find(children_.begin(), children_.end(), pid) == children_.end()) zombies.push_back(pid);
  }
  closedir(d);
  for (pid_t z : zombies) waitpid(z, nullptr, WNOHANG);
}

std::string RuntimeTest::Status(const std::string& id) {
  auto s = State(id);
  if (!s || !s->contains("status")) return "";
  return (*s)["status"].get<std::string>();
}

std::string RuntimeTest::WaitStatus(const std::string& id, const std::string& want, std::chrono::seconds bound) {
  auto deadline = std::chrono::steady_clock::now() + bound;
  std::string st;
  auto delay = 5ms;
  for (;;) {
    ReapOrphans();
    st = Status(id);
    if (st == want || std::chrono::steady_clock::now() > deadline) return st;
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(200));
  }
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& data, mode_t mode) {
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << data;
  }
  chmod(path.c_str(), mode);
}

bool WaitForFile(const std::string& path, std::chrono::seconds bound) {
  auto deadline = std::chrono::steady_clock::now() + bound;
  auto delay = 2ms;
  while (access(path.c_str(), F_OK) != 0) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(100));
  }
  return true;
}

std::string RuntimeTest::HostNs(const std::string& type) { return Readlink("/proc/self/ns/" + type); }

bool RuntimeTest::StateDirExists(const std::string& id) const {
  struct stat st {};
  return lstat((state_ + "/" + id).c_str(), &st) == 0;
}

namespace {

std::vector<pid_t> PidsWithTag(const std::string& tag) {
  std::vector<pid_t> out;
  std::string needle = "MD_TEST_TAG=" + tag;
  DIR* d = opendir("/proc");
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    if (!isdigit(e->d_name[0])) continue;
    pid_t pid = atoi(e->d_name);
    if (pid == getpid()) continue;
    std::string base = std::string("/proc/") + e->d_name;
    std::string stat = ReadFile(base + "/stat");
    auto rp = stat.rfind(')');
    if (rp != std::string::npos && rp + 2 < stat.size() && (stat[rp + 2] == 'Z' || stat[rp + 2] == 'X')) continue;
    std::string env = ReadFile(base + "/environ");
    size_t pos = 0;
    while (pos < env.size()) {
      size_t end = env.find('\0', pos);
      if (end == std::string::npos) end = env.size();
      if (env.compare(pos, end - pos, needle) == 0) {
        out.push_back(pid);
        break;
      }
      pos = end + 1;
    }
  }
  closedir(d);
  return out;
}

void RemoveCgroupTree(const std::string& dir) {
  // Thaw (v1 freezer / v2 cgroup.freeze), kill members, then rmdir depth-first.
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_directory(ec)) RemoveCgroupTree(e.path());
  }
  WriteFile(dir + "/freezer.state", "THAWED");
  if (access((dir + "/cgroup.freeze").c_str(), F_OK) == 0) WriteFile(dir + "/cgroup.freeze", "0");
  for (int attempt = 0; attempt < 200; ++attempt) {
    std::ifstream procs(dir + "/cgroup.procs");
    pid_t pid;
    bool any = false;
    while (procs >> pid) {
      kill(pid, SIGKILL);
      any = true;
    }
    if (rmdir(dir.c_str()) == 0 || errno == ENOENT) return;
    if (!any && errno != EBUSY) return;
    std::this_thread::sleep_for(10ms);
  }
  fprintf(stderr, "[harness] could not remove cgroup %s: %s\n", dir.c_str(), strerror(errno));
}

// Removes a tree without following symlinks or crossing into other mounts.
void RemoveTree(const std::string& path, dev_t dev) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    if (st.st_dev != dev) {
      fprintf(stderr, "[harness] not removing %s: still a mount point\n", path.c_str());
      return;
    }
    chmod(path.c_str(), 0700);
    if (DIR* d = opendir(path.c_str())) {
      std::vector<std::string> names;
      while (dirent* e = readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") names.push_back(n);
      }
      closedir(d);
      for (const auto& n : names) RemoveTree(path + "/" + n, dev);
    }
    rmdir(path.c_str());
  } else {
    unlink(path.c_str());
  }
}

}  // namespace

std::vector<std::string> RuntimeTest::CgroupDirsFor(const std::string& cgroup_path) const {
  std::vector<std::string> out;
  for (const auto& root : CgroupRoots()) {
    std::string p = root + cgroup_path;
    struct stat st {};
    if (stat(p.c_str(), &st) == 0) out.push_back(p);
  }
  return out;
}

std::vector<pid_t> RuntimeTest::TaggedProcesses() const { return PidsWithTag(tag_); }

void RuntimeTest::ExpectNothingLeftBehind(const std::string& id, const std::string& cgroup_path) {
  EXPECT_FALSE(StateDirExists(id)) << "state dir " << state_ << "/" << id << " left behind";
  auto dirs = CgroupDirsFor(cgroup_path);
  EXPECT_TRUE(dirs.empty()) << "cgroup dirs left behind: " << Join(dirs, " ");
  // Processes may take a moment to be reaped after the runtime exits.
  std::vector<pid_t> procs;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  do {
    procs = TaggedProcesses();
    if (procs.empty()) break;
    std::this_thread::sleep_for(20ms);
  } while (std::chrono::steady_clock::now() < deadline);
  std::string desc;
  for (pid_t p : procs) desc += std::to_string(p) + " (" + ReadFile("/proc/" + std::to_string(p) + "/comm") + ") ";
  EXPECT_TRUE(procs.empty()) << "processes left behind: " << desc;
}

void RuntimeTest::TearDown() { Cleanup(); }

void RuntimeTest::Cleanup() {
  if (tmp_.empty()) return;
  const Config& cfg = GetConfig();
  // 1. Thaw our cgroups so that kills are delivered, then ask the runtime.
  for (const auto& cg : cgroups_) {
    for (const auto& d : CgroupDirsFor(cg)) {
      WriteFile(d + "/freezer.state", "THAWED");
      if (access((d + "/cgroup.freeze").c_str(), F_OK) == 0) WriteFile(d + "/cgroup.freeze", "0");
    }
  }
  for (const auto& id : ids_) {
    if (!StateDirExists(id)) continue;
    SpawnOptions o;
    o.timeout = 30s;
    Child c = Spawn({cfg.runtime, "--root", state_, "delete", "--force", id}, o);
    Wait(c);
  }
  // 2. Kill whatever still carries our tag (container processes, runtime
  //    helpers, namespace holders) and our own children.
  for (int round = 0; round < 100; ++round) {
    auto pids = PidsWithTag(tag_);
    if (pids.empty()) break;
    for (pid_t p : pids) kill(p, SIGKILL);
    std::this_thread::sleep_for(10ms);
    ReapOrphans();
  }
  for (pid_t p : children_) {
    kill(p, SIGKILL);
    waitpid(p, nullptr, 0);
  }
  children_.clear();
  ReapOrphans();
  // 3. Cgroups we named.
  for (const auto& cg : cgroups_) {
    for (const auto& d : CgroupDirsFor(cg)) RemoveCgroupTree(d);
  }
  ReapOrphans();
  // 4. Mounts under the temp dir (deepest first, lazily).
  for (int round = 0; round < 10; ++round) {
    std::vector<std::string> points;
    std::ifstream mi("/proc/self/mountinfo");
    std::string line;
    while (std::getline(mi, line)) {
      std::istringstream ls(line);
      std::string f[5];
      for (auto& x : f) ls >> x;
      if (f[4].rfind(tmp_ + "/", 0) == 0 || (f[4] == tmp_ && !cfg.keep_tmp)) points.push_back(f[4]);
    }
    if (points.empty()) break;
    std::sort(points.begin(), points.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
    for (const auto& p : points) {
      // mountinfo escapes spaces etc. as \ooo; our paths never contain them.
      umount2(p.c_str(), MNT_DETACH);
    }
  }
  // 5. The temp dir itself.
  if (cfg.keep_tmp) {
    fprintf(stderr, "[harness] keeping %s\n", tmp_.c_str());
  } else {
    struct stat st {};
    if (lstat(tmp_.c_str(), &st) == 0) RemoveTree(tmp_, st.st_dev);
  }
  tmp_.clear();
}

}  // namespace mdtest
