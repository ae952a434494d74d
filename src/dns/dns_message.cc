#include "dns/dns_message.h"

#include <algorithm>

namespace md::dns {

// The longest name in wire form, final zero byte included (RFC 1035 §3.1).
static constexpr size_t kMaxNameWire = 255;
static constexpr size_t kMaxLabel = 63;

Result<Header> parse_header(std::span<const uint8_t> p) {
  if (p.size() < kHeaderSize) return fail("dns message of " + std::to_string(p.size()) + " bytes is shorter than a header");
  Header h;
  h.id = get16(p, 0);
  h.flags = get16(p, 2);
  h.qdcount = get16(p, 4);
  h.ancount = get16(p, 6);
  h.nscount = get16(p, 8);
  h.arcount = get16(p, 10);
  return h;
}

static bool plain_name_char(uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

Result<Name> read_name(std::span<const uint8_t> m, size_t& offset) {
  Name n;
  const size_t start = offset;
  size_t pos = offset;
  // Pointers must go strictly before the start of the run of labels they end, so
  // every jump lands lower than the last: no loops, at most one jump per byte.
  size_t run_start = pos;
  bool jumped = false;
  size_t end = 0;  // where the name ends in its original position
  for (;;) {
    if (pos >= m.size()) return fail("dns name at offset " + std::to_string(start) + " runs past the message end");
    uint8_t len = m[pos];
    if ((len & 0xc0) == 0xc0) {
      if (pos + 1 >= m.size()) return fail("dns name pointer at offset " + std::to_string(pos) + " is truncated");
      size_t target = static_cast<size_t>(len & 0x3f) << 8 | m[pos + 1];
      if (target >= run_start)
        return fail("dns name pointer at offset " + std::to_string(pos) + " to " + std::to_string(target) +
                    " does not point backwards");
      if (!jumped) end = pos + 2;
      jumped = true;
      pos = run_start = target;
      continue;
    }
    if (len & 0xc0) return fail("dns label type " + std::to_string(len >> 6) + " at offset " + std::to_string(pos) + " is not supported");
    if (len == 0) {
      n.wire.push_back('\0');
      offset = jumped ? end : pos + 1;
      return n;
    }
    // Room for this label and the final zero byte.
    if (n.wire.size() + 1 + len + 1 > kMaxNameWire)
      return fail("dns name at offset " + std::to_string(start) + " is longer than 255 bytes");
    if (pos + 1 + len > m.size()) return fail("dns label at offset " + std::to_string(pos) + " runs past the message end");
    n.wire.push_back(static_cast<char>(len));
    if (!n.text.empty()) n.text.push_back('.');
    for (size_t i = pos + 1; i <= pos + len; ++i) {
      uint8_t c = m[i];
      n.wire.push_back(static_cast<char>(c));
      if (plain_name_char(c)) {
        n.text.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
      } else {
        char esc[5] = {'\\', static_cast<char>('0' + c / 100), static_cast<char>('0' + c / 10 % 10),
                       static_cast<char>('0' + c % 10), 0};
        n.text += esc;
      }
    }
    pos += 1 + len;
  }
}

Result<std::string> encode_name(std::string_view dotted) {
  if (dotted.ends_with('.')) dotted.remove_suffix(1);
  std::string wire;
  while (!dotted.empty()) {
    size_t dot = dotted.find('.');
    std::string_view label = dotted.substr(0, dot);
    if (label.empty() || label.size() > kMaxLabel)
      return fail("cannot encode dns name `" + std::string(dotted) + "`: labels must be 1 to 63 bytes", EINVAL);
    wire.push_back(static_cast<char>(label.size()));
    wire += label;
    dotted = dot == std::string_view::npos ? std::string_view() : dotted.substr(dot + 1);
    if (dot != std::string_view::npos && dotted.empty())
      return fail("cannot encode dns name with an empty label", EINVAL);
  }
  wire.push_back('\0');
  if (wire.size() > kMaxNameWire) return fail("cannot encode dns name: longer than 255 bytes", EINVAL);
  return wire;
}

size_t Query::max_udp_size() const {
  if (!edns) return kClassicUdpSize;
  return std::clamp<size_t>(edns->udp_size, kClassicUdpSize, kEdnsUdpSize);
}

Result<Query> parse_query(std::span<const uint8_t> p) {
  Query q;
  q.header = TRY(parse_header(p));
  if (q.header.is_response()) return fail("dns message is a response, not a query");
  if (q.header.opcode() != 0) return fail("dns opcode " + std::to_string(q.header.opcode()) + " is not supported");
  if (q.header.qdcount != 1) return fail("dns query has " + std::to_string(q.header.qdcount) + " questions, not 1");
  size_t pos = kHeaderSize;
  q.qname = TRY(read_name(p, pos));
  if (pos + 4 > p.size()) return fail("dns question is truncated");
  q.qtype = get16(p, pos);
  q.qclass = get16(p, pos + 2);
  pos += 4;
  q.question_end = pos;
  // Walk every record so a malformed one is caught and the OPT record found. Each
  // record is at least 11 bytes, so the bounds checks end the loop on garbage counts.
  size_t records = size_t{q.header.ancount} + q.header.nscount + q.header.arcount;
  size_t additional_from = size_t{q.header.ancount} + q.header.nscount;
  for (size_t i = 0; i < records; ++i) {
    Name owner = TRY(read_name(p, pos));
    if (pos + 10 > p.size()) return fail("dns record " + std::to_string(i) + " is truncated");
    uint16_t type = get16(p, pos);
    uint16_t klass = get16(p, pos + 2);
    uint32_t ttl = uint32_t{get16(p, pos + 4)} << 16 | get16(p, pos + 6);
    uint16_t rdlength = get16(p, pos + 8);
    pos += 10;
    if (pos + rdlength > p.size()) return fail("dns record " + std::to_string(i) + " data runs past the message end");
    pos += rdlength;
    if (type != kTypeOpt) continue;
    // RFC 6891 §6.1.1: one OPT, in the additional section, owned by the root.
    if (i < additional_from || !owner.text.empty() || q.edns) return fail("dns query has a misplaced OPT record");
    q.edns = Edns{klass, static_cast<uint8_t>(ttl >> 16), (ttl & 0x8000) != 0};
  }
  return q;
}

static void put32(std::vector<uint8_t>& out, uint32_t v) {
  put16(out, static_cast<uint16_t>(v >> 16));
  put16(out, static_cast<uint16_t>(v));
}

static std::vector<uint8_t> assemble(const Query& q, std::span<const Record> answers, const ResponseOptions& o,
                                     bool truncated) {
  std::vector<uint8_t> out;
  out.reserve(kHeaderSize + q.qname.wire.size() + 4 + answers.size() * 16 + 11);
  uint16_t rcode = static_cast<uint16_t>(o.rcode);
  uint16_t flags = 0x8000 | (q.header.flags & 0x7800) /* opcode */ | (q.header.flags & 0x0100) /* RD */;
  if (o.authoritative) flags |= 0x0400;
  if (truncated) flags |= 0x0200;
  if (o.recursion_available) flags |= 0x0080;
  flags |= rcode & 0xf;
  put16(out, q.header.id);
  put16(out, flags);
  put16(out, 1);
  put16(out, truncated ? 0 : static_cast<uint16_t>(answers.size()));
  put16(out, 0);
  put16(out, q.edns ? 1 : 0);
  out.insert(out.end(), q.qname.wire.begin(), q.qname.wire.end());
  put16(out, q.qtype);
  put16(out, q.qclass);
  if (!truncated) {
    for (const Record& r : answers) {
      put16(out, 0xc000 | kHeaderSize);  // the question name
      put16(out, r.type);
      put16(out, kClassIn);
      put32(out, r.ttl);
      put16(out, static_cast<uint16_t>(r.rdata.size()));
      out.insert(out.end(), r.rdata.begin(), r.rdata.end());
    }
  }
  if (q.edns) {
    out.push_back(0);  // root owner
    put16(out, kTypeOpt);
    put16(out, kEdnsUdpSize);
    put32(out, uint32_t{static_cast<uint8_t>(rcode >> 4)} << 24);  // extended rcode, version 0, no DO
    put16(out, 0);
  }
  return out;
}

std::vector<uint8_t> build_response(const Query& query, std::span<const Record> answers,
                                    const ResponseOptions& options) {
  std::vector<uint8_t> out = assemble(query, answers, options, false);
  if (out.size() > options.max_size && !answers.empty()) out = assemble(query, answers, options, true);
  return out;
}

std::vector<uint8_t> build_header_response(const Header& request, Rcode rcode) {
  std::vector<uint8_t> out;
  put16(out, request.id);
  put16(out, 0x8000 | (request.flags & 0x7900) | (static_cast<uint16_t>(rcode) & 0xf));
  for (int i = 0; i < 4; ++i) put16(out, 0);
  return out;
}

Result<std::vector<uint8_t>> build_query(uint16_t id, std::string_view name, uint16_t qtype, std::optional<Edns> edns) {
  std::string wire = TRY(encode_name(name));
  std::vector<uint8_t> out;
  put16(out, id);
  put16(out, 0x0100);  // RD
  put16(out, 1);
  put16(out, 0);
  put16(out, 0);
  put16(out, edns ? 1 : 0);
  out.insert(out.end(), wire.begin(), wire.end());
  put16(out, qtype);
  put16(out, kClassIn);
  if (edns) {
    out.push_back(0);
    put16(out, kTypeOpt);
    put16(out, edns->udp_size);
    put32(out, uint32_t{edns->version} << 16 | (edns->dnssec_ok ? 0x8000u : 0u));
    put16(out, 0);
  }
  return out;
}

}  // namespace md::dns
