#include "engine/core/container_config.h"

#include <unistd.h>

#include <set>

namespace md::engine {

namespace {

using nlohmann::json;

bool present(const json& j, const char* key) { return j.contains(key) && !j[key].is_null(); }

json string_array(const json& j) {
  if (j.is_string()) return json::array({j});
  if (j.is_array()) return j;
  return json();
}

// Env entries merged by key: later wins, order of first appearance kept.
json merge_env(const json& base, const json& over) {
  std::vector<std::string> out;
  auto key_of = [](const std::string& e) { return e.substr(0, e.find('=')); };
  auto add = [&](const json& list) {
    if (!list.is_array()) return;
    for (auto& v : list) {
      if (!v.is_string()) continue;
      std::string e = v.get<std::string>();
      bool replaced = false;
      for (auto& o : out)
        if (key_of(o) == key_of(e)) {
          o = e;
          replaced = true;
        }
      if (!replaced) out.push_back(e);
    }
  };
  add(base);
  add(over);
  // A bare "KEY" (docker run -e KEY with KEY unset on the client) removes KEY.
  std::erase_if(out, [](const std::string& e) { return e.find('=') == std::string::npos; });
  return out;
}

}  // namespace

int host_cpu_count() {
  long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? int(n) : 1;
}

std::string restart_policy_string(const json& hc) {
  auto rp = hc.value("RestartPolicy", json::object());
  std::string name = rp.value("Name", "");
  if (name.empty() || name == "no") return "no";
  if (name == "on-failure") {
    int n = rp.value("MaximumRetryCount", 0);
    return n > 0 ? "on-failure:" + std::to_string(n) : "on-failure";
  }
  return name;
}

Result<ResolvedConfig> resolve_config(const json& body, const store::Image& image) {
  if (!body.is_object()) return fail("container config must be a JSON object", EINVAL);
  json image_config = json::parse(image.config, nullptr, false);
  json ic = image_config.is_object() ? image_config.value("config", json::object()) : json::object();
  if (!ic.is_object()) ic = json::object();

  json c = json::object();
  c["Hostname"] = body.value("Hostname", "");
  c["Domainname"] = body.value("Domainname", "");
  c["User"] = present(body, "User") && !body["User"].get<std::string>().empty() ? body["User"] : ic.value("User", json(""));
  for (auto k : {"AttachStdin", "AttachStdout", "AttachStderr", "Tty", "OpenStdin", "StdinOnce"})
    c[k] = body.value(k, false);
  c["Env"] = merge_env(ic.value("Env", json::array()), body.value("Env", json::array()));
  // Docker: an Entrypoint given on the command line drops the image's Cmd too.
  json entry = present(body, "Entrypoint") ? string_array(body["Entrypoint"]) : string_array(ic.value("Entrypoint", json()));
  json cmd;
  if (present(body, "Cmd"))
    cmd = string_array(body["Cmd"]);
  else if (!present(body, "Entrypoint"))
    cmd = string_array(ic.value("Cmd", json()));
  // --entrypoint "": Docker sends [""] (or []): no entrypoint at all.
  if (entry.is_array() && present(body, "Entrypoint") &&
      (entry.empty() || (entry.size() == 1 && entry[0] == "")))
    entry = json();
  c["Cmd"] = cmd;
  c["Entrypoint"] = entry;
  size_t argc = (entry.is_array() ? entry.size() : 0) + (cmd.is_array() ? cmd.size() : 0);
  if (argc == 0) return fail("no command specified", EINVAL);
  c["Image"] = body.value("Image", "");
  json volumes = ic.value("Volumes", json::object());
  if (present(body, "Volumes")) volumes.update(body["Volumes"]);
  c["Volumes"] = volumes.empty() ? json() : volumes;
  std::string wd = body.value("WorkingDir", "");
  c["WorkingDir"] = wd.empty() ? ic.value("WorkingDir", json("")) : json(wd);
  if (!c["WorkingDir"].get<std::string>().empty() && c["WorkingDir"].get<std::string>()[0] != '/')
    return fail("the working directory '" + c["WorkingDir"].get<std::string>() + "' is invalid, it needs to be an absolute path", EINVAL);
  json labels = ic.value("Labels", json::object());
  if (!labels.is_object()) labels = json::object();
  if (body.contains("Labels") && body["Labels"].is_object()) labels.update(body["Labels"]);
  c["Labels"] = labels;
  json ports = ic.value("ExposedPorts", json::object());
  if (body.contains("ExposedPorts") && body["ExposedPorts"].is_object()) ports.update(body["ExposedPorts"]);
  if (!ports.empty()) c["ExposedPorts"] = ports;
  std::string stop_signal = body.value("StopSignal", "");
  if (stop_signal.empty()) stop_signal = ic.value("StopSignal", "");
  if (!stop_signal.empty()) c["StopSignal"] = stop_signal;
  if (present(body, "StopTimeout")) c["StopTimeout"] = body["StopTimeout"];
  json hc = present(body, "Healthcheck") ? body["Healthcheck"] : ic.value("Healthcheck", json());
  if (hc.is_object()) {
    json base = ic.value("Healthcheck", json::object());
    if (!base.is_object()) base = json::object();
    // Flags override the image's check field by field (Docker merges the same way).
    if (!hc.contains("Test") || hc["Test"].is_null() || hc["Test"].empty()) hc["Test"] = base.value("Test", json());
    for (auto k : {"Interval", "Timeout", "StartPeriod", "Retries"})
      if (!hc.contains(k) || hc[k].is_null() || hc[k] == 0) hc[k] = base.value(k, json(0));
    if (hc["Test"].is_array() && !hc["Test"].empty()) c["Healthcheck"] = hc;
  }
  c["OnBuild"] = nullptr;

  json h = body.value("HostConfig", json::object());
  if (!h.is_object()) return fail("HostConfig must be a JSON object", EINVAL);
  auto num = [&](const char* k) -> int64_t { return h.contains(k) && h[k].is_number() ? h[k].get<int64_t>() : 0; };
  int64_t memory = num("Memory"), swap = num("MemorySwap");
  if (memory != 0 && memory < 6 * 1024 * 1024)
    return fail("Minimum memory limit allowed is 6MB", EINVAL);
  if (swap > 0 && memory > 0 && swap < memory)
    return fail("Minimum memoryswap limit should be larger than memory limit, see usage", EINVAL);
  if (swap > 0 && memory == 0)
    return fail("You should always set the Memory limit when using Memoryswap limit, see usage", EINVAL);
  int64_t nano = num("NanoCpus");
  int cpus = host_cpu_count();
  if (nano < 0 || nano > int64_t(cpus) * 1000000000)
    return fail("Range of CPUs is from 0.01 to " + std::to_string(cpus) + ".00, as there are only " +
                    std::to_string(cpus) + " CPUs available",
                EINVAL);
  if (nano > 0 && (num("CpuQuota") > 0 || num("CpuPeriod") > 0))
    return fail("Conflicting options: Nano CPUs and CPU Period cannot both be set", EINVAL);
  if (num("CpuShares") < 0) return fail("invalid CPU shares: " + std::to_string(num("CpuShares")), EINVAL);
  if (h.contains("PidsLimit") && h["PidsLimit"].is_number() && h["PidsLimit"].get<int64_t>() < -1)
    return fail("invalid pids limit " + std::to_string(h["PidsLimit"].get<int64_t>()), EINVAL);

  json rp = h.value("RestartPolicy", json::object());
  if (!rp.is_object()) rp = json::object();
  std::string policy = rp.value("Name", "");
  static const std::set<std::string> kPolicies = {"", "no", "always", "unless-stopped", "on-failure"};
  if (!kPolicies.count(policy)) return fail("invalid restart policy '" + policy + "'", EINVAL);
  if (policy != "on-failure" && rp.value("MaximumRetryCount", 0) != 0)
    return fail("invalid restart policy: maximum retry count can only be used with 'on-failure'", EINVAL);
  if (rp.value("MaximumRetryCount", 0) < 0)
    return fail("invalid restart policy: maximum retry count cannot be negative", EINVAL);
  if (h.value("AutoRemove", false) && !policy.empty() && policy != "no")
    return fail("can't create 'AutoRemove' container with restart policy", EINVAL);
  h["RestartPolicy"] = {{"Name", policy.empty() ? "no" : policy}, {"MaximumRetryCount", rp.value("MaximumRetryCount", 0)}};

  // Network mode: "default" (the bridge network), bridge, host, none, container:<x> or a
  // user-defined network's name (resolved, with its address, by create).
  std::string net = h.value("NetworkMode", "");
  if (net.empty()) net = "default";
  if (net == "container:") return fail("invalid network mode: container: needs a container name or id", EINVAL);
  h["NetworkMode"] = net;
  bool joined = net.rfind("container:", 0) == 0;
  bool has_ports = h.contains("PortBindings") && h["PortBindings"].is_object() && !h["PortBindings"].empty();
  if (joined && (has_ports || h.value("PublishAllPorts", false)))
    return fail("conflicting options: port publishing and the container type network mode", EINVAL);
  if (joined && !c.value("Hostname", "").empty())
    return fail("conflicting options: hostname and the network mode", EINVAL);
  if (net == "host" && has_ports) h["PortBindings"] = json::object();  // Docker: discarded with host networking
  for (const char* key : {"IpcMode", "UTSMode", "PidMode"}) {
    std::string m = h.value(key, "");
    if (m.empty() || m == "host" || m == "private" || m == "shareable" || (m.rfind("container:", 0) == 0 && m.size() > 10))
      continue;
    return fail(std::string("invalid ") + key + " \"" + m + "\": use host, private or container:<name|id>", EINVAL);
  }
  for (auto k : {"Binds", "CapAdd", "CapDrop", "SecurityOpt", "Dns", "DnsSearch", "DnsOptions", "ExtraHosts", "Ulimits", "Mounts", "GroupAdd"})
    if (!h.contains(k)) h[k] = nullptr;
  if (!h.contains("LogConfig")) h["LogConfig"] = {{"Type", "json-file"}, {"Config", json::object()}};
  for (auto k : {"Memory", "MemorySwap", "MemoryReservation", "NanoCpus", "CpuShares", "CpuQuota", "CpuPeriod"})
    if (!h.contains(k)) h[k] = 0;
  if (!h.contains("PidsLimit")) h["PidsLimit"] = nullptr;
  for (auto k : {"AutoRemove", "Privileged", "ReadonlyRootfs", "PublishAllPorts"})
    if (!h.contains(k)) h[k] = false;
  return ResolvedConfig{std::move(c), std::move(h)};
}

}  // namespace md::engine
