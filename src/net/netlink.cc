#include "net/netlink.h"

// <net/if.h> before any <linux/...> header: glibc's and the kernel's interface
// definitions only coexist in this order.
#include <net/if.h>

#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <linux/veth.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/handlers.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <cstring>

#include "base/unique_fd.h"
#include "net/netns.h"
#include "net/sysctl.h"

namespace md::net {

// ---------------------------------------------------------------- addresses

uint32_t Ipv4Net::mask_be() const {
  if (prefix <= 0) return 0;
  if (prefix >= 32) return 0xffffffffu;
  return htonl(~0u << (32 - prefix));
}

Ipv4Net Ipv4Net::network() const { return Ipv4Net{addr_be & mask_be(), prefix}; }

uint32_t Ipv4Net::broadcast_be() const { return addr_be | ~mask_be(); }

bool Ipv4Net::contains(uint32_t other_be) const {
  return (other_be & mask_be()) == (addr_be & mask_be());
}

bool Ipv4Net::overlaps(const Ipv4Net& other) const {
  // Two prefixes overlap exactly when the shorter one contains the other's network.
  uint32_t mask = prefix < other.prefix ? mask_be() : other.mask_be();
  return (addr_be & mask) == (other.addr_be & mask);
}

std::string Ipv4Net::to_string() const { return format_ipv4(addr_be) + "/" + std::to_string(prefix); }

Result<uint32_t> parse_ipv4(std::string_view text) {
  std::string copy(text);  // inet_pton needs a terminated string
  in_addr addr;
  if (::inet_pton(AF_INET, copy.c_str(), &addr) != 1)
    return fail("invalid IPv4 address `" + copy + "`", EINVAL);
  return addr.s_addr;
}

Result<Ipv4Net> parse_cidr(std::string_view text) {
  const std::string shown(text);
  size_t slash = text.find('/');
  if (slash == std::string_view::npos)
    return fail("invalid IPv4 network `" + shown + "`: expected address/prefix, e.g. 10.77.0.1/16",
                EINVAL);
  auto addr = parse_ipv4(text.substr(0, slash));
  if (!addr) return fail("invalid IPv4 network `" + shown + "`: bad address", EINVAL);
  std::string_view digits = text.substr(slash + 1);
  int prefix = -1;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || prefix < 0 ||
      prefix > 32)
    return fail("invalid IPv4 network `" + shown + "`: the prefix length must be 0 to 32", EINVAL);
  return Ipv4Net{*addr, prefix};
}

std::string format_ipv4(uint32_t addr_be) {
  char buf[INET_ADDRSTRLEN];
  in_addr addr{addr_be};
  ::inet_ntop(AF_INET, &addr, buf, sizeof buf);
  return buf;
}

namespace {

using Mac = std::array<uint8_t, 6>;

std::string format_mac(const uint8_t* bytes, size_t len) {
  std::string out;
  char part[4];
  for (size_t i = 0; i < len; ++i) {
    std::snprintf(part, sizeof part, i ? ":%02x" : "%02x", bytes[i]);
    out += part;
  }
  return out;
}

Result<Mac> parse_mac(const std::string& text) {
  Mac mac;
  unsigned b[6];
  char tail;
  if (std::sscanf(text.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
                  &b[5], &tail) != 6 ||
      text.size() != 17)
    return fail("invalid MAC address `" + text + "`: expected aa:bb:cc:dd:ee:ff", EINVAL);
  for (int i = 0; i < 6; ++i) mac[i] = static_cast<uint8_t>(b[i]);
  if (mac[0] & 1) return fail("invalid MAC address `" + text + "`: multicast", EINVAL);
  return mac;
}

Mac mac_bytes_for_ip(uint32_t addr_be) {
  Mac mac{0x02, 0x42, 0, 0, 0, 0};
  std::memcpy(mac.data() + 2, &addr_be, 4);  // network order is the dotted order
  return mac;
}

}  // namespace

std::string mac_for_ip(uint32_t addr_be) {
  Mac mac = mac_bytes_for_ip(addr_be);
  return format_mac(mac.data(), mac.size());
}

// ---------------------------------------------------------------- requests

