// volume: `docker volume create|ls|inspect|rm|prune` over engine/core/volumes.h.
#include <cstdio>
#include <map>

#include "cli/common/table.h"
#include "cli/common/units.h"
#include "cli/docker/cli.h"
#include "engine/core/system.h"
#include "engine/core/volumes.h"

namespace md::cli {

using nlohmann::json;

// inspect_cmd.cc
int print_inspect(const std::vector<json>& items, const std::string& format);
// system_cmd.cc
bool confirm_prompt(const std::string& warning);
Result<engine::PruneFilter> parse_prune_filters(const std::vector<std::string>& filters,
                                                const std::vector<std::string>& accepted, bool* all);

namespace {

std::map<std::string, std::string> labels_of(const json& v) {
  std::map<std::string, std::string> out;
  auto l = v.value("Labels", json::object());
  if (l.is_object())
    for (auto& [k, val] : l.items())
      if (val.is_string()) out[k] = val.get<std::string>();
  return out;
}

// Docker's volumeContext fields, as strings.
json volume_row(const json& v) {
  std::string labels;
  for (auto& [k, val] : labels_of(v)) labels += (labels.empty() ? "" : ",") + k + "=" + val;
  return {{"Name", v.value("Name", "")}, {"Driver", v.value("Driver", "local")}, {"Scope", v.value("Scope", "local")},
          {"Mountpoint", v.value("Mountpoint", "")}, {"Labels", labels}, {"Links", "N/A"}, {"Size", "N/A"},
          {"Group", "N/A"}, {"Availability", "N/A"}, {"Status", "N/A"}};
}

int volume_create(Invocation& inv, const std::vector<std::string>& args) {
  FlagSet f("minidocker volume create [OPTIONS] [VOLUME]\n\nCreate a volume",
            {{"driver", 'd', FlagKind::kValue, "Specify volume driver name", "string", "\"local\""},
             {"label", 0, FlagKind::kList, "Set metadata for a volume", "list"},
             {"opt", 'o', FlagKind::kList, "Set driver specific options", "map"},
             {"name", 0, FlagKind::kValue, "Specify volume name", "string", "", true}});
  int rc = 0;
  if (!parse_or_exit(f, "volume create", args, &rc) || !require_args(f, "volume create", 0, 1, &rc)) return rc;
  engine::VolumeCreate vc;
  vc.name = f.value("name");
  if (!f.args().empty()) {
    if (!vc.name.empty()) {
      std::fprintf(stderr, "conflicting options: cannot specify a volume-name through both --name and as a positional arg\n");
      return 1;
    }
    vc.name = f.args()[0];
  }
  for (auto& l : f.list("label")) {
    auto eq = l.find('=');
    vc.labels[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
  }
  std::string driver = f.value("driver", "local");
  if (driver != "local")
    return daemon_error("create " + vc.name + ": error looking up volume plugin " + driver + ": plugin \"" + driver +
                        "\" not found");
  // The local driver's options (type, device, o: mount something at first use) are not
  // implemented: refuse them rather than create a plain directory the user did not ask for.
  if (!f.list("opt").empty()) {
    std::string key = f.list("opt")[0].substr(0, f.list("opt")[0].find('='));
    return daemon_error("create " + vc.name + ": volume options are not supported by this engine yet (got \"" + key +
                        "\"); the local driver creates plain directories");
  }
  auto e = inv.engine();
  if (!e) return report(e.error());
  auto v = engine::create_volume(**e, vc);
  if (!v) return daemon_error(v.error().message);
  std::printf("%s\n", v->value("Name", "").c_str());
  return 0;
}

int volume_ls(Invocation& inv, const std::vector<std::string>& args) {
  FlagSet f("minidocker volume ls [OPTIONS]\n\nList volumes",
            {{"quiet", 'q', FlagKind::kBool, "Only display volume names"},
             {"format", 0, FlagKind::kValue, "Format output using a custom template ('table', 'table TEMPLATE', 'json', 'TEMPLATE')"},
             {"filter", 'f', FlagKind::kList, "Provide filter values (e.g. \"dangling=true\")", "filter"}});
  int rc = 0;
  if (!parse_or_exit(f, "volume ls", args, &rc) || !require_args(f, "volume ls", 0, 0, &rc)) return rc;
  std::map<std::string, std::vector<std::string>> filters;
  for (auto& fl : f.list("filter")) {
    auto eq = fl.find('=');
    if (eq == std::string::npos)
      return usage_error("volume ls", "invalid argument \"" + fl + "\" for \"-f, --filter\" flag: bad format of filter (expected name=value)");
    std::string key = fl.substr(0, eq), val = fl.substr(eq + 1);
    if (key != "dangling" && key != "name" && key != "label" && key != "driver")
      return daemon_error("invalid filter '" + key + "'");
    if (key == "dangling" && val != "true" && val != "false" && val != "1" && val != "0")
      return daemon_error("invalid filter 'dangling=" + val + "'");
    filters[key].push_back(val);
  }
  auto e = inv.engine();
  if (!e) return report(e.error());
  auto list = engine::list_volumes(**e);
  if (!list) return daemon_error(list.error().message);
  std::sort(list->begin(), list->end(),
            [](const json& a, const json& b) { return natural_less(a.value("Name", ""), b.value("Name", "")); });
  std::vector<json> rows;
  for (auto& v : *list) {
    std::string name = v.value("Name", "");
    bool keep = true;
    for (auto& [key, values] : filters) {
      bool any = false;
      for (auto& val : values) {
        if (key == "name") any |= name.find(val) != std::string::npos;
        else if (key == "driver") any |= v.value("Driver", "local") == val;
        else if (key == "label") {
          auto labels = labels_of(v);
          auto eq = val.find('=');
          auto it = labels.find(val.substr(0, eq));
          any |= it != labels.end() && (eq == std::string::npos || it->second == val.substr(eq + 1));
        } else if (key == "dangling") {
          auto users = engine::volume_users(**e, name);
          bool dangling = users && users->empty();
          any |= dangling == (val == "true" || val == "1");
        }
      }
      keep &= any;
    }
    if (keep) rows.push_back(volume_row(v));
  }
  std::string format = f.value("format");
  if (format.empty() || format == "table") format = f.boolean("quiet") ? "{{.Name}}" : "table {{.Driver}}\t{{.Name}}";
  else if (format == "json") format = "{{json .}}";
  auto out = format_table(format, rows, volume_headers());
  if (!out) return std::fprintf(stderr, "template parsing error: %s\n", out.error().message.c_str()), 1;
  std::fputs(out->c_str(), stdout);
  return 0;
}

int volume_inspect(Invocation& inv, const std::vector<std::string>& args) {
  FlagSet f("minidocker volume inspect [OPTIONS] VOLUME [VOLUME...]\n\nDisplay detailed information on one or more volumes",
            {{"format", 'f', FlagKind::kValue, "Format output using a custom template"}});
  int rc = 0;
  if (!parse_or_exit(f, "volume inspect", args, &rc) || !require_args(f, "volume inspect", 1, SIZE_MAX, &rc)) return rc;
  auto e = inv.engine();
  if (!e) return report(e.error());
  std::vector<json> items;
  std::vector<std::string> errors;
  for (auto& name : f.args()) {
    auto v = engine::inspect_volume(**e, name);
    if (!v) {
      errors.push_back(v.error().errno_value == ENOENT ? "get " + name + ": no such volume" : v.error().message);
      continue;
    }
    items.push_back(*v);
  }
  int prc = print_inspect(items, f.value("format"));
  for (auto& m : errors) std::fprintf(stderr, "Error response from daemon: %s\n", m.c_str());
  return errors.empty() ? prc : 1;
}

int volume_rm(Invocation& inv, const std::vector<std::string>& args) {
  FlagSet f("minidocker volume rm [OPTIONS] VOLUME [VOLUME...]\n\nRemove one or more volumes. You cannot remove a volume that is in use by a container.",
            {{"force", 'f', FlagKind::kBool, "Force the removal of one or more volumes"}});
  int rc = 0;
  if (!parse_or_exit(f, "volume rm", args, &rc) || !require_args(f, "volume rm", 1, SIZE_MAX, &rc)) return rc;
  auto e = inv.engine();
  if (!e) return report(e.error());
  std::vector<std::string> errors;
  for (auto& name : f.args()) {
    // Docker's --force only ignores a missing volume: an in-use one is still refused.
    auto st = engine::remove_volume(**e, name, false);
    if (!st) {
      if (st.error().errno_value == ENOENT) {
        if (f.boolean("force")) continue;
        errors.push_back("get " + name + ": no such volume");
      } else {
        errors.push_back(st.error().message);
      }
      continue;
    }
    std::printf("%s\n", name.c_str());
  }
  for (auto& m : errors) std::fprintf(stderr, "Error response from daemon: %s\n", m.c_str());
  return errors.empty() ? 0 : 1;
}

int volume_prune(Invocation& inv, const std::vector<std::string>& args) {
  FlagSet f("minidocker volume prune [OPTIONS]\n\nRemove unused local volumes",
            {{"all", 'a', FlagKind::kBool, "Remove all unused volumes, not just anonymous ones"},
             {"force", 'f', FlagKind::kBool, "Do not prompt for confirmation"},
             {"filter", 0, FlagKind::kList, "Provide filter values (e.g. \"label=<label>\")", "filter"}});
  int rc = 0;
  if (!parse_or_exit(f, "volume prune", args, &rc) || !require_args(f, "volume prune", 0, 0, &rc)) return rc;
  bool all_filter = false;
  auto pf = parse_prune_filters(f.list("filter"), {"label", "label!", "all"}, &all_filter);
  if (!pf) return daemon_error(pf.error().message);
  bool all = f.boolean("all");
  if (all && all_filter) {
    std::fprintf(stderr, "conflicting options: cannot specify both --all and --filter all=1\n");
    return 1;
  }
  all |= all_filter;
  if (!f.boolean("force") &&
      !confirm_prompt(all ? "WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue?"
                          : "WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue?"))
    return 0;
  auto e = inv.engine();
  if (!e) return report(e.error());
  auto r = engine::prune_unused_volumes(**e, all, *pf);
  if (!r) return daemon_error(r.error().message);
  if (!r->deleted.empty()) {
    std::printf("Deleted Volumes:\n");
    for (auto& n : r->deleted) std::printf("%s\n", n.c_str());
    std::printf("\n");
  }
  std::printf("Total reclaimed space: %s\n", human_size(double(r->reclaimed)).c_str());
  return 0;
}

}  // namespace

int cmd_volume(Invocation& inv) {
  static const char* kUsage =
      "\nUsage:  minidocker volume COMMAND\n\nManage volumes\n\nCommands:\n"
      "  create      Create a volume\n"
      "  inspect     Display detailed information on one or more volumes\n"
      "  ls          List volumes\n"
      "  prune       Remove unused local volumes\n"
      "  rm          Remove one or more volumes\n\n"
      "Run 'minidocker volume COMMAND --help' for more information on a command.\n";
  if (inv.args.empty() || inv.args[0] == "--help" || inv.args[0] == "-h") {
    std::printf("%s", kUsage);
    return 0;
  }
  std::string sub = inv.args[0];
  std::vector<std::string> rest(inv.args.begin() + 1, inv.args.end());
  if (sub == "create") return volume_create(inv, rest);
  if (sub == "ls" || sub == "list") return volume_ls(inv, rest);
  if (sub == "inspect") return volume_inspect(inv, rest);
  if (sub == "rm" || sub == "remove") return volume_rm(inv, rest);
  if (sub == "prune") return volume_prune(inv, rest);
  std::fprintf(stderr, "minidocker: 'volume %s' is not a minidocker command.\nSee 'minidocker volume --help'\n", sub.c_str());
  return 1;
}

}  // namespace md::cli
