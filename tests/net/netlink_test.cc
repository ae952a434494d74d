// Root tests of src/net's netlink and namespace layer against the real kernel.
//
// Nothing here touches the host's own network: every test pins a "host" namespace
// (standing in for the machine's) and a "container" one under a fresh /tmp/md-net-*
// directory, switches the test thread into the "host" one, and builds bridges and
// veths there. Members with destructors undo all of it (leave, unpin, rmdir) also when
// an assertion fails halfway; unpinning a namespace makes the kernel delete every
// interface in it. Results are checked through the API and independently with
// `nsenter --net=<pin> ip ...`.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <sys/socket.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "net/netlink.h"
#include "net/netns.h"
#include "net/sysctl.h"

namespace {

using md::UniqueFd;
using namespace md::net;

#define ASSERT_OK(expr)                                                   \
  do {                                                                    \
    auto&& ok_result_ = (expr);                                           \
    ASSERT_TRUE(ok_result_.has_value()) << ok_result_.error().message;    \
  } while (0)
#define EXPECT_OK(expr)                                                   \
  do {                                                                    \
    auto&& ok_result_ = (expr);                                           \
    EXPECT_TRUE(ok_result_.has_value()) << ok_result_.error().message;    \
  } while (0)

// stdout and stderr of a shell command.
std::string sh(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return "popen failed";
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

// `ip <args>` inside the namespace pinned at `pin`.
std::string ip_in(const std::string& pin, const std::string& args) {
  return sh("nsenter --net=" + pin + " ip " + args);
}

ino_t thread_netns_inode() {
  struct stat st{};
  ::stat("/proc/thread-self/ns/net", &st);
  return st.st_ino;
}

uint32_t ip4(const char* text) { return *parse_ipv4(text); }

// A socket created inside the namespace `netns_fd`: it stays there whichever thread
// uses it afterwards.
UniqueFd socket_in(int netns_fd, int type, int protocol = 0) {
  auto inside = NetnsEnter::enter(netns_fd);
  if (!inside) return UniqueFd();
  return UniqueFd(::socket(AF_INET, type | SOCK_CLOEXEC, protocol));
}

sockaddr_in sockaddr_for(uint32_t addr_be, uint16_t port_be = 0) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = addr_be;
  sa.sin_port = port_be;
  return sa;
}

// A fresh /tmp/md-net-XXXXXX, removed (it must be empty by then) on destruction.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/md-net-XXXXXX";
    if (::mkdtemp(tmpl)) path_ = tmpl;
  }
  ~TempDir() {
    if (!path_.empty() && ::rmdir(path_.c_str()) != 0)
      ADD_FAILURE() << "leftover in " << path_ << ": " << sh("ls -la " + path_);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Unpins on destruction whatever state the test left the pin in. Inert when the
// directory could not be made.
class PinGuard {
 public:
  PinGuard(const TempDir& dir, const char* name)
      : path_(dir.path().empty() ? "" : dir.path() + "/" + name) {}
  ~PinGuard() {
    if (path_.empty()) return;
    auto removed = remove_pinned_netns(path_);
    if (!removed) ADD_FAILURE() << removed.error().message;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// ---------------------------------------------------------------- namespaces

class NetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    ASSERT_FALSE(dir_.path().empty());
  }
  std::string path(const char* name) const { return dir_.path() + "/" + name; }

  TempDir dir_;
};

TEST_F(NetnsTest, CreatePinnedNetnsBringsUpLoopbackAndLeavesTheCallerWhereItWas) {
  PinGuard pin(dir_, "ns");
  ino_t before = thread_netns_inode();
  ASSERT_OK(create_pinned_netns(pin.path()));
  EXPECT_EQ(thread_netns_inode(), before);

  auto fd = open_netns(pin.path());
  ASSERT_OK(fd);
  auto same = is_current_netns(fd->get());
  ASSERT_OK(same);
  EXPECT_FALSE(*same);

  auto nl = Netlink::open_in(fd->get());
  ASSERT_OK(nl);
  auto lo = nl->link_info("lo");
  ASSERT_OK(lo);
  EXPECT_TRUE(lo->flags & IFF_UP);
  EXPECT_EQ(lo->index, 1);
  auto others = nl->links_with_prefix("");
  ASSERT_OK(others);
  EXPECT_EQ(*others, std::vector<std::string>{"lo"});
  EXPECT_NE(ip_in(pin.path(), "-o link show lo").find(",UP,"), std::string::npos);
  EXPECT_NE(ip_in(pin.path(), "-o -4 addr show dev lo").find("inet 127.0.0.1/8"), std::string::npos);
}

TEST_F(NetnsTest, CreatingTwiceFailsWithEexistAndKeepsTheFirst) {
  PinGuard pin(dir_, "ns");
  ASSERT_OK(create_pinned_netns(pin.path()));
  auto again = create_pinned_netns(pin.path());
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().errno_value, EEXIST);
  EXPECT_NE(again.error().message.find(pin.path()), std::string::npos) << again.error().message;
  EXPECT_OK(open_netns(pin.path()));  // still pinned

  // A leftover plain file is refused too, not silently reused.
  std::string stale = path("stale");
  UniqueFd(::open(stale.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
  PinGuard stale_pin(dir_, "stale");
  auto on_file = create_pinned_netns(stale);
  ASSERT_FALSE(on_file);
  EXPECT_EQ(on_file.error().errno_value, EEXIST);
}

TEST_F(NetnsTest, CreateFailsCleanlyWhenTheDirectoryIsMissing) {
  ino_t before = thread_netns_inode();
  auto made = create_pinned_netns(path("no-such-dir/ns"));
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().errno_value, ENOENT);
  EXPECT_EQ(thread_netns_inode(), before);
}

TEST_F(NetnsTest, RemoveUnpinsAndIsIdempotent) {
  std::string p = path("ns");
  PinGuard pin(dir_, "ns");
  ASSERT_OK(create_pinned_netns(p));
  ASSERT_OK(remove_pinned_netns(p));
  EXPECT_FALSE(std::filesystem::exists(p));
  EXPECT_EQ(sh("grep -c " + p + " /proc/self/mountinfo"), "0\n");
  EXPECT_OK(remove_pinned_netns(p));
  EXPECT_OK(remove_pinned_netns(path("never-existed")));
  // A plain file (a crash between creating the file and mounting on it) goes too.
  UniqueFd(::open(p.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
  EXPECT_OK(remove_pinned_netns(p));
  EXPECT_FALSE(std::filesystem::exists(p));
}

TEST_F(NetnsTest, OpenNetnsRejectsWhatIsNotANetworkNamespace) {
  std::string p = path("plain");
  UniqueFd(::open(p.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
  PinGuard cleanup(dir_, "plain");
  auto plain = open_netns(p);
  ASSERT_FALSE(plain);
  EXPECT_EQ(plain.error().errno_value, EINVAL);
  EXPECT_NE(plain.error().message.find("not a network namespace"), std::string::npos);

  auto mnt = open_netns("/proc/self/ns/mnt");
  ASSERT_FALSE(mnt);
  EXPECT_EQ(mnt.error().errno_value, EINVAL);

  auto missing = open_netns(path("missing"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().errno_value, ENOENT);
}

TEST_F(NetnsTest, EnterSwitchesTheThreadAndNestedScopesUnwindInOrder) {
  PinGuard a(dir_, "a"), b(dir_, "b");
  ASSERT_OK(create_pinned_netns(a.path()));
  ASSERT_OK(create_pinned_netns(b.path()));
  auto fa = open_netns(a.path());
  auto fb = open_netns(b.path());
  ASSERT_OK(fa);
  ASSERT_OK(fb);
  ino_t outside = thread_netns_inode();
  {
    auto in_a = NetnsEnter::enter(fa->get());
    ASSERT_OK(in_a);
    EXPECT_TRUE(*is_current_netns(fa->get()));
    {
      auto in_b = NetnsEnter::enter(fb->get());
      ASSERT_OK(in_b);
      EXPECT_TRUE(*is_current_netns(fb->get()));
      NetnsEnter moved(std::move(*in_b));  // the moved-from scope restores nothing
    }
    EXPECT_TRUE(*is_current_netns(fa->get()));
  }
  EXPECT_EQ(thread_netns_inode(), outside);

  auto bad = NetnsEnter::enter(-1);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().errno_value, EBADF);
  EXPECT_EQ(thread_netns_inode(), outside);
}

TEST_F(NetnsTest, RemovingThePinAlsoDropsCopiesInOtherMountNamespaces) {
  std::string pin = path("ns");
  ASSERT_OK(create_pinned_netns(pin));
  struct Unpin {
    std::string pin;
    ~Unpin() { (void)remove_pinned_netns(pin); }
  } unpin{pin};

  // A child takes a copy of our mounts, the pin included, into a new mount namespace
  // that receives no propagation at all from ours, and reports whether it still sees
  // the pin once we removed ours. (It must not: its copy would keep the namespace and
  // its veth alive as long as the child lives.)
  int ready[2], go[2];
  ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(go, O_CLOEXEC), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto sees_pin = [&] {
      static char info[1 << 16];
      int fd = ::open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
      ssize_t n = 0, r;
      while (fd >= 0 && (r = ::read(fd, info + n, sizeof info - 1 - n)) > 0) n += r;
      if (fd >= 0) ::close(fd);
      info[n] = 0;
      return std::strstr(info, pin.c_str()) != nullptr;
    };
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_PRIVATE | MS_REC, nullptr) != 0)
      ::_exit(2);
    char c = sees_pin() ? '1' : '0';
    if (::write(ready[1], &c, 1) != 1 || ::read(go[0], &c, 1) != 1) ::_exit(3);
    ::_exit(sees_pin() ? 1 : 0);
  }
  char seen_before = 0;
  EXPECT_EQ(::read(ready[0], &seen_before, 1), 1);
  EXPECT_EQ(seen_before, '1') << "the child's mount namespace should start with a copy of the pin";
  EXPECT_OK(remove_pinned_netns(pin));
  EXPECT_EQ(::write(go[1], "g", 1), 1);
  int status = 0;
  ::waitpid(child, &status, 0);
  for (int fd : {ready[0], ready[1], go[0], go[1]}) ::close(fd);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the child's copy of the pin survived (1) or its setup failed (2, 3)";
}

// ---------------------------------------------------------------- netlink

constexpr const char* kBridge = "mdt-br0";
const Ipv4Net kGateway{ip4("10.77.0.1"), 16};
const Ipv4Net kContainer{ip4("10.77.0.2"), 16};

// A "host" and a "container" namespace; the test thread is inside "host" and `nl_` is
// a socket there.
class NetlinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    ASSERT_FALSE(dir_.path().empty());
    real_fd_ = UniqueFd(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(real_fd_);
    ASSERT_OK(create_pinned_netns(host_.path()));
    ASSERT_OK(create_pinned_netns(ctr_.path()));
    auto host_fd = open_netns(host_.path());
    auto ctr_fd = open_netns(ctr_.path());
    ASSERT_OK(host_fd);
    ASSERT_OK(ctr_fd);
    host_fd_ = std::move(*host_fd);
    ctr_fd_ = std::move(*ctr_fd);
    auto in_host = NetnsEnter::enter(host_fd_.get());
    ASSERT_OK(in_host);
    in_host_.emplace(std::move(*in_host));
    auto nl = Netlink::open();
    ASSERT_OK(nl);
    nl_.emplace(std::move(*nl));
  }

  Netlink& nl() { return *nl_; }
  // A socket in "container" (value() throws, failing the test, on error).
  Netlink ctr_nl() { return std::move(Netlink::open_in(ctr_fd_.get()).value()); }

  // Bridge + veth "mdt-v0" / eth0 + container address, MAC and default route.
  void connect_container() {
    ASSERT_OK(nl().ensure_bridge(kBridge, kGateway));
    ASSERT_OK(nl().create_veth("mdt-v0", "eth0", ctr_fd_.get(), kBridge));
    Netlink c = ctr_nl();
    ASSERT_OK(c.configure_interface("eth0", kContainer, mac_for_ip(kContainer.addr_be)));
    ASSERT_OK(c.add_default_route(kGateway.addr_be));
  }

  // Declaration order is teardown order reversed: leave "host" first, then close,
  // unpin (which deletes every interface made), then remove the directory.
  TempDir dir_;
  PinGuard host_{dir_, "host"};
  PinGuard ctr_{dir_, "ctr"};
  UniqueFd real_fd_, host_fd_, ctr_fd_;
  std::optional<NetnsEnter> in_host_;
  std::optional<Netlink> nl_;
};

TEST_F(NetlinkTest, LinkIndexOfAnUnknownInterfaceIsEnoentNamingIt) {
  auto index = nl().link_index("nope0");
  ASSERT_FALSE(index);
  EXPECT_EQ(index.error().errno_value, ENOENT);
  EXPECT_EQ(index.error().message, "no such network interface: nope0");
  auto info = nl().link_info("nope0");
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().errno_value, ENOENT);
  EXPECT_EQ(info.error().message, "no such network interface: nope0");
  auto exists = nl().link_exists("nope0");
  ASSERT_OK(exists);
  EXPECT_FALSE(*exists);
  auto up = nl().set_up("nope0");
  ASSERT_FALSE(up);
  EXPECT_EQ(up.error().errno_value, ENOENT);

  auto lo = nl().link_index("lo");
  ASSERT_OK(lo);
  EXPECT_EQ(*lo, 1);
}

