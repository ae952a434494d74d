// Networking through the CLI on real containers: network create/ls/inspect/rm/prune/
// connect/disconnect, name and alias resolution on user networks, published ports reached
// from the host (loopback and the host's own address), -P, `port`, ps PORTS, conflicts,
// and that nothing (veths, bridges, rules) is left behind. Every test root has its own
// default bridge and subnet (cli_harness.cc writes its daemon.json); explicit --subnet
// values come from 10.203.<n>.0/24 with the root's own n.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <sstream>

#include "cli_harness.h"

namespace mdcli {
namespace {

class Network : public Cli {
 protected:
  // "10.203.<n>.0/<prefix>" with this root's n (unique among the running test processes).
  std::string subnet(int third_offset = 0, const std::string& prefix = "24") {
    int n = std::atoi(bridge_subnet_.substr(std::strlen("10.201.")).c_str());
    return "10.203." + std::to_string((n + third_offset) % 256) + ".0/" + prefix;
  }
  // A detached busybox httpd serving "hello from NAME" on port 80 (and `extra` flags).
  std::string run_web(const std::string& name, std::vector<std::string> flags, const std::string& image = "busybox") {
    std::vector<std::string> args = {"run", "-d", "--name", name};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {image, "sh", "-c",
                             "mkdir -p /www && echo hello from " + name +
                                 " > /www/index.html && exec busybox httpd -f -p 80 -h /www"});
    return md_ok(args);
  }
  // `wget -qO- URL` from a new container on `network` (busybox's wget: -T crashes it).
  Out fetch_from(const std::string& network, const std::string& url) {
    return md({"run", "--rm", "--network", network, "busybox", "busybox", "wget", "-qO-", url});
  }
  std::string nft_table_text() { return run_process({"nft", "list", "table", "ip", nft_table_}).out; }
  // The host veth of each endpoint of a running container: "mdv" + 12 hex of its id.
  std::vector<std::string> host_veths(const std::string& ref) {
    std::vector<std::string> out;
    json nets = inspect(ref)["NetworkSettings"]["Networks"];
    for (auto& [name, ep] : nets.items())
      if (ep.value("EndpointID", "").size() >= 12) out.push_back("mdv" + ep["EndpointID"].get<std::string>().substr(0, 12));
    return out;
  }
};

bool link_exists(const std::string& name) { return ::access(("/sys/class/net/" + name).c_str(), F_OK) == 0; }

// A free TCP port on the host (the kernel's choice, released at once).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// `GET / HTTP/1.0` to ip:port with a plain socket; the whole response, "" on any failure.
std::string http_get(const std::string& ip, int port, int timeout_ms = 2000) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return "";
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  std::string out;
  auto wait_for = [&](short ev) {
    pollfd p{fd, ev, 0};
    return ::poll(&p, 1, timeout_ms) == 1 && !(p.revents & (POLLERR | POLLNVAL));
  };
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) return ::close(fd), "";
  int err = 0;
  socklen_t el = sizeof err;
  if (!wait_for(POLLOUT) || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0) return ::close(fd), "";
  std::string req = "GET / HTTP/1.0\r\nHost: " + ip + "\r\n\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != ssize_t(req.size())) return ::close(fd), "";
  char buf[4096];
  for (;;) {
    if (!wait_for(POLLIN)) break;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, size_t(n));
  }
  ::close(fd);
  return out;
}

// The host's first IPv4 address that is not loopback and not on one of our bridges.
std::string host_address() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return "";
  std::string found;
  for (auto* i = list; i && found.empty(); i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP))
      continue;
    if (std::strncmp(i->ifa_name, "md", 2) == 0) continue;
    char b[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, b, sizeof b);
    found = b;
  }
  ::freeifaddrs(list);
  return found;
}

std::vector<std::string> words(const std::string& line) {
  std::istringstream ss(line);
  std::vector<std::string> out;
  for (std::string w; ss >> w;) out.push_back(w);
  return out;
}

