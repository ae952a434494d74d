// pod: Podman's `pod create|ls|ps|inspect|start|stop|rm` over engine/core/pods.h
// (docs/pods.md). Errors are printed as "Error: …" (exit 1); flag errors exit 125.
#include <cstdio>
#include <map>
#include <set>

#include "cli/common/run_flags.h"
#include "cli/common/table.h"
#include "cli/common/units.h"
#include "cli/docker/cli.h"
#include "engine/core/pods.h"
#include "engine/store/ids.h"

namespace md::cli {

using nlohmann::json;

// inspect_cmd.cc
int print_inspect(const std::vector<json>& items, const std::string& format);

namespace {

const TableHeaders& pod_headers() {
  static const TableHeaders h = {{"ID", "POD ID"},
                                 {"Name", "NAME"},
                                 {"Status", "STATUS"},
                                 {"Created", "CREATED"},
                                 {"CreatedAt", "CREATED AT"},
                                 {"InfraID", "INFRA ID"},
                                 {"NumberOfContainers", "# OF CONTAINERS"},
                                 {"Labels", "LABELS"},
                                 {"Networks", "NETWORKS"},
                                 {"ContainerIds", "IDS"},
                                 {"ContainerNames", "NAMES"},
                                 {"ContainerStatuses", "STATUS"}};
  return h;
}

std::string short_or_full(const std::string& id, bool no_trunc) { return no_trunc ? id : store::short_id(id); }

int pod_create(Invocation& inv, const std::vector<std::string>& args) {
  FlagSet f("minidocker pod create [OPTIONS] [NAME]\n\nCreate a new empty pod",
            {{"name", 'n', FlagKind::kValue, "Assign a name to the pod"},
             {"publish", 'p', FlagKind::kList, "Publish a port of the pod to the host (run -p syntax)", "list"},
             {"network", 0, FlagKind::kValue, "Connect the pod to a network (bridge, a network's name, host, none)", "network"},
             {"net", 0, FlagKind::kValue, "", "network", "", true},
             {"label", 'l', FlagKind::kList, "Set metadata on the pod", "list"},
             {"hostname", 0, FlagKind::kValue, "Set the pod's hostname (default: the pod's name)"}});
  int rc = 0;
  if (!parse_or_exit(f, "pod create", args, &rc) || !require_args(f, "pod create", 0, 1, &rc)) return rc;
  engine::PodCreateRequest r;
  r.name = f.value("name");
  if (!f.args().empty()) {
    if (!r.name.empty() && r.name != f.args()[0]) {
      std::fprintf(stderr, "Error: cannot specify the pod name both with --name and as an argument\n");
      return 125;
    }
    r.name = f.args()[0];
  }
  for (auto& spec : f.list("publish")) {
    auto st = parse_publish(spec, r.exposed_ports, r.port_bindings);
    if (!st) return usage_error("pod create", "invalid argument \"" + spec + "\" for \"-p, --publish\" flag: " + st.error().message);
  }
  r.network = f.value("network", f.value("net"));
  r.hostname = f.value("hostname");
  for (auto& l : f.list("label")) {
    auto eq = l.find('=');
    r.labels[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
  }
  auto e = inv.engine();
  if (!e) return report(e.error());
  auto p = engine::create_pod(**e, r);
  if (!p) return report(p.error());
  std::printf("%s\n", p->id.c_str());
  return 0;
}

// Podman's filters for pod ps: name (substring), id (prefix), label (key or key=value),
// status (created, running, stopped, exited, degraded, paused, error).
Result<bool> pod_matches(const engine::PodView& v, const std::map<std::string, std::vector<std::string>>& filters) {
  for (auto& [key, values] : filters) {
    bool any = false;
    for (auto& val : values) {
      if (key == "name") any |= v.pod.name.find(val) != std::string::npos;
      else if (key == "id") any |= v.pod.id.rfind(val, 0) == 0;
      else if (key == "label") {
        auto eq = val.find('=');
        auto it = v.pod.labels.find(val.substr(0, eq));
        any |= it != v.pod.labels.end() && (eq == std::string::npos || it->second == val.substr(eq + 1));
      } else if (key == "status") {
        std::string s = v.status;
        for (auto& c : s) c = char(tolower(c));
        any |= s == val;
      } else {
        return fail("invalid filter \"" + key + "\"", EINVAL);
      }
    }
    if (!any) return false;
  }
  return true;
}

int pod_ls(Invocation& inv, const std::vector<std::string>& args) {
  FlagSet f("minidocker pod ls [OPTIONS]\n\nList pods",
            {{"quiet", 'q', FlagKind::kBool, "Print the pod IDs only"},
             {"no-trunc", 0, FlagKind::kBool, "Do not truncate pod and container IDs"},
             {"format", 0, FlagKind::kValue, "Pretty-print pods using a Go template ('table TEMPLATE', 'json', 'TEMPLATE')"},
             {"filter", 'f', FlagKind::kList, "Filter output based on conditions given (name, id, label, status)", "filter"}});
  int rc = 0;
  if (!parse_or_exit(f, "pod ls", args, &rc) || !require_args(f, "pod ls", 0, 0, &rc)) return rc;
  std::map<std::string, std::vector<std::string>> filters;
  for (auto& fl : f.list("filter")) {
    auto eq = fl.find('=');
    if (eq == std::string::npos)
      return usage_error("pod ls", "invalid argument \"" + fl + "\" for \"-f, --filter\" flag: expected name=value");
    filters[fl.substr(0, eq)].push_back(fl.substr(eq + 1));
  }
  auto e = inv.engine();
  if (!e) return report(e.error());
  auto pods = engine::list_pods(**e);
  if (!pods) return report(pods.error());
  std::sort(pods->begin(), pods->end(), [](auto& a, auto& b) { return a.pod.created > b.pod.created; });  // newest first
  bool no_trunc = f.boolean("no-trunc");
  int64_t now = store::now_unix_nanos();
  std::vector<json> rows, reports;
  for (auto& v : *pods) {
    auto keep = pod_matches(v, filters);
    if (!keep) return report(keep.error(), 125);
    if (!*keep) continue;
    std::vector<const store::Container*> all;
    if (v.infra) all.push_back(&*v.infra);
    for (auto& c : v.members) all.push_back(&c);
    std::string labels, ids, names, statuses;
    for (auto& [k, val] : v.pod.labels) labels += (labels.empty() ? "" : ",") + k + "=" + val;
    json containers = json::array();
    for (auto* c : all) {
      ids += (ids.empty() ? "" : ",") + short_or_full(c->id, no_trunc);
      names += (names.empty() ? "" : ",") + c->name;
      statuses += (statuses.empty() ? "" : ",") + std::string(store::state_name(c->state));
      containers.push_back({{"Id", c->id}, {"Names", c->name}, {"Status", store::state_name(c->state)}});
    }
    json insp = engine::pod_inspect_json(**e, v);
    std::string networks;
    for (auto& n : insp["InfraConfig"]["Networks"]) networks += (networks.empty() ? "" : ",") + n.get<std::string>();
    rows.push_back({{"ID", short_or_full(v.pod.id, no_trunc)},
                    {"Name", v.pod.name},
                    {"Status", v.status},
                    {"Created", human_duration(now - v.pod.created) + " ago"},
                    {"CreatedAt", format_local_time(v.pod.created)},
                    {"InfraID", short_or_full(v.pod.infra_id, no_trunc)},
                    {"NumberOfContainers", std::to_string(all.size())},
                    {"Labels", labels},
                    {"Networks", networks},
                    {"ContainerIds", ids},
                    {"ContainerNames", names},
                    {"ContainerStatuses", statuses}});
    reports.push_back({{"Id", v.pod.id},
                       {"Name", v.pod.name},
                       {"Status", v.status},
                       {"Created", insp["Created"]},
                       {"InfraId", v.pod.infra_id},
                       {"Labels", v.pod.labels},
                       {"Networks", insp["InfraConfig"]["Networks"]},
                       {"Containers", containers}});
  }
  std::string format = f.value("format");
  if (format == "json") {
    std::printf("%s\n", json(reports).dump(4).c_str());
    return 0;
  }
  if (f.boolean("quiet") && format.empty()) format = "{{.ID}}";
  if (format.empty() || format == "table")
    format = "table {{.ID}}\t{{.Name}}\t{{.Status}}\t{{.Created}}\t{{.InfraID}}\t{{.NumberOfContainers}}";
  auto out = format_table(format, rows, pod_headers());
  if (!out) return std::fprintf(stderr, "Error: template parsing error: %s\n", out.error().message.c_str()), 125;
  std::fputs(out->c_str(), stdout);
  return 0;
}

int pod_inspect(Invocation& inv, const std::vector<std::string>& args) {
  FlagSet f("minidocker pod inspect [OPTIONS] POD [POD...]\n\nDisplay information describing a pod",
            {{"format", 'f', FlagKind::kValue, "Format the output using the given Go template"}});
  int rc = 0;
  if (!parse_or_exit(f, "pod inspect", args, &rc) || !require_args(f, "pod inspect", 1, SIZE_MAX, &rc)) return rc;
  auto e = inv.engine();
  if (!e) return report(e.error());
  std::vector<json> items;
  for (auto& ref : f.args()) {
    auto v = engine::get_pod(**e, ref);
    if (!v) {
      rc = report(v.error());
      continue;
    }
    items.push_back(engine::pod_inspect_json(**e, *v));
  }
  int prc = print_inspect(items, f.value("format"));
  return rc ? rc : prc;
}

// start/stop/rm: each pod named (or every pod with --all), its full id printed on success.
template <class Fn>
int for_each_pod(Invocation& inv, const FlagSet& f, const std::string& verb, Fn fn) {
  int rc = 0;
  bool all = f.boolean("all");
  if (all && !f.args().empty()) {
    std::fprintf(stderr, "Error: when using the --all switch, you may not pass any pod names or IDs\n");
    return 125;
  }
  if (!all && f.args().empty()) {
    std::fprintf(stderr, "Error: you must provide at least one name or id\nSee 'minidocker pod %s --help'.\n", verb.c_str());
    return 125;
  }
  auto e = inv.engine();
  if (!e) return report(e.error());
  std::vector<std::string> refs = f.args();
  if (all) {
    auto pods = engine::list_pods(**e);
    if (!pods) return report(pods.error());
    for (auto& v : *pods) refs.push_back(v.pod.id);
  }
  for (auto& ref : refs) {
    auto v = engine::get_pod(**e, ref);
    if (!v) {
      rc = report(v.error());
      continue;
    }
    auto st = fn(**e, v->pod.id);
    if (!st) {
      rc = report(st.error());
      continue;
    }
    std::printf("%s\n", v->pod.id.c_str());
    std::fflush(stdout);
  }
  return rc;
}

int pod_start(Invocation& inv, const std::vector<std::string>& args) {
  FlagSet f("minidocker pod start [OPTIONS] POD [POD...]\n\nStart one or more pods (the infra container, then the others)",
            {{"all", 'a', FlagKind::kBool, "Start all pods"}});
  int rc = 0;
  if (!parse_or_exit(f, "pod start", args, &rc)) return rc;
  return for_each_pod(inv, f, "start", [](engine::Engine& e, const std::string& id) { return engine::start_pod(e, id); });
}

int pod_stop(Invocation& inv, const std::vector<std::string>& args) {
  FlagSet f("minidocker pod stop [OPTIONS] POD [POD...]\n\nStop one or more pods (the containers, then the infra container)",
            {{"all", 'a', FlagKind::kBool, "Stop all pods"},
             {"time", 't', FlagKind::kValue, "Seconds to wait for each container to stop before killing it", "int"}});
  int rc = 0;
  if (!parse_or_exit(f, "pod stop", args, &rc)) return rc;
  std::optional<int> timeout;
  if (f.given("time")) {
    std::string t = f.value("time");
    char* end = nullptr;
    long v = std::strtol(t.c_str(), &end, 10);
    if (t.empty() || *end) return usage_error("pod stop", "invalid argument \"" + t + "\" for \"-t, --time\" flag: strconv.ParseInt: parsing \"" + t + "\": invalid syntax");
    timeout = int(v);
  }
  return for_each_pod(inv, f, "stop", [&](engine::Engine& e, const std::string& id) { return engine::stop_pod(e, id, timeout); });
}

int pod_rm(Invocation& inv, const std::vector<std::string>& args) {
  FlagSet f("minidocker pod rm [OPTIONS] POD [POD...]\n\nRemove one or more stopped pods and their containers",
            {{"all", 'a', FlagKind::kBool, "Remove all pods"},
             {"force", 'f', FlagKind::kBool, "Stop running containers and remove them with the pod"}});
  int rc = 0;
  if (!parse_or_exit(f, "pod rm", args, &rc)) return rc;
  bool force = f.boolean("force");
  return for_each_pod(inv, f, "rm", [&](engine::Engine& e, const std::string& id) { return engine::remove_pod(e, id, force); });
}

}  // namespace

int cmd_pod(Invocation& inv) {
  static const char* kUsage =
      "\nUsage:  minidocker pod COMMAND\n\nManage pods: containers that share network, IPC and UTS namespaces\n\nCommands:\n"
      "  create      Create a new empty pod\n"
      "  inspect     Display information describing a pod\n"
      "  ls          List pods (also: ps, list)\n"
      "  rm          Remove one or more pods\n"
      "  start       Start one or more pods\n"
      "  stop        Stop one or more pods\n\n"
      "Add containers with `minidocker run --pod POD …`. See docs/pods.md.\n";
  if (inv.args.empty() || inv.args[0] == "--help" || inv.args[0] == "-h") {
    std::printf("%s", kUsage);
    return 0;
  }
  std::string sub = inv.args[0];
  std::vector<std::string> rest(inv.args.begin() + 1, inv.args.end());
  if (sub == "create") return pod_create(inv, rest);
  if (sub == "ls" || sub == "ps" || sub == "list") return pod_ls(inv, rest);
  if (sub == "inspect") return pod_inspect(inv, rest);
  if (sub == "start") return pod_start(inv, rest);
  if (sub == "stop") return pod_stop(inv, rest);
  if (sub == "rm" || sub == "remove") return pod_rm(inv, rest);
  std::fprintf(stderr, "minidocker: 'pod %s' is not a minidocker command.\nSee 'minidocker pod --help'\n", sub.c_str());
  return 1;
}

}  // namespace md::cli
