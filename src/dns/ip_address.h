// IP addresses and socket endpoints for the DNS server: parsing the command line's
// `IP[:PORT]`, the hosts file's addresses and reverse (PTR) names. No allocation-free
// promises; nothing here touches the network.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace md::dns {

// An IPv4 or IPv6 address by value. IPv4 uses the first 4 bytes of `bytes`.
struct IpAddress {
  int family = AF_INET;  // AF_INET or AF_INET6
  std::array<uint8_t, 16> bytes{};

  size_t size() const { return family == AF_INET ? 4 : 16; }
  auto operator<=>(const IpAddress&) const = default;
};

// inet_pton for either family; nullopt for anything else (no names, no zone ids).
std::optional<IpAddress> parse_ip(std::string_view text);
std::string to_string(const IpAddress& ip);

// The address a reverse name stands for: "4.3.2.1.in-addr.arpa" → 1.2.3.4, and the
// 32-nibble ip6.arpa form. `name` is lowercase without a trailing dot (as Name::text).
// nullopt for partial or malformed names (those are not ours to answer).
std::optional<IpAddress> address_from_reverse_name(std::string_view name);

// A socket address that knows its length.
struct Endpoint {
  sockaddr_storage storage{};
  socklen_t length = 0;

  const sockaddr* addr() const { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* addr() { return reinterpret_cast<sockaddr*>(&storage); }
  int family() const { return storage.ss_family; }
  uint16_t port() const;
  void set_port(uint16_t port);
};

// Parses "IP", "IP:PORT", "[IPv6]" or "[IPv6]:PORT" (a bare IPv6 address has no port).
// Errors name the text: "invalid address `x:y`: ...".
Result<Endpoint> parse_endpoint(std::string_view text, uint16_t default_port);
std::string to_string(const Endpoint& e);
// Same address and port (and family).
bool same_endpoint(const Endpoint& a, const Endpoint& b);
// Builds an endpoint from what recvfrom() filled in.
Endpoint endpoint_from(const sockaddr_storage& ss, socklen_t len);

}  // namespace md::dns