TEST_F(Network, CreateListInspectRemove) {
  // The built-in networks are there from the start, sorted by name.
  auto ls = lines_of(md_ok({"network", "ls"}));
  ASSERT_EQ(ls.size(), 4u) << md_ok({"network", "ls"});
  EXPECT_EQ(words(ls[0]), (std::vector<std::string>{"NETWORK", "ID", "NAME", "DRIVER", "SCOPE"}));
  EXPECT_EQ(ls[0].find("NAME"), 15u);  // "NETWORK ID" + 3 spaces of padding, ids are 12 wide
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 1; i < ls.size(); ++i) rows.push_back(words(ls[i]));
  EXPECT_EQ(rows[0][1], "bridge");
  EXPECT_EQ(rows[0][2], "bridge");
  EXPECT_EQ(rows[1][1], "host");
  EXPECT_EQ(rows[1][2], "host");
  EXPECT_EQ(rows[2][1], "none");
  EXPECT_EQ(rows[2][2], "null");
  for (auto& r : rows) {
    EXPECT_EQ(r[0].size(), 12u);
    EXPECT_EQ(r[3], "local");
  }
  json bridge = json::parse(md_ok({"network", "inspect", "bridge"}));
  ASSERT_TRUE(bridge.is_array());
  EXPECT_EQ(bridge[0]["IPAM"]["Config"][0]["Subnet"], bridge_subnet_);
  EXPECT_EQ(bridge[0]["Options"]["com.docker.network.bridge.name"], bridge_);

  // Two user networks: natural name order puts n2 before n10.
  std::string a = unique("n10"), b = unique("n2");
  std::string id_a = md_ok({"network", "create", "--label", "env=test", "--subnet", subnet(), "--gateway",
                            subnet().substr(0, subnet().rfind('.')) + ".254", a});
  EXPECT_EQ(id_a.size(), 64u) << id_a;
  std::string id_b = md_ok({"network", "create", "-d", "bridge", "--internal", b});
  EXPECT_EQ(id_b.size(), 64u);
  auto names = lines_of(md_ok({"network", "ls", "--format", "{{.Name}}"}));
  EXPECT_EQ(names, (std::vector<std::string>{"bridge", "host", b, a, "none"}));
  EXPECT_EQ(md_ok({"network", "ls", "-q", "--filter", "label=env=test"}), id_a.substr(0, 12));
  EXPECT_EQ(md_ok({"network", "ls", "-q", "--no-trunc", "--filter", "name=" + b}), id_b);
  EXPECT_EQ(lines_of(md_ok({"network", "ls", "-q", "--filter", "type=custom"})).size(), 2u);
  EXPECT_EQ(md_ok({"network", "ls", "--format", "{{.Name}}", "--filter", "type=builtin", "--filter", "driver=null"}), "none");
  EXPECT_EQ(md_ok({"network", "ls", "--format", "{{.Name}}", "--filter", "dangling=true", "--filter", "name=n10"}), a);
  json row = json::parse(md_ok({"network", "ls", "--format", "json", "--filter", "id=" + id_b.substr(0, 10)}));
  EXPECT_EQ(row["Name"], b);
  EXPECT_EQ(row["ID"], id_b.substr(0, 12));
  EXPECT_EQ(row["Driver"], "bridge");
  EXPECT_EQ(row["Scope"], "local");
  EXPECT_EQ(row["Internal"], "true");
  EXPECT_EQ(row["IPv6"], "false");
  EXPECT_EQ(md_ok({"network", "ls", "--format", "{{.Name}} {{.Label \"env\"}}", "-f", "label=env"}), a + " test");
  Out bad = md({"network", "ls", "--filter", "colour=red"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_EQ(bad.err, "Error response from daemon: invalid filter 'colour'\n");

  // inspect: Docker's NetworkResource, through `network inspect` and plain `inspect`.
  json v = json::parse(md_ok({"network", "inspect", a}));
  ASSERT_TRUE(v.is_array());
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["Name"], a);
  EXPECT_EQ(v[0]["Id"], id_a);
  EXPECT_EQ(v[0]["Driver"], "bridge");
  EXPECT_EQ(v[0]["Scope"], "local");
  EXPECT_EQ(v[0]["Internal"], false);
  EXPECT_EQ(v[0]["EnableIPv6"], false);
  EXPECT_EQ(v[0]["IPAM"]["Config"][0]["Subnet"], subnet());
  EXPECT_EQ(v[0]["IPAM"]["Config"][0]["Gateway"], subnet().substr(0, subnet().rfind('.')) + ".254");
  EXPECT_EQ(v[0]["Labels"]["env"], "test");
  EXPECT_TRUE(v[0]["Containers"].is_object() && v[0]["Containers"].empty());
  json vb = json::parse(md_ok({"network", "inspect", b}));
  EXPECT_EQ(vb[0]["Internal"], true);
  EXPECT_EQ(vb[0]["IPAM"]["Config"][0]["Subnet"].get<std::string>().rfind("10.202.", 0), 0u) << vb;  // the pool
  std::string text = md_ok({"network", "inspect", a});
  EXPECT_NE(text.find("\n    {\n        \""), std::string::npos) << "4-space indent: " << text;
  EXPECT_EQ(md_ok({"network", "inspect", "-f", "{{.Name}} {{.Driver}}", a, "host"}), a + " bridge\nhost host");
  EXPECT_EQ(md_ok({"inspect", "-f", "{{.Name}} {{.Id}}", a}), a + " " + id_a);
  EXPECT_EQ(md_ok({"inspect", "--type", "network", "-f", "{{.Name}}", "none"}), "none");
  Out miss = md({"network", "inspect", "nosuch"});
  EXPECT_EQ(miss.code, 1);
  EXPECT_EQ(miss.out, "[]\n");
  EXPECT_EQ(miss.err, "Error response from daemon: network nosuch not found\n");

  // Errors, each exit 1 in Docker's words.
  Out dup = md({"network", "create", a});
  EXPECT_EQ(dup.code, 1);
  EXPECT_EQ(dup.err, "Error response from daemon: network with name " + a + " already exists\n");
  Out overlap = md({"network", "create", "--subnet", subnet(0, "25"), unique("over")});
  EXPECT_EQ(overlap.code, 1);
  EXPECT_EQ(overlap.err.rfind("Error response from daemon: Pool overlaps with other one on this address space", 0), 0u)
      << overlap;
  Out v6 = md({"network", "create", "--ipv6", unique("v6")});
  EXPECT_EQ(v6.code, 1);
  EXPECT_NE(v6.err.find("IPv6"), std::string::npos) << v6;
  Out gw = md({"network", "create", "--gateway", "10.1.2.3", unique("gw")});
  EXPECT_EQ(gw.code, 1);
  EXPECT_EQ(gw.err, "every ip-range or gateway must have a corresponding subnet\n");
  Out drv = md({"network", "create", "-d", "overlay", unique("ov")});
  EXPECT_EQ(drv.code, 1);
  EXPECT_EQ(drv.err.rfind("Error response from daemon: ", 0), 0u) << drv;
  Out args = md({"network", "create"});
  EXPECT_EQ(args.code, 1);
  EXPECT_EQ(args.err, "\"minidocker network create\" requires exactly 1 argument.\nSee 'minidocker network create --help'.\n");
  EXPECT_EQ(lines_of(md_ok({"network", "ls", "-q"})).size(), 5u);  // none of the failures left a network

  // rm: names as given; built-in and missing ones are errors, -f ignores missing ones.
  Out pre = md({"network", "rm", "bridge"});
  EXPECT_EQ(pre.code, 1);
  EXPECT_EQ(pre.err, "Error response from daemon: bridge is a pre-defined network and cannot be removed\n");
  Out rm = md({"network", "rm", a, "nosuch", b});
  EXPECT_EQ(rm.code, 1);
  EXPECT_EQ(rm.out, a + "\n" + b + "\n");
  EXPECT_EQ(rm.err, "Error response from daemon: network nosuch not found\n");
  EXPECT_TRUE(md({"network", "rm", "-f", "nosuch"}).ok());
  EXPECT_EQ(md_ok({"network", "ls", "-q", "--filter", "type=custom"}), "");
  EXPECT_FALSE(link_exists("md-" + id_a.substr(0, 12)));
  EXPECT_FALSE(link_exists("md-" + id_b.substr(0, 12)));
}

