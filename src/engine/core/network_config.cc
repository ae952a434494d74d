#include "engine/core/network_config.h"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "base/file_util.h"

namespace md::engine {

using nlohmann::json;

namespace {

std::string table_for_root(const std::string& root) {
  if (root == kDefaultRoot) return "minidocker";
  uint32_t h = 2166136261u;  // FNV-1a: stable across runs and builds
  for (unsigned char ch : root) h = (h ^ ch) * 16777619u;
  char buf[24];
  snprintf(buf, sizeof buf, "minidocker_%08x", h);
  return buf;
}

}  // namespace

Result<NetworkDefaults> load_network_defaults(const Paths& paths) {
  NetworkDefaults d;
  d.nft_table = table_for_root(paths.root);
  if (auto r = read_file("/proc/sys/net/ipv4/ip_local_port_range")) {
    int lo = 0, hi = 0;
    if (sscanf(r->c_str(), "%d %d", &lo, &hi) == 2 && lo > 0 && hi >= lo) d.port_lo = lo, d.port_hi = hi;
  }
  std::string file = paths.daemon_config();
  if (!path_exists(file)) return d;
  std::string text = TRY_CTX(read_file(file), "read " + file);
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return fail("invalid " + file + ": not a JSON object", EINVAL);
  auto str = [&](const char* key, std::string& out) -> Status {
    if (!j.contains(key)) return {};
    if (!j[key].is_string()) return fail("invalid " + file + ": \"" + key + "\" must be a string", EINVAL);
    out = j[key].get<std::string>();
    return {};
  };
  TRY(str("bridge", d.bridge));
  TRY(str("bip", d.bip));
  if (d.bridge.empty() || d.bridge.size() > 15)
    return fail("invalid " + file + ": \"bridge\" must be 1-15 characters (a Linux interface name)", EINVAL);
  if (j.contains("default-address-pools")) {
    if (!j["default-address-pools"].is_array())
      return fail("invalid " + file + ": \"default-address-pools\" must be an array", EINVAL);
    d.pools.clear();
    for (auto& p : j["default-address-pools"]) {
      if (!p.is_object() || !p.contains("base") || !p["base"].is_string())
        return fail("invalid " + file + ": each address pool needs a \"base\" such as \"10.78.0.0/16\"", EINVAL);
      d.pools.push_back({p["base"].get<std::string>(), p.value("size", 24)});
    }
  }
  if (j.contains("dns")) {
    if (!j["dns"].is_array()) return fail("invalid " + file + ": \"dns\" must be an array of addresses", EINVAL);
    for (auto& s : j["dns"])
      if (s.is_string()) d.dns.push_back(s.get<std::string>());
  }
  if (j.contains("mtu") && j["mtu"].is_number_integer()) d.mtu = j["mtu"].get<int>();
  return d;
}

}  // namespace md::engine
