// Cgroup: one directory per hierarchy; routes each resource to the hierarchy holding its
// controller, so v1, v2 and hybrid hosts share every code path here.
#include "cgroups/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/explain.h"
#include "base/scope_guard.h"
#include "cgroups/cgroup_internal.h"
#include "cgroups/testing.h"

namespace md::cgroups {

namespace {

// "/minidocker/abc" -> {"minidocker", "abc"}; refuses "..", the root itself and systemd
// "slice:prefix:name" paths.
Result<std::vector<std::string>> split_cgroup_path(const std::string& path) {
  if (path.find(':') != std::string::npos && path[0] != '/' &&
      std::count(path.begin(), path.end(), ':') == 2)
    return fail("cgroup path \"" + path +
                    "\": systemd slice:prefix:name paths are not supported (use a path like "
                    "/minidocker/<id>)",
                EINVAL);
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string part = path.substr(start, end - start);
    if (part == "..") return fail("cgroup path \"" + path + "\": \"..\" is not allowed", EINVAL);
    if (!part.empty() && part != ".") out.push_back(std::move(part));
    start = end + 1;
  }
  if (out.empty())
    return fail("cgroup path \"" + path +
                    "\" names the root cgroup; a container needs its own (e.g. /minidocker/<id>)",
                EINVAL);
  return out;
}

std::string join_components(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += "/" + p;
  return out;
}

void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, nullptr);
}

bool any(const oci::MemoryResources& m) {
  return m.limit || m.reservation || m.swap || m.kernel || m.kernel_tcp || m.swappiness ||
         m.disable_oom_killer.value_or(false);
}
bool any_cpu(const oci::CpuResources& c) {
  return c.shares || c.quota || c.period || c.realtime_runtime || c.realtime_period || c.idle;
}
bool any_cpuset(const oci::CpuResources& c) { return !c.cpus.empty() || !c.mems.empty(); }
bool any(const oci::BlockIoResources& b) {
  return b.weight || b.leaf_weight || !b.weight_device.empty() || !b.throttle_read_bps.empty() ||
         !b.throttle_write_bps.empty() || !b.throttle_read_iops.empty() ||
         !b.throttle_write_iops.empty();
}

// The v2 controllers `r` writes to (to enable in the parents on a hybrid host).
std::vector<std::string> v2_controllers_for(const oci::Resources& r) {
  std::vector<std::string> out;
  if (r.memory && any(*r.memory)) out.push_back("memory");
  if (r.cpu && any_cpu(*r.cpu)) out.push_back("cpu");
  if (r.cpu && any_cpuset(*r.cpu)) out.push_back("cpuset");
  if (r.pids_limit) out.push_back("pids");
  if (r.block_io && any(*r.block_io)) out.push_back("io");
  if (!r.hugepage_limits.empty()) out.push_back("hugetlb");
  for (const auto& [key, value] : r.unified) {
    std::string ctrl = key.substr(0, key.find('.'));
    if (ctrl != "cgroup" && !internal::contains(out, ctrl)) out.push_back(ctrl);
  }
  return out;
}

Result<UniqueFd> open_dir_at(int parent, const std::string& name, const std::string& path) {
  int fd = ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail("cgroup: open " + path + ": " + internal::errno_text(errno), errno);
  return UniqueFd(fd);
}

// (subdirectories, other entries) of `dir`; empty when it cannot be read.
std::pair<std::vector<std::string>, std::vector<std::string>> list_entries(const std::string& dir) {
  std::pair<std::vector<std::string>, std::vector<std::string>> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (struct dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      (e->d_type == DT_DIR ? out.first : out.second).push_back(std::move(name));
    }
    ::closedir(d);
  }
  return out;
}

