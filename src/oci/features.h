// `minidocker-runtime features`: what this runtime implements, in the OCI
// runtime-spec "Features structure" shape (features.md, features-linux.md).
//
// Truthful to minidocker, not to the host: the lists name what the runtime
// recognises in config.json. The one host-dependent field is
// linux.seccomp.supportedFlags, the subset of knownFlags the running kernel accepts
// (the spec allows that). Everything else is fixed at compile time.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace md::oci {

// The full features document (keys in nlohmann's sorted order, as runc prints them).
nlohmann::json features_json();

// The pieces, for validation code and tests that must agree with the document.
// Seccomp names as they appear in config.json; SCMP_ACT_NOTIFY is deliberately absent.
const std::vector<std::string>& seccomp_action_names();
const std::vector<std::string>& seccomp_operator_names();
const std::vector<std::string>& seccomp_arch_names();
const std::vector<std::string>& seccomp_flag_names();
// knownFlags the running kernel accepts (probed with seccomp(2) on each call; cheap).
std::vector<std::string> supported_seccomp_flag_names();

}  // namespace md::oci
