// setup/teardown of a container's networking: see network_setup.h.
#include "engine/core/network_setup.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <set>

#include "base/explain.h"
#include "base/file_util.h"
#include "base/scope_guard.h"
#include "base/unique_fd.h"
#include "engine/core/network_config.h"
#include "engine/store/ids.h"
#include "net/netlink.h"
#include "net/netns.h"
#include "net/nft_rules.h"
#include "net/sysctl.h"
#include "runtime/container.h"

namespace md::engine {

using nlohmann::json;

namespace {

// One nftables handle per process and table (libnftables is dlopen()ed on first use).
Result<net::NftRules*> nft_for(const NetworkDefaults& d) {
  static std::map<std::string, std::unique_ptr<net::NftRules>> cache;
  auto& slot = cache[d.nft_table];
  if (!slot) slot = std::make_unique<net::NftRules>(TRY(net::NftRules::open(d.nft_table)));
  return slot.get();
}

Result<int> subnet_prefix(const store::Network& n) { return TRY(store::parse_subnet(n.subnet)).prefix; }

Result<net::Ipv4Net> cidr_of(const std::string& ip, int prefix) {
  return net::parse_cidr(ip + "/" + std::to_string(prefix));
}

// The bridge and the table entries of `n`. When the bridge is already there, so are they
// (both are made here, under the network lock); after a reboot or `ip link del`, both
// are made again.
Status ensure_plumbing_locked(const NetworkDefaults& d, net::Netlink& host, const store::Network& n) {
  if (n.driver != "bridge") return {};
  if (TRY(host.link_exists(n.bridge))) return {};
  int prefix = TRY(subnet_prefix(n));
  TRY_CTX(host.ensure_bridge(n.bridge, TRY(cidr_of(n.gateway, prefix)), d.mtu), "create bridge " + n.bridge);
  if (!n.internal) TRY_CTX(net::ensure_ip_forward(), "enable IPv4 forwarding");
  net::NftRules* nft = TRY(nft_for(d));
  TRY_CTX(nft->ensure_table(), "nftables table " + d.nft_table);
  TRY_CTX(nft->add_network(n.bridge, n.subnet, n.internal), "nftables entries of network " + n.name);
  Explain::step("create bridge " + n.bridge + " (" + n.gateway + "/" + std::to_string(prefix) + ") and its NAT entries");
  return {};
}

// One veth pair: host end on the bridge, container end configured inside the netns.
Status plug(net::Netlink& host, net::Netlink& inside, int nsfd, const store::Network& n, const store::Endpoint& ep,
            int mtu, bool default_route) {
  std::string veth = host_veth_name(ep);
  (void)host.delete_link(veth);  // a leftover of a crash would make the name taken
  TRY_CTX(host.create_veth(veth, ep.ifname, nsfd, n.bridge, mtu), "create veth pair " + veth);
  // Hairpin: with br_netfilter loaded, a container's connection to its own published port
  // is DNATed inside the bridge and must go back out of the port it came in on.
  TRY_CTX(write_existing_file("/sys/class/net/" + veth + "/brport/hairpin_mode", "1"), "hairpin mode on " + veth);
  int prefix = TRY(subnet_prefix(n));
  TRY_CTX(inside.configure_interface(ep.ifname, TRY(cidr_of(ep.ip, prefix)), ep.mac),
          "configure " + ep.ifname + " (" + ep.ip + ")");
  if (default_route) {
    uint32_t gw = TRY(store::parse_ipv4(n.gateway));
    TRY_CTX(inside.add_default_route(htonl(gw)), "default route via " + n.gateway);
  }
  Explain::step("veth " + veth + " on " + n.bridge + " <-> " + ep.ifname + " " + ep.ip + "/" + std::to_string(prefix));
  return {};
}

Result<store::Container> running_peer(Engine& e, const std::string& ref, const std::string& what) {
  auto peer = e.containers().get(ref);
  if (!peer) return fail("cannot join " + what + " of container " + ref + ": " + peer.error().message, ENOENT);
  if (peer->state != store::ContainerState::kRunning && peer->state != store::ContainerState::kPaused)
    return fail("cannot join " + what + " of a non running container: " + peer->name, EINVAL);
  if (peer->pid <= 0 || !path_exists("/proc/" + std::to_string(peer->pid)))
    return fail("cannot join " + what + " of container " + peer->name + ": its process is gone", EINVAL);
  return *peer;
}

// Host resolvers for the DNS servers' upstreams: they run on the host, so loopback
// resolvers (systemd-resolved's 127.0.0.53) work for them too.
std::vector<std::string> host_nameservers(const NetworkDefaults& d) {
  if (!d.dns.empty()) return d.dns;
  std::vector<std::string> out;
  std::string text = read_file("/etc/resolv.conf").value_or("");
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.rfind("nameserver", 0) != 0) continue;
    std::string a = line.substr(10);
    a.erase(0, a.find_first_not_of(" \t"));
    a.erase(a.find_last_not_of(" \t\r") + 1);
    if (!a.empty() && a.find(':') == std::string::npos) out.push_back(a);
  }
  return out;
}

