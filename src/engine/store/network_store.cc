#include "engine/store/network_store.h"

#include <arpa/inet.h>

#include <set>

#include "engine/store/container_store.h"
#include "engine/store/ids.h"

namespace md::store {

using nlohmann::json;

namespace {

constexpr const char* kNetworkColumns =
    "id, name, driver, bridge, subnet, gateway, internal, dns, labels, options, created";

Network network_from(const Statement& st) {
  Network n;
  n.id = st.column_text(0);
  n.name = st.column_text(1);
  n.driver = st.column_text(2);
  n.bridge = st.column_text(3);
  n.subnet = st.column_text(4);
  n.gateway = st.column_text(5);
  n.internal = st.column_int(6) != 0;
  n.dns = st.column_int(7) != 0;
  n.labels = json::parse(st.column_text(8), nullptr, false);
  n.options = json::parse(st.column_text(9), nullptr, false);
  n.created = st.column_int(10);
  return n;
}

constexpr const char* kEndpointColumns =
    "container_id, network_id, endpoint_id, ifname, ip, mac, aliases, static_ip, created";

Endpoint endpoint_from(const Statement& st) {
  Endpoint e;
  e.container_id = st.column_text(0);
  e.network_id = st.column_text(1);
  e.endpoint_id = st.column_text(2);
  e.ifname = st.column_text(3);
  e.ip = st.column_text(4);
  e.mac = st.column_text(5);
  json a = json::parse(st.column_text(6), nullptr, false);
  if (a.is_array())
    for (auto& x : a)
      if (x.is_string()) e.aliases.push_back(x.get<std::string>());
  e.static_ip = st.column_int(7) != 0;
  e.created = st.column_int(8);
  return e;
}

PublishedPort port_from(const Statement& st) {
  PublishedPort p;
  p.container_id = st.column_text(0);
  p.proto = st.column_text(1);
  p.host_ip = st.column_text(2);
  p.host_port = int(st.column_int(3));
  p.container_ip = st.column_text(4);
  p.container_port = int(st.column_int(5));
  return p;
}

constexpr const char* kPortColumns = "container_id, proto, host_ip, host_port, container_ip, container_port";

// Docker's MAC for an address: 02:42 and the four bytes.
std::string mac_for(std::uint32_t a) {
  char buf[18];
  snprintf(buf, sizeof buf, "02:42:%02x:%02x:%02x:%02x", (a >> 24) & 0xff, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
  return buf;
}

}  // namespace

std::string Ipv4Subnet::str() const { return ipv4_str(network) + "/" + std::to_string(prefix); }

Result<std::uint32_t> parse_ipv4(std::string_view ip) {
  in_addr a{};
  std::string s(ip);
  if (inet_pton(AF_INET, s.c_str(), &a) != 1) return fail("invalid IPv4 address \"" + s + "\"", EINVAL);
  return ntohl(a.s_addr);
}

std::string ipv4_str(std::uint32_t a) {
  in_addr x{htonl(a)};
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &x, buf, sizeof buf);
  return buf;
}

Result<Ipv4Subnet> parse_subnet(std::string_view cidr) {
  std::string s(cidr);
  auto slash = s.find('/');
  if (slash == std::string::npos)
    return fail("invalid subnet \"" + s + "\": expected an IPv4 CIDR such as 10.20.0.0/16", EINVAL);
  auto addr = parse_ipv4(s.substr(0, slash));
  if (!addr) return fail("invalid subnet \"" + s + "\": " + addr.error().message, EINVAL);
  std::string len = s.substr(slash + 1);
  if (len.empty() || len.size() > 2 || len.find_first_not_of("0123456789") != std::string::npos || std::stoi(len) > 32)
    return fail("invalid subnet \"" + s + "\": prefix length must be 0-32", EINVAL);
  Ipv4Subnet n{*addr, std::stoi(len)};
  if ((n.network & n.mask()) != n.network) {
    Ipv4Subnet fixed{n.network & n.mask(), n.prefix};
    return fail("invalid subnet " + s + ": host bits set, did you mean " + fixed.str() + "?", EINVAL);
  }
  if (n.prefix > 30) return fail("invalid subnet " + s + ": too small for a gateway and a container (use /30 or larger)", EINVAL);
  return n;
}

Result<Ipv4Subnet> pick_subnet(const Ipv4Subnet& pool, int size, const std::vector<Ipv4Subnet>& used) {
  if (size < pool.prefix || size > 30) return fail("invalid address pool size /" + std::to_string(size), EINVAL);
  std::uint64_t count = std::uint64_t(1) << (size - pool.prefix);
  std::uint32_t step = size == 0 ? 0 : std::uint32_t(1) << (32 - size);
  for (std::uint64_t i = 0; i < count; ++i) {
    Ipv4Subnet cand{pool.network + std::uint32_t(i) * step, size};
    bool clash = false;
    for (auto& u : used)
      if (cand.overlaps(u)) {
        clash = true;
        break;
      }
    if (!clash) return cand;
  }
  return fail("could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network",
              ENOSPC);
}

Result<Network> NetworkStore::create(Network n) {
  if (n.id.empty()) n.id = TRY(generate_id());
  if (n.created == 0) n.created = now_unix_nanos();
  return db_.transaction([&]() -> Result<Network> {
    Statement q = TRY(db_.prepare("SELECT 1 FROM networks WHERE name = ?1"));
    q.bind_all(n.name);
    if (TRY(q.step())) return fail("network with name " + n.name + " already exists", EEXIST);
    Statement st = TRY(db_.prepare(
        "INSERT INTO networks (id, name, driver, bridge, subnet, gateway, internal, dns, labels, options, created) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"));
    st.bind_all(n.id, n.name, n.driver, n.bridge, n.subnet, n.gateway, int(n.internal), int(n.dns), n.labels.dump(),
                n.options.dump(), n.created);
    TRY(st.run());
    return n;
  });
}

Result<Network> NetworkStore::get(std::string_view ref) {
  std::string r(ref);
  if (r.empty()) return fail("network name cannot be empty", EINVAL);
  for (const char* where : {"id = ?1", "name = ?1"}) {
    Statement st = TRY(db_.prepare(std::string("SELECT ") + kNetworkColumns + " FROM networks WHERE " + where));
    st.bind_all(r);
    if (TRY(st.step())) return network_from(st);
  }
  if (is_hex(r)) {
    Statement st = TRY(db_.prepare(std::string("SELECT ") + kNetworkColumns +
                                   " FROM networks WHERE substr(id, 1, length(?1)) = ?1"));
    st.bind_all(r);
    std::vector<Network> found;
    while (TRY(st.step())) found.push_back(network_from(st));
    if (found.size() == 1) return found[0];
    if (found.size() > 1) return fail("network " + r + " is ambiguous (" + std::to_string(found.size()) + " matches found based on ID prefix)", EINVAL);
  }
  return fail("network " + r + " not found", ENOENT);
}

Result<std::vector<Network>> NetworkStore::list() {
  Statement st = TRY(db_.prepare(std::string("SELECT ") + kNetworkColumns + " FROM networks ORDER BY created, name"));
  std::vector<Network> out;
  while (TRY(st.step())) out.push_back(network_from(st));
  return out;
}

Status NetworkStore::remove(std::string_view id) {
  return db_.transaction([&]() -> Status {
    Statement q = TRY(db_.prepare("SELECT count(*) FROM endpoints WHERE network_id = ?1"));
    q.bind_all(std::string(id));
    TRY(q.step());
    if (q.column_int(0) > 0)
      return fail("network " + short_id(id) + " has active endpoints (" + std::to_string(q.column_int(0)) +
                      "): disconnect or remove its containers first",
                  EBUSY);
    Statement st = TRY(db_.prepare("DELETE FROM networks WHERE id = ?1"));
    st.bind_all(std::string(id));
    TRY(st.run());
    if (db_.changes() == 0) return fail("network " + std::string(id) + " not found", ENOENT);
    return {};
  });
}

Result<Endpoint> NetworkStore::allocate_endpoint(const std::string& container_id, const Network& n, const std::string& ip,
                                                 const std::vector<std::string>& aliases) {
  Ipv4Subnet subnet = TRY(parse_subnet(n.subnet));
  std::uint32_t gateway = TRY(parse_ipv4(n.gateway));
  std::string endpoint_id = TRY(generate_id());
  return db_.transaction([&]() -> Result<Endpoint> {
    Statement mine = TRY(db_.prepare("SELECT ifname, network_id FROM endpoints WHERE container_id = ?1"));
    mine.bind_all(container_id);
    std::set<std::string> ifnames;
    while (TRY(mine.step())) {
      if (mine.column_text(1) == n.id)
        return fail("endpoint with name " + container_id.substr(0, 12) + " already exists in network " + n.name, EEXIST);
      ifnames.insert(mine.column_text(0));
    }
    std::string ifname;
    for (int i = 0; ifname.empty(); ++i)
      if (!ifnames.count("eth" + std::to_string(i))) ifname = "eth" + std::to_string(i);

    Statement used_q = TRY(db_.prepare("SELECT ip FROM endpoints WHERE network_id = ?1"));
    used_q.bind_all(n.id);
    std::set<std::uint32_t> used = {gateway};
    while (TRY(used_q.step()))
      if (auto a = parse_ipv4(used_q.column_text(0))) used.insert(*a);
    std::uint32_t addr = 0;
    if (!ip.empty()) {
      addr = TRY(parse_ipv4(ip));
      if (!subnet.contains(addr) || addr == subnet.network || addr == subnet.broadcast())
        return fail("invalid address " + ip + ": it does not belong to any of this network's subnets (" + n.subnet + ")",
                    EINVAL);
      if (used.count(addr)) return fail("Address already in use: " + ip + " on network " + n.name, EEXIST);
    } else {
      for (std::uint32_t a = subnet.network + 1; a < subnet.broadcast(); ++a)
        if (!used.count(a)) {
          addr = a;
          break;
        }
      if (!addr) return fail("no available IPv4 addresses on network " + n.name + " (" + n.subnet + ")", ENOSPC);
    }
    Endpoint e{container_id, n.id, endpoint_id, ifname, ipv4_str(addr), mac_for(addr), aliases, !ip.empty(),
               now_unix_nanos()};
    Statement st = TRY(db_.prepare(
        "INSERT INTO endpoints (container_id, network_id, endpoint_id, ifname, ip, mac, aliases, static_ip, created) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
    st.bind_all(e.container_id, e.network_id, e.endpoint_id, e.ifname, e.ip, e.mac, json(e.aliases).dump(),
                int(e.static_ip), e.created);
    TRY(st.run());
    return e;
  });
}

Status NetworkStore::remove_endpoint(const std::string& container_id, const std::string& network_id) {
  return db_.transaction([&]() -> Status {
    Statement st = TRY(db_.prepare("DELETE FROM endpoints WHERE container_id = ?1 AND network_id = ?2"));
    st.bind_all(container_id, network_id);
    TRY(st.run());
    return {};
  });
}

Result<std::vector<Endpoint>> NetworkStore::endpoints_of(const std::string& container_id) {
  Statement st = TRY(db_.prepare(std::string("SELECT ") + kEndpointColumns +
                                 " FROM endpoints WHERE container_id = ?1 ORDER BY created, ifname"));
  st.bind_all(container_id);
  std::vector<Endpoint> out;
  while (TRY(st.step())) out.push_back(endpoint_from(st));
  return out;
}

Result<std::vector<Endpoint>> NetworkStore::endpoints_on(const std::string& network_id) {
  Statement st =
      TRY(db_.prepare(std::string("SELECT ") + kEndpointColumns + " FROM endpoints WHERE network_id = ?1 ORDER BY created"));
  st.bind_all(network_id);
  std::vector<Endpoint> out;
  while (TRY(st.step())) out.push_back(endpoint_from(st));
  return out;
}

Result<std::vector<PublishedPort>> NetworkStore::reserve_ports(std::vector<PublishedPort> wanted, int lo, int hi,
                                                              const std::function<bool(const PublishedPort&)>& probe) {
  return db_.transaction([&]() -> Result<std::vector<PublishedPort>> {
    std::vector<PublishedPort> taken;
    {
      Statement st = TRY(db_.prepare(std::string("SELECT ") + kPortColumns + " FROM published_ports"));
      while (TRY(st.step())) taken.push_back(port_from(st));
    }
    // 0.0.0.0:P clashes with every a.b.c.d:P of the same protocol, and the other way round.
    auto clashes = [&](const PublishedPort& p) {
      for (auto& t : taken)
        if (t.proto == p.proto && t.host_port == p.host_port &&
            (t.host_ip == p.host_ip || t.host_ip == "0.0.0.0" || p.host_ip == "0.0.0.0"))
          return true;
      return false;
    };
    int next = lo;
    for (auto& p : wanted) {
      if (p.host_port == 0) {
        for (; next <= hi; ++next) {
          p.host_port = next;
          if (!clashes(p) && (!probe || probe(p))) break;
        }
        if (next > hi) return fail("no free host port in " + std::to_string(lo) + "-" + std::to_string(hi), EADDRINUSE);
        ++next;
      } else if (clashes(p)) {
        return fail("Bind for " + p.host_ip + ":" + std::to_string(p.host_port) + " failed: port is already allocated",
                    EADDRINUSE);
      }
      taken.push_back(p);
      Statement st = TRY(db_.prepare(
          "INSERT INTO published_ports (container_id, proto, host_ip, host_port, container_ip, container_port) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
      st.bind_all(p.container_id, p.proto, p.host_ip, p.host_port, p.container_ip, p.container_port);
      TRY(st.run());
    }
    return wanted;
  });
}

Result<std::vector<PublishedPort>> NetworkStore::ports_of(const std::string& container_id) {
  Statement st = TRY(db_.prepare(std::string("SELECT ") + kPortColumns +
                                 " FROM published_ports WHERE container_id = ?1 ORDER BY container_port, proto, host_ip"));
  st.bind_all(container_id);
  std::vector<PublishedPort> out;
  while (TRY(st.step())) out.push_back(port_from(st));
  return out;
}

Result<std::vector<PublishedPort>> NetworkStore::all_ports() {
  Statement st = TRY(db_.prepare(std::string("SELECT ") + kPortColumns + " FROM published_ports"));
  std::vector<PublishedPort> out;
  while (TRY(st.step())) out.push_back(port_from(st));
  return out;
}

Status NetworkStore::release_ports(const std::string& container_id) {
  return db_.transaction([&]() -> Status {
    Statement st = TRY(db_.prepare("DELETE FROM published_ports WHERE container_id = ?1"));
    st.bind_all(container_id);
    TRY(st.run());
    return {};
  });
}

}  // namespace md::store