namespace {

// The kernel's rules for interface names (dev_valid_name), checked here so the error
// names the problem instead of a bare EINVAL.
Status check_ifname(const std::string& name) {
  auto bad = [&](const char* why) {
    return fail("invalid network interface name `" + name + "`: " + why, EINVAL);
  };
  if (name.empty()) return bad("empty");
  if (name.size() >= IFNAMSIZ) return bad("longer than 15 characters");
  if (name == "." || name == "..") return bad("reserved");
  for (char c : name)
    if (c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n') return bad("contains '/', ':' or a space");
  return {};
}

// errno for libnl's own error codes (the kernel's errno, when there is one, is taken
// from the error message itself: see on_error).
int errno_of(int nlerr) {
  switch (-nlerr) {
    case NLE_NOMEM: return ENOMEM;
    case NLE_BAD_SOCK: return EBADF;
    case NLE_AGAIN: return EAGAIN;
    case NLE_INTR: return EINTR;
    case NLE_PERM: return EPERM;
    case NLE_NOACCESS: return EACCES;
    case NLE_EXIST: return EEXIST;
    case NLE_OBJ_NOTFOUND: return ENOENT;
    case NLE_NODEV: return ENODEV;
    case NLE_INVAL: return EINVAL;
    case NLE_RANGE: return ERANGE;
    case NLE_MSG_TRUNC:
    case NLE_MSGSIZE: return EMSGSIZE;
    case NLE_OPNOTSUPP: return EOPNOTSUPP;
    case NLE_AF_NOSUPPORT: return EAFNOSUPPORT;
    case NLE_BUSY: return EBUSY;
    case NLE_NOADDR: return EADDRNOTAVAIL;
    default: return EIO;
  }
}

std::string attr_string(const nlattr* attr) {
  const char* data = static_cast<const char*>(nla_data(attr));
  return std::string(data, ::strnlen(data, static_cast<size_t>(nla_len(attr))));
}

bool attr_u32(const nlattr* attr, uint32_t* out) {
  if (!attr || nla_len(attr) < 4) return false;
  std::memcpy(out, nla_data(attr), 4);
  return true;
}

// One rtnetlink request under construction. libnl reports a full message through
// return codes; they are collected here and checked once, before sending.
class Request {
 public:
  Request(int type, int flags) : msg_(nlmsg_alloc_simple(type, flags)), ok_(msg_ != nullptr) {}
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;
  ~Request() {
    if (msg_) nlmsg_free(msg_);
  }

  // A fixed header (ifinfomsg, ifaddrmsg, rtmsg), at the message's current end: inside
  // an open nest for a veth peer.
  template <class Header>
  void header(const Header& h) {
    ok_ = ok_ && nlmsg_append(msg_, const_cast<Header*>(&h), sizeof h, NLMSG_ALIGNTO) == 0;
  }
  void put(int type, const void* data, size_t len) {
    ok_ = ok_ && nla_put(msg_, type, static_cast<int>(len), data) == 0;
  }
  void put_u32(int type, uint32_t value) { put(type, &value, sizeof value); }
  void put_string(int type, const std::string& s) { put(type, s.c_str(), s.size() + 1); }
  nlattr* nest(int type) {
    nlattr* n = ok_ ? nla_nest_start(msg_, type) : nullptr;
    ok_ = n != nullptr;
    return n;
  }
  void end(nlattr* n) {
    if (ok_) nla_nest_end(msg_, n);
  }

  bool ok() const { return ok_; }
  nl_msg* msg() const { return msg_; }

 private:
  nl_msg* msg_;
  bool ok_;
};

ifinfomsg link_header(int index = 0, bool up = false) {
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = index;
  if (up) {
    // ifi_change = 0 would mean "replace every flag" to the kernel (IFF_MULTICAST
    // would be cleared); name the one flag we set.
    ifi.ifi_flags = IFF_UP;
    ifi.ifi_change = IFF_UP;
  }
  return ifi;
}

void parse_link(nlmsghdr* h, LinkInfo* out) {
  if (h->nlmsg_type != RTM_NEWLINK) return;
  nlattr* tb[IFLA_MAX + 1];
  if (nlmsg_parse(h, sizeof(ifinfomsg), tb, IFLA_MAX, nullptr) < 0) return;
  auto* ifi = static_cast<ifinfomsg*>(nlmsg_data(h));
  out->index = ifi->ifi_index;
  out->flags = ifi->ifi_flags;
  if (tb[IFLA_IFNAME]) out->name = attr_string(tb[IFLA_IFNAME]);
  uint32_t v = 0;
  if (attr_u32(tb[IFLA_MTU], &v)) out->mtu = static_cast<int>(v);
  if (attr_u32(tb[IFLA_MASTER], &v)) out->master_index = static_cast<int>(v);
  if (tb[IFLA_ADDRESS])
    out->mac = format_mac(static_cast<const uint8_t*>(nla_data(tb[IFLA_ADDRESS])),
                          static_cast<size_t>(nla_len(tb[IFLA_ADDRESS])));
  if (tb[IFLA_LINKINFO]) {
    nlattr* info[IFLA_INFO_MAX + 1];
    if (nla_parse_nested(info, IFLA_INFO_MAX, tb[IFLA_LINKINFO], nullptr) == 0 &&
        info[IFLA_INFO_KIND])
      out->kind = attr_string(info[IFLA_INFO_KIND]);
  }
}

constexpr int kDumpAttempts = 3;

}  // namespace

// The socket and the outcome of the request in flight, which libnl's callbacks fill
// in through a pointer to this object (hence its fixed heap address).
struct Netlink::Impl {
  using ReplyFn = void (*)(nlmsghdr*, void*);

