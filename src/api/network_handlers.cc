// Network endpoints: list, inspect, create, remove, connect, disconnect, prune — the
// engine's networks.h (bridges, subnets, DNS) in Docker's HTTP shapes and status codes.
// docker-compose v1 drives these: it inspects <project>_default, creates it with its
// labels when missing, and connects each container with its service name as an alias.
// docs/api-objects.md.
#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/http_util.h"
#include "api/prune_filter.h"
#include "engine/core/container_filter.h"
#include "engine/core/networks.h"

namespace md::api {
namespace {

using nlohmann::json;

// The network `ref` names (id, name or id prefix); Docker's 404 text otherwise.
Result<store::Network> find_network(engine::Engine& e, const std::string& ref) {
  (void)engine::ensure_builtin_networks(e);
  auto n = e.networks().get(ref);
  if (!n && n.error().errno_value == ENOENT) return fail("network " + ref + " not found", ENOENT);
  return n;
}

// Fields of a client's body, null-tolerant: python3-docker sends null for what is unset.
std::string str_of(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : "";
}
bool bool_of(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_boolean() && it->get<bool>();
}

bool string_map(const json& j, std::map<std::string, std::string>& out) {
  if (j.is_null()) return true;
  if (!j.is_object()) return false;
  for (auto& [k, v] : j.items()) {
    if (!v.is_string()) return false;
    out[k] = v.get<std::string>();
  }
  return true;
}

// GET /networks?filters= (name, id, driver, label, type=custom|builtin, scope, dangling).
Response networks_list(engine::Engine* e, const Request& q) {
  auto raw = parse_filters(query_value(q, "filters"));
  if (!raw) return error_response(400, raw.error().message);
  static const std::vector<std::string> kKeys = {"dangling", "driver", "id", "label", "name", "scope", "type"};
  for (auto& [key, values] : *raw) {
    if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end()) return error_response(400, "invalid filter '" + key + "'");
    for (auto& v : values) {
      if (key == "type" && v != "custom" && v != "builtin") return error_response(400, "invalid filter: 'type'='" + v + "'");
      if (key == "dangling" && v != "true" && v != "false" && v != "1" && v != "0")
        return error_response(400, "invalid filter 'dangling=" + v + "'");
    }
  }
  (void)engine::ensure_builtin_networks(*e);
  auto list = e->networks().list();
  if (!list) return error_response(list.error());
  std::sort(list->begin(), list->end(), [](auto& a, auto& b) { return a.name < b.name; });
  auto any = [&](const std::string& key, auto pred) {
    auto it = raw->find(key);
    if (it == raw->end() || it->second.empty()) return true;
    return std::any_of(it->second.begin(), it->second.end(), pred);
  };
  json out = json::array();
  for (auto& n : *list) {
    std::map<std::string, std::string> labels;
    string_map(n.labels, labels);
    bool builtin = engine::is_builtin_network(n.name);
    bool used = !e->networks().endpoints_on(n.id).value_or(std::vector<store::Endpoint>{}).empty();
    bool ok = any("name", [&](auto& v) { return engine::regex_search_match(v, n.name); }) &&
              any("id", [&](auto& v) { return engine::regex_search_match(v, n.id); }) &&
              any("driver", [&](auto& v) { return v == n.driver; }) &&
              any("scope", [&](auto& v) { return v == "local"; }) &&
              any("type", [&](auto& v) { return (v == "builtin") == builtin; }) &&
              any("dangling", [&](auto& v) {
                bool want = v == "true" || v == "1";
                return want == (!builtin && !used);
              }) &&
              (!raw->count("label") || engine::labels_match(raw->at("label"), labels));
    if (ok) out.push_back(engine::network_json(*e, n, false));
  }
  return json_response(200, out);
}

// GET /networks/{id}
Response network_inspect(engine::Engine* e, const Request& q) {
  auto n = find_network(*e, q.params.at("id"));
  if (!n) return error_response(n.error());
  return json_response(200, engine::network_json(*e, *n));
}

// POST /networks/create: {Name, CheckDuplicate, Driver, Internal, Attachable, Ingress,
// EnableIPv6, IPAM{Driver, Config[{Subnet, Gateway, IPRange}], Options}, Options, Labels}
// → 201 {"Id", "Warning"}. What we cannot do (IPv6, ingress, several subnets, other
// drivers) is refused with a 4xx rather than half-honoured.
Response network_create(engine::Engine* e, const Request& q) {
  json b = json::parse(q.body.empty() ? std::string("{}") : q.body, nullptr, false);
  if (b.is_discarded() || !b.is_object()) return error_response(400, "invalid JSON: the body is not a JSON object");
  engine::NetworkCreateRequest r;
  if (b.contains("Name") && !b["Name"].is_string()) return error_response(400, "Name must be a string");
  r.name = str_of(b, "Name");
  if (r.name.empty()) return error_response(400, "network name cannot be empty");
  if (!str_of(b, "Driver").empty()) r.driver = str_of(b, "Driver");
  if (r.driver != "bridge") return error_response(404, "plugin \"" + r.driver + "\" not found");
  r.internal = bool_of(b, "Internal");
  if (bool_of(b, "EnableIPv6")) return error_response(400, "IPv6 networks are not supported by minidocker");
  if (bool_of(b, "Ingress")) return error_response(400, "ingress networks need swarm mode, which minidocker does not have");
  if (b.contains("ConfigFrom") && b["ConfigFrom"].is_object() && !str_of(b["ConfigFrom"], "Network").empty())
    return error_response(400, "config-from networks are not supported by minidocker");
  if (!string_map(b.value("Labels", json()), r.labels)) return error_response(400, "Labels must be a map of strings");
  if (!string_map(b.value("Options", json()), r.options)) return error_response(400, "Options must be a map of strings");
  json ipam = b.value("IPAM", json());
  if (ipam.is_object()) {
    std::string driver = str_of(ipam, "Driver");
    if (!driver.empty() && driver != "default") return error_response(404, "plugin \"" + driver + "\" not found");
    json configs = ipam.value("Config", json());
    if (configs.is_array()) {
      if (configs.size() > 1) return error_response(400, "only one IPAM config (one IPv4 subnet) per network is supported");
      if (!configs.empty()) {
        const json& c = configs[0];
        if (!c.is_object()) return error_response(400, "IPAM.Config entries must be objects");
        r.subnet = str_of(c, "Subnet");
        r.gateway = str_of(c, "Gateway");
        std::string range = str_of(c, "IPRange");
        if (!range.empty() && range != r.subnet)
          return error_response(400, "IPAM IPRange is not supported by minidocker (use the whole subnet)");
        if (r.subnet.empty() && !r.gateway.empty()) return error_response(400, "a gateway needs a subnet");
      }
    }
  }
  // Docker refuses a duplicate name whether or not CheckDuplicate is set (since 1.44; we
  // always do): two networks with one name make every name lookup ambiguous.
  auto n = engine::create_network(*e, r);
  if (!n) return error_response(n.error());
  return json_response(201, {{"Id", n->id}, {"Warning", ""}});
}

// DELETE /networks/{id} → 204; 403 for the built-in ones and while containers are on it.
Response network_delete(engine::Engine* e, const Request& q) {
  auto n = find_network(*e, q.params.at("id"));
  if (!n) return error_response(n.error());
  auto s = engine::remove_network(*e, n->id);
  if (!s) {
    int err = s.error().errno_value;
    return error_response(err == EPERM || err == EBUSY ? 403 : error_response(s.error()).status, s.error().message);
  }
  return no_content();
}

// POST /networks/{id}/connect: {Container, EndpointConfig{Aliases, IPAMConfig{IPv4Address}}} → 200.
Response network_connect(engine::Engine* e, const Request& q) {
  json b = json::parse(q.body.empty() ? std::string("{}") : q.body, nullptr, false);
  if (b.is_discarded() || !b.is_object()) return error_response(400, "invalid JSON: the body is not a JSON object");
  auto n = find_network(*e, q.params.at("id"));
  if (!n) return error_response(n.error());
  std::string cref = str_of(b, "Container");
  if (cref.empty()) return error_response(400, "Container is required");
  auto c = lookup(*e, cref);
  if (!c) return error_response(c.error());
  std::vector<std::string> aliases;
  std::string ip;
  json ec = b.value("EndpointConfig", json());
  if (ec.is_object()) {
    if (ec.contains("Aliases") && ec["Aliases"].is_array())
      for (auto& a : ec["Aliases"])
        if (a.is_string()) aliases.push_back(a.get<std::string>());
    if (ec.contains("IPAMConfig") && ec["IPAMConfig"].is_object()) ip = str_of(ec["IPAMConfig"], "IPv4Address");
  }
  auto s = engine::connect_network(*e, n->id, c->id, aliases, ip);
  if (!s) {
    int err = s.error().errno_value;
    if (err == EEXIST && s.error().message.find("Address") == std::string::npos)
      return error_response(403, "endpoint with name " + c->name + " already exists in network " + n->name);
    return error_response(err == EEXIST ? 409 : error_response(s.error()).status, s.error().message);
  }
  return Response{};
}

// POST /networks/{id}/disconnect: {Container, Force} → 200.
Response network_disconnect(engine::Engine* e, const Request& q) {
  json b = json::parse(q.body.empty() ? std::string("{}") : q.body, nullptr, false);
  if (b.is_discarded() || !b.is_object()) return error_response(400, "invalid JSON: the body is not a JSON object");
  auto n = find_network(*e, q.params.at("id"));
  if (!n) return error_response(n.error());
  std::string cref = str_of(b, "Container");
  if (cref.empty()) return error_response(400, "Container is required");
  bool force = bool_of(b, "Force");
  if (!force) {
    auto c = lookup(*e, cref);
    if (!c) return error_response(c.error());
  }
  auto s = engine::disconnect_network(*e, n->id, cref, force);
  if (!s) return error_response(s.error());
  return Response{};
}

// POST /networks/prune?filters={"until":…,"label":…,"label!":…} → {"NetworksDeleted": [names]}.
Response networks_prune(engine::Engine* e, const Request& q) {
  auto raw = parse_filters(query_value(q, "filters"));
  if (!raw) return error_response(400, raw.error().message);
  auto f = prune_filter_from(*raw, {"until", "label", "label!"});
  if (!f) return error_response(400, f.error().message);
  auto removed = engine::prune_networks(*e, *f);
  if (!removed) return error_response(removed.error());
  return json_response(200, {{"NetworksDeleted", *removed}});
}

}  // namespace

void add_network_routes(Router<Route>& r) {
  r.add("GET", "/networks", {networks_list, RunOn::kPool});
  r.add("POST", "/networks/create", {network_create, RunOn::kPool});
  r.add("POST", "/networks/prune", {networks_prune, RunOn::kPool});
  r.add("GET", "/networks/{id}", {network_inspect, RunOn::kPool});
  r.add("DELETE", "/networks/{id}", {network_delete, RunOn::kPool});
  r.add("POST", "/networks/{id}/connect", {network_connect, RunOn::kPool});
  r.add("POST", "/networks/{id}/disconnect", {network_disconnect, RunOn::kPool});
}

}  // namespace md::api
