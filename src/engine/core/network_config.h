// NetworkDefaults: the engine-wide network settings, from <root>/daemon.json.
//
// The file is optional and uses Docker's daemon.json keys, so a Docker user recognises
// them (only these are read):
//   {"bridge": "minidocker0",                  the default `bridge` network's device
//    "bip": "10.77.0.1/16",                    its gateway address and subnet
//    "default-address-pools": [{"base": "10.78.0.0/16", "size": 24}],  user networks' subnets
//    "dns": ["10.0.0.53"],                     nameservers for containers (default: the host's)
//    "mtu": 1500}
// Every root has its own nftables table: "minidocker" for the default root, otherwise
// "minidocker_<8 hex digits of the root path's hash>", so engines on different roots (the
// tests) never touch each other's rules.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "engine/core/paths.h"

namespace md::engine {

struct AddressPool {
  std::string base;  // "10.78.0.0/16"
  int size = 24;
};

struct NetworkDefaults {
  std::string bridge = "minidocker0";
  std::string bip = "10.77.0.1/16";
  std::vector<AddressPool> pools = {{"10.78.0.0/16", 24}};
  std::vector<std::string> dns;
  int mtu = 0;
  std::string nft_table;
  int port_lo = 32768, port_hi = 60999;  // random host ports: the kernel's ephemeral range
};

// Errors: unreadable or malformed daemon.json (EINVAL naming the key and the file).
Result<NetworkDefaults> load_network_defaults(const Paths& paths);

}  // namespace md::engine