  nl_sock* sock = nullptr;
  nl_cb* cb = nullptr;

  bool done = false;         // ACK, error or end of dump seen
  int kernel_errno = 0;      // from the kernel's NLMSG_ERROR, 0 if none
  std::string kernel_text;   // its extended-ack message, if any
  int last_nlerr = 0;        // libnl's code for the last failure
  ReplyFn on_reply = nullptr;
  void* reply_arg = nullptr;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    if (cb) nl_cb_put(cb);
    if (sock) nl_socket_free(sock);  // closes the fd
  }

  int fd() const { return nl_socket_get_fd(sock); }

  std::unexpected<Error> failure(std::string what, int nlerr) const {
    what += ": ";
    if (kernel_errno > 0) {
      what += std::strerror(kernel_errno);
      if (!kernel_text.empty()) what += " (" + kernel_text + ")";
      return fail(std::move(what), kernel_errno);
    }
    what += nl_geterror(nlerr);
    return fail(std::move(what), errno_of(nlerr));
  }

  // Sends the request and reads until its ACK, error or end of dump; every other
  // message of the answer goes to on_reply(hdr, arg).
  Status transact(Request& req, const std::string& what, ReplyFn fn = nullptr,
                  void* arg = nullptr) {
    if (!req.ok()) return fail(what + ": netlink message too large", EMSGSIZE);
    done = false;
    kernel_errno = 0;
    kernel_text.clear();
    last_nlerr = 0;
    on_reply = fn;
    reply_arg = arg;
    // Let libnl number it, also when a request object is sent again (dump retry).
    nlmsg_hdr(req.msg())->nlmsg_seq = NL_AUTO_SEQ;
    nlmsg_hdr(req.msg())->nlmsg_pid = NL_AUTO_PORT;
    int err = nl_send_auto(sock, req.msg());
    while (err >= 0 && !done) err = nl_recvmsgs(sock, cb);
    on_reply = nullptr;
    if (err < 0) {
      last_nlerr = err;
      return failure(what, err);
    }
    return {};
  }

  template <class F>
  Status transact(Request& req, const std::string& what, F& each) {
    return transact(req, what, [](nlmsghdr* h, void* a) { (*static_cast<F*>(a))(h); }, &each);
  }

  // A dump, restarted when the kernel says it changed underneath (NLM_F_DUMP_INTR):
  // links come and go while other containers start. `reset` clears partial results.
  template <class Reset, class F>
  Status dump(Request& req, const std::string& what, Reset reset, F& each) {
    for (int attempt = 1;; ++attempt) {
      reset();
      Status st = transact(req, what, each);
      if (st || last_nlerr != -NLE_DUMP_INTR || attempt == kDumpAttempts) return st;
    }
  }

  static int on_valid(nl_msg* msg, void* arg) {
    auto* self = static_cast<Impl*>(arg);
    if (self->on_reply) self->on_reply(nlmsg_hdr(msg), self->reply_arg);
    return NL_OK;
  }

  static int on_end(nl_msg*, void* arg) {
    static_cast<Impl*>(arg)->done = true;
    return NL_STOP;
  }