TEST_F(NetlinkTest, InvalidInterfaceNamesAreRejectedWithTheReason) {
  for (const char* name : {"", "sixteen-chars-xx", "a/b", "a:b", "a b", ".."}) {
    auto index = nl().link_index(name);
    ASSERT_FALSE(index) << name;
    EXPECT_EQ(index.error().errno_value, EINVAL) << name;
    EXPECT_NE(index.error().message.find("invalid network interface name"), std::string::npos);
  }
  auto bridge = nl().ensure_bridge("sixteen-chars-xx", kGateway);
  ASSERT_FALSE(bridge);
  EXPECT_EQ(bridge.error().errno_value, EINVAL);
}

TEST_F(NetlinkTest, EnsureBridgeCreatesAnUpBridgeWithGatewayStableMacAndRouteLocalnet) {
  ASSERT_OK(nl().ensure_bridge(kBridge, kGateway, 1400));
  auto info = nl().link_info(kBridge);
  ASSERT_OK(info);
  EXPECT_EQ(info->kind, "bridge");
  EXPECT_TRUE(info->flags & IFF_UP);
  EXPECT_TRUE(info->flags & IFF_MULTICAST) << "flags other than IFF_UP must be kept";
  EXPECT_EQ(info->mtu, 1400);
  EXPECT_EQ(info->mac, "02:42:0a:4d:00:01");

  std::string addrs = ip_in(host_.path(), "-o -4 addr show dev mdt-br0");
  EXPECT_NE(addrs.find("inet 10.77.0.1/16 brd 10.77.255.255 scope global mdt-br0"), std::string::npos)
      << addrs;
  auto localnet = read_sysctl("net/ipv4/conf/mdt-br0/route_localnet");
  ASSERT_OK(localnet);
  EXPECT_EQ(*localnet, "1");

  // The bridge keeps its MAC when a port with a lower one joins (without a MAC set
  // at creation it would take the port's).
  ASSERT_OK(nl().create_veth("mdt-v0", "eth0", ctr_fd_.get(), kBridge, 1400));
  std::string port_mac = nl().link_info("mdt-v0")->mac;
  ASSERT_OK(nl().delete_link("mdt-v0"));
  ASSERT_EQ(std::system(("nsenter --net=" + host_.path() +
                         " ip link add mdt-low type veth peer name mdt-low-p && nsenter --net=" +
                         host_.path() + " ip link set mdt-low address 00:00:00:00:00:01 master mdt-br0")
                            .c_str()),
            0);
  EXPECT_EQ(nl().link_info(kBridge)->mac, "02:42:0a:4d:00:01") << "port mac " << port_mac;
}

