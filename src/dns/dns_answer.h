// What the DNS server does with one request, without sockets: answer it from the
// hosts table, send it upstream, or drop it. Kept apart from dns_server.cc so the
// policy can be read (and tested) in one place.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "dns/dns_message.h"
#include "dns/hosts_table.h"

namespace md::dns {

struct AnswerPolicy {
  // Our zone, lowercase without dots at either end ("dns.minidocker"); "" for none.
  // "web.<domain>" means "web"; unknown names inside the zone are NXDOMAIN, never
  // forwarded.
  std::string domain;
  uint32_t ttl = 0;  // containers come and go: clients should not cache
  bool have_upstreams = false;
};

enum class Disposition {
  kReply,    // send `reply`
  kForward,  // send the request upstream (`query` is parsed)
  kDrop,     // malformed, or a response: never answer (no reflection, no loops)
};

// UDP answers are limited to the client's size (512, or its EDNS0 size up to
// kEdnsUdpSize) and truncated beyond it; TCP answers are not.
enum class Transport { kUdp, kTcp };

struct Decision {
  Disposition disposition = Disposition::kDrop;
  std::vector<uint8_t> reply;
  Query query;           // valid for kForward (and for kReply to a parsed query)
  std::string drop_reason;  // for kDrop, for debugging
};

// Decides for one request that arrived over `transport`.
//  - A/AAAA/ANY for a hosts-file name (with or without the trailing dot or the domain
//    suffix, any case): its addresses, AA set, NOERROR; other types: NOERROR, no data.
//  - PTR for an in-addr.arpa/ip6.arpa name of a hosts-file address: its first name
//    (with the domain suffix when there is a domain).
//  - Other names: kForward when there are upstreams, else NXDOMAIN.
//  - OPCODE other than QUERY: NOTIMP. EDNS version above 0: BADVERS.
Decision decide(std::span<const uint8_t> request, const HostsTable& hosts, const AnswerPolicy& policy,
                Transport transport);

}  // namespace md::dns
