// NftRules: minidocker's nftables rules — egress NAT for bridge networks, isolation
// of networks from each other and of --internal networks from everything, and
// published ports (DNAT). See docs/networking_nft.md for the table and why.
//
// Everything lives in ONE table of our own, `table ip <name>`, per engine root: we
// never read or write any other table (the host's iptables-nft `ip nat`/`ip filter`
// belong to other tools). The rules are fixed; networks and ports are elements of
// sets and maps, so adding a container or a port is one element insert, never a
// rule change.
//
// Ownership: an NftRules owns one libnftables context (see nft_lib.h): its netlink
// socket is opened by open(), in the calling thread's network namespace, and every
// operation acts on that namespace. Move-only; not for use by two threads at once.
//
// Cost: each operation is ONE libnftables command run (one netlink batch, applied
// atomically by the kernel), except the slow paths named below.
//
// Errors: input is validated before anything reaches nft (bridge names, addresses,
// protocols, ports) and a bad value is reported by name. nft's failures carry nft's
// text (and errno_value when it names a kernel error, e.g. EEXIST).
//
// IPv4 only: the table is `ip` family; IPv6 addresses are rejected.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "net/nft_lib.h"

namespace md::net {

// A published port: host_ip:host_port/proto → container_ip:container_port.
struct PortMapping {
  std::string host_ip;  // "" or "0.0.0.0" = any host address
  std::string proto;    // "tcp" | "udp"
  uint16_t host_port = 0;
  std::string container_ip;
  uint16_t container_port = 0;

  bool operator==(const PortMapping&) const = default;
};

// The form list_ports() reports: any-address host_ip as "" (not "0.0.0.0").
// Compare canonical forms when reconciling.
PortMapping canonical(PortMapping p);

// "0.0.0.0:8080/tcp -> 10.88.0.2:80", for messages.
std::string to_string(const PortMapping& p);

class NftRules {
 public:
  // Loads libnftables and opens a context; does not touch the kernel's ruleset.
  // table_name: letters, digits and '_', starting with a letter, at most 64.
  static Result<NftRules> open(std::string table_name);

  const std::string& table_name() const { return table_; }

  // Creates the table with all its sets, maps, chains and rules in one atomic
  // batch if it does not exist; does nothing if it exists (one `list tables`).
  // Safe against a concurrent ensure_table() by another process: creation uses
  // `create table`, so the loser fails with EEXIST, which counts as success, and
  // the rules are never duplicated. An existing table is trusted as-is: it is not
  // compared with the current layout (delete_table() + ensure_table() rebuilds).
  Status ensure_table();

  // Deletes the table and everything in it. An absent table is success.
  Status delete_table();

  // Registers a bridge network: its bridge in @bridges (and @internal_bridges when
  // internal), and, unless internal, its subnet in @masq_nets (egress NAT).
  // Idempotent. subnet_cidr must be a network address ("10.88.0.0/16", host bits
  // zero). Fails if the subnet overlaps another network's (nft: File exists).
  Status add_network(const std::string& bridge, const std::string& subnet_cidr, bool internal);

  // Unregisters a network; elements already absent are fine. The bridge is removed
  // from @internal_bridges whatever `internal` says; the subnet is removed from
  // @masq_nets only when !internal (an internal subnet was never there).
  Status remove_network(const std::string& bridge, const std::string& subnet_cidr, bool internal);

  // Publishes ports, all or none (one batch). A mapping already present with the
  // same target is fine. A host port already published to another target fails
  // with EEXIST and a message naming the current target (slow path: one extra
  // listing, only on that failure). Does not detect an any-address mapping
  // shadowing a specific-address one on the same port: that is the port
  // allocator's job (a specific host_ip wins, it is looked up first).
  Status add_ports(const std::vector<PortMapping>& ports);

  // Unpublishes ports; absent ones are fine. A host port now published to a
  // DIFFERENT target is left alone (it belongs to someone else): fast path one
  // batch; when any such port is among them, a listing then a batch of the rest.
  Status remove_ports(const std::vector<PortMapping>& ports);

  // Every published port, from the maps, in canonical() form (for reconciliation).
  // An absent table has no ports: empty, not an error.
  Result<std::vector<PortMapping>> list_ports();

  Result<bool> table_exists();

 private:
  NftRules(Nft nft, std::string table) : nft_(std::move(nft)), table_(std::move(table)) {}

  Nft nft_;
  std::string table_;
};

// The nft scripts NftRules runs, as pure functions (no kernel, no library):
// exposed for unit tests and for reading. Each validates its input and fails
// naming the bad value.
namespace nft_script {

Status check_table_name(std::string_view table);
Status check_bridge_name(std::string_view bridge);

// `create table ip T` + the whole layout, in one script.
Result<std::string> create_table(std::string_view table);
// Deletes T; absent is fine (`add table` first: nft 1.0.6 has no `destroy`).
Result<std::string> delete_table(std::string_view table);
Result<std::string> add_network(std::string_view table, std::string_view bridge,
                                std::string_view subnet_cidr, bool internal);
Result<std::string> remove_network(std::string_view table, std::string_view bridge,
                                   std::string_view subnet_cidr, bool internal);
Result<std::string> add_ports(std::string_view table, const std::vector<PortMapping>& ports);
// `add element` then `delete element` of each (so absent ones are not an error);
// the add fails with EEXIST when the key is present with another value.
Result<std::string> remove_ports(std::string_view table, const std::vector<PortMapping>& ports);

// Parses `list table ip T` (or `list map`) JSON output: the elements of
// ports_any and ports_ip, in canonical() form.
Result<std::vector<PortMapping>> parse_ports(std::string_view json);
// Parses `list tables` JSON output: whether `table ip <table>` is among them.
Result<bool> parse_has_table(std::string_view json, std::string_view table);

}  // namespace nft_script

}  // namespace md::net