TEST_F(NetlinkTest, EnsureBridgeIsIdempotentAndRepairsAMissingAddressOrDownState) {
  ASSERT_OK(nl().ensure_bridge(kBridge, kGateway));
  ASSERT_OK(nl().ensure_bridge(kBridge, kGateway));
  std::string addrs = ip_in(host_.path(), "-o -4 addr show dev mdt-br0");
  EXPECT_EQ(std::count(addrs.begin(), addrs.end(), '\n'), 1) << addrs;

  ip_in(host_.path(), "addr flush dev mdt-br0");
  ip_in(host_.path(), "link set mdt-br0 down");
  ASSERT_OK(write_sysctl("net/ipv4/conf/mdt-br0/route_localnet", "0"));
  ASSERT_OK(nl().ensure_bridge(kBridge, kGateway));
  EXPECT_TRUE(nl().link_info(kBridge)->flags & IFF_UP);
  EXPECT_NE(ip_in(host_.path(), "-o -4 addr show dev mdt-br0").find("10.77.0.1/16"), std::string::npos);
  EXPECT_EQ(*read_sysctl("net/ipv4/conf/mdt-br0/route_localnet"), "1");
}

TEST_F(NetlinkTest, EnsureBridgeRefusesAnInterfaceThatIsNotABridge) {
  // (This kernel has no dummy driver: a veth is the other kind of link at hand.)
  ip_in(host_.path(), "link add mdt-other type veth peer name mdt-other-p");
  ASSERT_OK(nl().link_index("mdt-other"));
  auto bridge = nl().ensure_bridge("mdt-other", kGateway);
  ASSERT_FALSE(bridge);
  EXPECT_EQ(bridge.error().errno_value, EEXIST);
  EXPECT_NE(bridge.error().message.find("not a bridge (kind `veth`)"), std::string::npos)
      << bridge.error().message;
}

