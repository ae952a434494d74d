// system df | info | prune | events, top-level `info`, and `container prune`.
#include <cstdio>
#include <cstring>
#include <map>

#include "cli/common/go_template.h"
#include "cli/common/table.h"
#include "cli/common/units.h"
#include "cli/docker/cli.h"
#include "engine/core/containers.h"
#include "engine/core/networks.h"
#include "engine/core/system.h"
#include "engine/store/ids.h"

namespace md::cli {

using nlohmann::json;

// Docker's prompt.Confirm: the question, " [y/N] ", one line from stdin; only "y"/"Y"
// confirms. Nothing else is printed when the answer is no (Docker exits 0 silently).
bool confirm_prompt(const std::string& warning) {
  std::printf("%s [y/N] ", warning.c_str());
  std::fflush(stdout);
  char line[256] = {0};
  if (!std::fgets(line, sizeof line, stdin)) return false;
  std::string a = line;
  while (!a.empty() && (a.back() == '\n' || a.back() == '\r' || a.back() == ' ')) a.pop_back();
  while (!a.empty() && a.front() == ' ') a.erase(0, 1);
  return a == "y" || a == "Y";
}

// --filter key=value for the prune verbs: until (a time or duration), label, label!, and
// (volume prune) all. Unknown keys: Docker's "invalid filter 'x'".
Result<engine::PruneFilter> parse_prune_filters(const std::vector<std::string>& filters,
                                                const std::vector<std::string>& accepted, bool* all) {
  engine::PruneFilter pf;
  int64_t now = store::now_unix_nanos();
  for (auto& fl : filters) {
    auto eq = fl.find('=');
    if (eq == std::string::npos) return fail("bad format of filter (expected name=value)", EINVAL);
    std::string key = fl.substr(0, eq), val = fl.substr(eq + 1);
    if (std::find(accepted.begin(), accepted.end(), key) == accepted.end()) return fail("invalid filter '" + key + "'", EINVAL);
    if (key == "until") {
      pf.until_ns = TRY(parse_time_filter(val, now));
    } else if (key == "label") {
      pf.labels.push_back(val);
    } else if (key == "label!") {
      pf.not_labels.push_back(val);
    } else if (key == "all") {
      auto b = parse_go_bool(val);
      if (!b) return fail("invalid filter 'all=" + val + "'", EINVAL);
      if (all) *all = *b;
    }
  }
  return pf;
}

namespace {

std::string percent_of(int64_t part, int64_t total) {
  if (total <= 0) return human_size(double(part));
  return human_size(double(part)) + " (" + std::to_string(part * 100 / total) + "%)";
}

// Docker's formatter.Ellipsis + strconv.Quote for the COMMAND column.
std::string quoted_command(const std::string& cmd, bool trunc) {
  std::string c = cmd;
  if (trunc) {
    size_t runes = 0, cut = c.size();
    for (size_t i = 0; i < c.size(); ++i)
      if ((static_cast<unsigned char>(c[i]) & 0xC0) != 0x80) {
        if (runes == 19) cut = i;
        ++runes;
      }
    if (runes > 20) c = c.substr(0, cut) + "…";
  }
  return go_quote(c);
}

std::string short_image(const std::string& id) {
  std::string hex = id.rfind("sha256:", 0) == 0 ? id.substr(7) : id;
  return hex.substr(0, 12);
}

std::string section(const std::string& format, const std::vector<json>& rows,
                    const TableHeaders& headers, bool* ok) {
  auto out = format_table(format, rows, headers);
  if (!out) {
    std::fprintf(stderr, "template parsing error: %s\n", out.error().message.c_str());
    *ok = false;
    return "";
  }
  return *out;
}

int system_df(Invocation& inv, const std::vector<std::string>& args) {
  FlagSet f("minidocker system df [OPTIONS]\n\nShow minidocker disk usage",
            {{"verbose", 'v', FlagKind::kBool, "Show detailed information on space usage"},
             {"format", 0, FlagKind::kValue, "Format output using a custom template ('table', 'table TEMPLATE', 'json', 'TEMPLATE')"}});
  int rc = 0;
  if (!parse_or_exit(f, "system df", args, &rc) || !require_args(f, "system df", 0, 0, &rc)) return rc;
  auto e = inv.engine();
  if (!e) return report(e.error());
  auto du = engine::disk_usage(**e);
  if (!du) return daemon_error(du.error().message);
  int64_t now = store::now_unix_nanos();
  std::string format = f.value("format");
  bool table_default = format.empty() || format == "table";
  if (format == "json") format = "{{json .}}";
  bool ok = true;

  // Summary numbers (Docker's diskUsage*Context).
  int64_t layers = (*du)["LayersSize"].get<int64_t>(), used_images = 0;
  int active_images = 0;
  for (auto& i : (*du)["Images"])
    if (i["Containers"].get<int>() > 0) {
      ++active_images;
      used_images += i["Size"].get<int64_t>() - i["SharedSize"].get<int64_t>();
    }
  int64_t c_size = 0, c_reclaim = 0;
  int active_containers = 0;
  for (auto& c : (*du)["Containers"]) {
    std::string s = c["State"];
    bool active = s == "running" || s == "paused" || s == "restarting";
    active_containers += active;
    c_size += c["SizeRw"].get<int64_t>();
    if (!active) c_reclaim += c["SizeRw"].get<int64_t>();
  }
  int64_t v_size = 0, v_reclaim = 0;
  int active_volumes = 0;
  for (auto& v : (*du)["Volumes"]) {
    int64_t s = v["UsageData"]["Size"].get<int64_t>();
    v_size += s;
    if (v["UsageData"]["RefCount"].get<int>() > 0) ++active_volumes;
    else v_reclaim += s;
  }

  if (!f.boolean("verbose")) {
    if (table_default) format = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}";
    int64_t img_reclaim = std::max<int64_t>(0, layers - used_images);
    std::vector<json> rows = {
        {{"Type", "Images"}, {"TotalCount", std::to_string((*du)["Images"].size())}, {"Active", std::to_string(active_images)},
         {"Size", human_size(double(layers))}, {"Reclaimable", percent_of(img_reclaim, layers)}},
        {{"Type", "Containers"}, {"TotalCount", std::to_string((*du)["Containers"].size())},
         {"Active", std::to_string(active_containers)}, {"Size", human_size(double(c_size))},
         {"Reclaimable", percent_of(c_reclaim, c_size)}},
        {{"Type", "Local Volumes"}, {"TotalCount", std::to_string((*du)["Volumes"].size())},
         {"Active", std::to_string(active_volumes)}, {"Size", human_size(double(v_size))},
         {"Reclaimable", percent_of(v_reclaim, v_size)}},
        {{"Type", "Build Cache"}, {"TotalCount", "0"}, {"Active", "0"}, {"Size", "0B"}, {"Reclaimable", "0B"}},
    };
    std::string out = section(format, rows,
                              {{"Type", "TYPE"}, {"TotalCount", "TOTAL"}, {"Active", "ACTIVE"}, {"Size", "SIZE"},
                               {"Reclaimable", "RECLAIMABLE"}},
                              &ok);
    if (!ok) return 1;
    std::fputs(out.c_str(), stdout);
    return 0;
  }

