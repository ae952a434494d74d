// rtnetlink for container networking: bridges, veth pairs, IPv4 addresses and routes.
//
// A Netlink object owns one NETLINK_ROUTE socket (libnl's nl_sock). A netlink socket
// belongs for good to the network namespace that was current when it was created, so
// every call acts on that namespace, whatever namespace the calling thread is in
// later. To configure a container's side, open a second object with open_in().
//
// Requests are built with libnl's message primitives (nlmsg_*, nla_*) rather than
// libnl-route's link/addr/route objects, so that each operation is the one request we
// choose: a veth pair with its peer's namespace, MTU, bridge and up state in a single
// RTM_NEWLINK; set_up by name without a lookup first; no object caches.
//
// Errors carry the kernel's own errno (libnl's codes would fold EADDRINUSE into
// "exists") and, when the kernel gave one, its extended-ack text:
// "add default route via 192.0.2.1: Network is unreachable (Nexthop has invalid
// gateway)". Not thread-safe: one request at a time per object.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace md::net {

// An IPv4 address with a prefix length: "10.77.0.1/16". addr_be is in network byte
// order; the host bits are kept (an interface address, not only a network).
struct Ipv4Net {
  uint32_t addr_be = 0;
  int prefix = 0;  // 0..32

  uint32_t mask_be() const;
  Ipv4Net network() const;  // host bits cleared: 10.77.0.1/16 -> 10.77.0.0/16
  uint32_t broadcast_be() const;
  bool contains(uint32_t other_be) const;
  bool overlaps(const Ipv4Net& other) const;
  std::string to_string() const;  // "10.77.0.1/16"
  bool operator==(const Ipv4Net&) const = default;
};

// "10.77.0.1/16" (the prefix is required). Errors: EINVAL naming the text.
Result<Ipv4Net> parse_cidr(std::string_view text);
// "10.77.0.1", dotted quad only. Errors: EINVAL naming the text.
Result<uint32_t> parse_ipv4(std::string_view text);
std::string format_ipv4(uint32_t addr_be);
// Docker's MAC for a container address: 02:42 then the four address bytes
// (10.77.0.2 -> "02:42:0a:4d:00:02"). Locally administered, unicast, and unique on a
// bridge because the addresses are.
std::string mac_for_ip(uint32_t addr_be);

// What the kernel reports for one link (RTM_GETLINK).
struct LinkInfo {
  int index = 0;
  std::string name;
  std::string kind;      // IFLA_INFO_KIND: "bridge", "veth"; "" for lo or physical NICs
  unsigned flags = 0;    // IFF_* (IFF_UP: administratively up)
  int mtu = 0;
  int master_index = 0;  // the bridge a port is enslaved to, 0 when none
  std::string mac;       // "aa:bb:cc:dd:ee:ff", "" when the link has none
};

class Netlink {
 public:
  // A socket in the calling thread's current network namespace.
  static Result<Netlink> open();
  // A socket in the namespace `netns_fd` refers to (the thread enters it for the
  // socket() call only, and is back where it was on return).
  static Result<Netlink> open_in(int netns_fd);

  Netlink(Netlink&&) noexcept;
  Netlink& operator=(Netlink&&) noexcept;
  ~Netlink();  // closes the socket

  // Link lookups by name. These use the SIOCGIFINDEX ioctl on the netlink socket (it
  // answers in the socket's namespace): one syscall, no netlink round trip.
  Result<bool> link_exists(const std::string& name);
  // Errors: ENOENT "no such network interface: <name>".
  Result<int> link_index(const std::string& name);
  // One RTM_GETLINK for this name. Errors: ENOENT as link_index.
  Result<LinkInfo> link_info(const std::string& name);

  // Makes sure bridge `name` exists, is up and has `gateway` (e.g. 10.77.0.1/16):
  // creates it when absent (with `mtu` when > 0, and MAC mac_for_ip(gateway) so the
  // bridge keeps one MAC instead of taking its lowest port's), adds the address when
  // missing, brings it up when down. Then sets net.ipv4.conf.<name>.route_localnet=1
  // in this socket's namespace, so 127.0.0.1 may be DNATed to containers on it.
  // Idempotent and safe against a concurrent creator. An existing bridge keeps its
  // MTU and other addresses. Errors: EEXIST when `name` exists and is not a bridge.
  Status ensure_bridge(const std::string& name, const Ipv4Net& gateway, int mtu = 0);
  // Deletes a link by name (deleting either end of a veth deletes both). Absent is
  // success.
  Status delete_link(const std::string& name);
  // Creates a veth pair in one request: `host_name` in this socket's namespace,
  // enslaved to `bridge` and up; its peer created directly inside `peer_netns_fd` as
  // `peer_name` (e.g. "eth0"), down. `mtu` > 0 applies to both ends. The kernel makes
  // it atomic: on any error (EEXIST for either name, no such bridge) nothing is left.
  Status create_veth(const std::string& host_name, const std::string& peer_name,
                     int peer_netns_fd, const std::string& bridge, int mtu = 0);
  // In this socket's namespace: adds `addr` to `name` (already present is fine), sets
  // its MAC when `mac` is not empty ("aa:bb:cc:dd:ee:ff") and brings it up; MAC and up
  // travel in one request, and the kernel applies the MAC first.
  Status configure_interface(const std::string& name, const Ipv4Net& addr,
                             const std::string& mac = "");
  Status set_up(const std::string& name);
  // Adds "default via <gateway>" to the main table. Errors: EEXIST when there is
  // already a default route; ENETUNREACH when no interface reaches `gateway`.
  Status add_default_route(uint32_t gateway_be);
  // Removes `addr` from `name`. An absent link or address is success.
  Status delete_address(const std::string& name, const Ipv4Net& addr);
  // Names of this namespace's links that start with `prefix` (one dump).
  Result<std::vector<std::string>> links_with_prefix(const std::string& prefix);
  // IPv4 networks this namespace uses, for picking a subnet that overlaps none: every
  // interface address (lo's 127.0.0.0/8 included) and every main-table route except
  // the default route, as networks (host bits cleared), sorted, without duplicates.
  Result<std::vector<Ipv4Net>> ipv4_networks_in_use();

 private:
  struct Impl;
  explicit Netlink(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;  // heap: libnl's callbacks keep its address
};

}  // namespace md::net