TEST_F(NetlinkTest, EnsureBridgeActsInTheSocketsNamespaceNotTheThreads) {
  // The thread is in "host"; the socket is in "container": bridge and sysctl must
  // both land in "container".
  Netlink c = ctr_nl();
  ASSERT_OK(c.ensure_bridge("mdt-brc", kGateway));
  auto here = nl().link_exists("mdt-brc");
  ASSERT_OK(here);
  EXPECT_FALSE(*here);
  EXPECT_TRUE(*is_current_netns(host_fd_.get()));
  auto inside = NetnsEnter::enter(ctr_fd_.get());
  ASSERT_OK(inside);
  auto localnet = read_sysctl("net/ipv4/conf/mdt-brc/route_localnet");
  ASSERT_OK(localnet);
  EXPECT_EQ(*localnet, "1");
}

TEST_F(NetlinkTest, CreateVethEnslavesTheHostEndAndCreatesThePeerInsideTheNamespace) {
  ASSERT_OK(nl().ensure_bridge(kBridge, kGateway));
  ASSERT_OK(nl().create_veth("mdt-v0", "eth0", ctr_fd_.get(), kBridge, 1400));

  auto host_end = nl().link_info("mdt-v0");
  ASSERT_OK(host_end);
  EXPECT_EQ(host_end->kind, "veth");
  EXPECT_TRUE(host_end->flags & IFF_UP);
  EXPECT_TRUE(host_end->flags & IFF_MULTICAST);
  EXPECT_EQ(host_end->mtu, 1400);
  EXPECT_EQ(host_end->master_index, *nl().link_index(kBridge));
  EXPECT_FALSE(*nl().link_exists("eth0"));
  EXPECT_NE(ip_in(host_.path(), "-o link show master mdt-br0").find("mdt-v0@"), std::string::npos);

  Netlink c = ctr_nl();
  auto peer = c.link_info("eth0");
  ASSERT_OK(peer);
  EXPECT_EQ(peer->kind, "veth");
  EXPECT_FALSE(peer->flags & IFF_UP);
  EXPECT_EQ(peer->mtu, 1400);
  EXPECT_NE(ip_in(ctr_.path(), "-o link show eth0").find("state DOWN"), std::string::npos);
}

