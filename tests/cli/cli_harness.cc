#include "cli_harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace mdcli {

namespace {

std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

uint32_t fnv1a(const std::string& s) {
  uint32_t h = 2166136261u;
  for (unsigned char ch : s) h = (h ^ ch) * 16777619u;
  return h;
}

// Interface names whose master is `bridge` (`ip -o link show master BR`).
std::vector<std::string> bridge_ports(const std::string& bridge) {
  std::vector<std::string> out;
  Out r = run_process({"ip", "-o", "link", "show", "master", bridge});
  for (auto& l : lines_of(r.out)) {
    // "12: mdv1a2b3c4d5e6f@if2: <BROADCAST,…"
    auto a = l.find(": ");
    if (a == std::string::npos) continue;
    auto b = l.find_first_of(":@", a + 2);
    out.push_back(l.substr(a + 2, b - a - 2));
  }
  return out;
}

bool link_exists(const std::string& name) {
  return ::access(("/sys/class/net/" + name).c_str(), F_OK) == 0;
}

}  // namespace

std::string read_text(const std::string& path) {
  std::string s = read_all(path);
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string line;
  while (std::getline(ss, line))
    if (!line.empty()) out.push_back(line);
  return out;
}

std::string cgroup_file(const std::string& id, const std::string& controller, const std::string& v1,
                        const std::string& v2) {
  std::string base = "/sys/fs/cgroup/" + controller + "/minidocker-" + id + "/" + v1;
  if (::access(base.c_str(), F_OK) == 0) return base;
  return "/sys/fs/cgroup/minidocker-" + id + "/" + v2;
}

std::ostream& operator<<(std::ostream& os, const Out& r) {
  return os << "$ " << r.cmd << "\n[exit " << r.code << "]\n[stdout]\n" << r.out << "[stderr]\n" << r.err;
}

Out run_process(const std::vector<std::string>& argv, const std::string& input, std::chrono::seconds timeout) {
  Out r;
  for (auto& a : argv) r.cmd += (r.cmd.empty() ? "" : " ") + a;
  char dir_tmpl[] = "/tmp/mdc-io-XXXXXX";
  std::string dir = ::mkdtemp(dir_tmpl);
  std::string in = dir + "/in", out = dir + "/out", err = dir + "/err";
  { std::ofstream(in, std::ios::binary) << input; }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    int i = ::open(in.c_str(), O_RDONLY), o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600),
        e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(i, 0);
    ::dup2(o, 1);
    ::dup2(e, 2);
    ::close_range(3, ~0U, 0);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      r.err = "[timed out]\n";
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_all(out);
  r.err += read_all(err);
  ::unlink(in.c_str());
  ::unlink(out.c_str());
  ::unlink(err.c_str());
  ::rmdir(dir.c_str());
  return r;
}

bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return cond();
}

std::string cli_binary() { return env_or("MD_CLI", MD_CLI_BIN); }

std::string busybox_tar() {
  static std::string path;
  if (!path.empty()) return path;
  std::string rootfs = env_or("MD_ROOTFS", MD_TEST_ROOTFS);
  if (::access((rootfs + "/bin/busybox").c_str(), X_OK) != 0) {
    Out b = run_process({"sh", MD_ROOTFS_SCRIPT, rootfs});
    if (!b.ok()) return "";
  }
  std::string tar = "/tmp/mdc-busybox-" + std::to_string(::getpid()) + ".tar";
  Out t = run_process({"tar", "-C", rootfs, "--numeric-owner", "--owner=0", "--group=0", "-cf", tar, "."});
  if (!t.ok()) return "";
  path = tar;
  static struct Remove {
    ~Remove() {
      if (!path.empty()) ::unlink(path.c_str());
    }
  } remover;
  return path;
}

