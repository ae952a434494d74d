// Pods: see pods.h and docs/pods.md.
#include "engine/core/pods.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>

#include "base/explain.h"
#include "base/file_util.h"
#include "base/scope_guard.h"
#include "base/unique_fd.h"
#include "engine/core/containers.h"
#include "engine/core/networks.h"
#include "engine/image/image_service.h"
#include "engine/image/tar_writer.h"
#include "engine/store/container_lock.h"
#include "engine/store/ids.h"

namespace md::engine {

using nlohmann::json;
using store::ContainerState;

// reconcile.cc
Status remove_locked(Engine& e, const store::Container& c, bool volumes);

namespace {

store::PodStore pods(Engine& e) { return store::PodStore(e.db()); }

bool is_up(ContainerState s) {
  return s == ContainerState::kRunning || s == ContainerState::kPaused || s == ContainerState::kRestarting;
}

// Serialises pod creation (the infra image is made once) across processes.
Result<UniqueFd> lock_pods(const Paths& p) {
  std::string path = p.root + "/pods.lock";
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) return fail_errno("open " + path);
  while (::flock(fd.get(), LOCK_EX) != 0)
    if (errno != EINTR) return fail_errno("lock " + path);
  return fd;
}

std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

// minidocker-pause: next to the monitor (as minidocker-dns is), next to this program, in
// ../libexec/minidocker, then on $PATH.
std::string pause_binary(const Engine& e) {
  std::vector<std::string> candidates;
  if (auto d = dir_of(e.monitor_path()); !d.empty()) candidates.push_back(d + "/minidocker-pause");
  if (auto d = dir_of(e.self_path()); !d.empty()) {
    candidates.push_back(d + "/minidocker-pause");
    candidates.push_back(d + "/../libexec/minidocker/minidocker-pause");
  }
  if (const char* path = std::getenv("PATH")) {
    std::string p = path;
    size_t pos = 0;
    while (pos <= p.size()) {
      size_t colon = p.find(':', pos);
      if (colon == std::string::npos) colon = p.size();
      if (colon > pos) candidates.push_back(p.substr(pos, colon - pos) + "/minidocker-pause");
      pos = colon + 1;
    }
  }
  for (auto& c : candidates)
    if (::access(c.c_str(), X_OK) == 0) return c;
  return candidates.empty() ? "minidocker-pause" : candidates[0];
}

std::vector<store::Container> pod_containers(Engine& e, const std::string& pod_id) {
  store::ContainerFilter f;
  f.all = true;
  f.labels = {std::string(kPodLabel) + "=" + pod_id};
  std::vector<store::Container> out;
  for (auto& c : e.containers().list(f).value_or(std::vector<store::Container>{})) {
    auto r = reconcile_container(e, c.id);
    if (r) out.push_back(*r);
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.created < b.created; });
  return out;
}

PodView view_of(Engine& e, store::Pod p) {
  PodView v;
  std::vector<ContainerState> states;
  for (auto& c : pod_containers(e, p.id)) {
    states.push_back(c.state);
    if (c.id == p.infra_id) v.infra = c;
    else v.members.push_back(c);
  }
  v.status = pod_status(states);
  v.pod = std::move(p);
  return v;
}

std::string names_of(const std::vector<store::Container>& cs) {
  std::string out;
  for (auto& c : cs) out += (out.empty() ? "" : ", ") + c.name;
  return out;
}

}  // namespace

std::string pod_status(const std::vector<ContainerState>& states) {
  if (states.empty()) return "Created";
  size_t running = 0, paused = 0, stopped = 0, errored = 0;
  for (auto s : states) {
    switch (s) {
      case ContainerState::kRunning:
      case ContainerState::kRestarting: ++running; break;
      case ContainerState::kPaused: ++paused; break;
      case ContainerState::kExited: ++stopped; break;
      case ContainerState::kCreated: break;
      default: ++errored; break;
    }
  }
  size_t n = states.size();
  if (running == n) return "Running";
  if (running > 0) return "Degraded";
  if (paused == n) return "Paused";
  if (stopped == n) return "Exited";
  if (stopped > 0) return "Stopped";
  if (errored > 0) return "Error";
  return "Created";
}

