// Linux capability names <-> numbers ("CAP_SYS_ADMIN" <-> 21).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace md::oci {

// Number for "CAP_NET_ADMIN" (also accepts "NET_ADMIN", any case); nullopt if unknown.
std::optional<int> capability_from_name(const std::string& name);
// "CAP_NET_ADMIN" for 12; "CAP_<n>" for numbers the table does not know.
std::string capability_name(int cap);
// Highest capability number the running kernel knows (/proc/sys/kernel/cap_last_cap).
int last_capability();
// All names known to this build (CAP_CHOWN .. CAP_CHECKPOINT_RESTORE).
std::vector<std::string> all_capability_names();

}  // namespace md::oci
