// The config.json that `minidocker-runtime spec` writes: a runnable starting point.
//
// Same content as `runc spec` (runc 1.1) except hostname "minidocker" and a cgroup
// namespace, which current runc and crun also create: the container sees its own
// cgroup as the root of /sys/fs/cgroup. Rootless (`spec --rootless`) follows runc's
// conversion: a user namespace mapping container root to the caller's euid/egid, no
// network namespace (an unprivileged user cannot configure one usefully), /sys bound
// from the host instead of a new sysfs, no devpts gid= option and no cgroup device rules.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace md::oci {

// The spec as a JSON value (object keys in nlohmann's sorted order).
nlohmann::json default_spec(bool rootless);

// The spec as config.json text in runc's field order (ociVersion, process, root, ...),
// tab-indented like runc's, with a trailing newline. This is what `spec` writes.
std::string default_spec_text(bool rootless);

}  // namespace md::oci
