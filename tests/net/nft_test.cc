// Root integration tests of src/net/nft_rules: the table is loaded into a real
// kernel and real connections go through it.
//
// Everything happens in network namespaces this file creates and holds by file
// descriptor only (no `ip netns` names): nftables tables, bridges and veths are
// per namespace, so the host's ruleset and links are never touched, and whatever a
// failed test leaves behind disappears with the last descriptor.
//
// Topology (NftTopologyTest), all addresses private to the test namespaces:
//
//   outside (192.0.2.2) ──veth── HOST 192.0.2.1
//                                HOST mdbr0 10.200.0.1/24 ── c1 10.200.0.2, c2 10.200.0.3
//                                HOST mdbr1 10.201.0.1/24 ── c3 10.201.0.2   (--internal)
//                                HOST mdbr2 10.202.0.1/24 ── c4 10.202.0.2
//
// No sleeps and no timed assertions: a connection either completes or fails with
// an error the kernel reports (ECONNREFUSED). Drops are observed with counters
// (see Probe below). Socket timeouts exist only so a broken build fails instead of
// hanging.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/unique_fd.h"
#include "net/nft_lib.h"
#include "net/nft_rules.h"

namespace md::net {
namespace {

constexpr int kSafetyTimeoutSeconds = 10;  // only so a broken build fails instead of hanging

UniqueFd thread_netns() {
  return UniqueFd(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
}

// Moves the calling thread into a network namespace until destroyed.
class EnterNetns {
 public:
  explicit EnterNetns(int ns) : saved_(thread_netns()) {
    ok_ = saved_.valid() && ::setns(ns, CLONE_NEWNET) == 0;
  }
  ~EnterNetns() {
    // Staying in the test's namespace would run every later test in it.
    if (saved_ && ::setns(saved_.get(), CLONE_NEWNET) != 0) std::abort();
  }
  EnterNetns(const EnterNetns&) = delete;
  EnterNetns& operator=(const EnterNetns&) = delete;
  bool ok() const { return ok_; }

 private:
  UniqueFd saved_;
  bool ok_ = false;
};

// A new, empty network namespace, held by this fd only.
UniqueFd new_netns() {
  UniqueFd saved = thread_netns();
  if (!saved || ::unshare(CLONE_NEWNET) != 0) return {};
  UniqueFd ns = thread_netns();
  if (::setns(saved.get(), CLONE_NEWNET) != 0) std::abort();
  return ns;
}

struct ShellResult {
  int status = -1;
  std::string output;
};

// Runs `sh -ec script` (in network namespace `ns` when given, else the calling
// thread's), output and errors captured.
ShellResult shell(const std::string& script, int ns = -1) {
  ShellResult r;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return r;
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  static const char* const env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", nullptr};
  pid_t pid = ::fork();
  if (pid == 0) {
    if (ns >= 0 && ::setns(ns, CLONE_NEWNET) != 0) _exit(126);
    ::dup2(write_end.get(), 1);
    ::dup2(write_end.get(), 2);
    ::execle("/bin/sh", "sh", "-ec", script.c_str(), nullptr, env);
    _exit(127);
  }
  write_end.reset();
  char buf[4096];
  for (ssize_t n; (n = ::read(read_end.get(), buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    r.output.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

#define ASSERT_SHELL(script, ...)                                                     \
  do {                                                                                \
    ShellResult r_ = shell(script __VA_OPT__(, ) __VA_ARGS__);                        \
    ASSERT_EQ(r_.status, 0) << "script:\n" << (script) << "\noutput:\n" << r_.output; \
  } while (0)

sockaddr_in address(const char* ip, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

std::string ip_of(const sockaddr_in& a) {
  char buf[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &a.sin_addr, buf, sizeof buf);
  return buf;
}

void set_safety_timeouts(int fd) {
  timeval tv{kSafetyTimeoutSeconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// A socket created in namespace `ns`: a socket stays in the namespace it was
// created in, whichever thread uses it later.
UniqueFd socket_in(int ns, int type) {
  EnterNetns in(ns);
  if (!in.ok()) return {};
  UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  if (fd) set_safety_timeouts(fd.get());
  return fd;
}

UniqueFd tcp_listener(int ns, uint16_t port) {
  UniqueFd fd = socket_in(ns, SOCK_STREAM);
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a = address("0.0.0.0", port);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(fd.get(), 16) != 0)
    return {};
  return fd;
}

// Connects from namespace `from` to ip:port, sends a line, and has `listener`
// accept and echo it. The kernel completes the handshake from the listen
// backlog, so one thread does both ends. Returns the client address the server
// saw (shows which NAT was applied), or an error naming what failed.
Result<std::string> tcp_roundtrip(int from, const char* ip, uint16_t port, int listener) {
  UniqueFd client = socket_in(from, SOCK_STREAM);
  if (!client) return fail_errno("socket");
  sockaddr_in to = address(ip, port);
  if (::connect(client.get(), reinterpret_cast<sockaddr*>(&to), sizeof to) != 0)
    return fail_errno(std::string("connect ") + ip + ":" + std::to_string(port));
  const std::string ping = "ping " + std::string(ip) + "\n";
  if (::send(client.get(), ping.data(), ping.size(), MSG_NOSIGNAL) != ssize_t(ping.size()))
    return fail_errno("send");
  sockaddr_in peer{};
  socklen_t len = sizeof peer;
  UniqueFd server(::accept4(listener, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC));
  if (!server) return fail_errno("accept");
  set_safety_timeouts(server.get());
  char buf[128] = {};
  ssize_t n = ::recv(server.get(), buf, sizeof buf, 0);
  if (n != ssize_t(ping.size()) || ping != std::string(buf, size_t(n)))
    return fail("server did not receive the ping");
  if (::send(server.get(), "pong\n", 5, MSG_NOSIGNAL) != 5) return fail_errno("send pong");
  n = ::recv(client.get(), buf, sizeof buf, 0);
  if (n != 5 || std::string(buf, 5) != "pong\n") return fail("client did not receive the pong");
  return ip_of(peer);
}

// Whether a connection from `from` to ip:port is refused (RST: nothing listens
// there, i.e. no DNAT happened). The kernel answers at once either way.
int connect_errno(int from, const char* ip, uint16_t port) {
  UniqueFd client = socket_in(from, SOCK_STREAM);
  sockaddr_in to = address(ip, port);
  if (::connect(client.get(), reinterpret_cast<sockaddr*>(&to), sizeof to) == 0) return 0;
  return errno;
}

// Probe: shows whether the forward chain DROPPED a packet, without waiting for
// "nothing arrived".
//
// A probe table (ours, in the test's host namespace) counts UDP packets to port 9
// in two forward chains, one just before minidocker's (priority -10) and one just
// after (+10). A packet our chain drops is counted by the first only.
//
// To know the packet is done with the forward hook before reading the counters, a
// second datagram follows it from the same socket on the same CPU, to a host
// socket (the gateway address: input, not forward). Both leave through a veth,
// whose transmit queues them on this CPU's backlog; the backlog is processed in
// order, and each packet's bridge → IP → forward → drop/transmit runs to completion
// before the next one starts. So once the second datagram is received, the first
// has passed (or died in) every forward chain.
class Probe {
 public:
  static constexpr uint16_t kPort = 9;
  static constexpr uint16_t kMarkerPort = 9999;

  // Call in the host namespace, after the topology exists.
  static Result<Probe> create() {
    Nft nft = TRY(Nft::open());
    TRY(nft.run("table ip md_probe {\n"
                "  chain before { type filter hook forward priority filter - 10; policy accept;"
                " udp dport 9 counter; }\n"
                "  chain after { type filter hook forward priority filter + 10; policy accept;"
                " udp dport 9 counter; }\n"
                "}\n"));
    UniqueFd marker(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in any = address("0.0.0.0", kMarkerPort);
    if (::bind(marker.get(), reinterpret_cast<sockaddr*>(&any), sizeof any) != 0)
      return fail_errno("bind marker socket");
    set_safety_timeouts(marker.get());
    return Probe(std::move(nft), std::move(marker));
  }

  struct Counts {
    long before = 0;
    long after = 0;
  };

  // Sends one datagram from namespace `from` to dst:9, then the marker to
  // gateway:9999, and returns how many datagrams each chain counted for it.
  Result<Counts> send(int from, const char* dst, const char* gateway) {
    UniqueFd sock = socket_in(from, SOCK_DGRAM);
    if (!sock) return fail_errno("socket");
    sockaddr_in marker_to = address(gateway, kMarkerPort);
    // Warm-up: the first packets after links come up can meet a qdisc that
    // link-watch has not activated yet, and need ARP. Resend until one marker
    // arrives (this waits for a condition; it asserts nothing about time).
    bool arrived = false;
    for (int i = 0; i < 50 && !arrived; ++i) {
      ::sendto(sock.get(), "warm", 4, 0, reinterpret_cast<sockaddr*>(&marker_to), sizeof marker_to);
      pollfd p{marker_.get(), POLLIN, 0};
      if (::poll(&p, 1, 200) == 1) arrived = drain_marker();
    }
    if (!arrived) return fail("probe: marker never reached the host from " + std::string(gateway));

    Counts start = TRY(read());
    {
      // One CPU for both sends: one backlog, processed in order (see above).
      cpu_set_t saved, one;
      ::sched_getaffinity(0, sizeof saved, &saved);
      CPU_ZERO(&one);
      CPU_SET(::sched_getcpu(), &one);
      ::sched_setaffinity(0, sizeof one, &one);
      sockaddr_in to = address(dst, kPort);
      ::sendto(sock.get(), "probe", 5, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
      ::sendto(sock.get(), "mark", 4, 0, reinterpret_cast<sockaddr*>(&marker_to),
               sizeof marker_to);
      ::sched_setaffinity(0, sizeof saved, &saved);
    }
    char buf[16];
    ssize_t n = ::recv(marker_.get(), buf, sizeof buf, 0);
    if (n != 4 || std::string(buf, 4) != "mark") return fail_errno("probe: receive marker");
    Counts end = TRY(read());
    return Counts{end.before - start.before, end.after - start.after};
  }

 private:
  Probe(Nft nft, UniqueFd marker) : nft_(std::move(nft)), marker_(std::move(marker)) {}

  bool drain_marker() {
    char buf[16];
    bool got = false;
    while (::recv(marker_.get(), buf, sizeof buf, MSG_DONTWAIT) > 0) got = true;
    return got;
  }

  Result<Counts> read() {
    std::string out = TRY(nft_.run_json("list table ip md_probe"));
    auto doc = nlohmann::json::parse(out);
    Counts c;
    for (const auto& obj : doc["nftables"]) {
      if (!obj.contains("rule")) continue;
      for (const auto& e : obj["rule"]["expr"]) {
        if (!e.contains("counter")) continue;
        long packets = e["counter"]["packets"].get<long>();
        (obj["rule"]["chain"] == "before" ? c.before : c.after) = packets;
      }
    }
    return c;
  }

  Nft nft_;
  UniqueFd marker_;
};

// --------------------------------------------------------------------- fixtures

// A fresh "host" namespace, entered by the test thread for the whole test, and
// NftRules for table md_test in it.
class NftTest : public ::testing::Test {
 protected:
  static constexpr const char* kTable = "md_test";

  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    host_ = new_netns();
    ASSERT_TRUE(host_) << "unshare(CLONE_NEWNET): " << std::strerror(errno);
    enter_ = std::make_unique<EnterNetns>(host_.get());
    ASSERT_TRUE(enter_->ok()) << std::strerror(errno);
    auto rules = NftRules::open(kTable);
    ASSERT_TRUE(rules) << rules.error().message;
    rules_.emplace(std::move(*rules));
  }

  void TearDown() override {
    // Everything dies with the namespace; deleting the table is still how a
    // careful caller would leave, and exercises delete_table.
    if (rules_) {
      auto deleted = rules_->delete_table();
      EXPECT_TRUE(deleted) << deleted.error().message;
    }
    rules_.reset();
    enter_.reset();
  }

  NftRules& rules() { return *rules_; }

  UniqueFd host_;
  std::unique_ptr<EnterNetns> enter_;
  std::optional<NftRules> rules_;
};

PortMapping port(std::string host_ip, std::string proto, uint16_t hp, std::string cip,
                 uint16_t cp) {
  return PortMapping{std::move(host_ip), std::move(proto), hp, std::move(cip), cp};
}

// What `nft list table ip md_test` prints right after ensure_table() on nft 1.0.6.
constexpr const char* kListing = R"(table ip md_test {
	comment "minidocker container networks: managed by minidocker, do not edit"
	set bridges {
		type ifname
	}

	set internal_bridges {
		type ifname
	}

	set same_bridge {
		type ifname . ifname
	}

	set masq_nets {
		type ipv4_addr
		flags interval
	}

	map ports_any {
		type inet_proto . inet_service : ipv4_addr . inet_service
	}

	map ports_ip {
		type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service
	}

	chain localnet_guard {
		type filter hook prerouting priority raw; policy accept;
		iifname @bridges ip daddr 127.0.0.0/8 drop
	}

	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		fib daddr type local dnat ip to ip daddr . meta l4proto . th dport map @ports_ip
		fib daddr type local dnat ip to meta l4proto . th dport map @ports_any
	}

	chain output {
		type nat hook output priority -100; policy accept;
		fib daddr type local dnat ip to ip daddr . meta l4proto . th dport map @ports_ip
		fib daddr type local dnat ip to meta l4proto . th dport map @ports_any
	}

	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr @masq_nets oifname != @bridges masquerade
		oifname @bridges ip saddr 127.0.0.0/8 masquerade
		oifname @bridges ct status dnat ip saddr @masq_nets masquerade
	}

	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname @internal_bridges iifname . oifname != @same_bridge drop
		oifname @internal_bridges iifname . oifname != @same_bridge drop
		iifname @bridges oifname @bridges iifname . oifname != @same_bridge ct status ! dnat drop
	}
}
)";

// ------------------------------------------------------------- table and elements

TEST_F(NftTest, EnsureTableCreatesTheLayoutOnce) {
  EXPECT_FALSE(rules().table_exists().value());
  ASSERT_TRUE(rules().ensure_table());
  EXPECT_TRUE(rules().table_exists().value());
  ASSERT_TRUE(rules().ensure_table());  // exists: nothing added
  ShellResult listing = shell("nft list table ip md_test");
  ASSERT_EQ(listing.status, 0) << listing.output;
  EXPECT_EQ(listing.output, kListing);
  // Only our table exists in this namespace.
  EXPECT_EQ(shell("nft list tables").output, "table ip md_test\n");
}

TEST_F(NftTest, EnsureTableLosingARaceToAnotherCreatorIsSuccess) {
  // Another process's complete table appears between our look and our batch:
  // our `create table` fails with EEXIST, which counts as success, and no rule
  // is duplicated. Simulated by running the creation script ourselves first.
  auto other = NftRules::open(kTable);
  ASSERT_TRUE(other);
  ASSERT_TRUE(other->ensure_table());
  auto script = nft_script::create_table(kTable);
  auto nft = Nft::open();
  ASSERT_TRUE(nft);
  auto again = nft->run(*script);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().errno_value, EEXIST) << again.error().message;
  EXPECT_EQ(shell("nft list table ip md_test").output, kListing);
}

TEST_F(NftTest, DeleteTableOfAbsentTableIsSuccess) {
  ASSERT_TRUE(rules().delete_table());
  ASSERT_TRUE(rules().ensure_table());
  ASSERT_TRUE(rules().delete_table());
  EXPECT_FALSE(rules().table_exists().value());
  ASSERT_TRUE(rules().delete_table());
}

TEST_F(NftTest, NetworksAreIdempotentBothWays) {
  ASSERT_TRUE(rules().ensure_table());
  for (int i = 0; i < 2; ++i) {
    auto a = rules().add_network("md-br0", "10.88.0.0/16", false);
    ASSERT_TRUE(a) << a.error().message;
    auto b = rules().add_network("md-br1", "10.89.0.0/24", true);
    ASSERT_TRUE(b) << b.error().message;
  }
  // nft wraps long element lists over lines: compare them without whitespace.
  auto elements = [](const char* set) {
    std::string out = shell(std::string("nft list set ip md_test ") + set).output;
    size_t at = out.find("elements = {");
    if (at == std::string::npos) return std::string();
    std::string flat;
    for (char c : out.substr(at + 12, out.find('}', at) - at - 12))
      if (c != '\t' && c != '\n' && c != ' ') flat += c;
    return flat;
  };
  EXPECT_EQ(elements("bridges"), "\"md-br0\",\"md-br1\"");
  EXPECT_EQ(elements("same_bridge"), "\"md-br0\".\"md-br0\",\"md-br1\".\"md-br1\"");
  EXPECT_EQ(elements("internal_bridges"), "\"md-br1\"");
  EXPECT_EQ(elements("masq_nets"), "10.88.0.0/16");
  auto overlap = rules().add_network("md-br2", "10.88.5.0/24", false);
  EXPECT_FALSE(overlap) << "overlapping subnet accepted";
  for (int i = 0; i < 2; ++i) {
    auto a = rules().remove_network("md-br0", "10.88.0.0/16", false);
    ASSERT_TRUE(a) << a.error().message;
    auto b = rules().remove_network("md-br1", "10.89.0.0/24", true);
    ASSERT_TRUE(b) << b.error().message;
  }
  ShellResult listing = shell("nft list table ip md_test");
  EXPECT_EQ(listing.output.find("elements"), std::string::npos) << listing.output;
}

TEST_F(NftTest, PortsAreListedAddedIdempotentlyAndRemovedWhenAbsent) {
  ASSERT_TRUE(rules().ensure_table());
  std::vector<PortMapping> ports = {port("", "tcp", 8080, "10.88.0.2", 80),
                                    port("0.0.0.0", "udp", 5353, "10.88.0.2", 53),
                                    port("127.0.0.1", "tcp", 8443, "10.88.0.3", 443)};
  ASSERT_TRUE(rules().add_ports(ports));
  ASSERT_TRUE(rules().add_ports(ports));  // same values: fine
  auto listed = rules().list_ports();
  ASSERT_TRUE(listed) << listed.error().message;
  std::vector<PortMapping> want;
  for (const auto& p : ports) want.push_back(canonical(p));
  std::sort(listed->begin(), listed->end(), [](auto& a, auto& b) { return a.host_port < b.host_port; });
  std::sort(want.begin(), want.end(), [](auto& a, auto& b) { return a.host_port < b.host_port; });
  EXPECT_EQ(*listed, want);

  // Someone else's port: refused, all or nothing, naming the current target.
  auto clash = rules().add_ports({port("", "tcp", 9000, "10.88.0.4", 90),
                                  port("", "tcp", 8080, "10.88.0.9", 80)});
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error().errno_value, EEXIST);
  EXPECT_EQ(clash.error().message,
            "publish 0.0.0.0:8080/tcp -> 10.88.0.9:80: port is already published to "
            "10.88.0.2:80");
  EXPECT_EQ(rules().list_ports()->size(), 3u) << "a failed batch left 9000 behind";

  // Absent ports, and a port now published to another target: success, and the
  // other target's mapping stays.
  auto removed = rules().remove_ports({port("", "tcp", 1234, "10.88.0.2", 80),
                                       port("", "tcp", 8080, "10.88.0.9", 80),
                                       port("", "udp", 5353, "10.88.0.2", 53)});
  ASSERT_TRUE(removed) << removed.error().message;
  listed = rules().list_ports();
  ASSERT_TRUE(listed);
  std::sort(listed->begin(), listed->end(), [](auto& a, auto& b) { return a.host_port < b.host_port; });
  std::vector<PortMapping> left = {canonical(ports[0]), canonical(ports[2])};
  EXPECT_EQ(*listed, left);

  ASSERT_TRUE(rules().remove_ports(ports));
  ASSERT_TRUE(rules().remove_ports(ports));
  EXPECT_TRUE(rules().list_ports()->empty());

  ASSERT_TRUE(rules().delete_table());
  auto none = rules().list_ports();
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_TRUE(none->empty());
}

TEST_F(NftTest, ErrorsCarryNftsText) {
  // No table: nft's own words reach the caller.
  auto added = rules().add_ports({port("", "tcp", 8080, "10.88.0.2", 80)});
  ASSERT_FALSE(added);
  EXPECT_EQ(added.error().errno_value, ENOENT);
  EXPECT_NE(added.error().message.find("publish ports: nft: "), std::string::npos)
      << added.error().message;
  EXPECT_NE(added.error().message.find("add element ip md_test ports_any"), std::string::npos)
      << added.error().message;
}

// --------------------------------------------------------------- real traffic

// Parameter: br_netfilter's bridge-nf-call-iptables in the host namespace. With it,
// bridged IPv4 traffic also crosses the ip hooks (forward with iif = oif = the
// bridge; DNAT inside the bridge), so the rules must hold both ways.
class NftTopologyTest : public NftTest, public ::testing::WithParamInterface<bool> {
 protected:
  static constexpr uint16_t kServicePort = 80;

  void SetUp() override {
    NftTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    const bool bridge_nf = GetParam();
    // Per namespace on current kernels; present only while br_netfilter is loaded
    // (loading it would change the host: we do not).
    if (::access("/proc/sys/net/bridge/bridge-nf-call-iptables", W_OK) == 0) {
      ASSERT_SHELL(std::string("echo ") + (bridge_nf ? "1" : "0") +
                   " > /proc/sys/net/bridge/bridge-nf-call-iptables");
    } else if (bridge_nf) {
      GTEST_SKIP() << "br_netfilter is not loaded";
    }
    for (auto* ns : {&outside_, &c1_, &c2_, &c3_, &c4_}) {
      *ns = new_netns();
      ASSERT_TRUE(*ns) << std::strerror(errno);
    }
    ASSERT_SHELL(
        "echo 1 > /proc/sys/net/ipv4/ip_forward\n"
        "ip link set lo up\n"
        "ip link add mdv-out type veth peer name md-peer\n"
        "ip link set md-peer netns " + ns_path(outside_) + "\n"
        "ip addr add 192.0.2.1/24 dev mdv-out\n"
        "ip link set mdv-out up\n");
    ASSERT_SHELL(
        "ip link set lo up\n"
        "ip link set md-peer name eth0\n"
        "ip addr add 192.0.2.2/24 dev eth0\n"
        "ip link set eth0 up\n",
        outside_.get());
    ASSERT_NO_FATAL_FAILURE(add_bridge("mdbr0", "10.200.0.1/24"));
    ASSERT_NO_FATAL_FAILURE(add_bridge("mdbr1", "10.201.0.1/24"));
    ASSERT_NO_FATAL_FAILURE(add_bridge("mdbr2", "10.202.0.1/24"));
    // 127.0.0.1 → published port: the DNATed packet leaves through the bridge with
    // source 127.0.0.1 (masqueraded in postrouting), which routing allows only
    // with route_localnet on the outgoing device.
    ASSERT_SHELL("echo 1 > /proc/sys/net/ipv4/conf/mdbr0/route_localnet");
    ASSERT_NO_FATAL_FAILURE(add_container(c1_, "mdv-c1", "mdbr0", "10.200.0.2/24", "10.200.0.1"));
    ASSERT_NO_FATAL_FAILURE(add_container(c2_, "mdv-c2", "mdbr0", "10.200.0.3/24", "10.200.0.1"));
    ASSERT_NO_FATAL_FAILURE(add_container(c3_, "mdv-c3", "mdbr1", "10.201.0.2/24", "10.201.0.1"));
    ASSERT_NO_FATAL_FAILURE(add_container(c4_, "mdv-c4", "mdbr2", "10.202.0.2/24", "10.202.0.1"));
    ASSERT_TRUE(rules().ensure_table());
    ASSERT_TRUE(rules().add_network("mdbr0", "10.200.0.0/24", false));
    ASSERT_TRUE(rules().add_network("mdbr1", "10.201.0.0/24", true));
    ASSERT_TRUE(rules().add_network("mdbr2", "10.202.0.0/24", false));
  }

  std::string ns_path(const UniqueFd& ns) {
    // iproute2 takes a path for `netns` (anything with a '/'); our fd through
    // /proc/<pid>/fd, since the fd itself is close-on-exec.
    return "/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(ns.get());
  }

  void add_bridge(const std::string& name, const std::string& cidr) {
    ASSERT_SHELL("ip link add " + name + " type bridge\n" + "ip addr add " + cidr + " dev " +
                 name + "\nip link set " + name + " up\n");
  }

  void add_container(const UniqueFd& ns, const std::string& host_end, const std::string& bridge,
                     const std::string& cidr, const std::string& gateway) {
    ASSERT_SHELL("ip link add " + host_end + " type veth peer name md-peer\n" +
                 "ip link set md-peer netns " + ns_path(ns) + "\n" + "ip link set " + host_end +
                 " master " + bridge + " up\n" +
                 // As the engine must (docs/networking_nft.md, "hairpin"): with
                 // br_netfilter, a container's connection to its own published
                 // port is DNATed inside the bridge and must go back out the port
                 // it came in on, which a bridge refuses without hairpin mode.
                 "ip link set " + host_end + " type bridge_slave hairpin on\n");
    ASSERT_SHELL("ip link set lo up\n"
                 "ip link set md-peer name eth0\n"
                 "ip addr add " + cidr + " dev eth0\n" +
                 "ip link set eth0 up\n"
                 "ip route add default via " + gateway + "\n",
                 ns.get());
  }

  UniqueFd outside_, c1_, c2_, c3_, c4_;
};

TEST_P(NftTopologyTest, PublishedPortIsReachableFromEverywhere) {
  UniqueFd listener = tcp_listener(c1_.get(), kServicePort);
  ASSERT_TRUE(listener) << std::strerror(errno);
  ASSERT_TRUE(rules().add_ports({port("", "tcp", 8080, "10.200.0.2", kServicePort)}));

  struct Case {
    const char* what;
    int from;
    const char* ip;
    const char* server_sees;
  } cases[] = {
      // From the host itself: output chain. 127.0.0.1 is masqueraded to the bridge
      // address (a container cannot answer 127.0.0.1).
      {"host → 127.0.0.1", host_.get(), "127.0.0.1", "10.200.0.1"},
      {"host → its external address", host_.get(), "192.0.2.1", "192.0.2.1"},
      {"host → its bridge address", host_.get(), "10.200.0.1", "10.200.0.1"},
      // Another machine: prerouting; the client's address is kept.
      {"outside → host", outside_.get(), "192.0.2.1", "192.0.2.2"},
      // Hairpin: the container to its own published port via a host address, and
      // a neighbour on the same bridge. Masqueraded, or the reply would go
      // straight back over the bridge and not match the connection.
      {"container → its own port via host", c1_.get(), "192.0.2.1", "10.200.0.1"},
      {"same-bridge container → port via host", c2_.get(), "192.0.2.1", "10.200.0.1"},
      // Another network: isolation does not cover published ports.
      {"other-network container → port via host", c4_.get(), "192.0.2.1", "10.200.0.1"},
  };
  for (const auto& c : cases) {
    auto seen = tcp_roundtrip(c.from, c.ip, 8080, listener.get());
    ASSERT_TRUE(seen) << c.what << ": " << seen.error().message;
    EXPECT_EQ(*seen, c.server_sees) << c.what;
  }

  // Unpublished: nothing listens on the host's 8080, so the host resets it.
  ASSERT_TRUE(rules().remove_ports({port("", "tcp", 8080, "10.200.0.2", kServicePort)}));
  EXPECT_EQ(connect_errno(outside_.get(), "192.0.2.1", 8080), ECONNREFUSED);
  EXPECT_EQ(connect_errno(host_.get(), "127.0.0.1", 8080), ECONNREFUSED);
}

TEST_P(NftTopologyTest, PortPublishedOnOneAddressIsOnlyThere) {
  UniqueFd listener = tcp_listener(c1_.get(), kServicePort);
  ASSERT_TRUE(listener);
  ASSERT_TRUE(rules().add_ports({port("192.0.2.1", "tcp", 8081, "10.200.0.2", kServicePort)}));
  auto seen = tcp_roundtrip(outside_.get(), "192.0.2.1", 8081, listener.get());
  ASSERT_TRUE(seen) << seen.error().message;
  EXPECT_EQ(*seen, "192.0.2.2");
  EXPECT_EQ(connect_errno(host_.get(), "127.0.0.1", 8081), ECONNREFUSED);
  EXPECT_EQ(connect_errno(host_.get(), "10.200.0.1", 8081), ECONNREFUSED);
}

TEST_P(NftTopologyTest, PublishedUdpPortAnswers) {
  UniqueFd server = socket_in(c1_.get(), SOCK_DGRAM);
  sockaddr_in any = address("0.0.0.0", 53);
  ASSERT_EQ(::bind(server.get(), reinterpret_cast<sockaddr*>(&any), sizeof any), 0);
  ASSERT_TRUE(rules().add_ports({port("", "udp", 5353, "10.200.0.2", 53)}));
  UniqueFd client = socket_in(outside_.get(), SOCK_DGRAM);
  sockaddr_in to = address("192.0.2.1", 5353);
  // UDP has no retransmission of its own: resend until the server has one (the
  // first datagrams can meet links link-watch has not activated yet).
  sockaddr_in from{};
  socklen_t len = sizeof from;
  char buf[16];
  ssize_t n = -1;
  for (int i = 0; i < 50 && n < 0; ++i) {
    ::sendto(client.get(), "query", 5, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    pollfd p{server.get(), POLLIN, 0};
    if (::poll(&p, 1, 200) == 1)
      n = ::recvfrom(server.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
  }
  ASSERT_EQ(n, 5) << "no datagram reached the container";
  EXPECT_EQ(ip_of(from), "192.0.2.2");
  ASSERT_EQ(::sendto(server.get(), "answer", 6, 0, reinterpret_cast<sockaddr*>(&from), len), 6);
  n = ::recv(client.get(), buf, sizeof buf, 0);
  ASSERT_EQ(n, 6) << std::strerror(errno);
  EXPECT_EQ(std::string(buf, 6), "answer");
}

TEST_P(NftTopologyTest, EgressIsMasqueradedToTheHostAddress) {
  // The outside namespace has no route to 10.200.0.0/24: only a masqueraded
  // connection can complete.
  UniqueFd listener = tcp_listener(outside_.get(), 7000);
  ASSERT_TRUE(listener);
  auto seen = tcp_roundtrip(c1_.get(), "192.0.2.2", 7000, listener.get());
  ASSERT_TRUE(seen) << seen.error().message;
  EXPECT_EQ(*seen, "192.0.2.1");
}

TEST_P(NftTopologyTest, InternalNetworkReachesOnlyItsOwnBridge) {
  auto probe = Probe::create();
  ASSERT_TRUE(probe) << probe.error().message;
  // Control: the probe sees a forwarded packet in both chains.
  auto control = probe->send(c1_.get(), "192.0.2.2", "10.200.0.1");
  ASSERT_TRUE(control) << control.error().message;
  EXPECT_EQ(control->before, 1);
  EXPECT_EQ(control->after, 1) << "the probe cannot see forwarded packets";

  for (const char* dst : {"192.0.2.2", "10.200.0.2", "10.202.0.2"}) {
    auto counts = probe->send(c3_.get(), dst, "10.201.0.1");
    ASSERT_TRUE(counts) << counts.error().message;
    EXPECT_EQ(counts->before, 1) << "internal → " << dst << " never reached forward";
    EXPECT_EQ(counts->after, 0) << "internal → " << dst << " was not dropped";
  }
  // And into the internal network from another one.
  auto in = probe->send(c1_.get(), "10.201.0.2", "10.200.0.1");
  ASSERT_TRUE(in) << in.error().message;
  EXPECT_EQ(in->before, 1);
  EXPECT_EQ(in->after, 0) << "other network → internal was not dropped";

  // The host can still reach an internal container (it is not forwarded).
  UniqueFd listener = tcp_listener(c3_.get(), kServicePort);
  auto seen = tcp_roundtrip(host_.get(), "10.201.0.2", kServicePort, listener.get());
  ASSERT_TRUE(seen) << seen.error().message;
}

TEST_P(NftTopologyTest, NetworksAreIsolatedFromEachOther) {
  auto probe = Probe::create();
  ASSERT_TRUE(probe) << probe.error().message;
  auto across = probe->send(c4_.get(), "10.200.0.2", "10.202.0.1");
  ASSERT_TRUE(across) << across.error().message;
  EXPECT_EQ(across->before, 1);
  EXPECT_EQ(across->after, 0) << "mdbr2 → mdbr0 was not dropped";

  // Once the network is gone from the table, the same packet passes.
  ASSERT_TRUE(rules().remove_network("mdbr2", "10.202.0.0/24", false));
  auto after_removal = probe->send(c4_.get(), "10.200.0.2", "10.202.0.1");
  ASSERT_TRUE(after_removal) << after_removal.error().message;
  EXPECT_EQ(after_removal->after, 1);

  // Same bridge is always fine (with br_netfilter it does cross the forward hook).
  UniqueFd listener = tcp_listener(c1_.get(), kServicePort);
  auto seen = tcp_roundtrip(c2_.get(), "10.200.0.2", kServicePort, listener.get());
  ASSERT_TRUE(seen) << seen.error().message;
  EXPECT_EQ(*seen, "10.200.0.3");
}

// An IPv4/UDP packet, built by hand: the container's own stack would never send
// 127.0.0.1 out of eth0, an attacker's raw socket would.
std::string ipv4_udp(const char* src, const char* dst, uint16_t dport, std::string_view payload) {
  std::string p(28, '\0');
  auto put16 = [&](size_t at, uint16_t v) {
    p[at] = char(v >> 8);
    p[at + 1] = char(v & 0xff);
  };
  p[0] = 0x45;  // IPv4, 20-byte header
  put16(2, uint16_t(28 + payload.size()));
  p[8] = 64;  // TTL
  p[9] = IPPROTO_UDP;
  in_addr a;
  ::inet_pton(AF_INET, src, &a);
  std::memcpy(&p[12], &a, 4);
  ::inet_pton(AF_INET, dst, &a);
  std::memcpy(&p[16], &a, 4);
  uint32_t sum = 0;
  for (size_t i = 0; i < 20; i += 2) sum += (uint8_t(p[i]) << 8) | uint8_t(p[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  put16(10, uint16_t(~sum));
  put16(20, 40000);  // source port
  put16(22, dport);
  put16(24, uint16_t(8 + payload.size()));  // UDP checksum 0: none (allowed for IPv4)
  p += payload;
  return p;
}

TEST_P(NftTopologyTest, ContainersCannotReachTheHostsLoopback) {
  // route_localnet=1 on the bridge (needed for 127.0.0.1 → published port) also
  // lets the kernel accept packets FOR 127.0.0.0/8 arriving on it: a container
  // could reach services the host binds to 127.0.0.1. localnet_guard drops them.
  UniqueFd host_sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in any = address("0.0.0.0", 9999);
  ASSERT_EQ(::bind(host_sock.get(), reinterpret_cast<sockaddr*>(&any), sizeof any), 0);
  set_safety_timeouts(host_sock.get());

  ifreq bridge{};
  std::strcpy(bridge.ifr_name, "mdbr0");
  ASSERT_EQ(::ioctl(host_sock.get(), SIOCGIFHWADDR, &bridge), 0) << std::strerror(errno);

  // Both packets leave c1's eth0 through one packet socket, on one CPU: they are
  // processed in order (see Probe), so when the marker (to the bridge address)
  // has arrived, the 127.0.0.1 packet has been delivered or dropped.
  UniqueFd raw;
  sockaddr_ll to{};
  {
    EnterNetns in(c1_.get());
    ASSERT_TRUE(in.ok());
    raw.reset(::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_IP)));
    ASSERT_TRUE(raw) << std::strerror(errno);
    to.sll_ifindex = int(::if_nametoindex("eth0"));
  }
  to.sll_family = AF_PACKET;
  to.sll_protocol = htons(ETH_P_IP);
  to.sll_halen = ETH_ALEN;
  std::memcpy(to.sll_addr, bridge.ifr_hwaddr.sa_data, ETH_ALEN);
  auto send_raw = [&](const std::string& packet) {
    return ::sendto(raw.get(), packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&to),
                    sizeof to) == ssize_t(packet.size());
  };
  const std::string marker = ipv4_udp("10.200.0.2", "10.200.0.1", 9999, "mark");
  const std::string attack = ipv4_udp("10.200.0.2", "127.0.0.1", 9999, "evil");

  // What the host socket receives up to and including the marker.
  auto attempt = [&]() -> std::string {
    // Warm-up until a marker arrives (link-watch may not have activated the qdisc).
    bool arrived = false;
    for (int i = 0; i < 50 && !arrived; ++i) {
      send_raw(marker);
      pollfd p{host_sock.get(), POLLIN, 0};
      if (::poll(&p, 1, 200) == 1) {
        char buf[16];
        while (::recv(host_sock.get(), buf, sizeof buf, MSG_DONTWAIT) > 0) arrived = true;
      }
    }
    if (!arrived) return "marker never arrived";
    cpu_set_t saved, one;
    ::sched_getaffinity(0, sizeof saved, &saved);
    CPU_ZERO(&one);
    CPU_SET(::sched_getcpu(), &one);
    ::sched_setaffinity(0, sizeof one, &one);
    bool sent = send_raw(attack) && send_raw(marker);
    ::sched_setaffinity(0, sizeof saved, &saved);
    if (!sent) return std::string("send: ") + std::strerror(errno);
    std::string got;
    for (;;) {
      char buf[16];
      ssize_t n = ::recv(host_sock.get(), buf, sizeof buf, 0);
      if (n <= 0) return got + " recv: " + std::strerror(errno);
      got += std::string(buf, size_t(n));
      if (got.ends_with("mark")) return got;
    }
  };
  EXPECT_EQ(attempt(), "mark") << "a container reached 127.0.0.1 on the host";

  // Control: without the guard the same packet does get in, so the test is real.
  ASSERT_SHELL("nft flush chain ip md_test localnet_guard");
  EXPECT_EQ(attempt(), "evilmark");
}

INSTANTIATE_TEST_SUITE_P(BridgeNf, NftTopologyTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "br_netfilter" : "plain_bridge";
                         });

}  // namespace
}  // namespace md::net
