#include "engine/store/ids.h"

#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>

namespace md::store {

namespace {

Status random_bytes(void* buf, size_t len) {
  auto* p = static_cast<unsigned char*>(buf);
  size_t done = 0;
  while (done < len) {
    ssize_t n = ::getrandom(p + done, len - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("getrandom");
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

uint64_t random_u64() {
  uint64_t v = 0;
  // getrandom(0) only fails before the pool is initialised (never after boot) or with
  // EINTR; a name is not a secret, so fall back to something that still varies.
  if (!random_bytes(&v, sizeof v)) v = static_cast<uint64_t>(::getpid()) * 0x9e3779b97f4a7c15ull;
  return v;
}

// From Docker's names-generator (a small subset).
constexpr std::array<std::string_view, 48> kAdjectives = {
    "admiring",  "adoring",    "affectionate", "amazing",   "awesome",   "blissful",
    "bold",      "boring",     "brave",        "busy",      "charming",  "clever",
    "compassionate", "confident", "cool",      "dazzling",  "determined", "dreamy",
    "eager",     "ecstatic",   "elegant",      "eloquent",  "epic",      "festive",
    "focused",   "friendly",   "funny",        "gallant",   "gifted",    "happy",
    "hopeful",   "inspiring",  "jolly",        "keen",      "kind",      "loving",
    "lucid",     "modest",     "nifty",        "peaceful",  "pensive",   "quirky",
    "relaxed",   "serene",     "sharp",        "stoic",     "vibrant",   "zealous",
};

constexpr std::array<std::string_view, 60> kSurnames = {
    "agnesi",   "allen",     "archimedes", "babbage",   "bardeen",   "bartik",
    "bell",     "bohr",      "borg",       "bose",      "carson",    "cerf",
    "curie",    "darwin",    "dijkstra",   "dirac",     "easley",    "einstein",
    "euclid",   "euler",     "faraday",    "fermat",    "fermi",     "feynman",
    "franklin", "galileo",   "gauss",      "goldberg",  "goodall",   "hamilton",
    "hawking",  "hopper",    "hypatia",    "jackson",   "jemison",   "kepler",
    "knuth",    "lamarr",    "lamport",    "liskov",    "lovelace",  "maxwell",
    "mccarthy", "meitner",   "mendel",     "morse",     "napier",    "newton",
    "noether",  "pascal",    "pike",       "ritchie",   "shannon",   "tesla",
    "thompson", "torvalds",  "turing",     "wilson",    "wozniak",   "yalow",
};

}  // namespace

Result<std::string> generate_id() {
  static constexpr char kHex[] = "0123456789abcdef";
  for (;;) {
    std::array<unsigned char, kIdLength / 2> bytes;
    TRY(random_bytes(bytes.data(), bytes.size()));
    std::string id;
    id.reserve(kIdLength);
    for (unsigned char b : bytes) {
      id += kHex[b >> 4];
      id += kHex[b & 0xf];
    }
    bool all_digits = true;
    for (size_t i = 0; i < kShortIdLength; ++i) all_digits = all_digits && id[i] <= '9';
    if (!all_digits) return id;
  }
}

std::string short_id(std::string_view id) {
  return std::string(id.substr(0, std::min(id.size(), kShortIdLength)));
}

bool is_hex(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool is_full_id(std::string_view s) { return s.size() == kIdLength && is_hex(s); }

std::string generate_name(int attempt) {
  for (;;) {
    uint64_t r = random_u64();
    std::string_view adj = kAdjectives[r % kAdjectives.size()];
    std::string_view sur = kSurnames[(r / kAdjectives.size()) % kSurnames.size()];
    // Steve Wozniak is not boring (Docker's own rule).
    if (adj == "boring" && sur == "wozniak") continue;
    std::string name;
    name.reserve(adj.size() + sur.size() + 3);
    name.append(adj).append("_").append(sur);
    if (attempt > 0) name += std::to_string((r >> 32) % (attempt < 5 ? 10 : 1000));
    return name;
  }
}

bool is_valid_name(std::string_view name) {
  if (name.size() < 2) return false;
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(name[0])) return false;
  for (char c : name.substr(1))
    if (!alnum(c) && c != '_' && c != '.' && c != '-') return false;
  return true;
}

Result<std::string> normalize_name(std::string_view name) {
  if (!name.empty() && name[0] == '/') name.remove_prefix(1);
  if (!is_valid_name(name))
    return fail("invalid container name \"" + std::string(name) +
                    "\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                EINVAL);
  return std::string(name);
}

}  // namespace md::store