TEST_F(Network, PruneAsksAndKeepsNetworksInUse) {
  std::string used = unique("used"), idle = unique("idle"), kept = unique("kept");
  md_ok({"network", "create", used});
  md_ok({"network", "create", idle});
  md_ok({"network", "create", "--label", "keep=yes", kept});
  md_ok({"create", "--name", unique("c"), "--network", used, "busybox", "true"});
  Out no = md({"network", "prune"}, "n\n");
  EXPECT_TRUE(no.ok()) << no;
  EXPECT_EQ(no.out, "WARNING! This will remove all custom networks not used by at least one container.\n"
                    "Are you sure you want to continue? [y/N] ");
  EXPECT_EQ(lines_of(md_ok({"network", "ls", "-q", "-f", "type=custom"})).size(), 3u);
  Out yes = md({"network", "prune", "--filter", "label!=keep"}, "y\n");
  EXPECT_TRUE(yes.ok()) << yes;
  EXPECT_EQ(yes.out, "WARNING! This will remove all custom networks not used by at least one container.\n"
                     "Are you sure you want to continue? [y/N] Deleted Networks:\n" + idle + "\n\n");
  Out forced = md({"network", "prune", "-f"});
  EXPECT_EQ(forced.out, "Deleted Networks:\n" + kept + "\n\n");
  EXPECT_EQ(md_ok({"network", "prune", "-f"}), "");
  EXPECT_EQ(md_ok({"network", "ls", "--format", "{{.Name}}", "-f", "type=custom"}), used);
}