  // -v: one table per kind.
  std::vector<json> images, containers, volumes;
  for (auto& i : (*du)["Images"]) {
    std::string repo = "<none>", tag = "<none>";
    if (!i["RepoTags"].empty()) {
      std::string t = i["RepoTags"][0];
      auto colon = t.rfind(':');
      if (colon != std::string::npos && t.find('/', colon) == std::string::npos) {
        repo = t.substr(0, colon);
        tag = t.substr(colon + 1);
      }
    }
    int64_t size = i["Size"], shared = i["SharedSize"];
    int64_t created = i["Created"].get<int64_t>() * 1000000000;
    images.push_back({{"Repository", repo}, {"Tag", tag}, {"ID", short_image(i["Id"])},
                      {"CreatedSince", created ? human_duration(now - created) + " ago" : "N/A"},
                      {"Size", human_size(double(size))}, {"SharedSize", human_size(double(shared))},
                      {"UniqueSize", human_size(double(size - shared))},
                      {"Containers", std::to_string(i["Containers"].get<int>())}});
  }
  for (auto& c : (*du)["Containers"]) {
    int volumes_n = 0;
    for (auto& m : c["Mounts"])
      if (m.value("Type", "") == "volume") ++volumes_n;
    int64_t created = c["Created"].get<int64_t>() * 1000000000;
    std::string name = c["Names"][0];
    containers.push_back({{"ID", store::short_id(c["Id"].get<std::string>())}, {"Image", c["Image"]},
                          {"Command", quoted_command(c["Command"], true)}, {"LocalVolumes", std::to_string(volumes_n)},
                          {"Size", human_size(double(c["SizeRw"].get<int64_t>()))},
                          {"RunningFor", human_duration(now - created) + " ago"}, {"Status", c["Status"]},
                          {"Names", name.substr(name.rfind('/') == 0 ? 1 : 0)}});
  }
  for (auto& v : (*du)["Volumes"])
    volumes.push_back({{"Name", v["Name"]}, {"Links", std::to_string(v["UsageData"]["RefCount"].get<int>())},
                       {"Size", human_size(double(v["UsageData"]["Size"].get<int64_t>()))}});
  if (!table_default) {
    // A custom template runs over {Images, Containers, Volumes, BuildCache}.
    auto tpl = GoTemplate::parse(format, true);
    if (!tpl) return std::fprintf(stderr, "template parsing error: %s\n", tpl.error().message.c_str()), 1;
    auto out = tpl->execute({{"Images", images}, {"Containers", containers}, {"Volumes", volumes}, {"BuildCache", json::array()}});
    if (!out) return std::fprintf(stderr, "template: %s\n", out.error().message.c_str()), 1;
    std::printf("%s\n", out->c_str());
    return 0;
  }
  std::string out = "Images space usage:\n\n";
  out += section("table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}",
                 images,
                 {{"Repository", "REPOSITORY"}, {"Tag", "TAG"}, {"ID", "IMAGE ID"}, {"CreatedSince", "CREATED"},
                  {"Size", "SIZE"}, {"SharedSize", "SHARED SIZE"}, {"UniqueSize", "UNIQUE SIZE"}, {"Containers", "CONTAINERS"}},
                 &ok);
  out += "\nContainers space usage:\n\n";
  out += section("table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}",
                 containers,
                 {{"ID", "CONTAINER ID"}, {"Image", "IMAGE"}, {"Command", "COMMAND"}, {"LocalVolumes", "LOCAL VOLUMES"},
                  {"Size", "SIZE"}, {"RunningFor", "CREATED"}, {"Status", "STATUS"}, {"Names", "NAMES"}},
                 &ok);
  out += "\nLocal Volumes space usage:\n\n";
  out += section("table {{.Name}}\t{{.Links}}\t{{.Size}}", volumes,
                 {{"Name", "VOLUME NAME"}, {"Links", "LINKS"}, {"Size", "SIZE"}}, &ok);
  out += "\nBuild cache usage: 0B\n\n";
  out += section("table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}",
                 {},
                 {{"ID", "CACHE ID"}, {"CacheType", "CACHE TYPE"}, {"Size", "SIZE"}, {"CreatedSince", "CREATED"},
                  {"LastUsedSince", "LAST USED"}, {"UsageCount", "USAGE"}, {"Shared", "SHARED"}},
                 &ok);
  if (!ok) return 1;
  std::fputs(out.c_str(), stdout);
  return 0;
}

// Go's fmt.Println of the operands: joined by single spaces.
void line(const std::string& a, const std::string& b) { std::printf("%s %s\n", a.c_str(), b.c_str()); }
std::string str(const nlohmann::ordered_json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_null()) return "";
  return v.dump();
}