  // Keeps the kernel's own errno (libnl would fold e.g. EADDRINUSE into "exists") and
  // its extended-ack text, which follows the error header when NETLINK_EXT_ACK is on.
  static int on_error(sockaddr_nl*, nlmsgerr* e, void* arg) {
    auto* self = static_cast<Impl*>(arg);
    self->done = true;
    self->kernel_errno = -e->error;
    auto* nlh = reinterpret_cast<nlmsghdr*>(reinterpret_cast<char*>(e) - NLMSG_HDRLEN);
    if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
      size_t payload = sizeof(nlmsgerr);
      if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) payload += e->msg.nlmsg_len - NLMSG_HDRLEN;
      size_t start = NLMSG_ALIGN(NLMSG_HDRLEN + payload);
      if (start < nlh->nlmsg_len) {
        nlattr* tb[NLMSGERR_ATTR_MAX + 1];
        auto* attrs = reinterpret_cast<nlattr*>(reinterpret_cast<char*>(nlh) + start);
        if (nla_parse(tb, NLMSGERR_ATTR_MAX, attrs, static_cast<int>(nlh->nlmsg_len - start),
                      nullptr) == 0 &&
            tb[NLMSGERR_ATTR_MSG])
          self->kernel_text = attr_string(tb[NLMSGERR_ATTR_MSG]);
      }
    }
    return NL_STOP;
  }

  // Adds an IPv4 address to interface `index`; EEXIST when already there.
  Status add_address(int index, const Ipv4Net& addr, const std::string& what) {
    Request req(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
    ifaddrmsg ifa{};
    ifa.ifa_family = AF_INET;
    ifa.ifa_prefixlen = static_cast<unsigned char>(addr.prefix);
    ifa.ifa_scope = RT_SCOPE_UNIVERSE;
    ifa.ifa_index = static_cast<unsigned>(index);
    req.header(ifa);
    req.put(IFA_LOCAL, &addr.addr_be, 4);
    req.put(IFA_ADDRESS, &addr.addr_be, 4);
    // `ip addr add ... brd +` does this too; without it the subnet broadcast address
    // is not recognised as local.
    if (addr.prefix < 31) {
      uint32_t brd = addr.broadcast_be();
      req.put(IFA_BROADCAST, &brd, 4);
    }
    return transact(req, what);
  }

  // net.* sysctls resolve in the calling thread's namespace: make it the socket's.
  Status write_sysctl_here(const std::string& key, const std::string& value) {
    UniqueFd ns(::ioctl(fd(), SIOCGSKNS));
    if (!ns) return fail_errno("set sysctl " + key + ": find the netlink socket's namespace");
    bool here = TRY(is_current_netns(ns.get()));
    if (here) return write_sysctl(key, value);
    NetnsEnter inside = TRY_CTX(NetnsEnter::enter(ns.get()), "set sysctl " + key);
    return write_sysctl(key, value);
  }
};

