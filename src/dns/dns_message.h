// DNS wire format (RFC 1035, EDNS0 from RFC 6891): just what a stub-facing server
// needs — parse one query, build its response, build a query (tests, probes).
//
// Every packet handed to this file comes from a container, so it is untrusted: all
// reads are bounds-checked against the packet, compression pointers must point
// strictly backwards (which also makes loops impossible) and names are capped at
// 255 wire bytes. Parsing never throws; malformed input yields an Error.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace md::dns {

inline constexpr uint16_t kTypeA = 1;
inline constexpr uint16_t kTypePtr = 12;
inline constexpr uint16_t kTypeAaaa = 28;
inline constexpr uint16_t kTypeOpt = 41;
inline constexpr uint16_t kTypeAny = 255;
inline constexpr uint16_t kClassIn = 1;
inline constexpr uint16_t kClassAny = 255;

inline constexpr size_t kHeaderSize = 12;
// Largest UDP answer to a client without EDNS0 (RFC 1035 §4.2.1).
inline constexpr size_t kClassicUdpSize = 512;
// The EDNS0 payload size we advertise and honour at most: the DNS flag day 2020 value,
// which fits one unfragmented packet on any sane path.
inline constexpr size_t kEdnsUdpSize = 1232;
inline constexpr size_t kMaxMessageSize = 65535;

// RCODEs. Values above 15 are extended (carried partly in the OPT record).
enum class Rcode : uint16_t {
  kNoError = 0,
  kFormErr = 1,
  kServFail = 2,
  kNxDomain = 3,
  kNotImp = 4,
  kRefused = 5,
  kBadVers = 16,
};

struct Header {
  uint16_t id = 0;
  uint16_t flags = 0;
  uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;

  bool is_response() const { return flags & 0x8000; }
  uint8_t opcode() const { return (flags >> 11) & 0xf; }
  bool truncated() const { return flags & 0x0200; }
  bool recursion_desired() const { return flags & 0x0100; }
  uint8_t rcode() const { return flags & 0xf; }
};

// Fails if `packet` is shorter than a header.
Result<Header> parse_header(std::span<const uint8_t> packet);

struct Name {
  // Uncompressed wire form including the final zero byte, letters in their original
  // case (resolvers that randomise case expect it echoed back).
  std::string wire;
  // Lowercase, dot-separated, no trailing dot; "" is the root. Bytes that cannot be
  // written plainly ('.', '\\', controls, non-ASCII) become "\DDD", so such a name
  // never equals a hosts-file name.
  std::string text;
};

// Reads the (possibly compressed) name at `offset` in `message` and advances
// `offset` past it in the original position (a pointer counts two bytes). On error
// `offset` is unchanged.
Result<Name> read_name(std::span<const uint8_t> message, size_t& offset);

// Encodes a dotted name ("web.dns.minidocker", trailing dot optional) uncompressed.
// Fails for empty labels, labels over 63 bytes or names over 255 wire bytes.
Result<std::string> encode_name(std::string_view dotted);

struct Edns {
  uint16_t udp_size = 512;  // the requestor's payload size, as sent
  uint8_t version = 0;
  bool dnssec_ok = false;
};

struct Query {
  Header header;
  Name qname;
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  // Offset just past the question: the original question bytes are [12, question_end).
  size_t question_end = 0;
  std::optional<Edns> edns;

  // How large a UDP answer this client accepts: 512 without EDNS0, otherwise its
  // advertised size clamped to [512, kEdnsUdpSize].
  size_t max_udp_size() const;
};

// Parses a standard query: QR clear, OPCODE 0, exactly one question, every record
// after it well-formed (an OPT record in the additional section is picked up; other
// records are skipped). Bytes after the last record are ignored.
Result<Query> parse_query(std::span<const uint8_t> packet);

// One answer record; its owner is always the question name (written as a pointer).
struct Record {
  uint16_t type = kTypeA;
  uint32_t ttl = 0;
  std::string rdata;
};

struct ResponseOptions {
  Rcode rcode = Rcode::kNoError;
  bool authoritative = false;
  bool recursion_available = false;
  // Largest message allowed: when the answers do not fit, they are all left out and
  // TC is set, so the client retries over TCP (RFC 2181 §9).
  size_t max_size = kClassicUdpSize;
};

// The response to `query`: same id, RD copied, the question echoed, `answers`, and an
// OPT record (our payload size, no options) when the query had one.
std::vector<uint8_t> build_response(const Query& query, std::span<const Record> answers,
                                    const ResponseOptions& options);

// A header-only response (no question) to a request that is not a standard query,
// e.g. NOTIMP for an unsupported OPCODE: id and opcode copied from `request`.
std::vector<uint8_t> build_header_response(const Header& request, Rcode rcode);

// A standard query with RD set, for tests and probes. Fails if `name` cannot be encoded.
Result<std::vector<uint8_t>> build_query(uint16_t id, std::string_view name, uint16_t qtype,
                                         std::optional<Edns> edns = std::nullopt);

// Big-endian accessors, exposed for the server and tests (callers check bounds).
inline uint16_t get16(std::span<const uint8_t> p, size_t at) {
  return static_cast<uint16_t>(p[at] << 8 | p[at + 1]);
}
inline void put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}
inline void set16(std::span<uint8_t> p, size_t at, uint16_t v) {
  p[at] = static_cast<uint8_t>(v >> 8);
  p[at + 1] = static_cast<uint8_t>(v);
}

}  // namespace md::dns