// rmdir for a cgroup: sub-cgroups first (a container may have made its own). With
// `wait_busy`, EBUSY (tasks still exiting) is retried for about a second.
Status remove_cgroup_dir(const std::string& dir, bool wait_busy) {
  auto [subdirs, files] = list_entries(dir);
  for (const auto& s : subdirs) TRY(remove_cgroup_dir(dir + "/" + s, wait_busy));
  if (internal::fake_fs())  // real cgroupfs drops interface files with the directory
    for (const auto& f : files) ::unlink((dir + "/" + f).c_str());
  for (long waited = 0, delay = 1;; waited += delay, delay = std::min(delay * 2, 100L)) {
    if (::rmdir(dir.c_str()) == 0) {
      if (Explain::enabled()) Explain::step("cgroup rmdir " + dir);
      return {};
    }
    int err = errno;
    if (err == ENOENT) return {};
    if (err != EBUSY || !wait_busy || waited >= 1000) {
      std::string msg = "cgroup: remove " + dir + ": " + internal::errno_text(err);
      if (err == EBUSY) msg += " (processes are still in it)";
      return fail(msg, err);
    }
    sleep_ms(delay);
  }
}

// rmdir of a directory that may be shared (a parent like /minidocker): never recursive,
// and a directory still in use (ENOTEMPTY, EBUSY) is simply kept.
void remove_if_unused(const std::string& dir) {
  if (internal::fake_fs()) {
    auto entries = list_entries(dir);
    if (!entries.first.empty()) return;
    for (const auto& f : entries.second) ::unlink((dir + "/" + f).c_str());
  }
  if (::rmdir(dir.c_str()) == 0 && Explain::enabled()) Explain::step("cgroup rmdir " + dir);
}

Status collect_pids(int dirfd, std::vector<pid_t>& out) {
  std::string procs = TRY(internal::read_file(dirfd, "cgroup.procs"));
  for (const auto& w : internal::split_words(procs)) out.push_back(std::atoi(w.c_str()));
  int self = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (self < 0) return fail("cgroup: open directory: " + internal::errno_text(errno), errno);
  DIR* d = ::fdopendir(self);
  if (!d) {
    ::close(self);
    return fail("cgroup: list directory: " + internal::errno_text(errno), errno);
  }
  Status status;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;
    UniqueFd sub(::openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!sub) continue;  // removed meanwhile
    status = collect_pids(sub.get(), out);
    if (!status) break;
  }
  ::closedir(d);
  return status;
}

std::optional<uint64_t> read_u64(const Node* n, const char* file) {
  if (!n) return std::nullopt;
  auto text = internal::read_file_if_exists(n->fd.get(), file);
  if (!text || !*text || (*text)->empty() || !std::isdigit(static_cast<unsigned char>((**text)[0])))
    return std::nullopt;  // absent, unreadable or "max"
  return std::strtoull((*text)->c_str(), nullptr, 10);
}

Status no_controller(const char* controller, const char* field) {
  return fail(std::string("cgroup: linux.resources.") + field + " is set but no " + controller +
                  " controller is mounted on this host",
              ENOTSUP);
}

}  // namespace

Cgroup::Cgroup() = default;
Cgroup::Cgroup(Cgroup&&) noexcept = default;
Cgroup& Cgroup::operator=(Cgroup&&) noexcept = default;
Cgroup::~Cgroup() = default;

Result<Cgroup> Cgroup::create(const std::string& path, const oci::Resources* resources) {
  const auto* hierarchies = TRY(host_hierarchies());
  return create(path, resources, *hierarchies);
}

Result<Cgroup> Cgroup::open(const std::string& path) {
  const auto* hierarchies = TRY(host_hierarchies());
  return open(path, *hierarchies);
}

