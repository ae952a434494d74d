// network: `docker network create|ls|inspect|rm|prune|connect|disconnect` over
// engine/core/networks.h (docs/cli.md).
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>
#include <set>

#include "cli/common/table.h"
#include "cli/docker/cli.h"
#include "engine/core/networks.h"
#include "engine/core/system.h"

namespace md::cli {

using nlohmann::json;

// inspect_cmd.cc
int print_inspect(const std::vector<json>& items, const std::string& format);
// system_cmd.cc
bool confirm_prompt(const std::string& warning);
Result<engine::PruneFilter> parse_prune_filters(const std::vector<std::string>& filters,
                                                const std::vector<std::string>& accepted, bool* all);

namespace {


std::map<std::string, std::string> labels_of(const store::Network& n) {
  std::map<std::string, std::string> out;
  if (n.labels.is_object())
    for (auto& [k, v] : n.labels.items())
      if (v.is_string()) out[k] = v.get<std::string>();
  return out;
}

// "k=v" → {k, v}; "k" → {k, ""}.
std::pair<std::string, std::string> split_kv(const std::string& s) {
  auto eq = s.find('=');
  return {s.substr(0, eq), eq == std::string::npos ? "" : s.substr(eq + 1)};
}

// Go's time.Time.String(): "2024-05-01 10:00:00.123456789 +0000 UTC" (fraction trimmed).
std::string go_time_string(int64_t ns) {
  time_t t = time_t(ns / 1000000000);
  struct tm tm {};
  localtime_r(&t, &tm);
  char date[32], zone[32];
  strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
  strftime(zone, sizeof zone, "%z %Z", &tm);
  std::string frac;
  if (int64_t n = ns % 1000000000; n > 0) {
    char b[16];
    snprintf(b, sizeof b, ".%09lld", static_cast<long long>(n));
    frac = b;
    while (frac.back() == '0') frac.pop_back();
  }
  return std::string(date) + frac + " " + zone;
}

const TableHeaders& network_headers() {
  static const TableHeaders h = {{"ID", "NETWORK ID"}, {"Name", "NAME"},         {"Driver", "DRIVER"},
                                 {"Scope", "SCOPE"},    {"IPv6", "IPV6"},         {"Internal", "INTERNAL"},
                                 {"Labels", "LABELS"},  {"CreatedAt", "CREATED AT"}};
  return h;
}

// Docker's networkContext fields, as strings.
json network_row(const store::Network& n, bool no_trunc) {
  std::string labels;
  for (auto& [k, v] : labels_of(n)) labels += (labels.empty() ? "" : ",") + k + "=" + v;
  return {{"ID", no_trunc ? n.id : n.id.substr(0, 12)},
          {"Name", n.name},
          {"Driver", n.driver},
          {"Scope", "local"},
          {"IPv6", "false"},
          {"Internal", n.internal ? "true" : "false"},
          {"Labels", labels},
          {"CreatedAt", go_time_string(n.created)}};
}

// Engine errors for a container reference → Docker's words.
std::string container_error(const Error& err, const std::string& ref) {
  if (err.errno_value == ENOENT && err.message.rfind("no such container", 0) == 0) return "No such container: " + ref;
  return err.message;
}

int network_create(Invocation& inv, const std::vector<std::string>& args) {
  FlagSet f("minidocker network create [OPTIONS] NETWORK\n\nCreate a network",
            {{"driver", 'd', FlagKind::kValue, "Driver to manage the Network", "string", "\"bridge\""},
             {"subnet", 0, FlagKind::kList, "Subnet in CIDR format that represents a network segment", "strings"},
             {"gateway", 0, FlagKind::kList, "IPv4 Gateway for the master subnet", "strings"},
             {"ip-range", 0, FlagKind::kList, "Allocate container ip from a sub-range", "strings"},
             {"aux-address", 0, FlagKind::kList, "Auxiliary IPv4 addresses used by Network driver", "map"},
             {"internal", 0, FlagKind::kBool, "Restrict external access to the network"},
             {"label", 0, FlagKind::kList, "Set metadata on a network", "list"},
             {"opt", 'o', FlagKind::kList, "Set driver specific options", "map"},
             {"ipam-driver", 0, FlagKind::kValue, "IP Address Management Driver", "string", "\"default\""},
             {"ipam-opt", 0, FlagKind::kList, "Set IPAM driver specific options", "map"},
             {"ipv6", 0, FlagKind::kBool, "Enable IPv6 networking (not supported: IPv4 only)"},
             {"attachable", 0, FlagKind::kBool, "Enable manual container attachment (always possible here)"},
             {"scope", 0, FlagKind::kValue, "Control the network's scope (only \"local\")"},
             {"ingress", 0, FlagKind::kBool, "Create swarm routing-mesh network", "", "", true},
             {"config-only", 0, FlagKind::kBool, "Create a configuration only network", "", "", true},
             {"config-from", 0, FlagKind::kValue, "The network from which to copy the configuration", "string", "", true}});
  int rc = 0;
  if (!parse_or_exit(f, "network create", args, &rc) || !require_args(f, "network create", 1, 1, &rc)) return rc;
  const std::string& name = f.args()[0];
  auto subnets = f.list("subnet"), gateways = f.list("gateway");
  // The docker CLI's own checks (createIPAMConfig), before the daemon sees anything.
  if (!f.list("ip-range").empty() && subnets.empty())
    return std::fprintf(stderr, "every ip-range or gateway must have a corresponding subnet\n"), 1;
  if (!gateways.empty() && subnets.empty())
    return std::fprintf(stderr, "every ip-range or gateway must have a corresponding subnet\n"), 1;
  if (gateways.size() > 1) return std::fprintf(stderr, "cannot configure multiple gateways for a subnet\n"), 1;
  if (f.boolean("ipv6"))
    return daemon_error("IPv6 networks are not supported by minidocker (IPv4 only): leave out --ipv6");
  if (subnets.size() > 1)
    return daemon_error("only one --subnet per network is supported by minidocker (got " + std::to_string(subnets.size()) +
                        ")");
  for (auto& s : subnets)
    if (s.find(':') != std::string::npos)
      return daemon_error("IPv6 subnet " + s + " is not supported by minidocker (IPv4 only)");
  if (!f.list("ip-range").empty()) return daemon_error("--ip-range is not supported by minidocker: the whole subnet is used");
  if (!f.list("aux-address").empty()) return daemon_error("--aux-address is not supported by minidocker");
  if (!f.list("ipam-opt").empty()) return daemon_error("--ipam-opt is not supported by minidocker's default IPAM");
  if (std::string d = f.value("ipam-driver", "default"); d != "default")
    return daemon_error("plugin \"" + d + "\" not found: only the \"default\" IPAM driver exists");
  if (std::string s = f.value("scope", "local"); s != "local")
    return daemon_error("scope " + s + " is not supported: minidocker networks are local");
  if (f.boolean("ingress") || f.boolean("config-only") || f.given("config-from"))
    return daemon_error("swarm networks (--ingress, --config-only, --config-from) are not supported by minidocker");
  engine::NetworkCreateRequest r;
  r.name = name;
  r.driver = f.value("driver", "bridge");
  if (!subnets.empty()) r.subnet = subnets[0];
  if (!gateways.empty()) r.gateway = gateways[0];
  r.internal = f.boolean("internal");
  for (auto& l : f.list("label")) {
    auto [k, v] = split_kv(l);
    r.labels[k] = v;
  }
  for (auto& o : f.list("opt")) {
    auto [k, v] = split_kv(o);
    r.options[k] = v;
  }
  auto e = inv.engine();
  if (!e) return report(e.error());
  if (auto st = engine::ensure_builtin_networks(**e); !st) return daemon_error(st.error().message);
  if ((r.driver == "host" || r.driver == "null") && (*e)->networks().get(r.driver == "host" ? "host" : "none"))
    return daemon_error("only one instance of \"" + r.driver + "\" network is allowed");
  auto n = engine::create_network(**e, r);
  if (!n) return daemon_error(n.error().message);
  std::printf("%s\n", n->id.c_str());
  return 0;
}

int network_ls(Invocation& inv, const std::vector<std::string>& args) {
  FlagSet f("minidocker network ls [OPTIONS]\n\nList networks",
            {{"filter", 'f', FlagKind::kList, "Provide filter values (e.g. \"driver=bridge\")", "filter"},
             {"format", 0, FlagKind::kValue, "Format output using a custom template ('table', 'table TEMPLATE', 'json', 'TEMPLATE')"},
             {"no-trunc", 0, FlagKind::kBool, "Do not truncate the output"},
             {"quiet", 'q', FlagKind::kBool, "Only display network IDs"}});
  int rc = 0;
  if (!parse_or_exit(f, "network ls", args, &rc) || !require_args(f, "network ls", 0, 0, &rc)) return rc;
  std::map<std::string, std::vector<std::string>> filters;
  for (auto& fl : f.list("filter")) {
    auto eq = fl.find('=');
    if (eq == std::string::npos)
      return usage_error("network ls", "invalid argument \"" + fl + "\" for \"-f, --filter\" flag: bad format of filter (expected name=value)");
    std::string key = fl.substr(0, eq), val = fl.substr(eq + 1);
    static const std::set<std::string> kKeys = {"dangling", "driver", "id", "label", "name", "scope", "type"};
    if (!kKeys.count(key)) return daemon_error("invalid filter '" + key + "'");
    if (key == "type" && val != "custom" && val != "builtin") return daemon_error("invalid filter 'type=" + val + "'");
    if (key == "dangling" && val != "true" && val != "false" && val != "1" && val != "0")
      return daemon_error("invalid filter 'dangling=" + val + "'");
    filters[key].push_back(val);
  }
  auto e = inv.engine();
  if (!e) return report(e.error());
  if (auto st = engine::ensure_builtin_networks(**e); !st) return daemon_error(st.error().message);
  auto list = (*e)->networks().list();
  if (!list) return daemon_error(list.error().message);
  std::sort(list->begin(), list->end(), [](auto& a, auto& b) { return natural_less(a.name, b.name); });
  bool no_trunc = f.boolean("no-trunc");
  std::vector<json> rows;
  for (auto& n : *list) {
    bool keep = true;
    for (auto& [key, values] : filters) {
      bool any = false;
      for (auto& v : values) {
        if (key == "name") any |= n.name.find(v) != std::string::npos;
        else if (key == "id") any |= n.id.find(v) != std::string::npos;
        else if (key == "driver") any |= n.driver == v;
        else if (key == "scope") any |= v == "local";
        else if (key == "type") any |= (v == "builtin") == engine::is_builtin_network(n.name);
        else if (key == "label") {
          auto labels = labels_of(n);
          auto [k, want] = split_kv(v);
          auto it = labels.find(k);
          any |= it != labels.end() && (v.find('=') == std::string::npos || it->second == want);
        } else if (key == "dangling") {
          // Docker's: a user-defined network no container uses (here: attached in any state,
          // the same rule as prune).
          auto eps = (*e)->networks().endpoints_on(n.id);
          bool dangling = !engine::is_builtin_network(n.name) && eps && eps->empty();
          any |= dangling == (v == "true" || v == "1");
        }
      }
      keep &= any;
    }
    if (keep) rows.push_back(network_row(n, no_trunc));
  }
  std::string format = f.value("format");
  if (format.empty() || format == "table")
    format = f.boolean("quiet") ? "{{.ID}}" : "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}";
  else if (format == "json") format = "{{json .}}";
  auto out = format_table(format, rows, network_headers());
  if (!out) return std::fprintf(stderr, "template parsing error: %s\n", out.error().message.c_str()), 1;
  std::fputs(out->c_str(), stdout);
  return 0;
}

int network_inspect(Invocation& inv, const std::vector<std::string>& args) {
  FlagSet f("minidocker network inspect [OPTIONS] NETWORK [NETWORK...]\n\nDisplay detailed information on one or more networks",
            {{"format", 'f', FlagKind::kValue, "Format output using a custom template"},
             {"verbose", 'v', FlagKind::kBool, "Verbose output for diagnostics"}});
  int rc = 0;
  if (!parse_or_exit(f, "network inspect", args, &rc) || !require_args(f, "network inspect", 1, SIZE_MAX, &rc))
    return rc;
  auto e = inv.engine();
  if (!e) return report(e.error());
  if (auto st = engine::ensure_builtin_networks(**e); !st) return daemon_error(st.error().message);
  std::vector<json> items;
  std::vector<std::string> errors;
  for (auto& ref : f.args()) {
    auto n = (*e)->networks().get(ref);
    if (!n) {
      errors.push_back(n.error().errno_value == ENOENT ? "network " + ref + " not found" : n.error().message);
      continue;
    }
    items.push_back(engine::network_json(**e, *n));
  }
  int prc = print_inspect(items, f.value("format"));
  for (auto& m : errors) std::fprintf(stderr, "Error response from daemon: %s\n", m.c_str());
  return errors.empty() ? prc : 1;
}

int network_rm(Invocation& inv, const std::vector<std::string>& args) {
  FlagSet f("minidocker network rm NETWORK [NETWORK...]\n\nRemove one or more networks",
            {{"force", 'f', FlagKind::kBool, "Do not error if the network does not exist"}});
  int rc = 0;
  if (!parse_or_exit(f, "network rm", args, &rc) || !require_args(f, "network rm", 1, SIZE_MAX, &rc)) return rc;
  auto e = inv.engine();
  if (!e) return report(e.error());
  int status = 0;
  for (auto& name : f.args()) {
    auto st = engine::remove_network(**e, name);
    if (!st) {
      if (f.boolean("force") && st.error().errno_value == ENOENT) continue;
      std::fprintf(stderr, "Error response from daemon: %s\n", st.error().message.c_str());
      status = 1;
      continue;
    }
    std::printf("%s\n", name.c_str());
  }
  return status;
}

int network_prune(Invocation& inv, const std::vector<std::string>& args) {
  FlagSet f("minidocker network prune [OPTIONS]\n\nRemove all unused networks",
            {{"filter", 0, FlagKind::kList, "Provide filter values (e.g. \"until=<timestamp>\")", "filter"},
             {"force", 'f', FlagKind::kBool, "Do not prompt for confirmation"}});
  int rc = 0;
  if (!parse_or_exit(f, "network prune", args, &rc) || !require_args(f, "network prune", 0, 0, &rc)) return rc;
  auto pf = parse_prune_filters(f.list("filter"), {"until", "label", "label!"}, nullptr);
  if (!pf) return daemon_error(pf.error().message);
  if (!f.boolean("force") &&
      !confirm_prompt("WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?"))
    return 0;
  auto e = inv.engine();
  if (!e) return report(e.error());
  auto removed = engine::prune_networks(**e, *pf);
  if (!removed) return daemon_error(removed.error().message);
  if (!removed->empty()) {
    // Docker: Fprintln of "Deleted Networks:\n" + one name per line (so a blank line ends it).
    std::printf("Deleted Networks:\n");
    for (auto& n : *removed) std::printf("%s\n", n.c_str());
    std::printf("\n");
  }
  return 0;
}

int network_connect(Invocation& inv, const std::vector<std::string>& args) {
  FlagSet f("minidocker network connect [OPTIONS] NETWORK CONTAINER\n\nConnect a container to a network",
            {{"alias", 0, FlagKind::kList, "Add network-scoped alias for the container", "strings"},
             {"ip", 0, FlagKind::kValue, "IPv4 address (e.g., \"172.30.100.104\")"},
             {"ip6", 0, FlagKind::kValue, "IPv6 address (not supported)"},
             {"link", 0, FlagKind::kList, "Add link to another container (not supported)", "list"},
             {"link-local-ip", 0, FlagKind::kList, "Add a link-local address for the container (not supported)", "strings"},
             {"driver-opt", 0, FlagKind::kList, "driver options for the network", "strings"}});
  int rc = 0;
  if (!parse_or_exit(f, "network connect", args, &rc) || !require_args(f, "network connect", 2, 2, &rc)) return rc;
  if (!f.value("ip6").empty()) return daemon_error("IPv6 addresses are not supported by minidocker (IPv4 only)");
  if (!f.list("link").empty()) return daemon_error("--link is not supported by minidocker: use a user-defined network and names");
  if (!f.list("link-local-ip").empty()) return daemon_error("--link-local-ip is not supported by minidocker");
  auto e = inv.engine();
  if (!e) return report(e.error());
  const std::string &net = f.args()[0], &ctr = f.args()[1];
  auto st = engine::connect_network(**e, net, ctr, f.list("alias"), f.value("ip"));
  if (!st) return daemon_error(container_error(st.error(), ctr));
  return 0;
}

int network_disconnect(Invocation& inv, const std::vector<std::string>& args) {
  FlagSet f("minidocker network disconnect [OPTIONS] NETWORK CONTAINER\n\nDisconnect a container from a network",
            {{"force", 'f', FlagKind::kBool, "Force the container to disconnect from a network"}});
  int rc = 0;
  if (!parse_or_exit(f, "network disconnect", args, &rc) || !require_args(f, "network disconnect", 2, 2, &rc))
    return rc;
  auto e = inv.engine();
  if (!e) return report(e.error());
  const std::string &net = f.args()[0], &ctr = f.args()[1];
  auto st = engine::disconnect_network(**e, net, ctr, f.boolean("force"));
  if (!st) return daemon_error(container_error(st.error(), ctr));
  return 0;
}

}  // namespace

int cmd_network(Invocation& inv) {
  static const char* kUsage =
      "\nUsage:  minidocker network COMMAND\n\nManage networks\n\nCommands:\n"
      "  connect     Connect a container to a network\n"
      "  create      Create a network\n"
      "  disconnect  Disconnect a container from a network\n"
      "  inspect     Display detailed information on one or more networks\n"
      "  ls          List networks\n"
      "  prune       Remove all unused networks\n"
      "  rm          Remove one or more networks\n\n"
      "Run 'minidocker network COMMAND --help' for more information on a command.\n";
  if (inv.args.empty() || inv.args[0] == "--help" || inv.args[0] == "-h") {
    std::printf("%s", kUsage);
    return 0;
  }
  std::string sub = inv.args[0];
  std::vector<std::string> rest(inv.args.begin() + 1, inv.args.end());
  if (sub == "create") return network_create(inv, rest);
  if (sub == "ls" || sub == "list") return network_ls(inv, rest);
  if (sub == "inspect") return network_inspect(inv, rest);
  if (sub == "rm" || sub == "remove") return network_rm(inv, rest);
  if (sub == "prune") return network_prune(inv, rest);
  if (sub == "connect") return network_connect(inv, rest);
  if (sub == "disconnect") return network_disconnect(inv, rest);
  std::fprintf(stderr, "minidocker: 'network %s' is not a minidocker command.\nSee 'minidocker network --help'\n", sub.c_str());
  return 1;
}

}  // namespace md::cli