void print_info_text(const nlohmann::ordered_json& i) {
  std::printf("Client:\n Version:    0.1.0\n Context:    default\n Debug Mode: false\n\nServer:\n");
  line(" Containers:", str(i["Containers"]));
  line("  Running:", str(i["ContainersRunning"]));
  line("  Paused:", str(i["ContainersPaused"]));
  line("  Stopped:", str(i["ContainersStopped"]));
  line(" Images:", str(i["Images"]));
  line(" Server Version:", str(i["ServerVersion"]));
  line(" Storage Driver:", str(i["Driver"]));
  for (auto& pair : i["DriverStatus"]) std::printf("  %s: %s\n", str(pair[0]).c_str(), str(pair[1]).c_str());
  line(" Logging Driver:", str(i["LoggingDriver"]));
  line(" Cgroup Driver:", str(i["CgroupDriver"]));
  line(" Cgroup Version:", str(i["CgroupVersion"]));
  std::printf(" Plugins:\n");
  auto join = [](const nlohmann::ordered_json& a) {
    std::string s;
    if (a.is_array())
      for (auto& x : a) s += (s.empty() ? "" : " ") + str(x);
    return s;
  };
  line("  Volume:", join(i["Plugins"]["Volume"]));
  line("  Network:", join(i["Plugins"]["Network"]));
  line("  Log:", join(i["Plugins"]["Log"]));
  line(" Swarm:", str(i["Swarm"]["LocalNodeState"]));
  std::string runtimes;
  for (auto& [k, v] : i["Runtimes"].items()) runtimes += (runtimes.empty() ? "" : " ") + k;
  line(" Runtimes:", runtimes);
  line(" Default Runtime:", str(i["DefaultRuntime"]));
  line(" Init Binary:", str(i["InitBinary"]));
  line(" containerd version:", str(i["ContainerdCommit"]["ID"]));
  line(" runc version:", str(i["RuncCommit"]["ID"]));
  line(" init version:", str(i["InitCommit"]["ID"]));
  if (!i["SecurityOptions"].empty()) {
    std::printf(" Security Options:\n");
    for (auto& so : i["SecurityOptions"]) {
      // "name=seccomp,profile=builtin"
      std::string s = str(so), name, profile;
      size_t pos = 0;
      while (pos <= s.size()) {
        size_t comma = s.find(',', pos);
        if (comma == std::string::npos) comma = s.size();
        std::string kv = s.substr(pos, comma - pos);
        auto eq = kv.find('=');
        if (eq != std::string::npos) {
          if (kv.substr(0, eq) == "name") name = kv.substr(eq + 1);
          else if (kv.substr(0, eq) == "profile") profile = kv.substr(eq + 1);
        }
        pos = comma + 1;
      }
      std::printf("  %s\n", name.c_str());
      if (!profile.empty()) line("   Profile:", profile);
    }
  }
  line(" Kernel Version:", str(i["KernelVersion"]));
  line(" Operating System:", str(i["OperatingSystem"]));
  line(" OSType:", str(i["OSType"]));
  line(" Architecture:", str(i["Architecture"]));
  line(" CPUs:", str(i["NCPU"]));
  line(" Total Memory:", bytes_size(double(i["MemTotal"].get<uint64_t>())));
  line(" Name:", str(i["Name"]));
  line(" ID:", str(i["ID"]));
  line(" Docker Root Dir:", str(i["DockerRootDir"]));
  line(" Debug Mode:", str(i["Debug"]));
  for (auto k : {"HttpProxy", "HttpsProxy", "NoProxy"})
    if (!str(i[k]).empty())
      line(std::strcmp(k, "HttpProxy") == 0 ? " HTTP Proxy:" : std::strcmp(k, "HttpsProxy") == 0 ? " HTTPS Proxy:" : " No Proxy:",
           str(i[k]));
  line(" Experimental:", str(i["ExperimentalBuild"]));
  auto& insecure = i["RegistryConfig"]["InsecureRegistryCIDRs"];
  if (insecure.is_array() && !insecure.empty()) {
    std::printf(" Insecure Registries:\n");
    for (auto& c : insecure) std::printf("  %s\n", str(c).c_str());
  }
  line(" Live Restore Enabled:", str(i["LiveRestoreEnabled"]));
  std::printf("\n");
  if (i["Warnings"].is_array())
    for (auto& w : i["Warnings"]) std::fprintf(stderr, "%s\n", str(w).c_str());
}