Result<store::Image> ensure_pause_image(Engine& e) {
  auto have = e.images().get(kPauseImage);
  if (have || have.error().errno_value != ENOENT) return have;
  std::string bin = pause_binary(e);
  auto data = read_file(bin);
  if (!data)
    return fail("cannot make the pod infra image " + std::string(kPauseImage) + ": " + bin + ": " +
                    data.error().message + " (minidocker-pause is installed next to minidocker-monitor)",
                ENOENT);
  UniqueFd fd(::memfd_create("minidocker-pause.tar", MFD_CLOEXEC));
  if (!fd.valid()) return fail_errno("memfd_create");
  {
    auto tar = TRY(image::TarWriter::open_fd(fd.get()));
    TRY(tar->add_bytes("pause", *data, 0755, 0));
    TRY(tar->close());
  }
  if (::lseek(fd.get(), 0, SEEK_SET) != 0) return fail_errno("seek the infra image tar");
  image::ImageService svc(e.paths().root, e.db());
  image::ImportOptions o;
  o.tag = kPauseImage;
  o.changes = {"CMD [\"/pause\"]"};
  o.message = "minidocker pod infra image (" + bin + ")";
  auto img = TRY_CTX(svc.import_tarball(fd.get(), o), "make the pod infra image " + std::string(kPauseImage));
  e.emit({.type = "image", .action = "import", .id = img.id, .attributes = {{"name", kPauseImage}}});
  Explain::step("make the pod infra image " + std::string(kPauseImage) + " from " + bin);
  return img;
}

Result<store::Pod> create_pod(Engine& e, const PodCreateRequest& r) {
  if (!r.name.empty() && !store::is_valid_name(r.name))
    return fail("invalid pod name \"" + r.name + "\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", EINVAL);
  std::string network = r.network.empty() ? "default" : r.network;
  if (network.rfind("container:", 0) == 0)
    return fail("a pod cannot use the network of a container (" + network + "): give a network, host or none", EINVAL);
  if (network != "host" && network != "none") TRY(network_for_mode(e, network));
  bool has_ports = r.port_bindings.is_object() && !r.port_bindings.empty();
  if (has_ports && (network == "host" || network == "none"))
    return fail("published ports need a bridge network: the pod's network is " + network, EINVAL);

  auto lock = TRY(lock_pods(e.paths()));
  TRY(ensure_pause_image(e));
  store::PodStore ps = pods(e);
  store::Pod p;
  p.name = r.name;
  p.labels = r.labels;
  p.config = {{"NetworkMode", network},
              {"Hostname", r.hostname},
              {"PortBindings", r.port_bindings.is_object() ? r.port_bindings : json::object()}};
  p = TRY(ps.create(p));
  auto drop_row = ScopeGuard([&] { (void)ps.remove(p.id); });

  json body = {
      {"Image", kPauseImage},
      {"Hostname", r.hostname.empty() ? p.name : r.hostname},
      {"Labels", {{kPodLabel, p.id}}},
      {"HostConfig",
       {{"NetworkMode", network},
        {"PortBindings", r.port_bindings.is_object() ? r.port_bindings : json::object()},
        {"RestartPolicy", {{"Name", "no"}}},
        {"Pod", p.id}}},
  };
  if (r.exposed_ports.is_object() && !r.exposed_ports.empty()) body["ExposedPorts"] = r.exposed_ports;
  if (network == "host") body.erase("Hostname");  // the host's UTS name stays the host's
  auto infra = TRY_CTX(create_container(e, CreateRequest{body, store::short_id(p.id) + "-infra"}),
                       "create the infra container of pod " + p.name);
  auto drop_infra = ScopeGuard([&] { (void)remove_container(e, infra.id, true, true); });
  TRY(ps.set_infra(p.id, infra.id));
  p.infra_id = infra.id;
  drop_infra.cancel();
  drop_row.cancel();
  e.emit({.type = "pod", .action = "create", .id = p.id, .attributes = {{"name", p.name}}});
  Explain::step("record pod " + store::short_id(p.id) + " (" + p.name + ") with infra container " +
                store::short_id(infra.id));
  return p;
}

Result<PodView> get_pod(Engine& e, const std::string& ref) { return view_of(e, TRY(pods(e).get(ref))); }

