#include "engine/core/container_filter.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <regex>

#include <nlohmann/json.hpp>

#include "engine/core/containers.h"
#include "engine/core/network_setup.h"

namespace md::engine {
namespace {

using nlohmann::json;
using store::ContainerState;

const std::set<std::string> kKeys = {"status", "name",    "id",      "exited",    "label",  "ancestor", "health",
                                     "volume", "before",  "since",   "network",   "is-task", "publish", "expose",
                                     "isolation"};

Error invalid_value(const std::string& key, const std::string& value) {
  return Error{EINVAL, "invalid filter '" + key + "=" + value + "'"};
}

bool is_up_state(ContainerState s) {
  return s == ContainerState::kRunning || s == ContainerState::kPaused || s == ContainerState::kRestarting;
}

// Go's strconv.ParseBool.
std::optional<bool> go_bool(const std::string& v) {
  if (v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True") return true;
  if (v == "0" || v == "f" || v == "F" || v == "false" || v == "FALSE" || v == "False") return false;
  return std::nullopt;
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char ch) { return std::isdigit(ch); });
}

// ancestor=busybox matches a container created from "busybox" or "busybox:latest", or
// from whatever image the reference resolves to now.
bool ancestor_matches(Engine& e, const store::Container& c, const std::string& v) {
  std::string given = c.config.value("Image", "");
  auto with_tag = [](const std::string& r) {
    auto slash = r.rfind('/');
    auto colon = r.rfind(':');
    bool tagged = colon != std::string::npos && (slash == std::string::npos || colon > slash);
    return tagged || r.find('@') != std::string::npos ? r : r + ":latest";
  };
  if (given == v || (!given.empty() && with_tag(given) == with_tag(v))) return true;
  auto img = e.images().get(v);
  return img && img->id == c.image;
}

bool key_matches(Engine& e, const store::Container& c, const ContainerFilters& f, const std::string& key,
                 const std::vector<std::string>& values) {
  if (key == "label") return labels_match(values, c.labels);
  if (key == "before") return !f.before_ns || c.created < *f.before_ns;
  if (key == "since") return !f.since_ns || c.created > *f.since_ns;
  if (key == "is-task") {
    bool task = c.labels.count("com.docker.swarm.task") > 0;
    for (auto& v : values)
      if (go_bool(v).value_or(false) == task) return true;
    return false;
  }
  for (size_t i = 0; i < values.size(); ++i) {
    const std::string& v = values[i];
    if (key == "status") {
      if (store::state_name(c.state) == v) return true;
    } else if (key == "name") {
      if (regex_search_match(v, "/" + c.name)) return true;
    } else if (key == "id") {
      if (regex_search_match(v, c.id)) return true;
    } else if (key == "exited") {
      if (c.state == ContainerState::kExited && std::to_string(c.exit_code) == v) return true;
    } else if (key == "ancestor") {
      if (ancestor_matches(e, c, v)) return true;
    } else if (key == "health") {
      std::string h = c.health.is_object() ? c.health.value("Status", "none") : "none";
      if (h == v) return true;
    } else if (key == "volume") {
      for (auto& m : c.host_config.value("MountPoints", json::array()))
        if (m.value("Name", "") == v || m.value("Destination", "") == v) return true;
    } else if (key == "network") {
      for (auto& [name, id] : container_network_names(e, c))
        if (name == v || (!id.empty() && id.starts_with(v))) return true;
    } else if (key == "publish") {
      for (auto& p : container_port_entries(e, c))
        if (!p.ip.empty() && f.publish[i].count(std::to_string(p.public_port) + "/" + p.type)) return true;
    } else if (key == "expose") {
      auto exposed = c.config.value("ExposedPorts", json::object());
      if (exposed.is_object())
        for (auto& [k, _] : exposed.items())
          if (f.expose[i].count(k.find('/') == std::string::npos ? k + "/tcp" : k)) return true;
    } else if (key == "isolation") {
      std::string iso = c.host_config.value("Isolation", "");
      if (iso == v || (iso.empty() && v == "default")) return true;
    }
  }
  return false;
}

}  // namespace

bool regex_search_match(const std::string& pattern, const std::string& text) {
  try {
    return std::regex_search(text, std::regex(pattern, std::regex::ECMAScript));
  } catch (const std::regex_error&) {
    return false;
  }
}

bool labels_match(const std::vector<std::string>& want, const std::map<std::string, std::string>& labels) {
  for (auto& w : want) {
    auto eq = w.find('=');
    auto it = labels.find(w.substr(0, eq));
    if (it == labels.end()) return false;
    if (eq != std::string::npos && it->second != w.substr(eq + 1)) return false;
  }
  return true;
}