int info_impl(Invocation& inv, const std::vector<std::string>& args, const std::string& verb) {
  FlagSet f("minidocker " + verb + " [OPTIONS]\n\nDisplay system-wide information",
            {{"format", 'f', FlagKind::kValue, "Format output using a custom template ('json' or a Go template)"}});
  int rc = 0;
  if (!parse_or_exit(f, verb, args, &rc) || !require_args(f, verb, 0, 0, &rc)) return rc;
  auto e = inv.engine();
  if (!e) return report(e.error());
  auto info = engine::system_info(**e);
  if (!info) return daemon_error(info.error().message);
  std::string format = f.value("format");
  if (format.empty()) {
    print_info_text(*info);
    return 0;
  }
  if (format == "json") format = "{{json .}}";
  json data = json::parse(info->dump());
  data["ClientInfo"] = {{"Debug", false}, {"Version", "0.1.0"}, {"Context", "default"}, {"Plugins", json::array()},
                        {"Warnings", nullptr}};
  auto tpl = GoTemplate::parse(format, true);
  if (!tpl) return std::fprintf(stderr, "template parsing error: %s\n", tpl.error().message.c_str()), 1;
  auto out = tpl->execute(data);
  if (!out) return std::fprintf(stderr, "template: %s\n", out.error().message.c_str()), 1;
  std::printf("%s\n", out->c_str());
  return 0;
}