void Cli::SetUp() {
  if (::geteuid() != 0) {
    skip_ = true;
    GTEST_SKIP() << "needs root";
  }
  char tmpl[] = "/tmp/mdc-XXXXXX";
  root_ = ::mkdtemp(tmpl);
  ASSERT_EQ(::mount("tmpfs", root_.c_str(), "tmpfs", 0, "mode=0711"), 0) << std::strerror(errno);
  // The root's own default bridge and subnet (see the header). n: from the pid, moved on
  // past any 10.201.n.0/24 the host already has an address in (another test process).
  {
    char hex[16];
    std::snprintf(hex, sizeof hex, "%06x", fnv1a(root_) & 0xffffff);
    bridge_ = std::string("mdt") + hex;
    char table[32];
    std::snprintf(table, sizeof table, "minidocker_%08x", fnv1a(root_));
    nft_table_ = table;
    std::string addrs = run_process({"ip", "-4", "-o", "addr", "show"}).out;
    int n = int(::getpid() % 250) + 1;
    for (int tries = 0; tries < 250; ++tries, n = n % 250 + 1)
      if (addrs.find(" 10.201." + std::to_string(n) + ".") == std::string::npos) break;
    bridge_subnet_ = "10.201." + std::to_string(n) + ".0/24";
    json cfg = {{"bridge", bridge_},
                {"bip", "10.201." + std::to_string(n) + ".1/24"},
                {"default-address-pools", json::array({{{"base", "10.202.0.0/16"}, {"size", 24}}})}};
    std::ofstream(root_ + "/daemon.json") << cfg.dump(2) << "\n";
  }
  std::string tar = busybox_tar();
  ASSERT_FALSE(tar.empty()) << "could not build the busybox rootfs tar";
  Out imp = md({"import", "--change", "CMD [\"sh\"]", tar, "busybox:latest"});
  ASSERT_TRUE(imp.ok()) << imp;
}

void Cli::TearDown() {
  if (skip_ || root_.empty()) return;
  // Pods first (rm -f of an infra container is refused while its pod exists), then the
  // containers, through the CLI (the normal path)…
  md({"pod", "rm", "-af"}, "", std::chrono::seconds(60));
  Out ps = md({"ps", "-aq", "--no-trunc"}, "", std::chrono::seconds(30));
  std::vector<std::string> ids = lines_of(ps.out);
  for (auto& id : ids) md({"rm", "-f", id}, "", std::chrono::seconds(30));
  teardown_networks();
  // …then whatever a failed test may have left: monitors and their containers, mounts,
  // cgroups.
  std::vector<std::string> dirs;
  if (auto* d = ::opendir((root_ + "/containers").c_str())) {
    while (auto* ent = ::readdir(d))
      if (ent->d_name[0] != '.') dirs.push_back(ent->d_name);
    ::closedir(d);
  }
  if (auto* d = ::opendir("/proc")) {
    while (auto* ent = ::readdir(d)) {
      if (!std::isdigit(static_cast<unsigned char>(ent->d_name[0]))) continue;
      std::string cmdline = read_all(std::string("/proc/") + ent->d_name + "/cmdline");
      std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
      if (cmdline.find("minidocker-monitor") != std::string::npos && cmdline.find(root_ + "/") != std::string::npos)
        ::kill(std::atoi(ent->d_name), SIGKILL);
    }
    ::closedir(d);
  }
  for (auto& id : dirs) {
    // Kill and remove cgroups named after the container on every hierarchy.
    Out find = run_process({"sh", "-c", "for d in /sys/fs/cgroup/minidocker-" + id + " /sys/fs/cgroup/*/minidocker-" + id +
                                            "; do [ -d \"$d\" ] || continue; for p in $(cat $d/cgroup.procs 2>/dev/null); do kill -9 $p; done; done; sleep 0.1; "
                                            "for d in /sys/fs/cgroup/minidocker-" + id + " /sys/fs/cgroup/*/minidocker-" + id +
                                            "; do [ -d \"$d\" ] && rmdir \"$d\"; done; true"});
  }
  // Mounts under the root, deepest first.
  std::vector<std::string> mounts;
  std::stringstream mi(read_all("/proc/self/mountinfo"));
  std::string line;
  while (std::getline(mi, line)) {
    std::stringstream ls(line);
    std::string a, b, c, d, mp;
    ls >> a >> b >> c >> d >> mp;
    if (mp.rfind(root_ + "/", 0) == 0) mounts.push_back(mp);
  }
  std::sort(mounts.begin(), mounts.end(), [](auto& x, auto& y) { return x.size() > y.size(); });
  for (auto& m : mounts) ::umount2(m.c_str(), MNT_DETACH);
  if (std::getenv("MD_KEEP_TMP")) {
    std::fprintf(stderr, "kept %s\n", root_.c_str());
    return;
  }
  ::umount2(root_.c_str(), MNT_DETACH);
  ::rmdir(root_.c_str());
}