Result<std::set<std::string>> parse_port_filter(const std::string& key, const std::string& v) {
  if (v.find(':') != std::string::npos) return fail("filter for '" + key + "' should not contain ':': " + v, EINVAL);
  auto slash = v.find('/');
  std::string range = v.substr(0, slash), proto = slash == std::string::npos ? "tcp" : v.substr(slash + 1);
  auto dash = range.find('-');
  auto num = [](const std::string& s) -> int {
    if (!all_digits(s) || s.size() > 5) return -1;
    int n = std::atoi(s.c_str());
    return n <= 65535 ? n : -1;
  };
  int lo = num(range.substr(0, dash)), hi = dash == std::string::npos ? lo : num(range.substr(dash + 1));
  if (lo < 0 || hi < 0 || hi < lo || (proto != "tcp" && proto != "udp" && proto != "sctp"))
    return fail("error while looking up for " + key + " " + v + ": invalid port range " + range, EINVAL);
  std::set<std::string> out;
  for (int p = lo; p <= hi; ++p) out.insert(std::to_string(p) + "/" + proto);
  return out;
}

Result<ContainerFilters> parse_container_filters(Engine& e, const FilterMap& raw) {
  ContainerFilters f;
  for (auto& [key, values] : raw) {
    if (!kKeys.count(key)) return fail("invalid filter '" + key + "'", EINVAL);
    for (auto& v : values) {
      if (key == "status") {
        if (!store::parse_state(v)) return std::unexpected(invalid_value(key, v));
        f.implies_all = true;
      } else if (key == "exited") {
        bool neg = !v.empty() && v[0] == '-';
        if (!all_digits(neg ? v.substr(1) : v))
          return fail("strconv.Atoi: parsing \"" + v + "\": invalid syntax", EINVAL);
        f.implies_all = true;
      } else if (key == "health") {
        if (v != "starting" && v != "healthy" && v != "unhealthy" && v != "none")
          return fail("Unrecognised filter value for health: " + v, EINVAL);
      } else if (key == "isolation") {
        if (v != "default" && v != "process" && v != "hyperv") return std::unexpected(invalid_value(key, v));
      } else if (key == "is-task") {
        if (!go_bool(v)) return std::unexpected(invalid_value(key, v));
      } else if (key == "publish" || key == "expose") {
        (key == "publish" ? f.publish : f.expose).push_back(TRY(parse_port_filter(key, v)));
      } else if (key == "before" || key == "since") {
        auto other = e.containers().get(v);
        if (!other) return fail("No such container: " + v, ENOENT);
        // Docker keeps the last value given.
        (key == "before" ? f.before_ns : f.since_ns) = other->created;
        f.implies_all = true;
      }
    }
    if (!values.empty()) f.values[key] = values;
  }
  return f;
}

bool container_matches(Engine& e, const store::Container& c, const ContainerFilters& f) {
  for (auto& [key, values] : f.values)
    if (!key_matches(e, c, f, key, values)) return false;
  return true;
}

Result<std::vector<store::Container>> list_containers(Engine& e, const ContainerListOptions& o) {
  (void)reconcile_all(e);
  store::ContainerFilter cf;
  cf.all = o.all || o.limit > 0 || o.filters.implies_all;
  auto list = TRY(e.containers().list(cf));
  std::vector<store::Container> out;
  for (auto& c : list) {
    if (!container_matches(e, c, o.filters)) continue;
    if (o.limit > 0 && int64_t(out.size()) >= o.limit) break;
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<PortEntry> container_port_entries(Engine& e, const store::Container& c) {
  std::vector<PortEntry> out;
  if (!is_up_state(c.state)) return out;
  json ports = container_ports_json(e, c);
  if (!ports.is_object()) return out;
  for (auto& [key, bindings] : ports.items()) {
    auto slash = key.find('/');
    PortEntry p;
    p.private_port = std::atoi(key.substr(0, slash).c_str());
    p.type = slash == std::string::npos ? "tcp" : key.substr(slash + 1);
    if (!bindings.is_array() || bindings.empty()) {
      out.push_back(p);
      continue;
    }
    for (auto& b : bindings) {
      PortEntry q = p;
      q.ip = b.value("HostIp", "");
      if (q.ip.empty()) q.ip = "0.0.0.0";  // Docker's summary names the address
      q.public_port = std::atoi(b.value("HostPort", "0").c_str());
      out.push_back(q);
    }
  }
  return out;
}

std::string summary_command(const store::Container& c) {
  std::vector<std::string> argv;
  for (auto k : {"Entrypoint", "Cmd"})
    if (c.config.contains(k) && c.config[k].is_array())
      for (auto& a : c.config[k])
        if (a.is_string()) argv.push_back(a.get<std::string>());
  std::string out;
  for (size_t i = 0; i < argv.size(); ++i) {
    if (i > 0) out += ' ';
    out += i > 0 && argv[i].find(' ') != std::string::npos ? "'" + argv[i] + "'" : argv[i];
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> container_network_names(Engine& e, const store::Container& c) {
  std::vector<std::pair<std::string, std::string>> out;  // name, id
  std::string mode = c.host_config.value("NetworkMode", "none");
  if (mode == "host" || mode == "none") {
    auto n = e.networks().get(mode);
    out.push_back({mode, n ? n->id : ""});
    return out;
  }
  for (auto& ep : e.networks().endpoints_of(c.id).value_or(std::vector<store::Endpoint>{}))
    if (auto n = e.networks().get(ep.network_id)) out.push_back({n->name, n->id});
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace md::engine