TEST_F(NetlinkTest, CreateVethLeavesNothingBehindWhenItFails) {
  // No such bridge: refused before anything is created.
  auto no_bridge = nl().create_veth("mdt-v0", "eth0", ctr_fd_.get(), "mdt-none");
  ASSERT_FALSE(no_bridge);
  EXPECT_EQ(no_bridge.error().errno_value, ENOENT);
  EXPECT_NE(no_bridge.error().message.find("no such network interface: mdt-none"), std::string::npos);

  ASSERT_OK(nl().ensure_bridge(kBridge, kGateway));
  ASSERT_OK(nl().create_veth("mdt-v0", "eth0", ctr_fd_.get(), kBridge));
  // The host name is taken.
  auto host_taken = nl().create_veth("mdt-v0", "eth1", ctr_fd_.get(), kBridge);
  ASSERT_FALSE(host_taken);
  EXPECT_EQ(host_taken.error().errno_value, EEXIST) << host_taken.error().message;
  // The peer's name is taken inside the container: the kernel rolls back the host end.
  auto peer_taken = nl().create_veth("mdt-v1", "eth0", ctr_fd_.get(), kBridge);
  ASSERT_FALSE(peer_taken);
  EXPECT_EQ(peer_taken.error().errno_value, EEXIST) << peer_taken.error().message;

  EXPECT_FALSE(*nl().link_exists("mdt-v1"));
  Netlink c = ctr_nl();
  EXPECT_FALSE(*c.link_exists("eth1"));
  auto ctr_links = c.links_with_prefix("");
  ASSERT_OK(ctr_links);
  EXPECT_EQ(*ctr_links, (std::vector<std::string>{"lo", "eth0"}));
  auto host_links = nl().links_with_prefix("mdt-");
  ASSERT_OK(host_links);
  EXPECT_EQ(*host_links, (std::vector<std::string>{"mdt-br0", "mdt-v0"}));
}