TEST_F(Network, UnknownNetworkAndNetworkInUse) {
  std::string name = unique("c");
  Out r = md({"run", "-d", "--name", name, "--network", "nosuch", "busybox", "sleep", "100"});
  EXPECT_EQ(r.code, 125) << r;
  EXPECT_NE(r.err.find("network nosuch not found"), std::string::npos) << r;
  EXPECT_EQ(md_ok({"ps", "-aq"}), "") << "a failed create leaves no container (Docker's)";

  std::string net = unique("net");
  md_ok({"network", "create", net});
  md_ok({"run", "-d", "--name", name, "--network", net, "busybox", "sleep", "1000"});
  Out rm = md({"network", "rm", net});
  EXPECT_EQ(rm.code, 1);
  EXPECT_NE(rm.err.find("error while removing network: network " + net), std::string::npos) << rm;
  EXPECT_NE(rm.err.find("has active endpoints"), std::string::npos) << rm;
  EXPECT_EQ(md_ok({"network", "ls", "-q", "-f", "name=" + net, "--format", "{{.Name}}"}), net);
  EXPECT_EQ(md_ok({"ps", "--filter", "network=" + net, "--format", "{{.Names}} {{.Networks}}"}), name + " " + net);
  EXPECT_EQ(md_ok({"ps", "--filter", "network=bridge", "--format", "{{.Names}}"}), "");
  json n = json::parse(md_ok({"network", "inspect", net}))[0];
  std::string id = inspect(name)["Id"];
  ASSERT_TRUE(n["Containers"].contains(id)) << n;
  EXPECT_EQ(n["Containers"][id]["Name"], name);
  md_ok({"rm", "-f", name});
  EXPECT_EQ(md_ok({"network", "rm", net}), net);
}

TEST_F(Network, NamesAndAliasesResolveOnUserNetworks) {
  std::string net = unique("net"), web = unique("web");
  md_ok({"network", "create", net});
  run_web(web, {"--network", net, "--network-alias", "www"});
  ASSERT_TRUE(eventually([&] { return fetch_from(net, "http://" + web + "/").out == "hello from " + web + "\n"; }))
      << fetch_from(net, "http://" + web + "/");
  Out alias = fetch_from(net, "http://www/");
  EXPECT_TRUE(alias.ok()) << alias;
  EXPECT_EQ(alias.out, "hello from " + web + "\n");
  std::string short_id = inspect(web)["Id"].get<std::string>().substr(0, 12);
  EXPECT_EQ(fetch_from(net, "http://" + short_id + "/").out, "hello from " + web + "\n");
  // The default bridge has no name resolution (Docker's): the name is unknown there.
  Out other = fetch_from("bridge", "http://" + web + "/");
  EXPECT_NE(other.code, 0) << other;
  EXPECT_EQ(md_ok({"ps", "--format", "{{.Names}} {{.Networks}}"}), web + " " + net);
}

