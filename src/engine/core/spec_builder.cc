#include "engine/core/spec_builder.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <map>
#include <set>

#include "base/file_util.h"
#include "base/unique_fd.h"
#include "engine/core/default_seccomp.h"
#include "engine/store/ids.h"
#include "oci/capabilities.h"

namespace md::engine {

namespace {
using nlohmann::json;

const char* const kMaskedPaths[] = {
    "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
    "/sys/firmware", "/sys/devices/virtual/powercap"};
const char* const kReadonlyPaths[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                      "/proc/sysrq-trigger"};

// A file inside the rootfs, resolved as the container would see it.
Result<std::string> read_in_root(const std::string& root, const char* path) {
  UniqueFd dir(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return fail_errno("open rootfs " + root);
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  int fd = int(::syscall(SYS_openat2, dir.get(), path, &how, sizeof how));
  if (fd < 0) return fail_errno(std::string("open ") + path);
  UniqueFd f(fd);
  std::string out;
  char buf[8192];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, size_t(n));
  return out;
}

bool all_digits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

struct Entry {
  std::string name;
  unsigned id;
  unsigned gid;  // passwd only
  std::vector<std::string> members;  // group only
};

std::vector<Entry> parse_db(const std::string& text, bool passwd) {
  std::vector<Entry> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f;
    size_t s = 0;
    for (;;) {
      size_t c = line.find(':', s);
      f.push_back(line.substr(s, c - s));
      if (c == std::string::npos) break;
      s = c + 1;
    }
    if (f.size() < (passwd ? 4u : 3u) || !all_digits(f[2])) continue;
    Entry e{f[0], unsigned(std::stoul(f[2])), 0, {}};
    if (passwd && all_digits(f[3])) e.gid = unsigned(std::stoul(f[3]));
    if (!passwd && f.size() > 3 && !f[3].empty()) {
      size_t a = 0;
      for (;;) {
        size_t c = f[3].find(',', a);
        e.members.push_back(f[3].substr(a, c - a));
        if (c == std::string::npos) break;
        a = c + 1;
      }
    }
    out.push_back(e);
  }
  return out;
}

using User = ResolvedUser;

Result<User> resolve_user(const std::string& rootfs, const std::string& spec, const json& group_add) {
  User u;
  std::string user = spec, group;
  if (auto c = spec.find(':'); c != std::string::npos) {
    user = spec.substr(0, c);
    group = spec.substr(c + 1);
  }
  auto passwd = parse_db(read_in_root(rootfs, "/etc/passwd").value_or(""), true);
  auto groups = parse_db(read_in_root(rootfs, "/etc/group").value_or(""), false);
  std::string user_name;
  if (user.empty()) user = "0";
  if (all_digits(user)) {
    u.uid = unsigned(std::stoul(user));
    for (auto& p : passwd)
      if (p.id == u.uid) {
        u.gid = p.gid;
        user_name = p.name;
        break;
      }
  } else {
    bool found = false;
    for (auto& p : passwd)
      if (p.name == user) {
        u.uid = p.id;
        u.gid = p.gid;
        user_name = p.name;
        found = true;
        break;
      }
    if (!found) return fail("unable to find user " + user + ": no matching entries in passwd file", ENOENT);
  }
  auto group_id = [&](const std::string& g) -> Result<unsigned> {
    if (all_digits(g)) return unsigned(std::stoul(g));
    for (auto& e : groups)
      if (e.name == g) return e.id;
    return fail("unable to find group " + g + ": no matching entries in group file", ENOENT);
  };
  if (!group.empty()) u.gid = TRY(group_id(group));
  if (!user_name.empty())
    for (auto& g : groups)
      for (auto& m : g.members)
        if (m == user_name && g.id != u.gid) u.additional.push_back(g.id);
  if (group_add.is_array())
    for (auto& g : group_add) u.additional.push_back(TRY(group_id(g.get<std::string>())));
  return u;
}

const std::map<std::string, int> kRlimits = {
    {"core", RLIMIT_CORE},     {"cpu", RLIMIT_CPU},         {"data", RLIMIT_DATA},
    {"fsize", RLIMIT_FSIZE},   {"locks", RLIMIT_LOCKS},     {"memlock", RLIMIT_MEMLOCK},
    {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},   {"nofile", RLIMIT_NOFILE},
    {"nproc", RLIMIT_NPROC},   {"rss", RLIMIT_RSS},         {"rtprio", RLIMIT_RTPRIO},
    {"rttime", RLIMIT_RTTIME}, {"sigpending", RLIMIT_SIGPENDING}, {"stack", RLIMIT_STACK}};

// Capabilities this process may hand out (its bounding set, /proc/self/status CapBnd):
// "all capabilities" for --privileged means these (this host lacks CAP_SYS_RESOURCE).
uint64_t host_bounding_set() {
  auto status = read_file("/proc/self/status");
  if (!status) return ~0ULL;
  auto pos = status->find("CapBnd:");
  if (pos == std::string::npos) return ~0ULL;
  return std::strtoull(status->c_str() + pos + 7, nullptr, 16);
}

std::vector<std::string> all_host_capabilities() {
  std::vector<std::string> caps;
  uint64_t bnd = host_bounding_set();
  int last = oci::last_capability();
  for (auto& n : oci::all_capability_names()) {
    auto v = oci::capability_from_name(n);
    if (v && *v <= last && *v < 64 && (bnd & (1ULL << *v))) caps.push_back(n);
  }
  return caps;
}

std::string upper(std::string s) {
  for (auto& ch : s) ch = char(toupper(ch));
  return s;
}

}  // namespace