Result<std::vector<PodView>> list_pods(Engine& e) {
  std::vector<PodView> out;
  for (auto& p : TRY(pods(e).list())) out.push_back(view_of(e, p));
  return out;
}

json pod_inspect_json(Engine& e, const PodView& v) {
  const store::Pod& p = v.pod;
  json containers = json::array();
  auto add = [&](const store::Container& c) {
    containers.push_back({{"Id", c.id}, {"Name", c.name}, {"State", store::state_name(c.state)}});
  };
  if (v.infra) add(*v.infra);
  for (auto& c : v.members) add(c);
  std::string hostname = p.config.value("Hostname", "");
  json networks = json::array();
  std::string mode = p.config.value("NetworkMode", "default");
  if (v.infra) {
    hostname = v.infra->config.value("Hostname", hostname);
    mode = v.infra->host_config.value("NetworkMode", mode);
    for (auto& ep : e.networks().endpoints_of(v.infra->id).value_or(std::vector<store::Endpoint>{}))
      if (auto n = e.networks().get(ep.network_id)) networks.push_back(n->name);
  }
  if (networks.empty() && (mode == "host" || mode == "none")) networks.push_back(mode);
  json ports = p.config.value("PortBindings", json::object());
  return {
      {"Id", p.id},
      {"Name", p.name},
      {"Created", rfc3339_nano(p.created)},
      {"State", v.status},
      {"Hostname", hostname},
      {"Labels", p.labels},
      {"CreateInfra", true},
      {"InfraContainerID", p.infra_id},
      {"SharedNamespaces", {"ipc", "net", "uts"}},
      {"NumContainers", containers.size()},
      {"Containers", containers},
      {"InfraConfig", {{"PortBindings", ports}, {"HostNetwork", mode == "host"}, {"Networks", networks}}},
  };
}

Status start_pod(Engine& e, const std::string& ref) {
  PodView v = TRY(get_pod(e, ref));
  if (!v.infra) return fail("pod " + v.pod.name + " has no infra container (it was lost): remove the pod", EINVAL);
  TRY_CTX(start_container(e, v.infra->id), "start the infra container of pod " + v.pod.name);
  Status first;
  for (auto& c : v.members) {
    auto st = start_container(e, c.id);
    if (!st && first) first = fail("start container " + c.name + ": " + st.error().message, st.error().errno_value);
  }
  if (first) e.emit({.type = "pod", .action = "start", .id = v.pod.id, .attributes = {{"name", v.pod.name}}});
  return first;
}

Status stop_pod(Engine& e, const std::string& ref, std::optional<int> timeout) {
  PodView v = TRY(get_pod(e, ref));
  Status first;
  auto keep = [&](const store::Container& c, Status st) {
    if (!st && first) first = fail("stop container " + c.name + ": " + st.error().message, st.error().errno_value);
  };
  for (auto it = v.members.rbegin(); it != v.members.rend(); ++it) keep(*it, stop_container(e, it->id, timeout));
  if (v.infra) keep(*v.infra, stop_container(e, v.infra->id, timeout));
  if (first) e.emit({.type = "pod", .action = "stop", .id = v.pod.id, .attributes = {{"name", v.pod.name}}});
  return first;
}

Status remove_pod(Engine& e, const std::string& ref, bool force) {
  PodView v = TRY(get_pod(e, ref));
  if (!force) {
    std::vector<store::Container> up;
    if (v.infra && is_up(v.infra->state)) up.push_back(*v.infra);
    for (auto& c : v.members)
      if (is_up(c.state)) up.push_back(c);
    if (!up.empty())
      return fail("pod " + v.pod.name + " has running containers (" + names_of(up) +
                      "): stop the pod first (minidocker pod stop " + v.pod.name + ") or remove it with -f",
                  EBUSY);
  }
  for (auto& c : v.members) {
    auto st = remove_container(e, c.id, true, true);
    if (!st) return fail("remove container " + c.name + " of pod " + v.pod.name + ": " + st.error().message,
                         st.error().errno_value);
  }
  // The infra: remove_container refuses it while the pod exists, so it is removed here
  // directly (under its lock), then the row.
  if (!v.pod.infra_id.empty()) {
    auto lock = TRY(store::ContainerLock::acquire(e.paths().root, v.pod.infra_id));
    auto c = refresh_locked(e, v.pod.infra_id);
    if (c) {
      TRY_CTX(remove_locked(e, *c, true), "remove the infra container of pod " + v.pod.name);
      (void)lock.remove_file();
    } else if (c.error().errno_value != ENOENT) {
      return std::unexpected(c.error());
    }
  }
  auto st = pods(e).remove(v.pod.id);
  if (!st && st.error().errno_value != ENOENT) return st;
  e.emit({.type = "pod", .action = "remove", .id = v.pod.id, .attributes = {{"name", v.pod.name}}});
  return {};
}