Result<Cgroup> Cgroup::create(const std::string& path, const oci::Resources* resources,
                              const std::vector<Hierarchy>& hierarchies) {
  auto parts = TRY(split_cgroup_path(path));
  Cgroup cg;
  cg.path_ = join_components(parts);
  cg.layout_ = layout_of(hierarchies);
  // On failure remove what this call made, deepest first.
  ScopeGuard rollback([&cg] {
    for (auto n = cg.nodes_.rbegin(); n != cg.nodes_.rend(); ++n)
      for (auto d = n->created.rbegin(); d != n->created.rend(); ++d) remove_if_unused(*d);
  });
  std::vector<std::string> needed;
  if (resources) needed = v2_controllers_for(*resources);

  for (const auto& h : hierarchies) {
    Node& n = cg.nodes_.emplace_back();
    n.hierarchy = h;
    // Pure v2: enable every available controller so that `update` and `stats` work later
    // (as runc and crun do). Hybrid: only what these resources need.
    const std::vector<std::string>& wanted =
        !h.v2 ? needed : (cg.layout_ == Layout::kV2 ? h.controllers : needed);
    std::string dir = h.mount_point;
    UniqueFd fd = TRY(open_dir_at(AT_FDCWD, dir, dir));
    std::vector<std::string> available = h.controllers;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (h.v2 && !wanted.empty()) TRY(v2::enable_controllers(fd.get(), dir, wanted, available));
      std::string child = dir + "/" + parts[i];
      bool made = ::mkdirat(fd.get(), parts[i].c_str(), 0755) == 0;
      if (!made && errno != EEXIST)
        return fail("cgroup: mkdir " + child + ": " + internal::errno_text(errno), errno);
      if (made) {
        n.created.push_back(child);
        if (Explain::enabled()) Explain::step("cgroup mkdir " + child);
        if (auto* fake = internal::fake_fs(); fake && fake->populate) fake->populate(h, child);
      }
      UniqueFd child_fd = TRY(open_dir_at(fd.get(), parts[i], child));
      if (!h.v2 && n.has("cpuset"))  // existing levels too: another tool may have left them empty
        TRY(v1::copy_cpuset_from_parent(fd.get(), child_fd.get(), child));
      if (h.v2 && !wanted.empty() && i + 1 < parts.size())
        available =
            internal::split_words(TRY(internal::read_file(child_fd.get(), "cgroup.controllers")));
      fd = std::move(child_fd);
      dir = std::move(child);
    }
    n.dir = std::move(dir);
    n.fd = std::move(fd);
  }
  if (resources) TRY(cg.apply_resources(*resources, /*creating=*/true));
  rollback.cancel();
  return cg;
}

Result<Cgroup> Cgroup::open(const std::string& path, const std::vector<Hierarchy>& hierarchies) {
  auto parts = TRY(split_cgroup_path(path));
  Cgroup cg;
  cg.path_ = join_components(parts);
  cg.layout_ = layout_of(hierarchies);
  for (const auto& h : hierarchies) {
    std::string dir = h.mount_point + cg.path_;
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) continue;  // half-deleted: keep what is left usable
      return fail("cgroup: open " + dir + ": " + internal::errno_text(errno), errno);
    }
    Node& n = cg.nodes_.emplace_back();
    n.hierarchy = h;
    n.dir = std::move(dir);
    n.fd = UniqueFd(fd);
  }
  if (cg.nodes_.empty()) return fail("cgroup " + cg.path_ + ": not found in any hierarchy", ENOENT);
  return cg;
}

Cgroup::Node* Cgroup::node_for(const char* controller) {
  return const_cast<Node*>(std::as_const(*this).node_for(controller));
}

// v1 hierarchies first: on a hybrid host a controller bound to v1 is absent from cgroup2.
const Cgroup::Node* Cgroup::node_for(const char* controller) const {
  std::string_view c = controller;
  std::string_view v2_name = c == "blkio" ? "io" : c;
  for (const auto& n : nodes_)
    if (!n.v2() && n.has(c)) return &n;
  for (const auto& n : nodes_)
    // devices (eBPF) and the freezer are built into every v2 cgroup.
    if (n.v2() && (n.has(v2_name) || c == "devices" || c == "freezer")) return &n;
  return nullptr;
}

Cgroup::Node* Cgroup::v2_node() {
  for (auto& n : nodes_)
    if (n.v2()) return &n;
  return nullptr;
}

const Cgroup::Node* Cgroup::primary() const {
  if (const Node* n = node_for("freezer")) return n;
  return nodes_.empty() ? nullptr : &nodes_[0];
}

Status Cgroup::apply(const oci::Resources& r) { return apply_resources(r, false); }

