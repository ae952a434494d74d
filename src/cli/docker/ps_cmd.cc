// ps: `docker ps` rows, default table or --format (Go template subset), -q, -a, --filter.
#include <sys/stat.h>

#include <cstdio>
#include <ctime>
#include <set>

#include "base/file_util.h"

#include "cli/common/go_template.h"
#include "cli/common/table.h"
#include "cli/common/units.h"
#include "cli/docker/cli.h"
#include "engine/core/containers.h"
#include "engine/store/ids.h"

namespace md::cli {

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
  std::string cmd;
  for (auto k : {"Entrypoint", "Cmd"})
    if (c.config.contains(k) && c.config[k].is_array())
      for (auto& a : c.config[k]) cmd += (cmd.empty() ? "" : " ") + a.get<std::string>();
  if (!no_trunc && cmd.size() > 20) cmd = cmd.substr(0, 19) + "…";
  return "\"" + cmd + "\"";
}

bool match_filters(const store::Container& c, const std::map<std::string, std::vector<std::string>>& filters,
                   engine::Engine& e) {
  for (auto& [key, values] : filters) {
    bool any = false;
    for (auto& v : values) {
      if (key == "status") any |= store::state_name(c.state) == v;
      else if (key == "name") any |= c.name.find(v) != std::string::npos;
      else if (key == "id") any |= c.id.rfind(v, 0) == 0;
      else if (key == "exited") any |= c.state == ContainerState::kExited && std::to_string(c.exit_code) == v;
      else if (key == "label") {
        auto eq = v.find('=');
        auto it = c.labels.find(v.substr(0, eq));
        any |= it != c.labels.end() && (eq == std::string::npos || it->second == v.substr(eq + 1));
      } else if (key == "ancestor") {
        auto img = e.images().get(v);
        any |= c.config.value("Image", "") == v || (img && img->id == c.image);
      } else if (key == "health") {
        std::string h = c.health.is_object() ? c.health.value("Status", "") : "none";
        any |= h == v;
      } else if (key == "volume") {
        for (auto& m : c.host_config.value("MountPoints", json::array()))
          any |= m.value("Name", "") == v || m.value("Destination", "") == v;
      } else if (key == "before" || key == "since") {
        auto other = e.containers().get(v);
        if (other) any |= key == "before" ? c.created < other->created : c.created > other->created;
      } else if (key == "network") {
        any |= c.host_config.value("NetworkMode", "") == v;
      } else {
        any = true;
      }
    }
    if (!any) return false;
  }
  return true;
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
  std::map<std::string, std::vector<std::string>> filters;
  for (auto& fl : f.list("filter")) {
    auto eq = fl.find('=');
    if (eq == std::string::npos) return usage_error("ps", "invalid argument \"" + fl + "\" for \"-f, --filter\" flag: bad format of filter (expected name=value)");
    std::string key = fl.substr(0, eq);
    static const std::set<std::string> kKeys = {"status", "name", "id", "exited", "label", "ancestor", "health",
                                                "volume", "before", "since", "network", "is-task", "publish", "expose"};
    if (!kKeys.count(key)) return std::fprintf(stderr, "Error response from daemon: invalid filter '%s'\n", key.c_str()), 1;
    filters[key].push_back(fl.substr(eq + 1));
  }
  int64_t last = -1;
  if (f.given("last")) last = std::atoll(f.value("last").c_str());
  if (f.boolean("latest")) last = 1;
  bool all = f.boolean("all") || last > 0 || filters.count("status") || filters.count("exited");
  bool no_trunc = f.boolean("no-trunc");
  bool quiet = f.boolean("quiet");
  std::string format = f.value("format");
  if (format.empty() && !quiet) {
    format = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";
    if (f.boolean("size")) format += "\t{{.Size}}";
  }
  auto e = inv.engine();
  if (!e) return report(e.error());
  (void)engine::reconcile_all(**e);
  store::ContainerFilter cf;
  cf.all = all;
  auto list = (*e)->containers().list(cf);
  if (!list) return report(list.error());
  int64_t now = store::now_unix_nanos();
  std::vector<json> rows;
  int64_t shown = 0;
  for (auto& c : *list) {
    if (!match_filters(c, filters, **e)) continue;
    if (last > 0 && shown >= last) break;
    ++shown;
    if (quiet && format.empty()) {
      std::printf("%s\n", no_trunc ? c.id.c_str() : store::short_id(c.id).c_str());
      continue;
    }
    std::string labels;
    for (auto& [k, v] : c.labels) labels += (labels.empty() ? "" : ",") + k + "=" + v;
    std::string mounts;
    for (auto& m : c.host_config.value("MountPoints", json::array()))
      mounts += (mounts.empty() ? "" : ",") + (m.value("Type", "") == "volume" ? m.value("Name", "").substr(0, no_trunc ? 64 : 15) : m.value("Source", ""));
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
        {"Ports", ""},
        {"State", store::state_name(c.state)},
        {"Status", engine::status_text(c, now)},
        {"Size", size},
        {"Names", c.name},
        {"Labels", labels},
        {"Mounts", mounts},
        {"Networks", c.host_config.value("NetworkMode", "none")},
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
