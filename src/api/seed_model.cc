// The seeds' container object and create body (seed_model.h).
#include "api/seed_model.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "engine/core/containers.h"
#include "engine/core/networks.h"
#include "engine/core/pods.h"

namespace md::api {

using nlohmann::json;

namespace {

json time_or_null(int64_t ns) { return ns > 0 ? json(engine::rfc3339_nano(ns)) : json(nullptr); }

// "80/tcp" + bindings → the seeds' port objects.
void add_ports(json& out, const std::string& key, const json& bindings) {
  auto slash = key.find('/');
  int cport = std::atoi(key.substr(0, slash).c_str());
  std::string proto = slash == std::string::npos ? "tcp" : key.substr(slash + 1);
  if (!bindings.is_array() || bindings.empty()) {
    out.push_back({{"host_ip", ""}, {"host_port", 0}, {"container_port", cport}, {"protocol", proto}});
    return;
  }
  for (auto& b : bindings)
    out.push_back({{"host_ip", b.value("HostIp", "")},
                   {"host_port", std::atoi(b.value("HostPort", "0").c_str())},
                   {"container_port", cport},
                   {"protocol", proto}});
}

std::string restart_text(const json& hc) {
  json rp = hc.value("RestartPolicy", json::object());
  if (!rp.is_object()) return "no";
  std::string name = rp.value("Name", "");
  if (name.empty()) return "no";
  int n = rp.value("MaximumRetryCount", 0);
  if (name == "on-failure" && n > 0) return name + ":" + std::to_string(n);
  return name;
}

// Docker's Healthcheck → {command, interval, timeout, retries} in seconds; null when none.
json health_check_json(const json& cfg) {
  json hc = cfg.value("Healthcheck", json());
  if (!hc.is_object() || !hc.contains("Test") || !hc["Test"].is_array() || hc["Test"].empty()) return nullptr;
  const json& test = hc["Test"];
  std::string kind = test[0].is_string() ? test[0].get<std::string>() : "";
  if (kind == "NONE") return nullptr;
  std::string cmd;
  if (kind == "CMD-SHELL" && test.size() > 1) {
    cmd = test[1].get<std::string>();
  } else {
    for (size_t i = 1; i < test.size(); ++i) cmd += (i > 1 ? " " : "") + test[i].get<std::string>();
  }
  auto secs = [&](const char* k) { return double(hc.value(k, int64_t(0))) / 1e9; };
  return {{"command", cmd}, {"interval", secs("Interval")}, {"timeout", secs("Timeout")}, {"retries", hc.value("Retries", 0)}};
}

json env_map(const json& cfg) {
  json out = json::object();
  if (cfg.contains("Env") && cfg["Env"].is_array())
    for (auto& v : cfg["Env"]) {
      if (!v.is_string()) continue;
      std::string kv = v.get<std::string>();
      auto eq = kv.find('=');
      out[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
    }
  return out;
}

json command_array(const json& cfg) {
  json out = json::array();
  for (auto k : {"Entrypoint", "Cmd"})
    if (cfg.contains(k) && cfg[k].is_array())
      for (auto& a : cfg[k]) out.push_back(a);
  return out;
}

std::unexpected<Error> bad(const std::string& field, const std::string& what) { return fail(field + ": " + what, EINVAL); }

std::string shown(const json& v) { return v.dump(); }

bool valid_port(long n) { return n >= 1 && n <= 65535; }

// "[IP:]HOST:CONTAINER[/proto]", "IP::CONTAINER", "CONTAINER[/proto]", "[v6]:HOST:CONTAINER".
Status add_port_spec(const std::string& spec, json& exposed, json& bindings) {
  std::string s = spec, proto = "tcp";
  if (auto slash = s.rfind('/'); slash != std::string::npos) {
    proto = s.substr(slash + 1);
    s = s.substr(0, slash);
    if (proto != "tcp" && proto != "udp" && proto != "sctp") return bad("ports", "unknown protocol in \"" + spec + "\"");
  }
  std::string ip, host, cont;
  if (!s.empty() && s[0] == '[') {
    auto close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') return bad("ports", "invalid \"" + spec + "\"");
    ip = s.substr(1, close - 1);
    s = s.substr(close + 2);
    auto c = s.find(':');
    if (c == std::string::npos) return bad("ports", "invalid \"" + spec + "\"");
    host = s.substr(0, c);
    cont = s.substr(c + 1);
  } else {
    auto last = s.rfind(':');
    if (last == std::string::npos) {
      cont = s;
    } else {
      cont = s.substr(last + 1);
      std::string front = s.substr(0, last);
      auto c = front.rfind(':');
      if (c == std::string::npos) host = front;
      else {
        ip = front.substr(0, c);
        host = front.substr(c + 1);
      }
    }
  }
  auto number = [&](const std::string& t, bool allow_empty) -> bool {
    if (t.empty()) return allow_empty;
    char* end = nullptr;
    long n = std::strtol(t.c_str(), &end, 10);
    return *end == '\0' && valid_port(n);
  };
  if (!number(cont, false) || !number(host, true))
    return bad("ports", "invalid port mapping \"" + spec + "\" (expected \"[IP:]HOST:CONTAINER[/tcp|udp]\" with ports 1-65535)");
  std::string key = cont + "/" + proto;
  exposed[key] = json::object();
  if (!host.empty() || !ip.empty()) bindings[key].push_back({{"HostIp", ip}, {"HostPort", host}});
  else if (!bindings.contains(key)) bindings[key] = json::array({{{"HostIp", ""}, {"HostPort", ""}}});
  return {};
}

}  // namespace

Result<int64_t> parse_mem_size(const json& v) {
  if (v.is_number_integer() || v.is_number_unsigned()) {
    int64_t n = v.get<int64_t>();
    if (n < 0) return fail("expected a size, got " + shown(v), EINVAL);
    return n;
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (d < 0 || !std::isfinite(d)) return fail("expected a size, got " + shown(v), EINVAL);
    return int64_t(d);
  }
  if (!v.is_string()) return fail("expected bytes or a size like \"64m\", got " + shown(v), EINVAL);
  std::string s = v.get<std::string>();
  if (s.empty()) return int64_t(0);
  char* end = nullptr;
  errno = 0;
  double n = std::strtod(s.c_str(), &end);
  std::string unit(end);
  if (end == s.c_str() || errno || n < 0) return fail("expected bytes or a size like \"64m\", got " + shown(v), EINVAL);
  for (auto& ch : unit) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  if (unit.size() == 2 && unit[1] == 'b') unit.pop_back();
  if (unit == "ib" || unit.size() == 3) unit = unit.substr(0, 1);  // "mib"
  double mul = 1;
  if (unit.empty() || unit == "b") mul = 1;
  else if (unit == "k") mul = 1024.0;
  else if (unit == "m") mul = 1024.0 * 1024;
  else if (unit == "g") mul = 1024.0 * 1024 * 1024;
  else if (unit == "t") mul = 1024.0 * 1024 * 1024 * 1024;
  else return fail("expected bytes or a size like \"64m\", got " + shown(v), EINVAL);
  return int64_t(n * mul);
}

json seed_container_json(engine::Engine& e, const store::Container& c, const json& inspect) {
  // Only the network part of inspect is needed: computing all of inspect_json would also
  // look the image up and copy Config/HostConfig for every container of a list.
  json ns = inspect.is_null() ? engine::network_settings_json(e, c) : inspect.value("NetworkSettings", json::object());
  const json& cfg = c.config;
  const json& hc = c.host_config;
  json nets = ns.value("Networks", json::object());
  std::string ip;
  json networks = json::array();
  if (nets.is_object())
    for (auto& [name, ep] : nets.items()) {
      networks.push_back(name);
      if (ip.empty() && ep.is_object()) ip = ep.value("IPAddress", "");
    }
  json ports = json::array();
  json live = ns.value("Ports", json());
  bool up = c.state == store::ContainerState::kRunning || c.state == store::ContainerState::kPaused;
  if (up && live.is_object() && !live.empty()) {
    for (auto& [k, b] : live.items()) add_ports(ports, k, b);
  } else if (hc.contains("PortBindings") && hc["PortBindings"].is_object()) {
    for (auto& [k, b] : hc["PortBindings"].items()) add_ports(ports, k, b);
  }
  json volumes = json::array();
  if (hc.contains("Binds") && hc["Binds"].is_array()) volumes = hc["Binds"];
  int64_t pids = hc.contains("PidsLimit") && hc["PidsLimit"].is_number() ? hc["PidsLimit"].get<int64_t>() : 0;
  std::string health = "none";
  if (c.health.is_object()) health = c.health.value("Status", "none");
  auto pod = c.labels.find(engine::kPodLabel);
  json labels = json::object();
  for (auto& [k, v] : c.labels) labels[k] = v;
  std::string status = store::state_name(c.state);
  return {{"id", c.id},
          {"name", c.name},
          {"image", cfg.value("Image", c.image)},
          {"command", command_array(cfg)},
          {"status", status},
          {"state_text", engine::status_text(c, store::now_unix_nanos())},
          {"created", engine::rfc3339_nano(c.created)},
          {"started_at", time_or_null(c.started_at)},
          {"finished_at", time_or_null(c.finished_at)},
          {"exit_code", c.exit_code},
          {"pid", c.pid},
          {"ip", ip},
          {"ports", ports},
          {"mem_limit", hc.value("Memory", int64_t(0))},
          {"cpu_limit", double(hc.value("NanoCpus", int64_t(0))) / 1e9},
          {"pids_limit", pids > 0 ? pids : 0},
          {"env_vars", env_map(cfg)},
          {"volumes", volumes},
          {"restart_policy", restart_text(hc)},
          {"health_check", health_check_json(cfg)},
          {"health", health},
          {"labels", labels},
          {"networks", networks},
          {"pod", pod == c.labels.end() ? "" : pod->second}};
}

Result<SeedCreate> seed_create_body(const json& in) {
  if (!in.is_object()) return fail("the body must be a JSON object", EINVAL);
  static const char* known[] = {"name",     "image",   "command",        "mem_limit",    "cpu_limit", "pids_limit",
                                "volumes",  "env_vars", "ports",         "restart_policy", "health_check", "labels",
                                "start",    "description", "exported_at", "id"};
  for (auto& [k, v] : in.items()) {
    bool ok = false;
    for (auto* n : known) ok = ok || k == n;
    if (!ok) return fail("unknown field \"" + k + "\"", EINVAL);
  }
  SeedCreate out;
  json body = json::object();
  json hcfg = json::object();
  auto present = [&](const char* k) { return in.contains(k) && !in[k].is_null(); };

  if (present("name")) {
    if (!in["name"].is_string()) return bad("name", "expected a string, got " + shown(in["name"]));
    out.name = in["name"].get<std::string>();
  }
  std::string image = "busybox";
  if (present("image")) {
    if (!in["image"].is_string()) return bad("image", "expected a string, got " + shown(in["image"]));
    if (!in["image"].get<std::string>().empty()) image = in["image"].get<std::string>();
  }
  body["Image"] = image;
  if (present("command")) {
    const json& c = in["command"];
    if (c.is_string()) {
      if (!c.get<std::string>().empty()) body["Cmd"] = {"sh", "-c", c.get<std::string>()};
    } else if (c.is_array()) {
      for (auto& a : c)
        if (!a.is_string()) return bad("command", "expected a string or a list of strings, got " + shown(c));
      if (!c.empty()) body["Cmd"] = c;
    } else {
      return bad("command", "expected a string or a list of strings, got " + shown(c));
    }
  }
  if (present("mem_limit")) {
    auto m = parse_mem_size(in["mem_limit"]);
    if (!m) return bad("mem_limit", m.error().message);
    if (*m > 0 && *m < 6 * 1024 * 1024) return bad("mem_limit", "minimum memory limit allowed is 6MB");
    if (*m > 0) hcfg["Memory"] = *m;
  }
  if (present("cpu_limit")) {
    const json& v = in["cpu_limit"];
    if (!v.is_number() || v.get<double>() < 0 || !std::isfinite(v.get<double>()))
      return bad("cpu_limit", "expected a number of CPUs (0.5), got " + shown(v));
    double cpus = v.get<double>();
    if (cpus > 0 && cpus < 0.01) return bad("cpu_limit", "the minimum is 0.01 CPUs");
    if (cpus > 0) hcfg["NanoCpus"] = int64_t(std::llround(cpus * 1e9));
  }
  if (present("pids_limit")) {
    const json& v = in["pids_limit"];
    if (!v.is_number_integer() || v.get<int64_t>() < 0) return bad("pids_limit", "expected a whole number, got " + shown(v));
    if (v.get<int64_t>() > 0) hcfg["PidsLimit"] = v.get<int64_t>();
  }
  if (present("volumes")) {
    const json& v = in["volumes"];
    if (!v.is_array()) return bad("volumes", "expected a list of \"src:dst[:ro]\", got " + shown(v));
    json binds = json::array();
    for (auto& b : v) {
      if (!b.is_string()) return bad("volumes", "expected a list of \"src:dst[:ro]\", got " + shown(b));
      std::string s = b.get<std::string>();
      auto colon = s.find(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 >= s.size() || s[colon + 1] != '/')
        return bad("volumes", "invalid \"" + s + "\" (expected \"src:/dst[:ro]\")");
      binds.push_back(s);
    }
    if (!binds.empty()) hcfg["Binds"] = binds;
  }
  if (present("env_vars")) {
    const json& v = in["env_vars"];
    json env = json::array();
    if (v.is_object()) {
      for (auto& [k, x] : v.items()) {
        if (k.empty() || k.find('=') != std::string::npos) return bad("env_vars", "invalid variable name \"" + k + "\"");
        if (x.is_string()) env.push_back(k + "=" + x.get<std::string>());
        else if (x.is_number() || x.is_boolean()) env.push_back(k + "=" + x.dump());
        else if (x.is_null()) env.push_back(k + "=");
        else return bad("env_vars", k + ": expected a string, got " + shown(x));
      }
    } else if (v.is_array()) {
      for (auto& x : v) {
        if (!x.is_string() || x.get<std::string>().empty() || x.get<std::string>()[0] == '=')
          return bad("env_vars", "expected \"KEY=VALUE\" strings, got " + shown(x));
        env.push_back(x);
      }
    } else {
      return bad("env_vars", "expected {\"KEY\": \"VALUE\"} or [\"KEY=VALUE\"], got " + shown(v));
    }
    if (!env.empty()) body["Env"] = env;
  }
  if (present("ports")) {
    const json& v = in["ports"];
    if (!v.is_array()) return bad("ports", "expected a list like [\"8080:80\"], got " + shown(v));
    json exposed = json::object(), bindings = json::object();
    for (auto& p : v) {
      std::string spec;
      if (p.is_string()) spec = p.get<std::string>();
      else if (p.is_number_integer()) spec = std::to_string(p.get<int64_t>());
      else return bad("ports", "expected a list like [\"8080:80\"], got " + shown(p));
      TRY(add_port_spec(spec, exposed, bindings));
    }
    if (!exposed.empty()) {
      body["ExposedPorts"] = exposed;
      hcfg["PortBindings"] = bindings;
    }
  }
  if (present("restart_policy")) {
    const json& v = in["restart_policy"];
    if (!v.is_string()) return bad("restart_policy", "expected no, always, on-failure[:N] or unless-stopped, got " + shown(v));
    std::string s = v.get<std::string>();
    json rp = {{"Name", ""}, {"MaximumRetryCount", 0}};
    if (s == "always" || s == "unless-stopped" || s == "on-failure") {
      rp["Name"] = s;
    } else if (s.rfind("on-failure:", 0) == 0) {
      char* end = nullptr;
      long n = std::strtol(s.c_str() + 11, &end, 10);
      if (*end != '\0' || n < 0 || s.size() == 11) return bad("restart_policy", "invalid retry count in \"" + s + "\"");
      rp = {{"Name", "on-failure"}, {"MaximumRetryCount", n}};
    } else if (!(s.empty() || s == "no")) {
      return bad("restart_policy", "expected no, always, on-failure[:N] or unless-stopped, got \"" + s + "\"");
    }
    if (!rp["Name"].get<std::string>().empty()) hcfg["RestartPolicy"] = rp;
  }
  if (present("health_check")) {
    const json& v = in["health_check"];
    if (!v.is_object()) return bad("health_check", "expected {command, interval, timeout, retries}, got " + shown(v));
    std::string cmd;
    if (v.contains("command") && v["command"].is_string()) cmd = v["command"].get<std::string>();
    if (cmd.empty()) return bad("health_check", "command is required");
    json h = {{"Test", {"CMD-SHELL", cmd}}};
    for (auto [key, docker] : {std::pair{"interval", "Interval"}, {"timeout", "Timeout"}, {"start_period", "StartPeriod"}}) {
      if (!v.contains(key) || v[key].is_null()) continue;
      if (!v[key].is_number() || v[key].get<double>() < 0)
        return bad("health_check", std::string(key) + ": expected seconds, got " + shown(v[key]));
      double s = v[key].get<double>();
      if (s > 0 && s < 0.001) return bad("health_check", std::string(key) + ": at least 1ms");
      if (s > 0) h[docker] = int64_t(std::llround(s * 1e9));
    }
    if (v.contains("retries") && !v["retries"].is_null()) {
      if (!v["retries"].is_number_integer() || v["retries"].get<int64_t>() < 0)
        return bad("health_check", "retries: expected a whole number, got " + shown(v["retries"]));
      h["Retries"] = v["retries"].get<int64_t>();
    }
    body["Healthcheck"] = h;
  }
  if (present("labels")) {
    const json& v = in["labels"];
    if (!v.is_object()) return bad("labels", "expected {\"key\": \"value\"}, got " + shown(v));
    for (auto& [k, x] : v.items())
      if (!x.is_string()) return bad("labels", k + ": expected a string, got " + shown(x));
    if (!v.empty()) body["Labels"] = v;
  }
  if (present("start")) {
    if (!in["start"].is_boolean()) return bad("start", "expected true or false, got " + shown(in["start"]));
    out.start = in["start"].get<bool>();
  }
  body["HostConfig"] = hcfg;
  out.body = std::move(body);
  return out;
}

json seed_export(const store::Container& c) {
  const json& cfg = c.config;
  const json& hc = c.host_config;
  json out = {{"name", c.name}, {"image", cfg.value("Image", c.image)}};
  json cmd = cfg.value("Cmd", json());
  if (cmd.is_array() && !cmd.empty()) out["command"] = cmd;
  out["mem_limit"] = hc.value("Memory", int64_t(0));
  out["cpu_limit"] = double(hc.value("NanoCpus", int64_t(0))) / 1e9;
  int64_t pids = hc.contains("PidsLimit") && hc["PidsLimit"].is_number() ? hc["PidsLimit"].get<int64_t>() : 0;
  out["pids_limit"] = pids > 0 ? pids : 0;
  out["volumes"] = hc.contains("Binds") && hc["Binds"].is_array() ? hc["Binds"] : json::array();
  out["env_vars"] = env_map(cfg);
  json ports = json::array();
  if (hc.contains("PortBindings") && hc["PortBindings"].is_object())
    for (auto& [key, bindings] : hc["PortBindings"].items()) {
      if (!bindings.is_array() || bindings.empty()) {
        ports.push_back(key);
        continue;
      }
      for (auto& b : bindings) {
        std::string ip = b.value("HostIp", ""), host = b.value("HostPort", "");
        std::string s = key;
        if (s.size() > 4 && s.ends_with("/tcp")) s.resize(s.size() - 4);
        if (!host.empty() || !ip.empty())
          s = (ip.empty() ? "" : (ip.find(':') != std::string::npos ? "[" + ip + "]" : ip) + ":") + host + ":" + s;
        ports.push_back(s);
      }
    }
  out["ports"] = ports;
  out["restart_policy"] = restart_text(hc);
  out["health_check"] = health_check_json(cfg);
  json labels = json::object();
  for (auto& [k, v] : c.labels)
    if (k != engine::kPodLabel) labels[k] = v;
  out["labels"] = labels;
  return out;
}

}  // namespace md::api