void print_deleted(const char* title, const std::vector<std::string>& items) {
  if (items.empty()) return;
  std::printf("%s\n", title);
  for (auto& i : items) std::printf("%s\n", i.c_str());
  std::printf("\n");
}

int system_prune(Invocation& inv, const std::vector<std::string>& args) {
  FlagSet f("minidocker system prune [OPTIONS]\n\nRemove unused data",
            {{"all", 'a', FlagKind::kBool, "Remove all unused images not just dangling ones"},
             {"force", 'f', FlagKind::kBool, "Do not prompt for confirmation"},
             {"volumes", 0, FlagKind::kBool, "Prune anonymous volumes"},
             {"filter", 0, FlagKind::kList, "Provide filter values (e.g. \"label=<key>=<value>\")", "filter"}});
  int rc = 0;
  if (!parse_or_exit(f, "system prune", args, &rc) || !require_args(f, "system prune", 0, 0, &rc)) return rc;
  bool all = f.boolean("all"), volumes = f.boolean("volumes");
  std::vector<std::string> shown_filters;
  for (auto& fl : f.list("filter")) {
    auto eq = fl.find('=');
    if (eq == std::string::npos)
      return usage_error("system prune", "invalid argument \"" + fl + "\" for \"--filter\" flag: bad format of filter (expected name=value)");
    std::string key = fl.substr(0, eq);
    if (volumes && key == "until") {
      std::fprintf(stderr, "ERROR: The \"until\" filter is not supported with \"--volumes\"\n");
      return 1;
    }
    if (key == "label" || key == "label!" || key == "until") shown_filters.push_back(fl);
  }
  std::sort(shown_filters.begin(), shown_filters.end());
  auto pf = parse_prune_filters(f.list("filter"), {"until", "label", "label!"}, nullptr);
  if (!pf) return daemon_error(pf.error().message);
  if (!f.boolean("force")) {
    std::string w = "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n";
    if (volumes) w += "  - all anonymous volumes not used by at least one container\n";
    w += all ? "  - all images without at least one container associated to them\n  - all build cache\n"
             : "  - all dangling images\n  - unused build cache\n";
    if (!shown_filters.empty()) {
      w += "\n  Items to be pruned will be filtered with:\n";
      for (auto& s : shown_filters) w += "  - " + s + "\n";
    }
    w += "\nAre you sure you want to continue?";
    if (!confirm_prompt(w)) return 0;
  }
  auto e = inv.engine();
  if (!e) return report(e.error());
  int64_t total = 0;
  auto containers = engine::prune_containers(**e, *pf);
  if (!containers) return daemon_error(containers.error().message);
  print_deleted("Deleted Containers:", containers->deleted);
  total += containers->reclaimed;
  auto networks = engine::prune_networks(**e, *pf);
  if (!networks) return daemon_error(networks.error().message);
  print_deleted("Deleted Networks:", *networks);
  if (volumes) {
    auto v = engine::prune_unused_volumes(**e, false, *pf);
    if (!v) return daemon_error(v.error().message);
    print_deleted("Deleted Volumes:", v->deleted);
    total += v->reclaimed;
  }
  auto images = engine::prune_images(**e, all, *pf);
  if (!images) return daemon_error(images.error().message);
  std::vector<std::string> lines;
  for (auto& [kind, value] : images->records) lines.push_back(kind + ": " + value);
  print_deleted("Deleted Images:", lines);
  total += images->reclaimed;
  std::printf("Total reclaimed space: %s\n", human_size(double(total)).c_str());
  return 0;
}

}  // namespace

