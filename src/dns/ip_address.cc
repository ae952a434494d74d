#include "dns/ip_address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace md::dns {

std::optional<IpAddress> parse_ip(std::string_view text) {
  // inet_pton wants a NUL-terminated string; the longest IPv6 text is 45 chars.
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof buf) return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress ip;
  if (::inet_pton(AF_INET, buf, ip.bytes.data()) == 1) {
    ip.family = AF_INET;
    return ip;
  }
  if (::inet_pton(AF_INET6, buf, ip.bytes.data()) == 1) {
    ip.family = AF_INET6;
    return ip;
  }
  return std::nullopt;
}

std::string to_string(const IpAddress& ip) {
  char buf[INET6_ADDRSTRLEN];
  if (!::inet_ntop(ip.family, ip.bytes.data(), buf, sizeof buf)) return "?";
  return buf;
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::optional<IpAddress> address_from_reverse_name(std::string_view name) {
  constexpr std::string_view kV4 = ".in-addr.arpa", kV6 = ".ip6.arpa";
  IpAddress ip;
  if (name.ends_with(kV4)) {
    name.remove_suffix(kV4.size());
    // Exactly four decimal labels, least significant first, no leading zeros
    // beyond "0" itself (so each address has one reverse name).
    ip.family = AF_INET;
    for (int i = 3; i >= 0; --i) {
      size_t dot = name.find('.');
      std::string_view label = name.substr(0, dot);
      if (label.empty() || label.size() > 3 || (label.size() > 1 && label[0] == '0')) return std::nullopt;
      unsigned value = 0;
      auto [end, ec] = std::from_chars(label.data(), label.data() + label.size(), value);
      if (ec != std::errc() || end != label.data() + label.size() || value > 255) return std::nullopt;
      ip.bytes[i] = static_cast<uint8_t>(value);
      if (i == 0) {
        if (dot != std::string_view::npos) return std::nullopt;
      } else {
        if (dot == std::string_view::npos) return std::nullopt;
        name.remove_prefix(dot + 1);
      }
    }
    return ip;
  }
  if (name.ends_with(kV6)) {
    name.remove_suffix(kV6.size());
    // 32 single-nibble labels separated by dots: 63 characters.
    if (name.size() != 63) return std::nullopt;
    ip.family = AF_INET6;
    for (int i = 0; i < 32; ++i) {
      int v = hex_digit(name[2 * i]);
      if (v < 0 || (i < 31 && name[2 * i + 1] != '.')) return std::nullopt;
      int nibble = 31 - i;  // first label is the last nibble
      uint8_t& b = ip.bytes[nibble / 2];
      b = static_cast<uint8_t>(nibble % 2 ? (b & 0xf0) | v : (b & 0x0f) | (v << 4));
    }
    return ip;
  }
  return std::nullopt;
}

uint16_t Endpoint::port() const {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
  if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  return 0;
}

void Endpoint::set_port(uint16_t port) {
  if (family() == AF_INET) reinterpret_cast<sockaddr_in*>(&storage)->sin_port = htons(port);
  if (family() == AF_INET6) reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port = htons(port);
}

Result<Endpoint> parse_endpoint(std::string_view text, uint16_t default_port) {
  auto bad = [&](const char* why) { return fail("invalid address `" + std::string(text) + "`: " + why, EINVAL); };
  std::string_view host = text, port_text;
  if (text.starts_with('[')) {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return bad("missing `]`");
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return bad("expected `:PORT` after `]`");
      port_text = rest.substr(1);
      if (port_text.empty()) return bad("empty port");
    }
  } else if (text.find(':') == text.rfind(':') && text.find(':') != std::string_view::npos) {
    // Exactly one colon: IPv4:PORT. More than one is a bare IPv6 address.
    size_t colon = text.find(':');
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (port_text.empty()) return bad("empty port");
  }
  uint16_t port = default_port;
  if (!port_text.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || value > 65535)
      return bad("port must be a number from 0 to 65535");
    port = static_cast<uint16_t>(value);
  }
  auto ip = parse_ip(host);
  if (!ip) return bad("not an IP address");
  if (text.starts_with('[') && ip->family != AF_INET6) return bad("brackets are for IPv6 addresses");
  Endpoint e;
  if (ip->family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&e.storage);
    sin->sin_family = AF_INET;
    std::memcpy(&sin->sin_addr, ip->bytes.data(), 4);
    e.length = sizeof(sockaddr_in);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&e.storage);
    sin6->sin6_family = AF_INET6;
    std::memcpy(&sin6->sin6_addr, ip->bytes.data(), 16);
    e.length = sizeof(sockaddr_in6);
  }
  e.set_port(port);
  return e;
}

static IpAddress address_of(const Endpoint& e) {
  IpAddress ip;
  ip.family = e.family();
  if (ip.family == AF_INET)
    std::memcpy(ip.bytes.data(), &reinterpret_cast<const sockaddr_in*>(&e.storage)->sin_addr, 4);
  else if (ip.family == AF_INET6)
    std::memcpy(ip.bytes.data(), &reinterpret_cast<const sockaddr_in6*>(&e.storage)->sin6_addr, 16);
  return ip;
}

std::string to_string(const Endpoint& e) {
  std::string host = to_string(address_of(e));
  if (e.family() == AF_INET6) host = "[" + host + "]";
  return host + ":" + std::to_string(e.port());
}

bool same_endpoint(const Endpoint& a, const Endpoint& b) {
  return a.family() == b.family() && a.port() == b.port() && address_of(a) == address_of(b);
}

Endpoint endpoint_from(const sockaddr_storage& ss, socklen_t len) {
  Endpoint e;
  e.storage = ss;
  e.length = len;
  return e;
}

}  // namespace md::dns