Result<ResolvedUser> lookup_user(const std::string& rootfs, const std::string& spec, const json& group_add) {
  return resolve_user(rootfs, spec, group_add);
}

long long host_hard_limit(const std::string& name) {
  auto it = kRlimits.find(name);
  if (it == kRlimits.end()) return -1;
  rlimit r{};
  if (getrlimit(it->second, &r) != 0) return -1;
  return r.rlim_max == RLIM_INFINITY ? -1 : (long long)r.rlim_max;
}

std::string container_hostname(const store::Container& c) {
  std::string h = c.config.value("Hostname", "");
  return h.empty() ? store::short_id(c.id) : h;
}

Status write_etc_files(const Paths& paths, const store::Container& c, const EtcNetwork& net) {
  std::string dir = paths.container_dir(c.id);
  if (!net.copy_from.empty()) {
    // container:<x>: the same network, so the same names and resolvers (Docker's rule).
    for (const char* f : {"hostname", "hosts", "resolv.conf"}) {
      std::string text = read_file(net.copy_from + "/" + f).value_or("");
      TRY(write_file_atomic(dir + "/" + f, text, 0644));
    }
    return {};
  }
  const json& hc = c.host_config;
  bool host_net = hc.value("NetworkMode", "") == "host";
  std::string hostname = host_net ? read_file("/etc/hostname").value_or("localhost\n") : container_hostname(c) + "\n";
  if (hostname.back() != '\n') hostname += "\n";
  std::string domain = c.config.value("Domainname", "");
  TRY(write_file_atomic(dir + "/hostname", hostname, 0644));

  std::string hosts;
  if (host_net) {
    hosts = read_file("/etc/hosts").value_or("127.0.0.1\tlocalhost\n");
  } else {
    hosts =
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
        "ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";
    for (auto& ip : net.own_addresses) hosts += ip + "\t" + container_hostname(c) + "\n";
  }
  if (hc.contains("ExtraHosts") && hc["ExtraHosts"].is_array())
    for (auto& h : hc["ExtraHosts"]) {
      std::string s = h.get<std::string>();
      auto colon = s.find(':');
      if (colon == std::string::npos) continue;
      hosts += s.substr(colon + 1) + "\t" + s.substr(0, colon) + "\n";
    }
  TRY(write_file_atomic(dir + "/hosts", hosts, 0644));

  // resolv.conf: the host's, minus loopback resolvers a private network namespace cannot
  // reach (Docker's rule); Google's servers when nothing usable is left.
  std::string host_resolv = read_file("/etc/resolv.conf").value_or("");
  std::vector<std::string> servers, other;
  size_t pos = 0;
  while (pos < host_resolv.size()) {
    size_t eol = host_resolv.find('\n', pos);
    if (eol == std::string::npos) eol = host_resolv.size();
    std::string line = host_resolv.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.rfind("nameserver", 0) == 0) {
      std::string addr = line.substr(10);
      addr.erase(0, addr.find_first_not_of(" \t"));
      if (!host_net && (addr.rfind("127.", 0) == 0 || addr == "::1")) continue;
      servers.push_back(addr);
    } else if (line.rfind("search", 0) == 0 || line.rfind("options", 0) == 0) {
      other.push_back(line);
    }
  }
  auto list = [&](const char* k) {
    std::vector<std::string> v;
    if (hc.contains(k) && hc[k].is_array())
      for (auto& x : hc[k]) v.push_back(x.get<std::string>());
    return v;
  };
  if (!net.nameservers.empty()) servers = net.nameservers;
  if (auto dns = list("Dns"); !dns.empty()) servers = dns;
  if (servers.empty()) servers = {"8.8.8.8", "8.8.4.4"};
  std::string resolv;
  auto search = list("DnsSearch");
  auto options = list("DnsOptions");
  if (!search.empty() || !options.empty()) {
    other.clear();
    if (!search.empty()) {
      std::string l = "search";
      for (auto& s : search) l += " " + s;
      other.push_back(l);
    }
    if (!options.empty()) {
      std::string l = "options";
      for (auto& s : options) l += " " + s;
      other.push_back(l);
    }
  }
  for (auto& l : other) resolv += l + "\n";
  for (auto& s : servers) resolv += "nameserver " + s + "\n";
  (void)domain;
  return write_file_atomic(dir + "/resolv.conf", resolv, 0644);
}

