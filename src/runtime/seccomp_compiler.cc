#include "runtime/seccomp_compiler.h"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>

#include "base/file_util.h"
#include "base/unique_fd.h"

namespace md::runtime {

namespace {

constexpr unsigned kMaxSyscallArgs = 6;
constexpr size_t kMaxInstructions = 4096;  // BPF_MAXINSNS: the kernel refuses longer programs

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

// ---- name tables ---------------------------------------------------------------

struct OpName {
  const char* name;
  scmp_compare op;
};
constexpr OpName kOps[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE}, {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

struct FlagName {
  const char* name;
  unsigned flag;
};
constexpr FlagName kFlags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
};

// Action name + errnoRet -> libseccomp action value. `where` names the JSON field.
Result<uint32_t> resolve_action(const std::string& name, std::optional<unsigned> errno_ret,
                                const std::string& where) {
  auto with_errno = [&](uint32_t (*make)(unsigned)) -> Result<uint32_t> {
    unsigned e = errno_ret.value_or(EPERM);
    if (e > 0xffff)
      return fail(where + ": errnoRet " + std::to_string(e) + " is out of range (0..65535)",
                  EINVAL);
    return make(e);
  };
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  if (name == "SCMP_ACT_ERRNO")
    return with_errno([](unsigned e) -> uint32_t { return SCMP_ACT_ERRNO(e); });
  if (name == "SCMP_ACT_TRACE")
    return with_errno([](unsigned e) -> uint32_t { return SCMP_ACT_TRACE(e); });
  if (name == "SCMP_ACT_NOTIFY")
    return fail(where + ": action \"SCMP_ACT_NOTIFY\" is not supported by minidocker "
                        "(no seccomp user-notification listener)",
                EOPNOTSUPP);
  return fail(where + ": unknown action " + quoted(name), EINVAL);
}

Result<scmp_compare> resolve_op(const std::string& name, const std::string& where) {
  for (const auto& o : kOps)
    if (name == o.name) return o.op;
  return fail(where + ": unknown operator " + quoted(name), EINVAL);
}

// "SCMP_ARCH_X86_64" -> SCMP_ARCH_X86_64 via libseccomp's own name table ("x86_64").
Result<uint32_t> resolve_arch(const std::string& name, const std::string& where) {
  std::string_view v = name;
  if (v.starts_with("SCMP_ARCH_")) v.remove_prefix(10);
  std::string lower(v);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  uint32_t arch = lower.empty() ? 0 : seccomp_arch_resolve_name(lower.c_str());
  if (arch == 0) return fail(where + ": unknown architecture " + quoted(name), EINVAL);
  return arch;
}

Result<unsigned> resolve_flags(const std::vector<std::string>& flags) {
  unsigned out = 0;
  for (size_t i = 0; i < flags.size(); ++i) {
    const FlagName* hit = nullptr;
    for (const auto& f : kFlags)
      if (flags[i] == f.name) hit = &f;
    if (!hit)
      return fail("linux.seccomp.flags[" + std::to_string(i) + "]: unknown flag " +
                      quoted(flags[i]),
                  EINVAL);
    out |= hit->flag;
  }
  return out;
}

// ---- compilation -----------------------------------------------------------------

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Ctx = std::unique_ptr<void, CtxDeleter>;

// Adds one OCI syscalls[] entry (all its names) to the filter.
Result<size_t> add_entry(scmp_filter_ctx ctx, const oci::SeccompSyscall& sc, size_t i,
                         uint32_t default_action) {
  const std::string where = "linux.seccomp.syscalls[" + std::to_string(i) + "]";
  uint32_t action = TRY(resolve_action(sc.action, sc.errno_ret, where + ".action"));

  std::vector<scmp_arg_cmp> conds;
  bool repeated_index = false;
  unsigned per_index[kMaxSyscallArgs] = {};
  for (size_t j = 0; j < sc.args.size(); ++j) {
    const auto& a = sc.args[j];
    const std::string aw = where + ".args[" + std::to_string(j) + "]";
    if (a.index >= kMaxSyscallArgs)
      return fail(aw + ".index: " + std::to_string(a.index) + " is out of range (0..5)", EINVAL);
    scmp_compare op = TRY(resolve_op(a.op, aw + ".op"));
    if (++per_index[a.index] > 1) repeated_index = true;
    // For SCMP_CMP_MASKED_EQ, value is the mask and valueTwo the expected result.
    conds.push_back(scmp_arg_cmp{a.index, op, a.value, a.value_two});
  }
  if (action == default_action) return 0;  // no-op rule; libseccomp would reject it

  size_t added = 0;
  auto add = [&](const std::string& name, int nr, unsigned n,
                 const scmp_arg_cmp* c) -> Status {
    int rc = seccomp_rule_add_array(ctx, action, nr, n, c);
    if (rc < 0) return fail_errno(where + ": add rule for syscall " + quoted(name), -rc);
    ++added;
    return {};
  };
  for (const auto& name : sc.names) {
    int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) continue;  // unknown to this libseccomp: skip like runc/crun
    if (conds.empty()) {
      TRY(add(name, nr, 0, nullptr));
    } else if (repeated_index) {
      // Two tests of the same argument cannot both hold in one AND-rule; runc and
      // Docker profiles read them as alternatives, one rule each.
      for (const auto& c : conds) TRY(add(name, nr, 1, &c));
    } else {
      TRY(add(name, nr, static_cast<unsigned>(conds.size()), conds.data()));
    }
  }
  return added;
}

Result<std::vector<struct sock_filter>> export_program(scmp_filter_ctx ctx) {
  UniqueFd fd(::memfd_create("md-seccomp-bpf", MFD_CLOEXEC));
  if (!fd) return fail_errno("seccomp: memfd_create");
  int rc = seccomp_export_bpf(ctx, fd.get());
  if (rc < 0) return fail_errno("seccomp: export bpf", -rc);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return fail_errno("seccomp: fstat exported bpf");
  size_t size = static_cast<size_t>(st.st_size);
  if (size == 0 || size % sizeof(struct sock_filter) != 0)
    return fail("seccomp: exported bpf has an odd size of " + std::to_string(size) + " bytes",
                EIO);
  std::vector<struct sock_filter> prog(size / sizeof(struct sock_filter));
  size_t off = 0;
  while (off < size) {
    ssize_t n = ::pread(fd.get(), reinterpret_cast<char*>(prog.data()) + off, size - off,
                        static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno("seccomp: read exported bpf");
    if (n == 0) return fail("seccomp: short read of exported bpf", EIO);
    off += static_cast<size_t>(n);
  }
  if (prog.size() > kMaxInstructions)
    return fail("seccomp: profile compiles to " + std::to_string(prog.size()) +
                    " BPF instructions, the kernel accepts at most " +
                    std::to_string(kMaxInstructions),
                E2BIG);
  return prog;
}

// ---- cache -----------------------------------------------------------------------

// Length-prefixed fields ("5:hello") so no two different structs serialise alike.
void put(std::string& out, std::string_view s) {
  out += std::to_string(s.size());
  out += ':';
  out += s;
}
void put(std::string& out, uint64_t v) { put(out, std::to_string(v)); }
void put(std::string& out, const std::optional<unsigned>& v) {
  put(out, v ? std::to_string(*v) : std::string("-"));
}

const std::string& environment_tag() {
  static const std::string tag = [] {
    std::string t;
    const scmp_version* v = seccomp_version();
    t += "libseccomp " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
         std::to_string(v->micro) + " api " + std::to_string(seccomp_api_get());
    struct utsname u;
    if (::uname(&u) == 0) t += std::string(" kernel ") + u.machine + " " + u.release;
    return t;
  }();
  return tag;
}

std::string canonical_key(const oci::Seccomp& s) {
  std::string out = "minidocker-seccomp-v1\n";
  put(out, environment_tag());
  put(out, s.default_action);
  put(out, s.default_errno_ret);
  put(out, s.architectures.size());
  for (const auto& a : s.architectures) put(out, a);
  put(out, s.flags.size());
  for (const auto& f : s.flags) put(out, f);
  put(out, s.listener_path);
  put(out, s.syscalls.size());
  for (const auto& sc : s.syscalls) {
    put(out, sc.names.size());
    for (const auto& n : sc.names) put(out, n);
    put(out, sc.action);
    put(out, sc.errno_ret);
    put(out, sc.args.size());
    for (const auto& a : sc.args) {
      put(out, a.index);
      put(out, a.value);
      put(out, a.value_two);
      put(out, a.op);
    }
  }
  return out;
}

// FNV-1a, 128-bit (offset basis and prime from the FNV reference). Not cryptographic:
// it only names the file; correctness comes from comparing the stored key.
std::string fnv1a_128_hex(std::string_view data) {
  using u128 = unsigned __int128;
  u128 h = (static_cast<u128>(0x6c62272e07bb0142ULL) << 64) | 0x62b821756295c58dULL;
  const u128 prime = (static_cast<u128>(0x0000000001000000ULL) << 64) | 0x000000000000013bULL;
  for (unsigned char c : data) {
    h ^= c;
    h *= prime;
  }
  static const char* kHex = "0123456789abcdef";
  std::string out(32, '0');
  for (int i = 31; i >= 0; --i) {
    out[static_cast<size_t>(i)] = kHex[static_cast<unsigned>(h & 0xf)];
    h >>= 4;
  }
  return out;
}

// File layout (native byte order; the key pins the machine):
//   "mdbpf1\n\0" | u32 flags | u32 0 | u64 rule_count | u64 key_len | u64 insns | key | insns
constexpr char kMagic[8] = {'m', 'd', 'b', 'p', 'f', '1', '\n', '\0'};
constexpr size_t kHeader = 8 + 4 + 4 + 8 + 8 + 8;

std::string encode_entry(const std::string& key, const CompiledSeccomp& c) {
  std::string out(kHeader, '\0');
  uint32_t flags = c.flags, zero = 0;
  uint64_t rules = c.rule_count, key_len = key.size(), insns = c.program.size();
  char* p = out.data();
  std::memcpy(p, kMagic, 8);
  std::memcpy(p + 8, &flags, 4);
  std::memcpy(p + 12, &zero, 4);
  std::memcpy(p + 16, &rules, 8);
  std::memcpy(p + 24, &key_len, 8);
  std::memcpy(p + 32, &insns, 8);
  out += key;
  out.append(reinterpret_cast<const char*>(c.program.data()),
             c.program.size() * sizeof(struct sock_filter));
  return out;
}

// nullopt when the entry is corrupt or belongs to another key.
std::optional<CompiledSeccomp> decode_entry(const std::string& data, const std::string& key) {
  if (data.size() < kHeader || std::memcmp(data.data(), kMagic, 8) != 0) return std::nullopt;
  uint32_t flags;
  uint64_t rules, key_len, insns;
  const char* p = data.data();
  std::memcpy(&flags, p + 8, 4);
  std::memcpy(&rules, p + 16, 8);
  std::memcpy(&key_len, p + 24, 8);
  std::memcpy(&insns, p + 32, 8);
  if (key_len != key.size() || insns == 0 || insns > kMaxInstructions) return std::nullopt;
  if (data.size() != kHeader + key_len + insns * sizeof(struct sock_filter)) return std::nullopt;
  if (std::memcmp(p + kHeader, key.data(), key.size()) != 0) return std::nullopt;
  CompiledSeccomp c;
  c.flags = flags;
  c.rule_count = rules;
  c.program.resize(insns);
  std::memcpy(c.program.data(), p + kHeader + key_len, insns * sizeof(struct sock_filter));
  return c;
}

}  // namespace

Result<CompiledSeccomp> compile_seccomp(const oci::Seccomp& s) {
  CompiledSeccomp out;
  out.flags = TRY(resolve_flags(s.flags));
  uint32_t default_action =
      TRY(resolve_action(s.default_action, s.default_errno_ret, "linux.seccomp.defaultAction"));

  Ctx ctx(seccomp_init(default_action));
  if (!ctx)
    return fail("seccomp: libseccomp refused default action " + quoted(s.default_action) +
                    " (not supported by this kernel?)",
                EINVAL);
  // no_new_privs is the runtime's decision (process.noNewPrivileges), not the filter's.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0); rc < 0)
    return fail_errno("seccomp: clear SCMP_FLTATR_CTL_NNP", -rc);

  for (size_t i = 0; i < s.architectures.size(); ++i) {
    const std::string where = "linux.seccomp.architectures[" + std::to_string(i) + "]";
    uint32_t arch = TRY(resolve_arch(s.architectures[i], where));
    int rc = seccomp_arch_add(ctx.get(), arch);
    if (rc == -EDOM)  // libseccomp cannot mix byte orders in one filter
      return fail(where + ": architecture " + quoted(s.architectures[i]) +
                      " cannot be combined with this machine's architecture "
                      "(different byte order)",
                  EDOM);
    if (rc < 0 && rc != -EEXIST)  // the native arch is always present
      return fail_errno(where + ": add architecture " + quoted(s.architectures[i]), -rc);
  }

  for (size_t i = 0; i < s.syscalls.size(); ++i)
    out.rule_count += TRY(add_entry(ctx.get(), s.syscalls[i], i, default_action));

  out.program = TRY(export_program(ctx.get()));
  return out;
}

std::string seccomp_cache_key(const oci::Seccomp& s) { return fnv1a_128_hex(canonical_key(s)); }

Result<CompiledSeccomp> compile_seccomp_cached(const oci::Seccomp& s,
                                               const std::string& cache_dir) {
  const std::string key = canonical_key(s);
  const std::string path = join_path(cache_dir, fnv1a_128_hex(key) + ".bpf");
  if (auto data = read_file(path)) {
    if (auto hit = decode_entry(*data, key)) return std::move(*hit);
  }
  CompiledSeccomp c = TRY(compile_seccomp(s));
  // Best effort: a read-only or full cache directory only costs the next start time.
  if (make_directories(cache_dir, 0700)) (void)write_file_atomic(path, encode_entry(key, c), 0600);
  return c;
}

int install_seccomp(const struct sock_fprog* prog, unsigned flags) noexcept {
  long r = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, prog);
  return r < 0 ? -errno : static_cast<int>(r);
}

}  // namespace md::runtime