pid_t dns_server_pid(const Paths& p, const std::string& network_id) {
  auto text = read_file(p.dns_pid(network_id));
  if (!text) return 0;
  pid_t pid = atoi(text->c_str());
  if (pid <= 0 || ::kill(pid, 0) != 0) return 0;
  auto comm = read_file("/proc/" + std::to_string(pid) + "/comm").value_or("");
  return comm.rfind("minidocker-dns", 0) == 0 ? pid : 0;
}

std::string dns_binary(const Engine& e) {
  const std::string& m = e.monitor_path();
  auto slash = m.rfind('/');
  return slash == std::string::npos ? "minidocker-dns" : m.substr(0, slash) + "/minidocker-dns";
}

// Starts the network's DNS server, detached (its own session, stdio on /dev/null), and
// waits until it has written its pid file, which it does once its sockets are bound: a
// container started right after can resolve at once.
Status start_dns_server(Engine& e, const NetworkDefaults& d, const store::Network& n) {
  const Paths& p = e.paths();
  std::string bin = dns_binary(e);
  std::vector<std::string> args = {bin, "--listen", n.gateway + ":53", "--hosts", p.dns_hosts(n.id), "--pid-file",
                                   p.dns_pid(n.id)};
  for (auto& u : host_nameservers(d)) args.insert(args.end(), {"--upstream", u});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  (void)::unlink(p.dns_pid(n.id).c_str());
  // Its warnings (a name it cannot serve, an upstream that fails) go to <id>.log.
  std::string log = p.dns_dir() + "/" + n.id + ".log";
  UniqueFd log_fd(::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  pid_t child = ::fork();
  if (child < 0) return fail_errno("fork for the DNS server");
  if (child == 0) {
    // Child: only async-signal-safe calls until exec.
    ::setsid();
    if (::fork() != 0) ::_exit(0);  // the grandchild is reparented: no zombie for us to reap
    int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(log_fd.valid() ? log_fd.get() : null, 2);
    }
    ::close_range(3, ~0U, 0);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  for (int i = 0; i < 1000; ++i) {  // up to ~2 s: it binds and writes its pid in < 1 ms
    if (dns_server_pid(p, n.id)) {
      Explain::step("start DNS server for network " + n.name + " on " + n.gateway + ":53");
      return {};
    }
    ::usleep(2000);
  }
  return fail("the DNS server of network " + n.name + " (" + bin + ") did not start: is " + n.gateway +
                  ":53 taken by another program?",
              EIO);
}

void stop_dns_server(const Paths& p, const std::string& network_id) {
  if (pid_t pid = dns_server_pid(p, network_id)) {
    ::kill(pid, SIGTERM);
    for (int i = 0; i < 500 && ::kill(pid, 0) == 0; ++i) ::usleep(2000);
  }
  (void)::unlink(p.dns_pid(network_id).c_str());
  (void)::unlink(p.dns_hosts(network_id).c_str());
  (void)::unlink((p.dns_dir() + "/" + network_id + ".log").c_str());
}

// -p / -P of a container → the ports to reserve (host port 0 = any free one).
Result<std::vector<store::PublishedPort>> wanted_ports(const store::Container& c, const std::string& ip) {
  std::vector<store::PublishedPort> out;
  const json& hc = c.host_config;
  std::set<std::string> bound;
  auto parse_key = [&](const std::string& key, int& port, std::string& proto) -> Status {
    auto slash = key.find('/');
    proto = slash == std::string::npos ? "tcp" : key.substr(slash + 1);
    std::string num = key.substr(0, slash);
    if (proto != "tcp" && proto != "udp") return fail("unsupported protocol " + proto + " in port " + key, EINVAL);
    if (num.empty() || num.find_first_not_of("0123456789") != std::string::npos || std::stoi(num) < 1 ||
        std::stoi(num) > 65535)
      return fail("invalid container port " + key, EINVAL);
    port = std::stoi(num);
    return {};
  };
  if (hc.contains("PortBindings") && hc["PortBindings"].is_object())
    for (auto& [key, list] : hc["PortBindings"].items()) {
      int port = 0;
      std::string proto;
      TRY(parse_key(key, port, proto));
      bound.insert(key);
      if (!list.is_array() || list.empty()) {
        out.push_back({c.id, proto, "0.0.0.0", 0, ip, port});
        continue;
      }
      for (auto& b : list) {
        std::string host_ip = b.is_object() ? b.value("HostIp", "") : "";
        std::string host_port = b.is_object() ? b.value("HostPort", "") : "";
        if (host_ip.find(':') != std::string::npos) continue;  // IPv6: not supported (docs/networking.md)
        if (host_ip.empty()) host_ip = "0.0.0.0";
        int hp = 0;
        if (!host_port.empty()) {
          if (host_port.find_first_not_of("0123456789") != std::string::npos || std::stoi(host_port) < 1 ||
              std::stoi(host_port) > 65535)
            return fail("invalid host port \"" + host_port + "\" for " + key + ": host port ranges are not supported", EINVAL);
          hp = std::stoi(host_port);
        }
        out.push_back({c.id, proto, host_ip, hp, ip, port});
      }
    }
  if (hc.value("PublishAllPorts", false) && c.config.contains("ExposedPorts") && c.config["ExposedPorts"].is_object())
    for (auto& [key, _] : c.config["ExposedPorts"].items()) {
      if (bound.count(key)) continue;
      int port = 0;
      std::string proto;
      TRY(parse_key(key, port, proto));
      out.push_back({c.id, proto, "0.0.0.0", 0, ip, port});
    }
  return out;
}

// Can the host bind p? A host program listening there would be shadowed by our DNAT.
Status probe_host_port(const store::PublishedPort& p) {
  int type = p.proto == "udp" ? SOCK_DGRAM : SOCK_STREAM;
  UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  if (!fd) return fail_errno("socket");
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(p.host_port));
  inet_pton(AF_INET, p.host_ip.c_str(), &a.sin_addr);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    int err = errno;
    if (err == EADDRNOTAVAIL)
      return fail("cannot publish on " + p.host_ip + ":" + std::to_string(p.host_port) +
                      ": the host has no address " + p.host_ip,
                  err);
    return fail("Bind for " + p.host_ip + ":" + std::to_string(p.host_port) + " failed: " + p.proto + " port in use on the host (" +
                    strerror(err) + ")",
                EADDRINUSE);
  }
  return {};
}