TEST_F(Network, PublishedPortFromTheHost) {
  std::string web = unique("web");
  int port = free_port();
  run_web(web, {"-p", std::to_string(port) + ":80", "--expose", "81"});
  ASSERT_TRUE(eventually([&] { return http_get("127.0.0.1", port).find("hello from " + web) != std::string::npos; }))
      << "http://127.0.0.1:" << port << " → " << http_get("127.0.0.1", port);
  std::string resp = http_get("127.0.0.1", port);
  EXPECT_EQ(resp.rfind("HTTP/1.", 0), 0u) << resp;
  std::string host = host_address();
  if (!host.empty())
    EXPECT_NE(http_get(host, port).find("hello from " + web), std::string::npos) << "via " << host << ":" << port;
  // port, ps: Docker's shapes.
  std::string p = std::to_string(port);
  EXPECT_EQ(md_ok({"port", web}), "80/tcp -> 0.0.0.0:" + p);
  EXPECT_EQ(md_ok({"port", web, "80"}), "0.0.0.0:" + p);
  EXPECT_EQ(md_ok({"port", web, "80/tcp"}), "0.0.0.0:" + p);
  Out none = md({"port", web, "81/tcp"});
  EXPECT_EQ(none.code, 1);
  EXPECT_EQ(none.err, "Error: No public port '81/tcp' published for " + web + "\n");
  Out udp = md({"port", web, "80/udp"});
  EXPECT_EQ(udp.err, "Error: No public port '80/udp' published for " + web + "\n");
  Out nosuch = md({"port", "nosuch"});
  EXPECT_EQ(nosuch.code, 1);
  EXPECT_EQ(nosuch.err, "Error response from daemon: No such container: nosuch\n");
  EXPECT_EQ(md_ok({"ps", "--format", "{{.Ports}}"}), "81/tcp, 0.0.0.0:" + p + "->80/tcp");
  auto table = lines_of(md_ok({"ps"}));
  ASSERT_EQ(table.size(), 2u);
  EXPECT_NE(table[0].find("   PORTS   "), std::string::npos) << table[0];
  EXPECT_NE(table[1].find("   81/tcp, 0.0.0.0:" + p + "->80/tcp   " + web), std::string::npos) << table[1];
  EXPECT_EQ(md_ok({"ps", "--filter", "publish=" + p, "--format", "{{.Names}}"}), web);
  EXPECT_EQ(md_ok({"ps", "--filter", "publish=" + p + "/udp", "--format", "{{.Names}}"}), "");
  EXPECT_EQ(md_ok({"ps", "--filter", "expose=81", "--format", "{{.Names}}"}), web);
  EXPECT_EQ(md_ok({"ps", "--filter", "expose=79-80/tcp", "--format", "{{.Names}}"}), web);
  EXPECT_EQ(md_ok({"ps", "--filter", "expose=82", "--format", "{{.Names}}"}), "");
  json ports = inspect(web)["NetworkSettings"]["Ports"];
  EXPECT_EQ(ports["80/tcp"][0]["HostPort"], p);
  EXPECT_TRUE(ports["81/tcp"].is_null());
  // Stopped: the port is free again, and nothing shows it.
  md_ok({"stop", "-t", "0", web});
  EXPECT_EQ(http_get("127.0.0.1", port, 500), "");
  EXPECT_EQ(md_ok({"port", web}), "");
  EXPECT_EQ(md_ok({"ps", "-a", "--format", "{{.Ports}}"}), "");
  EXPECT_EQ(nft_table_text().find(" . " + p + " : "), std::string::npos) << nft_table_text();
  // Started again: the same binding works again.
  md_ok({"start", web});
  EXPECT_TRUE(eventually([&] { return http_get("127.0.0.1", port).find("hello from " + web) != std::string::npos; }));
}

