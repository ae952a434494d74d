// port: `docker port CONTAINER [PRIVATE_PORT[/PROTO]]`, the container's published ports
// from its reconciled state (engine container_ports_json), printed as Docker's CLI does.
#include <algorithm>
#include <cstdio>

#include "cli/common/go_template.h"
#include "cli/common/table.h"
#include "cli/docker/cli.h"
#include "engine/core/containers.h"
#include "engine/core/network_setup.h"

namespace md::cli {

using nlohmann::json;

// Go's net.JoinHostPort: brackets around IPv6 hosts.
std::string join_host_port(const std::string& host, const std::string& port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + port;
  return host + ":" + port;
}

namespace {

}  // namespace

int cmd_port(Invocation& inv) {
  FlagSet f("minidocker port CONTAINER [PRIVATE_PORT[/PROTO]]\n\nList port mappings or a specific mapping for the container",
            {});
  int rc = 0;
  if (!parse_or_exit(f, "port", inv.args, &rc) || !require_args(f, "port", 1, 2, &rc)) return rc;
  const std::string& ref = f.args()[0];
  std::string want, shown;  // "80/tcp"; as typed, with the protocol: Docker's natPort
  if (f.args().size() == 2) {
    const std::string& spec = f.args()[1];
    auto slash = spec.find('/');
    std::string port = spec.substr(0, slash), proto = slash == std::string::npos ? "tcp" : spec.substr(slash + 1);
    if (proto.empty()) proto = "tcp";
    bool digits = !port.empty() && std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
    bool in_range = digits && port.size() <= 5 && std::stol(port) <= 65535;
    if (!in_range) {
      // Docker: errors.Wrapf(strconv.ParseUint(port, 10, 16) error, "Error: invalid port (%s)").
      std::fprintf(stderr, "Error: invalid port (%s): strconv.ParseUint: parsing %s: %s\n", port.c_str(),
                   go_quote(port).c_str(), digits ? "value out of range" : "invalid syntax");
      return 1;
    }
    want = std::to_string(std::stol(port)) + "/" + proto;
    shown = port + "/" + proto;
  }
  auto e = inv.engine();
  if (!e) return report(e.error());
  auto id = (*e)->containers().resolve(ref);
  if (!id) {
    std::string msg = id.error().errno_value == ENOENT ? "No such container: " + ref : id.error().message;
    std::fprintf(stderr, "Error response from daemon: %s\n", msg.c_str());
    return 1;
  }
  auto c = engine::reconcile_container(**e, *id);
  if (!c) {
    std::fprintf(stderr, "Error response from daemon: %s\n", c.error().message.c_str());
    return 1;
  }
  json ports = engine::container_ports_json(**e, *c);
  std::vector<std::string> out;
  if (!want.empty()) {
    if (!ports.contains(want) || !ports[want].is_array()) {
      std::fprintf(stderr, "Error: No public port '%s' published for %s\n", shown.c_str(), ref.c_str());
      return 1;
    }
    for (auto& b : ports[want]) out.push_back(join_host_port(b.value("HostIp", ""), b.value("HostPort", "")));
  } else {
    for (auto& [key, bindings] : ports.items()) {
      if (!bindings.is_array()) continue;
      for (auto& b : bindings)
        out.push_back(key + " -> " + join_host_port(b.value("HostIp", ""), b.value("HostPort", "")));
    }
    std::sort(out.begin(), out.end(), natural_less);
  }
  for (auto& l : out) std::printf("%s\n", l.c_str());
  return 0;
}

}  // namespace md::cli