int cmd_info(Invocation& inv) { return info_impl(inv, inv.args, "info"); }

int cmd_container_prune(Invocation& inv) {
  FlagSet f("minidocker container prune [OPTIONS]\n\nRemove all stopped containers",
            {{"force", 'f', FlagKind::kBool, "Do not prompt for confirmation"},
             {"filter", 0, FlagKind::kList, "Provide filter values (e.g. \"until=<timestamp>\")", "filter"}});
  int rc = 0;
  if (!parse_or_exit(f, "container prune", inv.args, &rc) || !require_args(f, "container prune", 0, 0, &rc)) return rc;
  for (auto& fl : f.list("filter"))
    if (fl.find('=') == std::string::npos)
      return usage_error("container prune", "invalid argument \"" + fl + "\" for \"--filter\" flag: bad format of filter (expected name=value)");
  auto pf = parse_prune_filters(f.list("filter"), {"until", "label", "label!"}, nullptr);
  if (!pf) return daemon_error(pf.error().message);
  if (!f.boolean("force") &&
      !confirm_prompt("WARNING! This will remove all stopped containers.\nAre you sure you want to continue?"))
    return 0;
  auto e = inv.engine();
  if (!e) return report(e.error());
  auto r = engine::prune_containers(**e, *pf);
  if (!r) return daemon_error(r.error().message);
  print_deleted("Deleted Containers:", r->deleted);
  std::printf("Total reclaimed space: %s\n", human_size(double(r->reclaimed)).c_str());
  return 0;
}

int cmd_system(Invocation& inv) {
  static const char* kUsage =
      "\nUsage:  minidocker system COMMAND\n\nManage minidocker\n\nCommands:\n"
      "  boot        Start the containers a restart policy wants running (run once at boot)\n"
      "  df          Show minidocker disk usage\n"
      "  events      Get real time events from the engine\n"
      "  info        Display system-wide information\n"
      "  prune       Remove unused data\n\n"
      "Run 'minidocker system COMMAND --help' for more information on a command.\n";
  if (inv.args.empty() || inv.args[0] == "--help" || inv.args[0] == "-h") {
    std::printf("%s", kUsage);
    return 0;
  }
  std::string sub = inv.args[0];
  std::vector<std::string> rest(inv.args.begin() + 1, inv.args.end());
  if (sub == "boot") {
    // After a reboot: restart `always` (and not user-stopped `unless-stopped`) containers.
    auto e = inv.engine();
    if (!e) return report(e.error());
    int failed = 0;
    auto ids = engine::boot_containers(**e, [&](const std::string& name, const Error& err) {
      std::fprintf(stderr, "Error: start %s: %s\n", name.c_str(), err.message.c_str());
      ++failed;
    });
    if (!ids) return report(ids.error());
    for (auto& id : *ids) std::printf("%s\n", id.c_str());
    return failed ? 1 : 0;
  }
  if (sub == "df") return system_df(inv, rest);
  if (sub == "info") return info_impl(inv, rest, "system info");
  if (sub == "prune") return system_prune(inv, rest);
  if (sub == "events") {
    inv.args = rest;
    inv.verb = "system events";
    return cmd_events(inv);
  }
  std::fprintf(stderr, "minidocker: 'system %s' is not a minidocker command.\nSee 'minidocker system --help'\n", sub.c_str());
  return 1;
}

}  // namespace md::cli