Netlink::Netlink(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Netlink::Netlink(Netlink&&) noexcept = default;
Netlink& Netlink::operator=(Netlink&&) noexcept = default;
Netlink::~Netlink() = default;

Result<Netlink> Netlink::open() {
  auto impl = std::make_unique<Impl>();
  impl->sock = nl_socket_alloc();
  impl->cb = nl_cb_alloc(NL_CB_DEFAULT);
  if (!impl->sock || !impl->cb) return fail("open netlink socket: out of memory", ENOMEM);
  // One recvmsg per datagram: libnl would otherwise peek first to size its buffer.
  // 32 KiB is the largest datagram the kernel builds for a dump.
  nl_socket_disable_msg_peek(impl->sock);
  nl_socket_set_msg_buf_size(impl->sock, 32768);
  int err = nl_connect(impl->sock, NETLINK_ROUTE);  // SOCK_CLOEXEC
  if (err < 0) return fail(std::string("open netlink socket: ") + nl_geterror(err), errno_of(err));
  // Best effort (Linux >= 4.12): kernel error text in replies, and errors that do not
  // echo the whole request back.
  int one = 1;
  ::setsockopt(impl->fd(), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  ::setsockopt(impl->fd(), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  nl_cb_set(impl->cb, NL_CB_VALID, NL_CB_CUSTOM, Impl::on_valid, impl.get());
  nl_cb_set(impl->cb, NL_CB_ACK, NL_CB_CUSTOM, Impl::on_end, impl.get());
  nl_cb_set(impl->cb, NL_CB_FINISH, NL_CB_CUSTOM, Impl::on_end, impl.get());
  nl_cb_err(impl->cb, NL_CB_CUSTOM, Impl::on_error, impl.get());
  return Netlink(std::move(impl));
}

Result<Netlink> Netlink::open_in(int netns_fd) {
  NetnsEnter inside = TRY_CTX(NetnsEnter::enter(netns_fd), "open netlink socket");
  return open();
}

// ---------------------------------------------------------------- links

Result<bool> Netlink::link_exists(const std::string& name) {
  auto index = link_index(name);
  if (index) return true;
  if (index.error().errno_value == ENOENT) return false;
  return std::unexpected(std::move(index).error());
}

Result<int> Netlink::link_index(const std::string& name) {
  TRY(check_ifname(name));
  // A netlink socket has no ioctls of its own: the kernel hands interface ioctls to
  // the device layer of the socket's namespace, as for any socket.
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  if (::ioctl(impl_->fd(), SIOCGIFINDEX, &ifr) != 0) {
    if (errno == ENODEV) return fail("no such network interface: " + name, ENOENT);
    return fail_errno("look up network interface " + name);
  }
  return ifr.ifr_ifindex;
}

Result<LinkInfo> Netlink::link_info(const std::string& name) {
  TRY(check_ifname(name));
  Request req(RTM_GETLINK, 0);
  ifinfomsg ifi = link_header();
  req.header(ifi);
  req.put_string(IFLA_IFNAME, name);
  req.put_u32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);  // ~1 KiB less to build and parse
  LinkInfo info;
  auto each = [&](nlmsghdr* h) { parse_link(h, &info); };
  Status st = impl_->transact(req, "look up network interface " + name, each);
  if (!st) {
    if (impl_->kernel_errno == ENODEV) return fail("no such network interface: " + name, ENOENT);
    return std::unexpected(std::move(st).error());
  }
  if (info.index == 0) return fail("look up network interface " + name + ": no answer", EIO);
  return info;
}

Status Netlink::set_up(const std::string& name) {
  TRY(check_ifname(name));
  // Addressed by name (ifi_index 0): one round trip, no lookup.
  Request req(RTM_NEWLINK, 0);
  ifinfomsg ifi = link_header(0, /*up=*/true);
  req.header(ifi);
  req.put_string(IFLA_IFNAME, name);
  Status st = impl_->transact(req, "bring up network interface " + name);
  if (!st && impl_->kernel_errno == ENODEV) return fail("no such network interface: " + name, ENOENT);
  return st;
}

Status Netlink::delete_link(const std::string& name) {
  TRY(check_ifname(name));
  Request req(RTM_DELLINK, 0);
  ifinfomsg ifi = link_header();
  req.header(ifi);
  req.put_string(IFLA_IFNAME, name);
  Status st = impl_->transact(req, "delete network interface " + name);
  if (!st && impl_->kernel_errno == ENODEV) return {};
  return st;
}

Status Netlink::ensure_bridge(const std::string& name, const Ipv4Net& gateway, int mtu) {
  const std::string what = "set up bridge " + name;
  TRY(check_ifname(name));
  int index = 0;
  bool up = false;
  // Twice at most: a concurrent creator may win between our lookup and our create.
  for (int attempt = 0; index == 0; ++attempt) {
    auto info = link_info(name);
    if (info) {
      if (info->kind != "bridge")
        return fail(what + ": a network interface of that name exists and is not a bridge (kind `" +
                        info->kind + "`)",
                    EEXIST);
      index = info->index;
      up = info->flags & IFF_UP;
      break;
    }
    if (info.error().errno_value != ENOENT) return std::unexpected(with_context(info.error(), what));

    Request req(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    ifinfomsg ifi = link_header(0, /*up=*/true);
    req.header(ifi);
    req.put_string(IFLA_IFNAME, name);
    // A bridge with an address given at creation keeps it; otherwise its MAC follows
    // its lowest-numbered port, changing as containers come and go, and every
    // container's ARP entry for the gateway goes stale.
    Mac mac = mac_bytes_for_ip(gateway.addr_be);
    req.put(IFLA_ADDRESS, mac.data(), mac.size());
    if (mtu > 0) req.put_u32(IFLA_MTU, static_cast<uint32_t>(mtu));
    nlattr* linkinfo = req.nest(IFLA_LINKINFO);
    req.put_string(IFLA_INFO_KIND, "bridge");
    req.end(linkinfo);
    Status created = impl_->transact(req, what);
    if (created) {
      index = TRY_CTX(link_index(name), what);
      up = true;
    } else if (impl_->kernel_errno != EEXIST || attempt > 0) {
      return created;
    }
  }

  Status added = impl_->add_address(index, gateway, what + ": add address " + gateway.to_string());
  if (!added && impl_->kernel_errno != EEXIST) return added;
  if (!up) {
    Request req(RTM_NEWLINK, 0);
    ifinfomsg ifi = link_header(index, /*up=*/true);
    req.header(ifi);
    TRY(impl_->transact(req, what + ": bring up"));
  }
  // Without route_localnet the kernel drops packets with a 127/8 source or destination
  // on a non-loopback interface, so `-p 127.0.0.1:8080:80` could not be DNATed.
  return impl_->write_sysctl_here("net/ipv4/conf/" + name + "/route_localnet", "1");
}

Status Netlink::create_veth(const std::string& host_name, const std::string& peer_name,
                            int peer_netns_fd, const std::string& bridge, int mtu) {
  const std::string what = "create veth pair " + host_name + " / " + peer_name;
  TRY(check_ifname(host_name));
  TRY(check_ifname(peer_name));
  int master = TRY_CTX(link_index(bridge), what);

  // One RTM_NEWLINK: the kernel creates both ends, moves the peer, brings the host end
  // up and enslaves it, and unregisters both ends if any step fails.
  Request req(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  ifinfomsg host = link_header(0, /*up=*/true);
  req.header(host);
  req.put_string(IFLA_IFNAME, host_name);
  if (mtu > 0) req.put_u32(IFLA_MTU, static_cast<uint32_t>(mtu));
  req.put_u32(IFLA_MASTER, static_cast<uint32_t>(master));
  nlattr* linkinfo = req.nest(IFLA_LINKINFO);
  req.put_string(IFLA_INFO_KIND, "veth");
  nlattr* data = req.nest(IFLA_INFO_DATA);
  nlattr* peer = req.nest(VETH_INFO_PEER);
  ifinfomsg peer_ifi = link_header();  // no flags: the peer stays down
  req.header(peer_ifi);
  req.put_string(IFLA_IFNAME, peer_name);
  if (mtu > 0) req.put_u32(IFLA_MTU, static_cast<uint32_t>(mtu));
  // Born in the container's namespace: no temporary name in ours, no second request.
  req.put_u32(IFLA_NET_NS_FD, static_cast<uint32_t>(peer_netns_fd));
  req.end(peer);
  req.end(data);
  req.end(linkinfo);
  return impl_->transact(req, what);
}

Status Netlink::configure_interface(const std::string& name, const Ipv4Net& addr,
                                    const std::string& mac) {
  const std::string what = "configure network interface " + name;
  Mac mac_bytes{};
  if (!mac.empty()) mac_bytes = TRY_CTX(parse_mac(mac), what);
  int index = TRY_CTX(link_index(name), what);
  Status added = impl_->add_address(index, addr, what + ": add address " + addr.to_string());
  if (!added && impl_->kernel_errno != EEXIST) return added;

  Request req(RTM_NEWLINK, 0);
  ifinfomsg ifi = link_header(index, /*up=*/true);
  req.header(ifi);
  if (!mac.empty()) req.put(IFLA_ADDRESS, mac_bytes.data(), mac_bytes.size());
  return impl_->transact(req, what + (mac.empty() ? ": bring up" : ": set MAC " + mac + " and bring up"));
}

// ---------------------------------------------------------------- addresses, routes

Status Netlink::add_default_route(uint32_t gateway_be) {
  Request req(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
  rtmsg rtm{};
  rtm.rtm_family = AF_INET;
  rtm.rtm_dst_len = 0;
  rtm.rtm_table = RT_TABLE_MAIN;
  rtm.rtm_protocol = RTPROT_BOOT;  // what `ip route add` uses
  rtm.rtm_scope = RT_SCOPE_UNIVERSE;
  rtm.rtm_type = RTN_UNICAST;
  req.header(rtm);
  req.put(RTA_GATEWAY, &gateway_be, 4);
  return impl_->transact(req, "add default route via " + format_ipv4(gateway_be));
}

Status Netlink::delete_address(const std::string& name, const Ipv4Net& addr) {
  const std::string what = "remove address " + addr.to_string() + " from " + name;
  auto index = link_index(name);
  if (!index) {
    if (index.error().errno_value == ENOENT) return {};
    return std::unexpected(with_context(index.error(), what));
  }
  Request req(RTM_DELADDR, 0);
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_INET;
  ifa.ifa_prefixlen = static_cast<unsigned char>(addr.prefix);
  ifa.ifa_index = static_cast<unsigned>(*index);
  req.header(ifa);
  req.put(IFA_LOCAL, &addr.addr_be, 4);
  req.put(IFA_ADDRESS, &addr.addr_be, 4);
  Status st = impl_->transact(req, what);
  // EADDRNOTAVAIL: not there; ENODEV: the link went away meanwhile.
  if (!st && (impl_->kernel_errno == EADDRNOTAVAIL || impl_->kernel_errno == ENODEV)) return {};
  return st;
}

Result<std::vector<std::string>> Netlink::links_with_prefix(const std::string& prefix) {
  Request req(RTM_GETLINK, NLM_F_DUMP);
  ifinfomsg ifi = link_header();
  req.header(ifi);
  req.put_u32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  std::vector<std::string> names;
  auto each = [&](nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWLINK) return;
    nlattr* tb[IFLA_MAX + 1];
    if (nlmsg_parse(h, sizeof(ifinfomsg), tb, IFLA_MAX, nullptr) < 0 || !tb[IFLA_IFNAME]) return;
    std::string name = attr_string(tb[IFLA_IFNAME]);
    if (name.starts_with(prefix)) names.push_back(std::move(name));
  };
  TRY(impl_->dump(req, "list network interfaces", [&] { names.clear(); }, each));
  return names;
}

Result<std::vector<Ipv4Net>> Netlink::ipv4_networks_in_use() {
  std::vector<Ipv4Net> nets;

  Request addrs(RTM_GETADDR, NLM_F_DUMP);
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_INET;
  addrs.header(ifa);
  auto each_addr = [&](nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWADDR) return;
    auto* msg = static_cast<ifaddrmsg*>(nlmsg_data(h));
    nlattr* tb[IFA_MAX + 1];
    if (msg->ifa_family != AF_INET || nlmsg_parse(h, sizeof(ifaddrmsg), tb, IFA_MAX, nullptr) < 0)
      return;
    uint32_t addr = 0;
    if (attr_u32(tb[IFA_LOCAL], &addr) || attr_u32(tb[IFA_ADDRESS], &addr))
      nets.push_back(Ipv4Net{addr, msg->ifa_prefixlen}.network());
  };
  TRY(impl_->dump(addrs, "list IPv4 addresses", [&] { nets.clear(); }, each_addr));
  const size_t address_count = nets.size();

  Request routes(RTM_GETROUTE, NLM_F_DUMP);
  rtmsg rtm{};
  rtm.rtm_family = AF_INET;
  routes.header(rtm);
  auto each_route = [&](nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWROUTE) return;
    auto* msg = static_cast<rtmsg*>(nlmsg_data(h));
    nlattr* tb[RTA_MAX + 1];
    if (msg->rtm_family != AF_INET || nlmsg_parse(h, sizeof(rtmsg), tb, RTA_MAX, nullptr) < 0)
      return;
    uint32_t table = msg->rtm_table;
    attr_u32(tb[RTA_TABLE], &table);  // ids above 255 only travel in RTA_TABLE
    // The local table holds this host's own addresses (seen above) and broadcasts;
    // the default route would overlap everything.
    if (table != RT_TABLE_MAIN || msg->rtm_dst_len == 0) return;
    uint32_t dst = 0;
    if (attr_u32(tb[RTA_DST], &dst)) nets.push_back(Ipv4Net{dst, msg->rtm_dst_len}.network());
  };
  TRY(impl_->dump(routes, "list IPv4 routes", [&] { nets.resize(address_count); }, each_route));

  auto key = [](const Ipv4Net& n) { return std::pair(ntohl(n.addr_be), n.prefix); };
  std::sort(nets.begin(), nets.end(), [&](const Ipv4Net& a, const Ipv4Net& b) { return key(a) < key(b); });
  nets.erase(std::unique(nets.begin(), nets.end()), nets.end());
  return nets;
}

}  // namespace md::net