Status join_pod(Engine& e, const std::string& pod_ref, json& body) {
  store::Pod p = TRY(pods(e).get(pod_ref));
  if (p.infra_id.empty()) return fail("pod " + p.name + " has no infra container: remove the pod and create it again", EINVAL);
  if (!body.is_object()) return fail("container config must be a JSON object", EINVAL);
  if (!body.contains("HostConfig") || !body["HostConfig"].is_object()) body["HostConfig"] = json::object();
  json& hc = body["HostConfig"];
  bool ports = (hc.contains("PortBindings") && hc["PortBindings"].is_object() && !hc["PortBindings"].empty()) ||
               (hc.contains("PublishAllPorts") && hc["PublishAllPorts"].is_boolean() && hc["PublishAllPorts"].get<bool>());
  if (ports)
    return fail("published ports must be defined when the pod is created (minidocker pod create -p ...): "
                "the containers of pod " + p.name + " share its network namespace",
                EINVAL);
  std::string net = hc.value("NetworkMode", "");
  bool endpoints = body.contains("NetworkingConfig") && body["NetworkingConfig"].is_object() &&
                   body["NetworkingConfig"].value("EndpointsConfig", json::object()).is_object() &&
                   !body["NetworkingConfig"].value("EndpointsConfig", json::object()).empty();
  if ((!net.empty() && net != "default") || endpoints)
    return fail("the network of a container in pod " + p.name +
                    " cannot be set: it shares the pod's network namespace (minidocker pod create --network ...)",
                EINVAL);
  if (body.contains("Hostname") && body["Hostname"].is_string() && !body["Hostname"].get<std::string>().empty())
    return fail("the hostname of a container in pod " + p.name +
                    " cannot be set: it shares the pod's UTS namespace (minidocker pod create --hostname ...)",
                EINVAL);
  for (const char* key : {"IpcMode", "UTSMode"})
    if (std::string m = hc.value(key, ""); !m.empty())
      return fail(std::string(key) + " of a container in pod " + p.name + " cannot be set: it shares the pod's namespace",
                  EINVAL);
  std::string mode = "container:" + p.infra_id;
  hc["NetworkMode"] = mode;
  hc["IpcMode"] = mode;
  hc["UTSMode"] = mode;
  hc["Pod"] = p.id;
  if (!body.contains("Labels") || !body["Labels"].is_object()) body["Labels"] = json::object();
  body["Labels"][kPodLabel] = p.id;
  Explain::step("join pod " + p.name + ": network, ipc and uts of infra container " + store::short_id(p.infra_id));
  return {};
}

Status start_pod_infra_for(Engine& e, const store::Container& c) {
  auto it = c.labels.find(kPodLabel);
  if (it == c.labels.end()) return {};
  auto p = pods(e).get(it->second);
  if (!p) {
    if (p.error().errno_value == ENOENT)
      return fail("the pod of container " + c.name + " (" + store::short_id(it->second) + ") no longer exists", ENOENT);
    return std::unexpected(p.error());
  }
  if (p->infra_id.empty() || p->infra_id == c.id) return {};
  TRY_CTX(start_container(e, p->infra_id), "start the infra container of pod " + p->name);
  return {};
}

Status refuse_infra_removal(Engine& e, const std::string& container_id) {
  auto p = TRY(pods(e).get_by_infra(container_id));
  if (!p) return {};
  return fail("container " + store::short_id(container_id) + " is the infra container of pod " + p->name +
                  ": remove the pod instead (minidocker pod rm " + p->name + ")",
              EBUSY);
}

}  // namespace md::engine
