// Finding the mounted cgroup hierarchies in /proc/self/mountinfo.
#include <fcntl.h>

#include "base/file_util.h"
#include "cgroups/cgroup_internal.h"

namespace md::cgroups {

namespace {

// v1 controllers that may appear in a cgroup mount's superblock options.
constexpr std::string_view kV1Controllers[] = {
    "cpu",   "cpuacct", "cpuset",   "memory",     "devices", "freezer", "net_cls",
    "blkio", "pids",    "net_prio", "perf_event", "hugetlb", "rdma",    "misc"};

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
        s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool is_under(const std::string& path, const std::string& root) {
  if (root == "/") return true;
  return path == root || (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
                          path[root.size()] == '/');
}

}  // namespace

const char* layout_name(Layout l) {
  switch (l) {
    case Layout::kV1:
      return "v1";
    case Layout::kV2:
      return "v2";
    case Layout::kHybrid:
      return "hybrid";
  }
  return "?";
}

Result<std::vector<Hierarchy>> detect_hierarchies(const std::string& mountinfo_path,
                                                  const std::string& root_in) {
  std::string root = root_in;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  std::string text = TRY_CTX(read_file(mountinfo_path), "cgroup: detect hierarchies");

  std::vector<Hierarchy> out;
  std::vector<std::string> devices;  // major:minor of each hierarchy in `out`
  for (std::string_view line : split(text, '\n')) {
    if (line.empty()) continue;
    auto f = split(line, ' ');
    size_t dash = 0;
    for (size_t i = 6; i < f.size(); ++i)
      if (f[i] == "-") {
        dash = i;
        break;
      }
    if (dash == 0 || dash + 3 >= f.size()) continue;
    std::string_view fstype = f[dash + 1];
    if (fstype != "cgroup" && fstype != "cgroup2") continue;
    Hierarchy h;
    h.mount_point = unescape(f[4]);
    if (!is_under(h.mount_point, root)) continue;
    std::string device(f[2]);
    if (internal::contains(devices, device)) continue;  // a bind mount of a known hierarchy
    h.v2 = fstype == "cgroup2";
    h.mount_options = std::string(f[dash + 3]);
    h.name = h.mount_point == root ? "" : h.mount_point.substr(root == "/" ? 1 : root.size() + 1);
    if (h.v2) {
      UniqueFd dir(::open(h.mount_point.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (dir) {
        auto ctrls = internal::read_file_if_exists(dir.get(), "cgroup.controllers");
        if (ctrls && *ctrls) h.controllers = internal::split_words(**ctrls);
      }
    } else {
      for (std::string_view opt : split(h.mount_options, ',')) {
        bool known = opt.starts_with("name=");
        for (std::string_view c : kV1Controllers) known = known || opt == c;
        if (known) h.controllers.emplace_back(opt);
      }
    }
    devices.push_back(std::move(device));
    out.push_back(std::move(h));
  }
  if (out.empty())
    return fail(
        "cgroup: no cgroup filesystem is mounted under " + root + " (read " + mountinfo_path + ")",
        ENOENT);
  return out;
}

Result<const std::vector<Hierarchy>*> host_hierarchies() {
  static const Result<std::vector<Hierarchy>> cached = detect_hierarchies();
  if (!cached) return std::unexpected(cached.error());
  return &*cached;
}

Layout layout_of(const std::vector<Hierarchy>& hierarchies) {
  bool v1 = false, v2 = false;
  for (const auto& h : hierarchies) (h.v2 ? v2 : v1) = true;
  if (v1 && v2) return Layout::kHybrid;
  return v2 ? Layout::kV2 : Layout::kV1;
}

}  // namespace md::cgroups