TEST_F(NetlinkTest, ConfigureInterfaceSetsAddressMacAndUpAndAddsTheDefaultRoute) {
  connect_container();
  Netlink c = ctr_nl();
  auto eth0 = c.link_info("eth0");
  ASSERT_OK(eth0);
  EXPECT_TRUE(eth0->flags & IFF_UP);
  EXPECT_TRUE(eth0->flags & IFF_MULTICAST);
  EXPECT_EQ(eth0->mac, "02:42:0a:4d:00:02");
  EXPECT_NE(ip_in(ctr_.path(), "-o -4 addr show dev eth0").find("inet 10.77.0.2/16 brd 10.77.255.255"),
            std::string::npos);
  EXPECT_NE(ip_in(ctr_.path(), "route show default").find("default via 10.77.0.1 dev eth0"),
            std::string::npos);
  // Configuring again is harmless.
  EXPECT_OK(c.configure_interface("eth0", kContainer));

  auto twice = c.add_default_route(kGateway.addr_be);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().errno_value, EEXIST);
  auto bad_mac = c.configure_interface("eth0", kContainer, "01:00:5e:00:00:01");
  ASSERT_FALSE(bad_mac);
  EXPECT_EQ(bad_mac.error().errno_value, EINVAL);
}

TEST_F(NetlinkTest, KernelErrorsKeepTheirErrnoAndText) {
  // No interface reaches 192.0.2.1 in the fresh container namespace.
  Netlink c = ctr_nl();
  auto route = c.add_default_route(ip4("192.0.2.1"));
  ASSERT_FALSE(route);
  EXPECT_EQ(route.error().errno_value, ENETUNREACH) << route.error().message;
  EXPECT_EQ(route.error().message.rfind("add default route via 192.0.2.1: ", 0), 0u)
      << route.error().message;
  // The extended ack, when the kernel gives one, is appended in parentheses.
  std::printf("kernel error text: %s\n", route.error().message.c_str());
}

