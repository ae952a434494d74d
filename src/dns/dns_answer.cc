#include "dns/dns_answer.h"

namespace md::dns {

namespace {

// The hosts-file entry `name` refers to: the name itself, or the name with our
// domain suffix removed.
const std::vector<IpAddress>* find_name(std::string_view name, const HostsTable& hosts,
                                        const AnswerPolicy& policy) {
  if (const auto* ips = hosts.addresses(name)) return ips;
  if (policy.domain.empty() || name.size() <= policy.domain.size() + 1) return nullptr;
  if (!name.ends_with(policy.domain) || name[name.size() - policy.domain.size() - 1] != '.') return nullptr;
  return hosts.addresses(name.substr(0, name.size() - policy.domain.size() - 1));
}

bool in_zone(std::string_view name, std::string_view domain) {
  if (domain.empty()) return false;
  if (name == domain) return true;
  return name.size() > domain.size() && name.ends_with(domain) && name[name.size() - domain.size() - 1] == '.';
}

// Takes `d` by reference so arguments may still refer to d.query.
Decision reply(Decision&& d, std::span<const Record> answers, Rcode rcode, bool authoritative,
               const AnswerPolicy& policy, size_t max_size) {
  d.disposition = Disposition::kReply;
  d.reply = build_response(d.query, answers, {rcode, authoritative, policy.have_upstreams, max_size});
  return std::move(d);
}

}  // namespace

Decision decide(std::span<const uint8_t> request, const HostsTable& hosts, const AnswerPolicy& policy,
                Transport transport) {
  Decision d;
  auto header = parse_header(request);
  if (!header) {
    d.drop_reason = header.error().message;
    return d;
  }
  if (header->is_response()) {
    d.drop_reason = "dns message is a response";
    return d;
  }
  if (header->opcode() != 0) {
    d.disposition = Disposition::kReply;
    d.reply = build_header_response(*header, Rcode::kNotImp);
    return d;
  }
  auto query = parse_query(request);
  if (!query) {
    d.drop_reason = query.error().message;
    return d;
  }
  d.query = std::move(*query);
  const Query& q = d.query;
  size_t max_size = transport == Transport::kTcp ? kMaxMessageSize : q.max_udp_size();
  if (q.edns && q.edns->version > 0) return reply(std::move(d), {}, Rcode::kBadVers, false, policy, max_size);

  if (q.qclass == kClassIn || q.qclass == kClassAny) {
    const std::string& name = q.qname.text;
    if (const auto* ips = find_name(name, hosts, policy)) {
      std::vector<Record> answers;
      for (const IpAddress& ip : *ips) {
        bool v4 = ip.family == AF_INET;
        if (q.qtype == kTypeAny || q.qtype == (v4 ? kTypeA : kTypeAaaa))
          answers.push_back({v4 ? kTypeA : kTypeAaaa, policy.ttl,
                             std::string(reinterpret_cast<const char*>(ip.bytes.data()), ip.size())});
      }
      return reply(std::move(d), answers, Rcode::kNoError, true, policy, max_size);
    }
    if (auto ip = address_from_reverse_name(name)) {
      if (const std::string* host = hosts.name_for(*ip)) {
        std::vector<Record> answers;
        if (q.qtype == kTypePtr || q.qtype == kTypeAny) {
          std::string target = policy.domain.empty() ? *host : *host + "." + policy.domain;
          // Hosts names are validated, but the domain comes from the command line.
          if (auto wire = encode_name(target)) answers.push_back({kTypePtr, policy.ttl, std::move(*wire)});
        }
        return reply(std::move(d), answers, Rcode::kNoError, true, policy, max_size);
      }
    }
    if (in_zone(name, policy.domain))
      return reply(std::move(d), {}, name == policy.domain ? Rcode::kNoError : Rcode::kNxDomain, true, policy,
                   max_size);
  }
  if (policy.have_upstreams) {
    d.disposition = Disposition::kForward;
    return d;
  }
  return reply(std::move(d), {}, Rcode::kNxDomain, false, policy, max_size);
}

}  // namespace md::dns