std::vector<net::PortMapping> mappings_of(const std::vector<store::PublishedPort>& ports) {
  std::vector<net::PortMapping> out;
  for (auto& p : ports)
    out.push_back({p.host_ip == "0.0.0.0" ? "" : p.host_ip, p.proto, uint16_t(p.host_port), p.container_ip,
                   uint16_t(p.container_port)});
  return out;
}

Status publish_ports(Engine& e, const NetworkDefaults& d, const store::Container& c, const std::string& ip) {
  auto wanted = TRY(wanted_ports(c, ip));
  if (wanted.empty()) return {};
  std::vector<store::PublishedPort> reserved;
  for (auto& w : wanted) {
    if (w.host_port) TRY(probe_host_port(w));
    auto got = TRY(e.networks().reserve_ports({w}, d.port_lo, d.port_hi,
                                             [](const store::PublishedPort& p) { return bool(probe_host_port(p)); }));
    reserved.insert(reserved.end(), got.begin(), got.end());
  }
  net::NftRules* nft = TRY(nft_for(d));
  TRY_CTX(nft->ensure_table(), "nftables table " + d.nft_table);
  TRY(nft->add_ports(mappings_of(reserved)));
  std::string shown;
  for (auto& p : reserved)
    shown += " " + p.host_ip + ":" + std::to_string(p.host_port) + "->" + std::to_string(p.container_port) + "/" + p.proto;
  Explain::step("publish" + shown + " (nftables DNAT)");
  return {};
}