Status Cgroup::apply_resources(const oci::Resources& r, bool creating) {
  if (!creating) {
    // `update` may use a v2 controller create() did not enable (hybrid): enable it now.
    if (Node* v2n = v2_node(); v2n && layout_ == Layout::kHybrid) {
      auto needed = v2_controllers_for(r);
      std::vector<std::string> have = internal::split_words(TRY(v2n->read("cgroup.controllers")));
      bool missing = false;
      for (const auto& c : needed)
        missing = missing || (v2n->has(c) && !internal::contains(have, c));
      if (missing) {
        std::string dir = v2n->hierarchy.mount_point;
        UniqueFd fd = TRY(open_dir_at(AT_FDCWD, dir, dir));
        std::vector<std::string> available = v2n->hierarchy.controllers;
        auto parts = TRY(split_cgroup_path(path_));
        for (size_t i = 0; i < parts.size(); ++i) {
          TRY(v2::enable_controllers(fd.get(), dir, needed, available));
          if (i + 1 == parts.size()) break;
          dir += "/" + parts[i];
          fd = TRY(open_dir_at(fd.get(), parts[i], dir));
          available =
              internal::split_words(TRY(internal::read_file(fd.get(), "cgroup.controllers")));
        }
      }
    }
  }
  if (r.cpu && any_cpuset(*r.cpu)) {  // first: tasks need cpus/mems before anything else
    Node* n = node_for("cpuset");
    if (!n) return no_controller("cpuset", "cpu.cpus/mems");
    TRY(n->v2() ? v2::apply_cpuset(*n, *r.cpu) : v1::apply_cpuset(*n, *r.cpu));
  }
  if (!r.devices.empty()) {
    Node* n = node_for("devices");
    if (!n) return no_controller("devices", "devices");
    TRY(n->v2() ? v2::apply_devices(*n, r.devices) : v1::apply_devices(*n, r.devices));
  }
  if (r.memory && any(*r.memory)) {
    Node* n = node_for("memory");
    if (!n) return no_controller("memory", "memory");
    TRY(n->v2() ? v2::apply_memory(*n, *r.memory) : v1::apply_memory(*n, *r.memory));
  }
  if (r.cpu && any_cpu(*r.cpu)) {
    Node* n = node_for("cpu");
    if (!n) return no_controller("cpu", "cpu");
    TRY(n->v2() ? v2::apply_cpu(*n, *r.cpu) : v1::apply_cpu(*n, *r.cpu));
  }
  if (r.pids_limit) {
    Node* n = node_for("pids");
    if (!n) return no_controller("pids", "pids");
    TRY(n->v2() ? v2::apply_pids(*n, *r.pids_limit) : v1::apply_pids(*n, *r.pids_limit));
  }
  if (r.block_io && any(*r.block_io)) {
    Node* n = node_for("blkio");
    if (!n) return no_controller("blkio/io", "blockIO");
    TRY(n->v2() ? v2::apply_io(*n, *r.block_io) : v1::apply_blkio(*n, *r.block_io));
  }
  if (!r.hugepage_limits.empty()) {
    Node* n = node_for("hugetlb");
    if (!n) return no_controller("hugetlb", "hugepageLimits");
    TRY(n->v2() ? v2::apply_hugetlb(*n, r.hugepage_limits)
                : v1::apply_hugetlb(*n, r.hugepage_limits));
  }
  if (!r.unified.empty()) {
    Node* n = v2_node();
    if (!n)
      return fail("cgroup: linux.resources.unified needs cgroup v2, and this host has only v1",
                  ENOTSUP);
    TRY(v2::apply_unified(*n, r.unified));
  }
  return {};
}

Status Cgroup::add_process(pid_t pid) {
  std::string value = std::to_string(pid);
  for (const auto& n : nodes_) TRY(n.write("cgroup.procs", value));
  return {};
}

Status Cgroup::freeze() {
  Node* n = node_for("freezer");
  if (!n) return fail("cgroup: cannot freeze: no freezer hierarchy and no cgroup v2", ENOTSUP);
  return n->v2() ? v2::set_frozen(*n, true) : v1::set_frozen(*n, true);
}