TEST_F(Network, PublishAllExposedPortsToRandomHostPorts) {
  // An image with EXPOSE 80 (Docker's Config.ExposedPorts), plus --expose 8081.
  Out imp = md({"import", "--change", "CMD [\"sh\"]", "--change", "EXPOSE 80", busybox_tar(), "web:exposed"});
  ASSERT_TRUE(imp.ok()) << imp;
  std::string web = unique("web");
  run_web(web, {"-P", "--expose", "8081"}, "web:exposed");
  auto lines = lines_of(md_ok({"port", web}));
  ASSERT_EQ(lines.size(), 2u) << md_ok({"port", web});
  EXPECT_EQ(lines[0].rfind("80/tcp -> 0.0.0.0:", 0), 0u) << lines[0];
  EXPECT_EQ(lines[1].rfind("8081/tcp -> 0.0.0.0:", 0), 0u) << lines[1];
  int p80 = std::atoi(md_ok({"port", web, "80"}).substr(std::strlen("0.0.0.0:")).c_str());
  int p8081 = std::atoi(md_ok({"port", web, "8081"}).substr(std::strlen("0.0.0.0:")).c_str());
  int lo = 32768, hi = 60999;
  std::sscanf(read_text("/proc/sys/net/ipv4/ip_local_port_range").c_str(), "%d %d", &lo, &hi);
  EXPECT_GE(p80, lo);
  EXPECT_LE(p80, hi);
  EXPECT_GE(p8081, lo);
  EXPECT_NE(p80, p8081);
  EXPECT_TRUE(eventually([&] { return http_get("127.0.0.1", p80).find("hello from " + web) != std::string::npos; }))
      << "127.0.0.1:" << p80;
  EXPECT_EQ(md_ok({"ps", "--filter", "publish=" + std::to_string(p8081), "--format", "{{.Names}}"}), web);
  std::string ps_ports = md_ok({"ps", "--format", "{{.Ports}}"});
  EXPECT_NE(ps_ports.find("0.0.0.0:" + std::to_string(p80) + "->80/tcp"), std::string::npos) << ps_ports;
  EXPECT_NE(ps_ports.find("0.0.0.0:" + std::to_string(p8081) + "->8081/tcp"), std::string::npos) << ps_ports;
}

TEST_F(Network, PortAlreadyAllocated) {
  std::string a = unique("a"), b = unique("b");
  int port = free_port();
  std::string p = std::to_string(port);
  run_web(a, {"-p", p + ":80"});
  std::string ip_a = inspect(a)["NetworkSettings"]["IPAddress"];
  Out r = md({"run", "-d", "--name", b, "-p", p + ":80", "busybox", "sleep", "1000"});
  EXPECT_EQ(r.code, 125) << r;
  EXPECT_NE(r.err.find("Bind for 0.0.0.0:" + p + " failed: port is already allocated"), std::string::npos) << r;
  EXPECT_EQ(state(b), "created");
  EXPECT_EQ(md_ok({"port", b}), "");
  Out again = md({"start", b});
  EXPECT_NE(again.code, 0) << again;
  EXPECT_NE(again.err.find("port is already allocated"), std::string::npos) << again;
  EXPECT_EQ(state(b), "created");
  // One DNAT entry for the port, to a's address; none of b's veths were left behind.
  std::string table = nft_table_text();
  size_t first = table.find(" . " + p + " : ");
  ASSERT_NE(first, std::string::npos) << table;
  EXPECT_EQ(table.find(" . " + p + " : ", first + 1), std::string::npos) << table;
  EXPECT_EQ(table.substr(first, (" . " + p + " : " + ip_a + " . 80").size()), " . " + p + " : " + ip_a + " . 80") << table;
  EXPECT_EQ(lines_of(run_process({"ip", "-o", "link", "show", "master", bridge_}).out).size(), 1u)
      << run_process({"ip", "-o", "link", "show", "master", bridge_}).out;
  EXPECT_TRUE(eventually([&] { return http_get("127.0.0.1", port).find("hello from " + a) != std::string::npos; }));
  // Once a is gone, b can have the port.
  md_ok({"rm", "-f", a});
  md_ok({"start", b});
  EXPECT_EQ(state(b), "running");
  EXPECT_EQ(md_ok({"port", b, "80"}), "0.0.0.0:" + p);
}