Status teardown_locked(Engine& e, const NetworkDefaults& d, const store::Container& c) {
  Status first;
  auto keep = [&](Status s) {
    if (!s && first) first = std::unexpected(s.error());
  };
  auto ports = e.networks().ports_of(c.id);
  if (ports && !ports->empty()) {
    auto nft = nft_for(d);
    if (nft) keep((*nft)->remove_ports(mappings_of(*ports)));
    else keep(std::unexpected(nft.error()));
    keep(e.networks().release_ports(c.id));
  }
  // Unpinning the namespace is enough: the kernel destroys it, and with it both ends of
  // every veth, in the background (~50 ms later). Deleting a veth ourselves would make us
  // wait for that RCU grace period (~34 ms per veth) on every stop. `rm` waits for the
  // links to be gone (wait_endpoint_links_gone) so that nothing is left when it returns.
  auto eps = e.networks().endpoints_of(c.id);
  keep(net::remove_pinned_netns(e.paths().netns_file(c.id)));
  if (eps)
    for (auto& ep : *eps)
      if (auto n = e.networks().get(ep.network_id); n && n->dns) keep(refresh_network_dns(e, *n));
  return first;
}

}  // namespace

std::string host_veth_name(const store::Endpoint& ep) { return "mdv" + ep.endpoint_id.substr(0, 12); }

NetworkLock::~NetworkLock() {
  if (fd_ >= 0) ::close(fd_);
}

Result<NetworkLock> NetworkLock::acquire(const Paths& p) {
  int fd = ::open(p.network_lock().c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return fail_errno("open " + p.network_lock());
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    int err = errno;
    ::close(fd);
    return fail_errno("lock " + p.network_lock(), err);
  }
  return NetworkLock(fd);
}

Status refresh_network_dns(Engine& e, const store::Network& n) {
  const Paths& p = e.paths();
  std::string text;
  for (auto& ep : TRY(e.networks().endpoints_on(n.id))) {
    if (!path_exists(p.netns_file(ep.container_id))) continue;  // not up
    auto c = e.containers().get_by_id(ep.container_id);
    if (!c) continue;
    std::set<std::string> names = {c->name, store::short_id(c->id)};
    for (auto& a : ep.aliases) names.insert(a);
    if (std::string h = c->config.value("Hostname", ""); !h.empty()) names.insert(h);
    text += ep.ip;
    for (auto& name : names) text += " " + name;
    text += "\n";
  }
  if (text.empty()) {
    stop_dns_server(p, n.id);
    return {};
  }
  TRY(make_directories(p.dns_dir(), 0700));
  TRY(write_file_atomic(p.dns_hosts(n.id), text, 0644));
  if (!dns_server_pid(p, n.id)) TRY(start_dns_server(e, TRY(load_network_defaults(p)), n));
  return {};
}

