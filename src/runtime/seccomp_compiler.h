// Seccomp: turns the OCI `linux.seccomp` section into a classic BPF program.
//
// Compilation (libseccomp) allocates and takes milliseconds, so it happens in the
// PARENT before clone(). The cloned child only installs the finished program with
// install_seccomp() — one raw seccomp(2) call, async-signal-safe. See docs/seccomp.md.
//
// Semantics follow runc/crun:
//  * syscall names libseccomp does not know are skipped silently (profiles list
//    syscalls of newer kernels);
//  * an unknown action, operator, architecture or flag is an Error naming the field
//    and value: `linux.seccomp.syscalls[3].action: unknown action "SCMP_ACT_FOO"`;
//  * rules whose action equals the default action are skipped (the filter would not
//    change, and libseccomp rejects them);
//  * args: all conditions of one entry are ANDed in one rule, except when two of them
//    test the same argument index — then each condition becomes its own rule (OR),
//    which is what Docker profiles rely on;
//  * errnoRet defaults to EPERM for SCMP_ACT_ERRNO and SCMP_ACT_TRACE and is ignored
//    for other actions; defaultErrnoRet likewise for the default action;
//  * SCMP_ACT_NOTIFY is refused ("not supported"): minidocker has no listener yet;
//  * no_new_privs is NOT part of the filter: the runtime sets it itself (PR_SET_NO_NEW_PRIVS)
//    according to process.noNewPrivileges.
// Thread-safe: every call uses its own libseccomp context.
#pragma once

#include <linux/filter.h>

#include <cstddef>
#include <string>
#include <vector>

#include "base/result.h"
#include "oci/spec.h"

namespace md::runtime {

struct CompiledSeccomp {
  std::vector<struct sock_filter> program;
  unsigned flags = 0;     // SECCOMP_FILTER_FLAG_* from linux.seccomp.flags
  size_t rule_count = 0;  // libseccomp rules added (after skipping unknown syscalls)

  // The program as seccomp(2) wants it. Points into `program`: keep *this alive and unmodified.
  struct sock_fprog fprog() const {
    return sock_fprog{static_cast<unsigned short>(program.size()),
                      const_cast<struct sock_filter*>(program.data())};
  }
};

// Compiles `s` for the running machine's architecture plus every entry of
// s.architectures. Errors name the offending field (see above).
Result<CompiledSeccomp> compile_seccomp(const oci::Seccomp& s);

// As compile_seccomp, but first looks in `cache_dir` (created 0700 if missing).
// The key is FNV-1a-128 of a canonical serialisation of `s` + libseccomp version +
// kernel machine/release (see docs/seccomp.md). The file stores that serialisation too
// and a hit is only taken when it matches byte for byte, so a hash collision can never
// return another profile's program. A corrupt entry is recompiled and replaced; a
// failure to write the cache is not an error (the cache is only an optimisation).
// `cache_dir` must be writable only by the runtime's user: whoever can write it can
// choose the filter of future containers.
Result<CompiledSeccomp> compile_seccomp_cached(const oci::Seccomp& s, const std::string& cache_dir);

// The cache key (32 hex digits) compile_seccomp_cached() uses for `s` on this machine.
std::string seccomp_cache_key(const oci::Seccomp& s);

// Installs a compiled program in the calling thread: seccomp(SECCOMP_SET_MODE_FILTER).
// Async-signal-safe (one raw syscall, no allocation): meant for the cloned child.
// Returns 0 or -errno. The caller must already have no_new_privs set or CAP_SYS_ADMIN.
// With SECCOMP_FILTER_FLAG_TSYNC a positive return is the id of a thread that could
// not be synchronised. An empty program (no seccomp section) is not to be installed.
int install_seccomp(const struct sock_fprog* prog, unsigned flags) noexcept;

}  // namespace md::runtime