TEST_F(NetlinkTest, ContainerAndHostReachEachOtherOverTheBridge) {
  connect_container();

  // Container -> gateway, TCP. The listener is in "host" (this thread's namespace),
  // the client socket is made inside the container.
  UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in gw = sockaddr_for(kGateway.addr_be);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&gw), sizeof gw), 0) << strerror(errno);
  ASSERT_EQ(::listen(listener.get(), 4), 0);
  socklen_t len = sizeof gw;
  ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&gw), &len);
  UniqueFd client = socket_in(ctr_fd_.get(), SOCK_STREAM);
  ASSERT_TRUE(client);
  ASSERT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&gw), sizeof gw), 0) << strerror(errno);
  ASSERT_EQ(::write(client.get(), "hi", 2), 2);
  sockaddr_in peer{};
  len = sizeof peer;
  // connect() succeeded, so the connection is or will be in the queue: accept blocks
  // at most until the handshake's last ACK is processed.
  UniqueFd server(::accept4(listener.get(), reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC));
  ASSERT_TRUE(server);
  EXPECT_EQ(format_ipv4(peer.sin_addr.s_addr), "10.77.0.2");
  char buf[2];
  ASSERT_EQ(::read(server.get(), buf, 2), 2);
  EXPECT_EQ(std::string(buf, 2), "hi");

  // Host -> container, TCP.
  UniqueFd ctr_listener = socket_in(ctr_fd_.get(), SOCK_STREAM);
  sockaddr_in ctr = sockaddr_for(kContainer.addr_be);
  ASSERT_EQ(::bind(ctr_listener.get(), reinterpret_cast<sockaddr*>(&ctr), sizeof ctr), 0);
  ASSERT_EQ(::listen(ctr_listener.get(), 4), 0);
  len = sizeof ctr;
  ::getsockname(ctr_listener.get(), reinterpret_cast<sockaddr*>(&ctr), &len);
  UniqueFd host_client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::connect(host_client.get(), reinterpret_cast<sockaddr*>(&ctr), sizeof ctr), 0)
      << strerror(errno);
  UniqueFd ctr_server(::accept4(ctr_listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  EXPECT_TRUE(ctr_server);

  // Container -> gateway, ICMP echo over a raw socket (no ping binary needed).
  UniqueFd raw = socket_in(ctr_fd_.get(), SOCK_RAW, IPPROTO_ICMP);
  ASSERT_TRUE(raw);
  timeval guard{30, 0};  // against a hang only: the reply normally takes microseconds
  ::setsockopt(raw.get(), SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof guard);
  icmphdr echo{};
  echo.type = ICMP_ECHO;
  echo.un.echo.id = htons(0x4d44);
  echo.un.echo.sequence = htons(1);
  uint32_t sum = 0;
  auto* words = reinterpret_cast<uint16_t*>(&echo);
  for (size_t i = 0; i < sizeof echo / 2; ++i) sum += words[i];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  echo.checksum = static_cast<uint16_t>(~sum);
  sockaddr_in to = sockaddr_for(kGateway.addr_be);
  ASSERT_EQ(::sendto(raw.get(), &echo, sizeof echo, 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
            static_cast<ssize_t>(sizeof echo));
  bool replied = false;
  for (int i = 0; i < 16 && !replied; ++i) {  // a raw socket sees every ICMP packet
    char packet[256];
    ssize_t n = ::recv(raw.get(), packet, sizeof packet, 0);
    ASSERT_GT(n, 0) << strerror(errno);
    auto* iph = reinterpret_cast<iphdr*>(packet);
    auto* reply = reinterpret_cast<icmphdr*>(packet + iph->ihl * 4);
    replied = iph->saddr == kGateway.addr_be && reply->type == ICMP_ECHOREPLY &&
              reply->un.echo.id == htons(0x4d44);
  }
  EXPECT_TRUE(replied);
}

TEST_F(NetlinkTest, DeleteAddressAndDeleteLinkAreIdempotent) {
  connect_container();
  Netlink c = ctr_nl();
  ASSERT_OK(c.delete_address("eth0", kContainer));
  EXPECT_EQ(ip_in(ctr_.path(), "-o -4 addr show dev eth0"), "");
  EXPECT_OK(c.delete_address("eth0", kContainer));
  EXPECT_OK(c.delete_address("nope0", kContainer));

  // Deleting the host end takes the container's end with it.
  ASSERT_OK(nl().delete_link("mdt-v0"));
  EXPECT_FALSE(*nl().link_exists("mdt-v0"));
  EXPECT_FALSE(*c.link_exists("eth0"));
  EXPECT_OK(nl().delete_link("mdt-v0"));
  ASSERT_OK(nl().delete_link(kBridge));
  EXPECT_FALSE(*nl().link_exists(kBridge));
}

TEST_F(NetlinkTest, LinksWithPrefixListsOnlyMatchingNames) {
  ASSERT_OK(nl().ensure_bridge(kBridge, kGateway));
  ASSERT_OK(nl().create_veth("mdt-va", "eth0", ctr_fd_.get(), kBridge));
  ASSERT_OK(nl().create_veth("mdt-vb", "eth1", ctr_fd_.get(), kBridge));
  auto veths = nl().links_with_prefix("mdt-v");
  ASSERT_OK(veths);
  EXPECT_EQ(*veths, (std::vector<std::string>{"mdt-va", "mdt-vb"}));
  auto none = nl().links_with_prefix("zz");
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());
}

TEST_F(NetlinkTest, Ipv4NetworksInUseListsAddressesAndRoutesButNotTheDefault) {
  connect_container();
  ip_in(host_.path(), "route add 192.168.50.0/24 via 10.77.0.2");
  auto host = nl().ipv4_networks_in_use();
  ASSERT_OK(host);
  std::vector<std::string> shown;
  for (const Ipv4Net& n : *host) shown.push_back(n.to_string());
  EXPECT_EQ(shown, (std::vector<std::string>{"10.77.0.0/16", "127.0.0.0/8", "192.168.50.0/24"}));

  Netlink c = ctr_nl();
  auto ctr = c.ipv4_networks_in_use();
  ASSERT_OK(ctr);
  shown.clear();
  for (const Ipv4Net& n : *ctr) shown.push_back(n.to_string());
  EXPECT_EQ(shown, (std::vector<std::string>{"10.77.0.0/16", "127.0.0.0/8"}));
}

TEST_F(NetlinkTest, SysctlsFollowTheCallingThreadsNamespace) {
  auto real_before = [&] {
    auto inside = NetnsEnter::enter(real_fd_.get());
    return *read_sysctl("net.ipv4.ip_forward");
  }();
  ASSERT_OK(write_sysctl("net/ipv4/ip_forward", "0"));
  ASSERT_OK(ensure_ip_forward());
  EXPECT_EQ(*read_sysctl("net.ipv4.ip_forward"), "1");
  EXPECT_OK(ensure_ip_forward());
  {
    auto inside = NetnsEnter::enter(real_fd_.get());
    EXPECT_EQ(*read_sysctl("net/ipv4/ip_forward"), real_before);
  }
  auto missing = read_sysctl("net/ipv4/conf/nope0/route_localnet");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().errno_value, ENOENT);
  EXPECT_NE(missing.error().message.find("net/ipv4/conf/nope0/route_localnet"), std::string::npos);
}

TEST_F(NetlinkTest, TheNetlinkSocketIsCloseOnExec) {
  auto count_inheritable = [] {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
      int fd = std::atoi(e.path().filename().c_str());
      int flags = ::fcntl(fd, F_GETFD);
      if (fd > 2 && flags >= 0 && !(flags & FD_CLOEXEC)) ++n;
    }
    return n;
  };
  int before = count_inheritable();
  auto extra = Netlink::open();
  ASSERT_OK(extra);
  EXPECT_EQ(count_inheritable(), before);
}

}  // namespace