Result<ContainerNetwork> setup_container_network(Engine& e, const store::Container& c) {
  ContainerNetwork out;
  const json& hc = c.host_config;
  static const std::pair<const char*, const char*> kModes[] = {{"IpcMode", "ipc"}, {"UTSMode", "uts"}, {"PidMode", "pid"}};
  for (auto [key, type] : kModes) {
    std::string m = hc.value(key, "");
    if (m == "host") {
      out.ns.host.insert(type);
    } else if (m.rfind("container:", 0) == 0) {
      auto peer = TRY(running_peer(e, m.substr(10), std::string(type) + " namespace"));
      out.ns.paths[type] = "/proc/" + std::to_string(peer.pid) + "/ns/" + type;
    }
  }
  std::string mode = hc.value("NetworkMode", "none");
  if (mode == "none" || mode == "host") return out;
  if (mode.rfind("container:", 0) == 0) {
    auto peer = TRY(running_peer(e, mode.substr(10), "network namespace"));
    out.ns.paths["network"] = "/proc/" + std::to_string(peer.pid) + "/ns/net";
    out.etc.copy_from = e.paths().container_dir(peer.id);
    return out;
  }
  auto eps = TRY(e.networks().endpoints_of(c.id));
  NetworkDefaults d = TRY(load_network_defaults(e.paths()));
  auto lock = TRY(NetworkLock::acquire(e.paths()));
  // A failed setup leaves nothing, not even a veth the kernel is about to remove.
  auto undo = ScopeGuard([&] {
    (void)teardown_locked(e, d, c);
    (void)wait_endpoint_links_gone(e, c);
  });
  std::string nsfile = e.paths().netns_file(c.id);
  TRY(make_directories(e.paths().netns_dir(), 0700));
  if (path_exists(nsfile)) (void)net::remove_pinned_netns(nsfile);  // left by a crash
  TRY_CTX(net::create_pinned_netns(nsfile), "create network namespace");
  Explain::step("unshare(CLONE_NEWNET) + bind mount: network namespace pinned at " + nsfile);
  out.ns.paths["network"] = nsfile;
  if (eps.empty()) {  // disconnected from every network: loopback only
    undo.cancel();
    return out;
  }
  UniqueFd nsfd = TRY(net::open_netns(nsfile));
  net::Netlink host = TRY(net::Netlink::open());
  net::Netlink inside = TRY(net::Netlink::open_in(nsfd.get()));
  bool routed = false;
  std::vector<store::Network> dns_networks;
  for (auto& ep : eps) {
    auto n = TRY(e.networks().get(ep.network_id));
    TRY(ensure_plumbing_locked(d, host, n));
    TRY(plug(host, inside, nsfd.get(), n, ep, d.mtu, !routed && !n.internal));
    routed = routed || !n.internal;
    out.etc.own_addresses.push_back(ep.ip);
    if (n.dns) {
      if (out.etc.nameservers.empty()) out.etc.nameservers.push_back(n.gateway);
      dns_networks.push_back(n);
    }
  }
  if (out.etc.nameservers.empty() && !d.dns.empty()) out.etc.nameservers = d.dns;
  TRY(publish_ports(e, d, c, eps[0].ip));
  for (auto& n : dns_networks) TRY(refresh_network_dns(e, n));
  undo.cancel();
  return out;
}

Status teardown_container_network(Engine& e, const store::Container& c) {
  // Fast path (every stop of a --network none/host container): nothing was set up.
  if (!path_exists(e.paths().netns_file(c.id))) {
    auto ports = e.networks().ports_of(c.id);
    if (ports && ports->empty()) return {};
  }
  NetworkDefaults d = TRY(load_network_defaults(e.paths()));
  auto lock = TRY(NetworkLock::acquire(e.paths()));
  return teardown_locked(e, d, c);
}