Result<json> build_oci_spec(const Paths& paths, const store::Container& c, const NamespaceJoin& ns) {
  const json& cfg = c.config;
  const json& hc = c.host_config;
  std::string rootfs = paths.merged(c.id);
  std::string dir = paths.container_dir(c.id);
  bool privileged = hc.value("Privileged", false);
  bool tty = cfg.value("Tty", false);

  // --- process
  json args = json::array();
  for (auto k : {"Entrypoint", "Cmd"})
    if (cfg.contains(k) && cfg[k].is_array())
      for (auto& a : cfg[k]) args.push_back(a);
  User user = TRY(resolve_user(rootfs, cfg.value("User", ""), hc.value("GroupAdd", json())));
  json env = cfg.value("Env", json::array());
  auto has_env = [&](const std::string& k) {
    for (auto& e : env)
      if (e.get<std::string>().rfind(k + "=", 0) == 0) return true;
    return false;
  };
  if (!has_env("PATH")) env.insert(env.begin(), "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  if (!has_env("HOSTNAME")) env.push_back("HOSTNAME=" + container_hostname(c));
  if (tty && !has_env("TERM")) env.push_back("TERM=xterm");

  // Capabilities: Docker's default set ± --cap-add/--cap-drop ("ALL" allowed in both).
  std::vector<std::string> caps;
  if (privileged) {
    caps = all_host_capabilities();
  } else {
    caps = docker_default_capabilities();
    auto norm = [](std::string n) {
      n = upper(n);
      return n.rfind("CAP_", 0) == 0 ? n : "CAP_" + n;
    };
    if (hc.contains("CapDrop") && hc["CapDrop"].is_array())
      for (auto& d : hc["CapDrop"]) {
        std::string n = norm(d.get<std::string>());
        if (n == "CAP_ALL") caps.clear();
        else if (!oci::capability_from_name(n)) return fail("unknown capability: \"" + d.get<std::string>() + "\"", EINVAL);
        else std::erase(caps, n);
      }
    if (hc.contains("CapAdd") && hc["CapAdd"].is_array())
      for (auto& a : hc["CapAdd"]) {
        std::string n = norm(a.get<std::string>());
        if (n == "CAP_ALL") {
          caps = all_host_capabilities();
        } else if (!oci::capability_from_name(n)) {
          return fail("unknown capability: \"" + a.get<std::string>() + "\"", EINVAL);
        } else if (std::find(caps.begin(), caps.end(), n) == caps.end()) {
          caps.push_back(n);
        }
      }
  }
  bool no_new_privs = false;
  bool seccomp_unconfined = privileged;
  std::string seccomp_file;
  if (hc.contains("SecurityOpt") && hc["SecurityOpt"].is_array())
    for (auto& o : hc["SecurityOpt"]) {
      std::string s = o.get<std::string>();
      auto eq = s.find_first_of("=:");
      std::string key = s.substr(0, eq), val = eq == std::string::npos ? "" : s.substr(eq + 1);
      if (key == "no-new-privileges") {
        no_new_privs = val.empty() || val == "true";
      } else if (key == "seccomp") {
        if (val == "unconfined") seccomp_unconfined = true;
        else seccomp_file = val;
      } else if (key == "apparmor" || key == "label") {
        // No AppArmor/SELinux on this host: accepted and ignored, as Docker does there.
      } else {
        return fail("invalid --security-opt: \"" + s + "\"", EINVAL);
      }
    }

  json rlimits = json::array();
  if (hc.contains("Ulimits") && hc["Ulimits"].is_array())
    for (auto& u : hc["Ulimits"]) {
      std::string name = u.value("Name", "");
      if (!kRlimits.count(name)) return fail("invalid ulimit type: " + name, EINVAL);
      long long soft = u.value("Soft", 0LL), hard = u.value("Hard", 0LL);
      long long host = host_hard_limit(name);
      // Clamp to the host's hard limit: raising it needs CAP_SYS_RESOURCE, which this host
      // does not grant; Docker would fail, Podman clamps (the friendlier choice).
      if (host >= 0) {
        hard = std::min(hard, host);
        soft = std::min(soft, hard);
      }
      rlimits.push_back({{"type", "RLIMIT_" + upper(name)}, {"soft", soft}, {"hard", hard}});
    }

  json process = {
      {"terminal", tty},
      {"user", {{"uid", user.uid}, {"gid", user.gid}}},
      {"args", args},
      {"env", env},
      {"cwd", cfg.value("WorkingDir", "").empty() ? "/" : cfg.value("WorkingDir", "/")},
      {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
      {"noNewPrivileges", no_new_privs},
      {"oomScoreAdj", 0},
  };
  if (!user.additional.empty()) process["user"]["additionalGids"] = user.additional;
  if (!rlimits.empty()) process["rlimits"] = rlimits;

  // --- mounts
  json mounts = json::array({
      {{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}, {"options", {"nosuid", "noexec", "nodev"}}},
      {{"destination", "/dev"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
      {{"destination", "/dev/pts"}, {"type", "devpts"}, {"source", "devpts"}, {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}},
      {{"destination", "/sys"}, {"type", "sysfs"}, {"source", "sysfs"}, {"options", {"nosuid", "noexec", "nodev", privileged ? "rw" : "ro"}}},
      {{"destination", "/sys/fs/cgroup"}, {"type", "cgroup"}, {"source", "cgroup"}, {"options", {"nosuid", "noexec", "nodev", "relatime", privileged ? "rw" : "ro"}}},
      {{"destination", "/dev/mqueue"}, {"type", "mqueue"}, {"source", "mqueue"}, {"options", {"nosuid", "noexec", "nodev"}}},
  });
  std::set<std::string> user_dests;
  json points = hc.value("MountPoints", json::array());
  for (auto& p : points) user_dests.insert(p["Destination"].get<std::string>());
  if (!user_dests.count("/dev/shm")) {
    int64_t shm = hc.value("ShmSize", int64_t{0});
    if (shm <= 0) shm = 64 * 1024 * 1024;
    mounts.push_back({{"destination", "/dev/shm"}, {"type", "tmpfs"}, {"source", "shm"},
                      {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=" + std::to_string(shm)}}});
  }
  for (auto f : {"resolv.conf", "hostname", "hosts"}) {
    std::string dest = std::string("/etc/") + f;
    if (user_dests.count(dest)) continue;
    mounts.push_back({{"destination", dest}, {"type", "bind"}, {"source", dir + "/" + f},
                      {"options", {"rbind", "rprivate"}}});
  }
  for (auto& p : points) {
    std::string type = p.value("Type", "");
    json m = {{"destination", p["Destination"]}};
    if (type == "tmpfs") {
      m["type"] = "tmpfs";
      m["source"] = "tmpfs";
      json opts = json::array();
      std::string o = p.value("Options", "");
      size_t s = 0;
      while (s <= o.size() && !o.empty()) {
        size_t comma = o.find(',', s);
        opts.push_back(o.substr(s, comma - s));
        if (comma == std::string::npos) break;
        s = comma + 1;
      }
      m["options"] = opts;
    } else {
      m["type"] = "bind";
      m["source"] = p["Source"];
      json opts = {"rbind"};
      std::string prop = p.value("Propagation", "");
      opts.push_back(prop.empty() ? "rprivate" : prop);
      if (!p.value("RW", true)) opts.push_back("ro");
      m["options"] = opts;
    }
    mounts.push_back(m);
  }

  // --- linux
  json namespaces = json::array();
  for (const char* type : {"pid", "ipc", "uts", "mount", "cgroup", "network"}) {
    if (ns.host.count(type)) continue;
    if (std::string_view(type) == "network" && hc.value("NetworkMode", "") == "host") continue;
    json entry = {{"type", type}};
    if (auto it = ns.paths.find(type); it != ns.paths.end()) entry["path"] = it->second;
    namespaces.push_back(entry);
  }
  json resources = json::object();
  json memory = json::object();
  int64_t mem = hc.value("Memory", int64_t{0}), swap = hc.value("MemorySwap", int64_t{0});
  if (mem > 0) {
    memory["limit"] = mem;
    if (swap == 0) memory["swap"] = mem * 2;  // Docker: as much swap as memory
    else memory["swap"] = swap;              // -1: unlimited
  }
  if (int64_t r = hc.value("MemoryReservation", int64_t{0}); r > 0) memory["reservation"] = r;
  if (!memory.empty()) resources["memory"] = memory;
  json cpu = json::object();
  if (int64_t nano = hc.value("NanoCpus", int64_t{0}); nano > 0) {
    cpu["period"] = 100000;
    cpu["quota"] = nano * 100000 / 1000000000;
  }
  if (int64_t q = hc.value("CpuQuota", int64_t{0}); q > 0) cpu["quota"] = q;
  if (int64_t p = hc.value("CpuPeriod", int64_t{0}); p > 0) cpu["period"] = p;
  if (int64_t s = hc.value("CpuShares", int64_t{0}); s > 0) cpu["shares"] = s;
  if (std::string set = hc.value("CpusetCpus", ""); !set.empty()) cpu["cpus"] = set;
  if (!cpu.empty()) resources["cpu"] = cpu;
  if (hc.contains("PidsLimit") && hc["PidsLimit"].is_number() && hc["PidsLimit"].get<int64_t>() > 0)
    resources["pids"] = {{"limit", hc["PidsLimit"].get<int64_t>()}};
  resources["devices"] = json::array({{{"allow", privileged}, {"access", "rwm"}}});

  json linux_ = {
      {"namespaces", namespaces},
      {"cgroupsPath", "/minidocker-" + c.id},
      {"resources", resources},
  };
  if (!privileged) {
    linux_["maskedPaths"] = kMaskedPaths;
    linux_["readonlyPaths"] = kReadonlyPaths;
  }
  if (hc.contains("Sysctls") && hc["Sysctls"].is_object() && !hc["Sysctls"].empty()) linux_["sysctl"] = hc["Sysctls"];
  if (!seccomp_unconfined) {
    if (!seccomp_file.empty()) {
      auto text = TRY_CTX(read_file(seccomp_file), "--security-opt seccomp");
      json profile = TRY_CTX(seccomp_profile_from_docker_json(text, caps), "seccomp profile " + seccomp_file);
      if (!profile.is_null()) linux_["seccomp"] = profile;  // an empty profile: no filter (Docker's rule)
    } else {
      linux_["seccomp"] = default_seccomp_profile(caps);
    }
  }

  json spec = {
      {"ociVersion", "1.0.2"},
      {"process", process},
      {"root", {{"path", rootfs}, {"readonly", hc.value("ReadonlyRootfs", false)}}},
      {"hostname", container_hostname(c)},
      {"mounts", mounts},
      {"linux", linux_},
  };
  if (std::string d = cfg.value("Domainname", ""); !d.empty()) spec["domainname"] = d;
  // A UTS namespace that is not the container's own (host, or joined): its hostname is not
  // ours to set (the OCI spec forbids hostname without a new UTS namespace).
  if (ns.host.count("uts") || ns.paths.count("uts")) {
    spec.erase("hostname");
    spec.erase("domainname");
  }
  return spec;
}

}  // namespace md::engine