TEST_F(Network, ConnectAndDisconnectARunningContainer) {
  std::string front = unique("front"), back = unique("back"), client = unique("client"), web = unique("web");
  md_ok({"network", "create", front});
  md_ok({"network", "create", back});
  md_ok({"run", "-d", "--name", client, "--network", front, "busybox", "sleep", "1000"});
  run_web(web, {"--network", back});
  // From the client: does the name resolve (the network's DNS server), and the page.
  auto resolves = [&](const std::string& host) {
    return md({"exec", client, "busybox", "nslookup", host}).code == 0;
  };
  auto get = [&](const std::string& host) {
    return md({"exec", client, "busybox", "timeout", "10", "busybox", "wget", "-qO-", "http://" + host + "/"});
  };
  EXPECT_FALSE(resolves(web));
  md_ok({"network", "connect", "--alias", "api", front, web});
  EXPECT_TRUE(resolves(web));
  EXPECT_TRUE(resolves("api"));
  ASSERT_TRUE(eventually([&] { return get(web).out == "hello from " + web + "\n"; })) << get(web);
  EXPECT_EQ(get("api").out, "hello from " + web + "\n");
  json nets = inspect(web)["NetworkSettings"]["Networks"];
  ASSERT_TRUE(nets.contains(front)) << nets;
  EXPECT_TRUE(nets.contains(back));
  EXPECT_FALSE(nets[front]["IPAddress"].get<std::string>().empty());
  EXPECT_EQ(md_ok({"ps", "--filter", "name=" + web, "--format", "{{.Networks}}"}),
            std::min(front, back) + "," + std::max(front, back));
  EXPECT_EQ(lines_of(md_ok({"ps", "--filter", "network=" + front, "--format", "{{.Names}}"})).size(), 2u);
  Out twice = md({"network", "connect", front, web});
  EXPECT_EQ(twice.code, 1) << twice;
  EXPECT_EQ(twice.err.rfind("Error response from daemon: ", 0), 0u) << twice;
  Out nosuch = md({"network", "connect", front, "nosuch"});
  EXPECT_EQ(nosuch.code, 1);
  EXPECT_EQ(nosuch.err, "Error response from daemon: No such container: nosuch\n");

  md_ok({"network", "disconnect", front, web});
  EXPECT_FALSE(inspect(web)["NetworkSettings"]["Networks"].contains(front));
  EXPECT_EQ(lines_of(md_ok({"ps", "--filter", "network=" + front, "--format", "{{.Names}}"})).size(), 1u);
  EXPECT_FALSE(resolves(web)) << "the name must leave the network's DNS when the container is disconnected";
  EXPECT_FALSE(resolves("api"));
  EXPECT_NE(get(web).code, 0);
  Out again = md({"network", "disconnect", front, web});
  EXPECT_EQ(again.code, 1);
  EXPECT_TRUE(md({"network", "disconnect", "-f", front, "nosuch"}).ok());
  // Still served on its own network.
  EXPECT_EQ(md({"run", "--rm", "--network", back, "busybox", "busybox", "wget", "-qO-", "http://" + web + "/"}).out,
            "hello from " + web + "\n");
}

TEST_F(Network, NothingLeftBehind) {
  std::string net = unique("net"), net2 = unique("net2"), a = unique("a"), b = unique("b"), c = unique("c");
  std::string net_id = md_ok({"network", "create", net});
  md_ok({"network", "create", net2});
  int port = free_port();
  run_web(a, {"--network", net});
  run_web(b, {"--network", net2, "-p", std::to_string(port) + ":80"});
  run_web(c, {});  // the default bridge
  md_ok({"network", "connect", net, b});
  std::vector<std::string> veths;
  for (auto& ref : {a, b, c})
    for (auto& v : host_veths(ref)) veths.push_back(v);
  ASSERT_EQ(veths.size(), 4u);
  for (auto& v : veths) EXPECT_TRUE(link_exists(v)) << v;
  std::string user_bridge = "md-" + net_id.substr(0, 12);
  EXPECT_TRUE(link_exists(user_bridge));
  EXPECT_TRUE(link_exists(bridge_));
  EXPECT_TRUE(eventually([&] { return http_get("127.0.0.1", port).find("hello from " + b) != std::string::npos; }));
  md_ok({"rm", "-f", a, b, c});
  EXPECT_EQ(md_ok({"network", "rm", net, net2}), net + "\n" + net2);
  for (auto& v : veths) EXPECT_TRUE(eventually([&] { return !link_exists(v); })) << v << " is still there";
  EXPECT_FALSE(link_exists(user_bridge));
  EXPECT_EQ(run_process({"ip", "-o", "link", "show", "master", bridge_}).out, "");
  EXPECT_EQ(nft_table_text().find(" . " + std::to_string(port) + " : "), std::string::npos) << nft_table_text();
  EXPECT_EQ(http_get("127.0.0.1", port, 500), "");
}

}  // namespace
}  // namespace mdcli
