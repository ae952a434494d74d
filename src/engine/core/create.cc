// create_container: image + Docker body → a row, a container directory, its volumes.
#include <unistd.h>

#include "base/explain.h"
#include "base/file_util.h"
#include "base/scope_guard.h"
#include "engine/core/container_config.h"
#include "engine/core/containers.h"
#include "engine/core/mount_points.h"
#include "engine/core/networks.h"
#include "engine/core/pods.h"
#include "engine/core/rootfs.h"
#include "engine/core/volumes.h"
#include "engine/store/ids.h"

namespace md::engine {

using nlohmann::json;

Result<store::Container> create_container(Engine& e, const CreateRequest& req) {
  CreateRequest r = req;
  if (!r.pod.empty()) TRY(join_pod(e, r.pod, r.body));  // --pod: the pod's namespaces (pods.h)
  std::string image_ref = r.body.value("Image", "");
  if (image_ref.empty()) return fail("no image given: minidocker create [OPTIONS] IMAGE [COMMAND]", EINVAL);
  auto image = e.images().get(image_ref);
  if (!image) {
    if (image.error().errno_value != ENOENT) return std::unexpected(image.error());
    std::string shown = store::normalize_tag(image_ref).value_or(image_ref);
    return fail("No such image: " + shown +
                    " (there is no registry: add images with `minidocker load` or `minidocker import`)",
                ENOENT);
  }
  std::string name;
  if (!r.name.empty()) {
    auto n = store::normalize_name(r.name);
    if (!n)
      return fail("Invalid container name (" + r.name + "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", EINVAL);
    name = *n;
  }
  ResolvedConfig rc = TRY(resolve_config(r.body, *image));
  Explain::step("resolve image " + image_ref + " and merge its config");

  std::vector<std::string> created_volumes;
  json points = TRY(resolve_mount_points(e, rc.config, rc.host_config, created_volumes));
  auto drop_volumes = ScopeGuard([&] {
    for (auto& v : created_volumes) (void)remove_volume(e, v, true);
  });
  rc.host_config["MountPoints"] = points;

  // container:<x> modes name x by id, so a rename of x does not break this container.
  for (const char* key : {"NetworkMode", "IpcMode", "UTSMode", "PidMode"}) {
    std::string m = rc.host_config.value(key, "");
    if (m.rfind("container:", 0) != 0) continue;
    auto peer = e.containers().resolve(m.substr(10));
    if (!peer) return fail("cannot join namespaces of container " + m.substr(10) + ": " + peer.error().message, ENOENT);
    rc.host_config[key] = "container:" + *peer;
  }
  store::Container c;
  c.name = name;
  c.image = image->id;
  c.config = rc.config;
  c.host_config = rc.host_config;
  if (rc.config["Labels"].is_object())
    for (auto& [k, v] : rc.config["Labels"].items())
      if (v.is_string()) c.labels[k] = v.get<std::string>();
  c.state = store::ContainerState::kCreated;
  auto row = e.containers().create(c);
  if (!row) {
    Error err = row.error();
    if (err.errno_value == EEXIST)
      err.message = "Conflict. The container name \"/" + name + "\" is already in use: " + err.message +
                    ". You have to remove (or rename) that container to be able to reuse that name.";
    return std::unexpected(err);
  }
  auto drop_row = ScopeGuard([&] {
    (void)remove_tree(e.paths().container_dir(row->id));
    (void)e.containers().remove(row->id);
  });
  json endpoints = json::object();
  if (r.body.contains("NetworkingConfig") && r.body["NetworkingConfig"].is_object())
    endpoints = r.body["NetworkingConfig"].value("EndpointsConfig", json::object());
  TRY(allocate_container_endpoints(e, *row, endpoints));
  TRY_CTX(create_rootfs_dirs(e.paths(), row->id), "create container directory");
  Explain::step("record container " + store::short_id(row->id) + " (" + row->name + ") and its directories");
  drop_row.cancel();
  drop_volumes.cancel();
  e.emit_container(*row, "create");
  return row;
}

}  // namespace md::engine
