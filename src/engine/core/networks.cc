// Network management: see networks.h.
#include "engine/core/networks.h"

#include <arpa/inet.h>

#include <algorithm>
#include <set>

#include "base/file_util.h"
#include "base/scope_guard.h"
#include "engine/core/containers.h"
#include "engine/core/network_config.h"
#include "engine/core/network_setup.h"
#include "engine/store/container_lock.h"
#include "engine/store/ids.h"
#include "net/netlink.h"

namespace md::engine {

using nlohmann::json;

namespace {


bool is_up(const Paths& p, const std::string& container_id) { return path_exists(p.netns_file(container_id)); }

// Subnets a new network must not overlap: our networks' and the host's own routes
// (excluding our bridges' routes, which are our networks anyway).
Result<std::vector<store::Ipv4Subnet>> subnets_in_use(Engine& e) {
  std::vector<store::Ipv4Subnet> used;
  for (auto& n : TRY(e.networks().list()))
    if (auto s = store::parse_subnet(n.subnet)) used.push_back(*s);
  if (auto host = net::Netlink::open()) {
    if (auto nets = host->ipv4_networks_in_use())
      for (auto& n : *nets) {
        if (n.prefix == 0) continue;  // the default route overlaps everything
        store::Ipv4Subnet s{ntohl(n.addr_be), n.prefix};
        s.network &= s.mask();
        used.push_back(s);
      }
  }
  return used;
}

}  // namespace

bool is_builtin_network(const std::string& name) { return name == "bridge" || name == "host" || name == "none"; }

Status ensure_builtin_networks(Engine& e) {
  if (e.networks().get("bridge")) return {};
  NetworkDefaults d = TRY(load_network_defaults(e.paths()));
  // bip is the gateway's address with the subnet's length: "10.77.0.1/16".
  std::string where = "\"bip\" of " + e.paths().daemon_config();
  auto slash = d.bip.find('/');
  if (slash == std::string::npos) return fail("invalid " + where + " \"" + d.bip + "\": expected an address/length such as 10.77.0.1/16", EINVAL);
  uint32_t gateway = TRY_CTX(store::parse_ipv4(d.bip.substr(0, slash)), where);
  store::Ipv4Subnet bip{0, atoi(d.bip.c_str() + slash + 1)};
  bip.network = gateway & bip.mask();
  bip = TRY_CTX(store::parse_subnet(bip.str()), where);
  store::Network bridge;
  bridge.name = "bridge";
  bridge.bridge = d.bridge;
  bridge.subnet = bip.str();
  bridge.gateway = store::ipv4_str(gateway);
  bridge.options = {{"com.docker.network.bridge.default_bridge", "true"},
                    {"com.docker.network.bridge.enable_ip_masquerade", "true"},
                    {"com.docker.network.bridge.name", d.bridge}};
  for (store::Network n : {bridge, store::Network{.name = "host", .driver = "host"},
                           store::Network{.name = "none", .driver = "null"}}) {
    auto made = e.networks().create(n);
    if (!made && made.error().errno_value != EEXIST) return std::unexpected(made.error());
  }
  return {};
}

Result<store::Network> create_network(Engine& e, const NetworkCreateRequest& r) {
  TRY(ensure_builtin_networks(e));
  if (r.name.empty()) return fail("network name cannot be empty", EINVAL);
  if (!store::is_valid_name(r.name))
    return fail("invalid network name \"" + r.name + "\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", EINVAL);
  if (r.driver != "bridge")
    return fail("plugin \"" + r.driver + "\" not found: only the \"bridge\" driver can create networks", EINVAL);
  if (e.networks().get(r.name)) return fail("network with name " + r.name + " already exists", EEXIST);
  NetworkDefaults d = TRY(load_network_defaults(e.paths()));
  auto used = TRY(subnets_in_use(e));
  store::Ipv4Subnet subnet;
  if (!r.subnet.empty()) {
    subnet = TRY(store::parse_subnet(r.subnet));
    for (auto& n : TRY(e.networks().list()))
      if (auto s = store::parse_subnet(n.subnet); s && s->overlaps(subnet))
        return fail("Pool overlaps with other one on this address space: " + subnet.str() + " overlaps " + s->str() +
                        " of network " + n.name,
                    EINVAL);
  } else {
    std::optional<store::Ipv4Subnet> picked;
    for (auto& pool : d.pools) {
      auto base = TRY_CTX(store::parse_subnet(pool.base), "address pool of " + e.paths().daemon_config());
      if (auto s = store::pick_subnet(base, pool.size, used)) {
        picked = *s;
        break;
      }
    }
    if (!picked)
      return fail("could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network",
                  ENOSPC);
    subnet = *picked;
  }
  uint32_t gw = subnet.network + 1;
  if (!r.gateway.empty()) {
    gw = TRY(store::parse_ipv4(r.gateway));
    if (!subnet.contains(gw) || gw == subnet.network || gw == subnet.broadcast())
      return fail("invalid gateway " + r.gateway + ": not a host address of subnet " + subnet.str(), EINVAL);
  }
  store::Network n;
  n.id = TRY(store::generate_id());
  n.name = r.name;
  n.driver = "bridge";
  n.bridge = "md-" + n.id.substr(0, 12);
  if (auto it = r.options.find("com.docker.network.bridge.name"); it != r.options.end()) {
    if (it->second.empty() || it->second.size() > 15)
      return fail("invalid bridge name \"" + it->second + "\": 1-15 characters", EINVAL);
    n.bridge = it->second;
  }
  for (auto& other : TRY(e.networks().list()))
    if (other.driver == "bridge" && other.bridge == n.bridge)
      return fail("bridge name " + n.bridge + " is used by network " + other.name, EEXIST);
  n.subnet = subnet.str();
  n.gateway = store::ipv4_str(gw);
  n.internal = r.internal;
  n.dns = true;
  for (auto& [k, v] : r.labels) n.labels[k] = v;
  for (auto& [k, v] : r.options) n.options[k] = v;
  n = TRY(e.networks().create(n));
  auto drop = ScopeGuard([&] {
    (void)remove_network_plumbing(e, n);
    (void)e.networks().remove(n.id);
  });
  TRY(ensure_network_plumbing(e, n));
  drop.cancel();
  Event ev;
  ev.type = "network";
  ev.action = "create";
  ev.id = n.id;
  ev.attributes = {{"name", n.name}, {"type", n.driver}};
  e.emit(ev);
  return n;
}

Status remove_network(Engine& e, const std::string& ref) {
  TRY(ensure_builtin_networks(e));
  store::Network n = TRY(e.networks().get(ref));
  if (is_builtin_network(n.name))
    return fail(n.name + " is a pre-defined network and cannot be removed", EPERM);
  auto eps = TRY(e.networks().endpoints_on(n.id));
  if (!eps.empty()) {
    std::string names;
    for (auto& ep : eps)
      if (auto c = e.containers().get_by_id(ep.container_id)) names += (names.empty() ? "" : ", ") + c->name;
    return fail("error while removing network: network " + n.name + " id " + n.id + " has active endpoints (" + names +
                    ")",
                EBUSY);
  }
  TRY(remove_network_plumbing(e, n));
  TRY(e.networks().remove(n.id));
  Event ev;
  ev.type = "network";
  ev.action = "destroy";
  ev.id = n.id;
  ev.attributes = {{"name", n.name}, {"type", n.driver}};
  e.emit(ev);
  return {};
}

Result<std::vector<std::string>> prune_networks(Engine& e, const PruneFilter& f) {
  TRY(ensure_builtin_networks(e));
  auto list = TRY(e.networks().list());
  std::sort(list.begin(), list.end(), [](auto& a, auto& b) { return a.name < b.name; });
  std::vector<std::string> removed;
  for (auto& n : list) {
    if (is_builtin_network(n.name) || (f.until_ns && n.created >= *f.until_ns)) continue;
    std::map<std::string, std::string> labels;
    for (auto& [k, v] : n.labels.items())
      if (v.is_string()) labels[k] = v.get<std::string>();
    if (!prune_labels_match(f, labels) || !TRY(e.networks().endpoints_on(n.id)).empty()) continue;
    if (remove_network(e, n.id)) removed.push_back(n.name);
  }
  return removed;
}

json network_json(Engine& e, const store::Network& n, bool with_containers) {
  json config = json::array();
  if (!n.subnet.empty()) config.push_back({{"Subnet", n.subnet}, {"Gateway", n.gateway}});
  json containers = json::object();
  if (with_containers) {
    int prefix = store::parse_subnet(n.subnet).value_or(store::Ipv4Subnet{}).prefix;
    for (auto& ep : e.networks().endpoints_on(n.id).value_or(std::vector<store::Endpoint>{})) {
      if (!is_up(e.paths(), ep.container_id)) continue;  // Docker lists the running ones
      auto c = e.containers().get_by_id(ep.container_id);
      if (!c) continue;
      containers[ep.container_id] = {{"Name", c->name},
                                     {"EndpointID", ep.endpoint_id},
                                     {"MacAddress", ep.mac},
                                     {"IPv4Address", ep.ip + "/" + std::to_string(prefix)},
                                     {"IPv6Address", ""}};
    }
  }
  return {{"Name", n.name},
          {"Id", n.id},
          {"Created", rfc3339_nano(n.created)},
          {"Scope", "local"},
          {"Driver", n.driver},
          {"EnableIPv6", false},
          {"IPAM", {{"Driver", "default"}, {"Options", n.name == "bridge" ? json() : json::object()}, {"Config", config}}},
          {"Internal", n.internal},
          {"Attachable", false},
          {"Ingress", false},
          {"ConfigFrom", {{"Network", ""}}},
          {"ConfigOnly", false},
          {"Containers", containers},
          {"Options", n.options},
          {"Labels", n.labels}};
}

Result<store::Network> network_for_mode(Engine& e, const std::string& mode) {
  TRY(ensure_builtin_networks(e));
  std::string name = mode.empty() || mode == "default" ? "bridge" : mode;
  auto n = e.networks().get(name);
  if (!n && n.error().errno_value == ENOENT) return fail("network " + name + " not found", ENOENT);
  return n;
}

Status allocate_container_endpoints(Engine& e, const store::Container& c, const json& endpoints_config) {
  std::string mode = c.host_config.value("NetworkMode", "none");
  if (mode == "none" || mode == "host" || mode.rfind("container:", 0) == 0) return {};
  if (mode == "default") mode = "bridge";
  std::vector<std::pair<std::string, json>> wanted = {{mode, json::object()}};
  if (endpoints_config.is_object()) {
    for (auto& [name, cfg] : endpoints_config.items()) {
      if (name == mode || (mode == "bridge" && name == "default") || (mode == "bridge" && name == "bridge")) {
        wanted[0].second = cfg;
        continue;
      }
      wanted.push_back({name, cfg});
    }
  }
  auto undo = ScopeGuard([&] {
    for (auto& ep : e.networks().endpoints_of(c.id).value_or(std::vector<store::Endpoint>{}))
      (void)e.networks().remove_endpoint(c.id, ep.network_id);
  });
  for (auto& [name, cfg] : wanted) {
    store::Network n = TRY(network_for_mode(e, name));
    if (n.driver != "bridge")
      return fail("container cannot be connected to network " + n.name + " (driver " + n.driver + ") and others", EINVAL);
    std::vector<std::string> aliases;
    std::string ip;
    if (cfg.is_object()) {
      if (cfg.contains("Aliases") && cfg["Aliases"].is_array())
        for (auto& a : cfg["Aliases"])
          if (a.is_string()) aliases.push_back(a.get<std::string>());
      if (cfg.contains("IPAMConfig") && cfg["IPAMConfig"].is_object())
        ip = cfg["IPAMConfig"].value("IPv4Address", "");
    }
    if (!aliases.empty() && !n.dns)
      return fail("network-scoped aliases are only supported for user-defined networks", EINVAL);
    if (!ip.empty() && n.name == "bridge")
      return fail("user specified IP address is supported on user defined networks only", EINVAL);
    TRY(e.networks().allocate_endpoint(c.id, n, ip, aliases));
  }
  undo.cancel();
  return {};
}

Status connect_network(Engine& e, const std::string& network_ref, const std::string& container_ref,
                       const std::vector<std::string>& aliases, const std::string& ip) {
  TRY(ensure_builtin_networks(e));
  store::Network n = TRY(e.networks().get(network_ref));
  std::string id = TRY(e.containers().resolve(container_ref));
  auto lock = TRY(store::ContainerLock::acquire(e.paths().root, id));
  store::Container c = TRY(refresh_locked(e, id));
  std::string mode = c.host_config.value("NetworkMode", "none");
  if (mode == "host" || mode.rfind("container:", 0) == 0 || n.driver != "bridge")
    return fail("container cannot be disconnected from host network or connected to host network", EINVAL);
  if (mode == "none") return fail("container " + c.name + " has --network none: it cannot be connected to " + n.name, EINVAL);
  if (!aliases.empty() && !n.dns) return fail("network-scoped aliases are only supported for user-defined networks", EINVAL);
  store::Endpoint ep = TRY(e.networks().allocate_endpoint(id, n, ip, aliases));
  auto undo = ScopeGuard([&] { (void)e.networks().remove_endpoint(id, n.id); });
  TRY(attach_endpoint_live(e, c, ep));
  undo.cancel();
  Event ev;
  ev.type = "network";
  ev.action = "connect";
  ev.id = n.id;
  ev.attributes = {{"container", id}, {"name", n.name}, {"type", n.driver}};
  e.emit(ev);
  return {};
}

Status disconnect_network(Engine& e, const std::string& network_ref, const std::string& container_ref, bool force) {
  TRY(ensure_builtin_networks(e));
  store::Network n = TRY(e.networks().get(network_ref));
  auto id = e.containers().resolve(container_ref);
  if (!id) {
    if (!force) return std::unexpected(id.error());
    return {};
  }
  auto lock = TRY(store::ContainerLock::acquire(e.paths().root, *id));
  store::Container c = TRY(refresh_locked(e, *id));
  std::optional<store::Endpoint> found;
  for (auto& ep : TRY(e.networks().endpoints_of(*id)))
    if (ep.network_id == n.id) found = ep;
  if (!found) return fail("container " + c.name + " is not connected to network " + n.name, EINVAL);
  TRY(detach_endpoint_live(e, c, *found));
  TRY(e.networks().remove_endpoint(*id, n.id));
  // Its names leave the network's DNS only once the endpoint row is gone.
  if (n.dns) {
    auto netlock = TRY(NetworkLock::acquire(e.paths()));
    TRY(refresh_network_dns(e, n));
  }
  Event ev;
  ev.type = "network";
  ev.action = "disconnect";
  ev.id = n.id;
  ev.attributes = {{"container", *id}, {"name", n.name}, {"type", n.driver}};
  e.emit(ev);
  return {};
}

json network_settings_json(Engine& e, const store::Container& c) {
  bool up = c.state == store::ContainerState::kRunning || c.state == store::ContainerState::kPaused ||
            c.state == store::ContainerState::kRestarting;
  std::string mode = c.host_config.value("NetworkMode", "none");
  json networks = json::object();
  json top = {{"EndpointID", ""}, {"Gateway", ""}, {"IPAddress", ""}, {"IPPrefixLen", 0}, {"MacAddress", ""}};
  auto empty_endpoint = [](const std::string& network_id) {
    return json{{"IPAMConfig", nullptr}, {"Links", nullptr}, {"Aliases", nullptr}, {"NetworkID", network_id},
                {"EndpointID", ""}, {"Gateway", ""}, {"IPAddress", ""}, {"IPPrefixLen", 0}, {"IPv6Gateway", ""},
                {"GlobalIPv6Address", ""}, {"GlobalIPv6PrefixLen", 0}, {"MacAddress", ""}, {"DriverOpts", nullptr}};
  };
  if (mode == "host" || mode == "none") {
    auto n = e.networks().get(mode);
    networks[mode] = empty_endpoint(n ? n->id : "");
  }
  for (auto& ep : e.networks().endpoints_of(c.id).value_or(std::vector<store::Endpoint>{})) {
    auto n = e.networks().get(ep.network_id);
    if (!n) continue;
    json j = empty_endpoint(n->id);
    if (!ep.aliases.empty() || n->dns) {
      json aliases = json::array();
      for (auto& a : ep.aliases) aliases.push_back(a);
      if (n->dns) aliases.push_back(store::short_id(c.id));
      j["Aliases"] = aliases;
    }
    if (ep.static_ip) j["IPAMConfig"] = {{"IPv4Address", ep.ip}};
    if (up) {
      j["EndpointID"] = ep.endpoint_id;
      j["Gateway"] = n->gateway;
      j["IPAddress"] = ep.ip;
      j["IPPrefixLen"] = store::parse_subnet(n->subnet).value_or(store::Ipv4Subnet{}).prefix;
      j["MacAddress"] = ep.mac;
      if (n->name == "bridge")
        for (auto k : {"EndpointID", "Gateway", "IPAddress", "IPPrefixLen", "MacAddress"}) top[k] = j[k];
    }
    if (n->dns) {
      json names = {c.name, store::short_id(c.id)};
      for (auto& a : ep.aliases) names.push_back(a);
      j["DNSNames"] = names;
    }
    networks[n->name] = j;
  }
  std::string sandbox = up && path_exists(e.paths().netns_file(c.id)) ? e.paths().netns_file(c.id)
                        : up && c.pid                                 ? "/proc/" + std::to_string(c.pid) + "/ns/net"
                                                                      : "";
  json s = {{"Bridge", ""}, {"SandboxID", up ? c.id : ""}, {"HairpinMode", false}, {"LinkLocalIPv6Address", ""},
            {"LinkLocalIPv6PrefixLen", 0}, {"Ports", container_ports_json(e, c)}, {"SandboxKey", sandbox},
            {"SecondaryIPAddresses", nullptr}, {"SecondaryIPv6Addresses", nullptr}, {"GlobalIPv6Address", ""},
            {"GlobalIPv6PrefixLen", 0}, {"IPv6Gateway", ""}, {"Networks", networks}};
  for (auto& [k, v] : top.items()) s[k] = v;
  return s;
}

}  // namespace md::engine