Status wait_endpoint_links_gone(Engine& e, const store::Container& c) {
  auto eps = TRY(e.networks().endpoints_of(c.id));
  if (eps.empty()) return {};
  net::Netlink host = TRY(net::Netlink::open());
  for (auto& ep : eps) {
    std::string veth = host_veth_name(ep);
    for (int i = 0; i < 3000 && TRY(host.link_exists(veth)); ++i) ::usleep(1000);
    if (TRY(host.link_exists(veth))) TRY(host.delete_link(veth));  // still held (e.g. an fd): force it
  }
  return {};
}

Status attach_endpoint_live(Engine& e, const store::Container& c, const store::Endpoint& ep) {
  std::string nsfile = e.paths().netns_file(c.id);
  if (!path_exists(nsfile)) return {};  // not up: plugged at the next start
  NetworkDefaults d = TRY(load_network_defaults(e.paths()));
  auto lock = TRY(NetworkLock::acquire(e.paths()));
  auto n = TRY(e.networks().get(ep.network_id));
  UniqueFd nsfd = TRY(net::open_netns(nsfile));
  net::Netlink host = TRY(net::Netlink::open());
  net::Netlink inside = TRY(net::Netlink::open_in(nsfd.get()));
  TRY(ensure_plumbing_locked(d, host, n));
  TRY(plug(host, inside, nsfd.get(), n, ep, d.mtu, false));
  if (n.dns) TRY(refresh_network_dns(e, n));
  return {};
}

Status detach_endpoint_live(Engine& e, const store::Container& c, const store::Endpoint& ep) {
  if (!path_exists(e.paths().netns_file(c.id))) return {};
  auto lock = TRY(NetworkLock::acquire(e.paths()));
  net::Netlink host = TRY(net::Netlink::open());
  return host.delete_link(host_veth_name(ep));  // the caller refreshes DNS once the endpoint row is gone
}

Status ensure_network_plumbing(Engine& e, const store::Network& n) {
  if (n.driver != "bridge") return {};
  NetworkDefaults d = TRY(load_network_defaults(e.paths()));
  auto lock = TRY(NetworkLock::acquire(e.paths()));
  net::Netlink host = TRY(net::Netlink::open());
  return ensure_plumbing_locked(d, host, n);
}

Status remove_network_plumbing(Engine& e, const store::Network& n) {
  if (n.driver != "bridge") return {};
  NetworkDefaults d = TRY(load_network_defaults(e.paths()));
  auto lock = TRY(NetworkLock::acquire(e.paths()));
  stop_dns_server(e.paths(), n.id);
  net::Netlink host = TRY(net::Netlink::open());
  TRY_CTX(host.delete_link(n.bridge), "delete bridge " + n.bridge);
  net::NftRules* nft = TRY(nft_for(d));
  if (TRY(nft->table_exists())) TRY(nft->remove_network(n.bridge, n.subnet, n.internal));
  return {};
}

json container_ports_json(Engine& e, const store::Container& c) {
  json ports = json::object();
  if (c.config.contains("ExposedPorts") && c.config["ExposedPorts"].is_object())
    for (auto& [k, _] : c.config["ExposedPorts"].items()) ports[k] = nullptr;
  bool up = c.state == store::ContainerState::kRunning || c.state == store::ContainerState::kPaused ||
            c.state == store::ContainerState::kRestarting;
  if (up)
    for (auto& p : e.networks().ports_of(c.id).value_or(std::vector<store::PublishedPort>{})) {
      std::string key = std::to_string(p.container_port) + "/" + p.proto;
      if (!ports[key].is_array()) ports[key] = json::array();
      ports[key].push_back({{"HostIp", p.host_ip}, {"HostPort", std::to_string(p.host_port)}});
    }
  return ports;
}

}  // namespace md::engine
