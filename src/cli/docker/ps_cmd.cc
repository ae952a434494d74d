// ps: `docker ps` rows, default table or --format (Go template subset), -q, -a, --filter.
#include <sys/stat.h>

#include <cstdio>
#include <ctime>
#include <algorithm>
#include <map>
#include <set>

#include "base/file_util.h"

#include "cli/common/go_template.h"
#include "cli/common/table.h"
#include "cli/common/units.h"
#include "cli/docker/cli.h"
#include "engine/core/container_filter.h"
#include "engine/core/containers.h"
#include "engine/core/network_setup.h"
#include "engine/store/ids.h"

namespace md::cli {

// port_cmd.cc
std::string join_host_port(const std::string& host, const std::string& port);

namespace {

using nlohmann::json;
using store::ContainerState;

int64_t tree_size(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return 0;
  if (!S_ISDIR(st.st_mode)) return S_ISREG(st.st_mode) ? st.st_size : 0;
  int64_t total = 0;
  if (auto names = list_directory(path))
    for (auto& n : *names) total += tree_size(path + "/" + n);
  return total;
}

// Docker's CreatedAt: "2026-11-23 19:14:15 +0000 UTC" (Go's time.String of local time).
std::string created_at_text(int64_t ns) {
  time_t t = time_t(ns / 1000000000);
  struct tm tm {};
  localtime_r(&t, &tm);
  char b[64];
  strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S %z %Z", &tm);
  return b;
}

std::string command_text(const store::Container& c, bool no_trunc) {
  std::string cmd = engine::summary_command(c);  // the daemon's summary Command
  if (!no_trunc && cmd.size() > 20) cmd = cmd.substr(0, 19) + "…";
  return "\"" + cmd + "\"";
}

using engine::PortEntry;

// Docker's formatter.DisplayablePorts: "0.0.0.0:8080->80/tcp, 443/tcp", consecutive ports
// of the same address and protocol grouped ("0.0.0.0:8000-8001->8000-8001/tcp").
std::string displayable_ports(std::vector<PortEntry> ports) {
  std::sort(ports.begin(), ports.end(), [](const PortEntry& i, const PortEntry& j) {
    if (i.private_port != j.private_port) return i.private_port < j.private_port;
    if (i.ip != j.ip) return i.ip < j.ip;
    if (i.public_port != j.public_port) return i.public_port < j.public_port;
    return i.type < j.type;
  });
  struct Group {
    int first, last;
  };
  std::map<std::string, Group> groups;
  std::vector<std::string> keys, result, host_mappings;
  auto form = [](const std::string& key, int first, int last) {
    auto slash = key.rfind('/');
    std::string ip = slash == std::string::npos ? "" : key.substr(0, slash);
    std::string type = slash == std::string::npos ? key : key.substr(slash + 1);
    std::string g = std::to_string(first);
    if (first != last) g += "-" + std::to_string(last);
    if (!ip.empty()) g = join_host_port(ip, g) + "->" + g;
    return g + "/" + type;
  };
  for (auto& p : ports) {
    std::string key = p.type;
    if (!p.ip.empty()) {
      if (p.public_port != p.private_port) {
        host_mappings.push_back(join_host_port(p.ip, std::to_string(p.public_port)) + "->" +
                                std::to_string(p.private_port) + "/" + p.type);
        continue;
      }
      key = p.ip + "/" + p.type;
    }
    auto it = groups.find(key);
    if (it == groups.end()) {
      groups[key] = {p.private_port, p.private_port};
      keys.push_back(key);
      continue;
    }
    if (p.private_port == it->second.last + 1) {
      it->second.last = p.private_port;
      continue;
    }
    result.push_back(form(key, it->second.first, it->second.last));
    it->second = {p.private_port, p.private_port};
  }
  for (auto& k : keys) result.push_back(form(k, groups[k].first, groups[k].last));
  for (auto& h : host_mappings) result.push_back(h);
  std::string s;
  for (auto& r : result) s += (s.empty() ? "" : ", ") + r;
  return s;
}

}  // namespace

int cmd_ps(Invocation& inv) {
  FlagSet f("minidocker ps [OPTIONS]",
            {{"all", 'a', FlagKind::kBool, "Show all containers (default shows just running)"},
             {"quiet", 'q', FlagKind::kBool, "Only display container IDs"},
             {"size", 's', FlagKind::kBool, "Display total file sizes"},
             {"no-trunc", 0, FlagKind::kBool, "Don't truncate output"},
             {"filter", 'f', FlagKind::kList, "Filter output based on conditions provided", "filter"},
             {"format", 0, FlagKind::kValue, "Format output using a custom template"},
             {"last", 'n', FlagKind::kValue, "Show n last created containers (includes all states)", "int", "-1"},
             {"latest", 'l', FlagKind::kBool, "Show the latest created container (includes all states)"}});
  int rc = 0;
  if (!parse_or_exit(f, "ps", inv.args, &rc) || !require_args(f, "ps", 0, 0, &rc)) return rc;
  engine::FilterMap filters;
  for (auto& fl : f.list("filter")) {
    auto eq = fl.find('=');
    if (eq == std::string::npos) return usage_error("ps", "invalid argument \"" + fl + "\" for \"-f, --filter\" flag: bad format of filter (expected name=value)");
    filters[fl.substr(0, eq)].push_back(fl.substr(eq + 1));
  }
  int64_t last = -1;
  if (f.given("last")) last = std::atoll(f.value("last").c_str());
  if (f.boolean("latest")) last = 1;
  bool no_trunc = f.boolean("no-trunc");
  bool quiet = f.boolean("quiet");
  std::string format = f.value("format");
  if (format.empty() && !quiet) {
    format = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";
    if (f.boolean("size")) format += "\t{{.Size}}";
  }
  auto e = inv.engine();
  if (!e) return report(e.error());
  // The daemon's filters and listing (engine/core/container_filter.h), as the API's.
  engine::ContainerListOptions lo;
  lo.all = f.boolean("all");
  lo.limit = last;
  auto parsed = engine::parse_container_filters(**e, filters);
  if (!parsed) return std::fprintf(stderr, "Error response from daemon: %s\n", parsed.error().message.c_str()), 1;
  lo.filters = std::move(*parsed);
  auto list = engine::list_containers(**e, lo);
  if (!list) return report(list.error());
  int64_t now = store::now_unix_nanos();
  std::vector<json> rows;
  for (auto& c : *list) {
    if (quiet && format.empty()) {
      std::printf("%s\n", no_trunc ? c.id.c_str() : store::short_id(c.id).c_str());
      continue;
    }
    std::string labels;
    for (auto& [k, v] : c.labels) labels += (labels.empty() ? "" : ",") + k + "=" + v;
    std::string mounts;
    for (auto& m : c.host_config.value("MountPoints", json::array()))
      mounts += (mounts.empty() ? "" : ",") + (m.value("Type", "") == "volume" ? m.value("Name", "").substr(0, no_trunc ? 64 : 15) : m.value("Source", ""));
    std::string networks;
    for (auto& [name, id] : engine::container_network_names(**e, c)) networks += (networks.empty() ? "" : ",") + name;
    std::string size;
    if (f.boolean("size") || format.find(".Size") != std::string::npos) {
      int64_t rw = tree_size((*e)->paths().upper(c.id));
      int64_t virt = rw;
      if (auto img = (*e)->images().get(c.image)) virt += img->size;
      size = human_size(rw) + " (virtual " + human_size(virt) + ")";
    }
    json row = {
        {"ID", no_trunc ? c.id : store::short_id(c.id)},
        {"Image", c.config.value("Image", c.image)},
        {"Command", command_text(c, no_trunc)},
        {"CreatedAt", created_at_text(c.created)},
        {"RunningFor", human_duration(now - c.created) + " ago"},
        {"Ports", displayable_ports(engine::container_port_entries(**e, c))},
        {"State", store::state_name(c.state)},
        {"Status", engine::status_text(c, now)},
        {"Size", size},
        {"Names", c.name},
        {"Labels", labels},
        {"Mounts", mounts},
        {"Networks", networks},
        {"LocalVolumes", std::to_string(c.host_config.value("MountPoints", json::array()).size())},
    };
    rows.push_back(row);
  }
  if (quiet && f.value("format").empty()) return 0;
  if (quiet) format = "{{.ID}}";
  auto out = format_table(format, rows, ps_headers());
  if (!out) return std::fprintf(stderr, "template parsing error: %s\n", out.error().message.c_str()), 1;
  std::fputs(out->c_str(), stdout);
  return 0;
}

}  // namespace md::cli
