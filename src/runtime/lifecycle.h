// Internal pieces shared by the verbs (create/run/delete).
#pragma once

#include "base/result.h"
#include "runtime/state_store.h"

namespace md::cgroups {
class Cgroup;
}

namespace md::runtime {

// Kills what is left in the cgroup, removes it, runs poststop hooks (failures are
// warnings, as the spec says) and removes the state directory.
// `cgroup`, when the caller still holds it open (run), saves re-opening every hierarchy.
Status teardown_container(const StateStore& store, const ContainerRecord& r, cgroups::Cgroup* cgroup = nullptr);

}  // namespace md::runtime