void Cli::teardown_networks() {
  // The bridges of this root's networks, read before they go: user networks are
  // "md-" + 12 hex of the id unless com.docker.network.bridge.name says otherwise.
  std::vector<std::string> bridges = {bridge_};
  Out ls = md({"network", "ls", "-q", "--no-trunc"}, "", std::chrono::seconds(30));
  for (auto& id : lines_of(ls.out)) {
    json n = json::parse(md({"network", "inspect", id}, "", std::chrono::seconds(30)).out, nullptr, false);
    if (!n.is_array() || n.empty() || n[0].value("Driver", "") != "bridge") continue;
    std::string br = "md-" + id.substr(0, 12);
    if (n[0].contains("Options") && n[0]["Options"].is_object())
      br = n[0]["Options"].value("com.docker.network.bridge.name", br);
    if (std::find(bridges.begin(), bridges.end(), br) == bridges.end()) bridges.push_back(br);
  }
  md({"network", "prune", "-f"}, "", std::chrono::seconds(30));
  ls = md({"network", "ls", "-q", "--no-trunc", "--filter", "type=custom"}, "", std::chrono::seconds(30));
  for (auto& id : lines_of(ls.out)) md({"network", "rm", id}, "", std::chrono::seconds(30));
  // Every container is gone, so nothing may still be plugged into our bridges.
  for (auto& br : bridges) {
    if (br.empty() || !link_exists(br)) continue;
    for (auto& port : bridge_ports(br)) {
      ADD_FAILURE() << "leftover link " << port << " on bridge " << br << " after every container was removed";
      run_process({"ip", "link", "del", port});
    }
    run_process({"ip", "link", "del", br});
  }
  // The per-network DNS servers of this root.
  if (auto* d = ::opendir("/proc")) {
    while (auto* ent = ::readdir(d)) {
      if (!std::isdigit(static_cast<unsigned char>(ent->d_name[0]))) continue;
      std::string cmdline = read_all(std::string("/proc/") + ent->d_name + "/cmdline");
      std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
      if (cmdline.find("minidocker-dns") != std::string::npos && cmdline.find(root_ + "/") != std::string::npos)
        ::kill(std::atoi(ent->d_name), SIGKILL);
    }
    ::closedir(d);
  }
  Out tables = run_process({"nft", "list", "tables"});
  if (!nft_table_.empty() && tables.out.find("table ip " + nft_table_ + "\n") != std::string::npos)
    run_process({"nft", "delete", "table", "ip", nft_table_});
}

Out Cli::md(std::vector<std::string> args, const std::string& input, std::chrono::seconds timeout) {
  std::vector<std::string> argv = {cli_binary(), "--root", root_};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, input, timeout);
}

std::string Cli::md_ok(std::vector<std::string> args, const std::string& input) {
  Out r = md(args, input);
  EXPECT_TRUE(r.ok()) << r;
  std::string out = r.out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

json Cli::inspect(const std::string& ref) {
  Out r = md({"inspect", ref});
  if (!r.ok()) return json();
  json j = json::parse(r.out, nullptr, false);
  return j.is_array() && !j.empty() ? j[0] : json();
}

std::string Cli::state(const std::string& ref) {
  json j = inspect(ref);
  return j.is_object() ? j["State"].value("Status", "") : "";
}

std::string Cli::unique(const std::string& base) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string n = base + "-" + info->name();
  for (auto& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '-';
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  return n;
}

}  // namespace mdcli
