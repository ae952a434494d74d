// Seccomp profiles for containers, in the OCI `linux.seccomp` shape the runtime compiles
// (src/runtime/seccomp_compiler.h).
//
//  * default_seccomp_profile(caps): Docker's default profile (moby profiles/seccomp, as
//    shipped by Docker 25–28), written here as our own grouped data. Deny by default with
//    EPERM; ~360 ordinary syscalls allowed; `personality`, `socket` and `clone` allowed
//    only with safe arguments; `clone3` answered with ENOSYS (so libc falls back to
//    `clone`, whose flags can be checked); groups of privileged syscalls allowed only
//    when the container holds the capability that makes them useful (CAP_SYS_ADMIN:
//    mount, unshare, setns, …; CAP_SYS_PTRACE; CAP_SYS_TIME; …).
//  * seccomp_profile_from_docker_json(text, caps): a Docker-format profile
//    (`--security-opt seccomp=FILE`: archMap, syscalls[].includes/excludes on caps,
//    arches and minKernel) resolved for one container, the way dockerd does it.
//
// Both filter with the same rules as moby's setupSeccomp: an entry is dropped when the
// host's architecture is in excludes.arches or not in includes.arches, when any of
// excludes.caps is held or not all of includes.caps are, and when the running kernel
// is >= excludes.minKernel or < includes.minKernel. `caps` is the container's bounding
// set ("CAP_SYS_ADMIN"; "SYS_ADMIN" and lower case are accepted too).
//
// Syscall names this machine's libseccomp does not know are kept: the runtime's
// compiler skips them (as runc and crun do). See docs/seccomp.md, "The default profile
// for minidocker containers".
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/result.h"

namespace md::engine {

// What profile conditions look at besides capabilities.
struct SeccompHost {
  // Docker's architecture name for includes/excludes.arches (libseccomp's native
  // names as moby maps GOARCH): "amd64", "x86", "arm64", "arm", "ppc64le", "s390x",
  // "riscv64", … Empty: unknown (no archMap entry and no arch-only group applies).
  std::string arch;
  // Running kernel, "6.1.0-18-amd64" → 6, 1. {0, 0} when unknown: every minKernel
  // include then fails and every minKernel exclude passes.
  unsigned kernel = 0, major = 0;
};

// This machine: the architecture minidocker was compiled for (Docker uses its own
// GOARCH the same way) and the kernel release from uname(2), read once.
const SeccompHost& this_seccomp_host();

// Docker's default profile for a container whose bounding capabilities are `caps`, on
// this machine (or on `host`: tests use other architectures and kernels). Never fails.
// The result has defaultAction SCMP_ACT_ERRNO, defaultErrnoRet 1 (EPERM), the host's
// architectures (x86_64: SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32; aarch64:
// SCMP_ARCH_AARCH64, SCMP_ARCH_ARM) and `syscalls`: one allow entry holding every
// unconditional name, then the entries with arguments (socket, personality, clone) and
// clone3's ENOSYS entry.
nlohmann::json default_seccomp_profile(const std::vector<std::string>& caps);
nlohmann::json default_seccomp_profile(const std::vector<std::string>& caps,
                                       const SeccompHost& host);

// Converts a Docker seccomp profile (JSON text) into the OCI linux.seccomp object for a
// container with bounding capabilities `caps`. Accepted fields are Docker's:
// defaultAction, defaultErrnoRet, architectures | archMap[{architecture,
// subArchitectures}], flags, listenerPath, listenerMetadata, syscalls[{name | names,
// action, errnoRet, args[{index, value, valueTwo, op}], comment, includes, excludes}]
// with includes/excludes {caps, arches, minKernel "X.Y"}; unknown fields are ignored
// (as Go's decoder does). Errors (EINVAL) name the field:
//   `seccomp profile: syscalls[3].action: unknown action "SCMP_ACT_FOO"`.
// A profile with neither defaultAction nor syscalls means "no seccomp" to Docker; the
// result is then a JSON null, and the caller leaves linux.seccomp out.
Result<nlohmann::json> seccomp_profile_from_docker_json(const std::string& text,
                                                        const std::vector<std::string>& caps);
Result<nlohmann::json> seccomp_profile_from_docker_json(const std::string& text,
                                                        const std::vector<std::string>& caps,
                                                        const SeccompHost& host);

// Docker's 14 default capabilities, in Docker's order (moby oci/caps DefaultCapabilities):
// CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER, CAP_MKNOD, CAP_NET_RAW, CAP_SETGID,
// CAP_SETUID, CAP_SETFCAP, CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL,
// CAP_AUDIT_WRITE.
const std::vector<std::string>& docker_default_capabilities();

}  // namespace md::engine