Status Cgroup::thaw() {
  Node* n = node_for("freezer");
  if (!n) return fail("cgroup: cannot thaw: no freezer hierarchy and no cgroup v2", ENOTSUP);
  return n->v2() ? v2::set_frozen(*n, false) : v1::set_frozen(*n, false);
}

Result<bool> Cgroup::is_frozen() const {
  const Node* n = node_for("freezer");
  if (!n) return false;
  return n->v2() ? v2::is_frozen(*n) : v1::is_frozen(*n);
}

Result<std::vector<pid_t>> Cgroup::pids() const {
  const Node* n = primary();
  if (!n) return std::vector<pid_t>{};
  std::vector<pid_t> out;
  TRY(collect_pids(n->fd.get(), out));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Status Cgroup::kill_all(int signal) {
  if (signal == SIGKILL) {
    // cgroup.kill (Linux 5.14) kills the whole subtree atomically, forks included.
    if (Node* n = v2_node(); n && n->exists("cgroup.kill"))
      return internal::to_status(n->write("cgroup.kill", "1"));
  }
  // Freeze so nothing forks between listing and signalling. A v1-frozen task does not act
  // on SIGKILL until thawed, so thaw when we froze it or when the signal is SIGKILL.
  bool have_freezer = node_for("freezer") != nullptr;
  bool was_frozen = have_freezer ? TRY(is_frozen()) : false;
  bool froze = false;
  if (have_freezer && !was_frozen) {
    TRY(freeze());
    froze = true;
  }
  ScopeGuard thaw_after([&] {
    if (froze || (was_frozen && signal == SIGKILL)) (void)thaw();
  });
  for (pid_t pid : TRY(pids())) {
    if (::kill(pid, signal) != 0 && errno != ESRCH)
      return fail("cgroup: kill pid " + std::to_string(pid) + " with signal " +
                      std::to_string(signal) + ": " + internal::errno_text(errno),
                  errno);
  }
  return {};
}

Status Cgroup::destroy() {
  Status first_error;
  for (auto& n : nodes_) {
    // The leaf always goes (also for open()); parents only if create() made them and
    // nobody else uses them.
    Status s = remove_cgroup_dir(n.dir, true);
    if (!s && first_error) first_error = s;
    for (auto d = n.created.rbegin(); s && d != n.created.rend(); ++d)
      if (*d != n.dir) remove_if_unused(*d);
  }
  return first_error;
}

std::vector<std::pair<std::string, std::string>> Cgroup::mount_sources() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& n : nodes_) out.emplace_back(n.hierarchy.name, n.dir);
  return out;
}

Result<Stats> Cgroup::stats() const {
  Stats s;
  if (const Node* n = node_for("memory")) {
    s.memory_usage = read_u64(n, n->v2() ? "memory.current" : "memory.usage_in_bytes");
    s.memory_limit = read_u64(n, n->v2() ? "memory.max" : "memory.limit_in_bytes");
    if (s.memory_limit >= (uint64_t{1} << 62)) s.memory_limit.reset();  // v1 "unlimited"
  }
  if (const Node* n = node_for("cpuacct"); n && !n->v2()) {
    s.cpu_usage_ns = read_u64(n, "cpuacct.usage");
  } else if (auto v2n =
                 std::find_if(nodes_.begin(), nodes_.end(), [](const Node& x) { return x.v2(); });
             v2n != nodes_.end()) {
    auto text = internal::read_file_if_exists(v2n->fd.get(), "cpu.stat");
    if (text && *text) {
      auto words = internal::split_words(**text);
      for (size_t i = 0; i + 1 < words.size(); ++i)
        if (words[i] == "usage_usec")
          s.cpu_usage_ns = std::strtoull(words[i + 1].c_str(), nullptr, 10) * 1000;
    }
  }
  if (const Node* n = node_for("pids")) {
    s.pids_current = read_u64(n, "pids.current");
    s.pids_limit = read_u64(n, "pids.max");
  }
  return s;
}

int Cgroup::v2_fd() const {
  return layout_ == Layout::kV2 && !nodes_.empty() ? nodes_[0].fd.get() : -1;
}

}  // namespace md::cgroups
