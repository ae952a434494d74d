// cgroup v2 has no devices.allow file: device access is decided by an eBPF program of
// type BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup. We keep v1's semantics by first
// replaying the OCI rule list the way the v1 kernel would (a default plus exceptions),
// then compiling that state into a tiny program. Internal; exposed for unit tests.
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "base/result.h"
#include "oci/spec.h"

namespace md::cgroups::v2 {

struct DeviceException {
  char type = 'c';                      // 'c' or 'b'
  std::optional<int64_t> major, minor;  // nullopt: any
  unsigned access = 0;                  // BPF_DEVCG_ACC_{MKNOD,READ,WRITE} bits
};

struct DeviceFilter {
  bool default_allow = true;  // a cgroup with no rules allows everything
  // default deny: exceptions allow a request whose access they fully cover;
  // default allow: exceptions deny a request whose access they touch (as v1 does).
  std::vector<DeviceException> exceptions;
};

// Replays `rules` in order with v1 kernel semantics ("a" resets, others add or remove
// exceptions). Fails on an access string with letters other than r, w, m.
Result<DeviceFilter> emulate_device_rules(const std::vector<oci::DeviceCgroupRule>& rules);

// The program: returns 1 (allow) or 0 (deny) for the bpf_cgroup_dev_ctx in r1.
std::vector<bpf_insn> compile_device_filter(const DeviceFilter& filter);

// Loads `program` and attaches it to the cgroup directory `cgroup_fd`, then detaches the
// device programs that were attached before (so `update` replaces, never stacks).
Status attach_device_program(int cgroup_fd, const std::string& dir,
                             const std::vector<bpf_insn>& program);

}  // namespace md::cgroups::v2
