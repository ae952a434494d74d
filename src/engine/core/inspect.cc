// Docker-shaped views of a container row: `inspect` JSON and the `ps` status column.
#include <ctime>

#include "engine/core/containers.h"
#include "engine/core/networks.h"
#include "engine/core/spec_builder.h"
#include "engine/store/ids.h"

namespace md::engine {

using nlohmann::json;
using store::ContainerState;

std::string rfc3339_nano(int64_t ns) {
  if (ns <= 0) return "0001-01-01T00:00:00Z";
  time_t secs = time_t(ns / 1000000000);
  long frac = long(ns % 1000000000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char base[32];
  strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = base;
  if (frac) {
    char f[16];
    snprintf(f, sizeof f, ".%09ld", frac);
    std::string fs = f;
    while (fs.back() == '0') fs.pop_back();  // Go trims trailing zeros
    out += fs;
  }
  return out + "Z";
}

namespace {

// Docker's units.HumanDuration.
std::string human_duration(int64_t ns) {
  int64_t s = ns / 1000000000;
  if (s < 1) return "Less than a second";
  if (s == 1) return "1 second";
  if (s < 60) return std::to_string(s) + " seconds";
  int64_t m = s / 60;
  if (m == 1) return "About a minute";
  if (m < 60) return std::to_string(m) + " minutes";
  int64_t h = s / 3600;
  if (h == 1) return "About an hour";
  if (h < 48) return std::to_string(h) + " hours";
  if (h < 24 * 7 * 2) return std::to_string(h / 24) + " days";
  if (h < 24 * 30 * 2) return std::to_string(h / 24 / 7) + " weeks";
  if (h < 24 * 365 * 2) return std::to_string(h / 24 / 30) + " months";
  return std::to_string(h / 24 / 365) + " years";
}

const char* docker_status(ContainerState s) {
  switch (s) {
    case ContainerState::kCreated: return "created";
    case ContainerState::kRestarting: return "restarting";
    case ContainerState::kRunning: return "running";
    case ContainerState::kPaused: return "paused";
    case ContainerState::kExited: return "exited";
    case ContainerState::kDead: return "dead";
    case ContainerState::kRemoving: return "removing";
  }
  return "unknown";
}

}  // namespace

std::string status_text(const store::Container& c, int64_t now) {
  switch (c.state) {
    case ContainerState::kCreated:
      return "Created";
    case ContainerState::kRunning:
    case ContainerState::kPaused: {
      std::string s = "Up " + human_duration(now - c.started_at);
      if (c.state == ContainerState::kPaused) s += " (Paused)";
      if (c.health.is_object()) {
        std::string h = c.health.value("Status", "");
        if (h == "starting") s += " (health: starting)";
        else if (!h.empty()) s += " (" + h + ")";
      }
      return s;
    }
    case ContainerState::kRestarting:
      return "Restarting (" + std::to_string(c.exit_code) + ") " + human_duration(now - c.finished_at) + " ago";
    case ContainerState::kExited:
      return "Exited (" + std::to_string(c.exit_code) + ") " + human_duration(now - c.finished_at) + " ago";
    case ContainerState::kRemoving:
      return "Removal In Progress";
    case ContainerState::kDead:
      return "Dead";
  }
  return "";
}

json inspect_json(Engine& e, const store::Container& c) {
  const Paths& p = e.paths();
  json cfg = c.config;
  json hc = c.host_config;
  json points = hc.value("MountPoints", json::array());
  hc.erase("MountPoints");
  hc.erase("StoppedByUser");
  // Docker: Path is the first word of Entrypoint + Cmd, Args the rest.
  json args = json::array();
  std::string path;
  for (auto k : {"Entrypoint", "Cmd"})
    if (cfg.contains(k) && cfg[k].is_array())
      for (auto& a : cfg[k]) args.push_back(a);
  if (!args.empty()) {
    path = args[0].get<std::string>();
    args.erase(args.begin());
  }
  json state = {
      {"Status", docker_status(c.state)},
      {"Running", c.state == ContainerState::kRunning || c.state == ContainerState::kPaused},
      {"Paused", c.state == ContainerState::kPaused},
      {"Restarting", c.state == ContainerState::kRestarting},
      {"OOMKilled", c.reason == "OOMKilled"},
      {"Dead", c.state == ContainerState::kDead},
      {"Pid", c.pid},
      {"ExitCode", c.exit_code},
      {"Error", c.reason == "OOMKilled" ? "" : c.reason},
      {"StartedAt", rfc3339_nano(c.started_at)},
      {"FinishedAt", rfc3339_nano(c.finished_at)},
  };
  if (c.health.is_object()) state["Health"] = c.health;
  cfg["Hostname"] = container_hostname(c);
  json mounts = json::array();
  for (auto& m : points) {
    json o = {{"Type", m["Type"]}, {"Source", m.value("Source", "")}, {"Destination", m["Destination"]},
              {"Mode", m.value("Mode", "")}, {"RW", m.value("RW", true)}, {"Propagation", m.value("Propagation", "")}};
    if (m["Type"] == "volume") {
      o["Name"] = m["Name"];
      o["Driver"] = "local";
    }
    mounts.push_back(o);
  }
  std::string lower;
  if (auto img = e.images().get(c.image))
    for (auto it = img->layers.rbegin(); it != img->layers.rend(); ++it)
      lower += (lower.empty() ? "" : ":") + p.layer(*it);
  std::string dir = p.container_dir(c.id);
  json j = {
      {"Id", c.id},
      {"Created", rfc3339_nano(c.created)},
      {"Path", path},
      {"Args", args},
      {"State", state},
      {"Image", c.image},
      {"ResolvConfPath", dir + "/resolv.conf"},
      {"HostnamePath", dir + "/hostname"},
      {"HostsPath", dir + "/hosts"},
      {"LogPath", p.log_file(c.id)},
      {"Name", "/" + c.name},
      {"RestartCount", c.restart_count},
      {"Driver", "overlay2"},
      {"Platform", "linux"},
      {"MountLabel", ""},
      {"ProcessLabel", ""},
      {"AppArmorProfile", ""},
      {"ExecIDs", nullptr},
      {"HostConfig", hc},
      {"GraphDriver",
       {{"Data", {{"LowerDir", lower}, {"MergedDir", p.merged(c.id)}, {"UpperDir", p.upper(c.id)}, {"WorkDir", p.work(c.id)}}},
        {"Name", "overlay2"}}},
      {"Mounts", mounts},
      {"Config", cfg},
      {"NetworkSettings", network_settings_json(e, c)},
  };
  return j;
}

}  // namespace md::engine
