// The v2 device controller: an eBPF program per cgroup, loaded with raw bpf() syscalls.
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "base/explain.h"
#include "base/unique_fd.h"
#include "cgroups/cgroup_internal.h"
#include "cgroups/testing.h"
#include "cgroups/v2/device_filter.h"

namespace md::cgroups::v2 {

namespace {

Result<unsigned> parse_access(const std::string& access) {
  unsigned bits = 0;
  for (char c : access.empty() ? std::string("rwm") : access) {
    switch (c) {
      case 'r':
        bits |= BPF_DEVCG_ACC_READ;
        break;
      case 'w':
        bits |= BPF_DEVCG_ACC_WRITE;
        break;
      case 'm':
        bits |= BPF_DEVCG_ACC_MKNOD;
        break;
      default:
        return fail("cgroup: device rule access \"" + access + "\": only r, w and m are allowed",
                    EINVAL);
    }
  }
  return bits;
}

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

bpf_insn load_ctx_u32(uint8_t dst, int16_t off) {
  return insn(BPF_LDX | BPF_MEM | BPF_W, dst, BPF_REG_1, off, 0);
}
bpf_insn alu32_imm(uint8_t op, uint8_t dst, int32_t imm) {
  return insn(BPF_ALU | BPF_K | op, dst, 0, 0, imm);
}
bpf_insn jump_imm(uint8_t op, uint8_t dst, int32_t imm, int16_t off) {
  return insn(BPF_JMP | BPF_K | op, dst, 0, off, imm);
}
bpf_insn return_imm_insn(int32_t v) {
  return insn(BPF_ALU64 | BPF_K | BPF_MOV, BPF_REG_0, 0, 0, v);
}
bpf_insn exit_insn() { return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

long bpf(int cmd, union bpf_attr* attr) { return ::syscall(__NR_bpf, cmd, attr, sizeof *attr); }

}  // namespace

Result<DeviceFilter> emulate_device_rules(const std::vector<oci::DeviceCgroupRule>& rules) {
  DeviceFilter f;
  for (const auto& r : rules) {
    unsigned access = TRY(parse_access(r.access));
    if (r.type == 'a') {  // "a" resets, whatever major/minor/access say (as in v1)
      f.default_allow = r.allow;
      f.exceptions.clear();
      continue;
    }
    if (r.type != 'c' && r.type != 'b')
      return fail(std::string("cgroup: device rule type \"") + r.type + "\": expected a, b or c",
                  EINVAL);
    auto same = [&](const DeviceException& e) {
      return e.type == r.type && e.major == r.major && e.minor == r.minor;
    };
    if (r.allow == f.default_allow) {  // agrees with the default: withdraw exceptions
      for (auto it = f.exceptions.begin(); it != f.exceptions.end();) {
        if (same(*it)) it->access &= ~access;
        it = it->access == 0 ? f.exceptions.erase(it) : it + 1;
      }
    } else {
      bool merged = false;
      for (auto& e : f.exceptions)
        if (same(e)) e.access |= access, merged = true;
      if (!merged) f.exceptions.push_back({r.type, r.major, r.minor, access});
    }
  }
  return f;
}

std::vector<bpf_insn> compile_device_filter(const DeviceFilter& f) {
  // struct bpf_cgroup_dev_ctx { u32 access_type; /* access << 16 | type */ u32 major, minor; }
  std::vector<bpf_insn> p = {
      load_ctx_u32(BPF_REG_2, 0), alu32_imm(BPF_AND, BPF_REG_2, 0xffff),  // r2 = type
      load_ctx_u32(BPF_REG_3, 0), alu32_imm(BPF_RSH, BPF_REG_3, 16),      // r3 = access
      load_ctx_u32(BPF_REG_4, 4),                                         // r4 = major
      load_ctx_u32(BPF_REG_5, 8),                                         // r5 = minor
  };
  const int32_t on_match = f.default_allow ? 0 : 1;
  for (const auto& e : f.exceptions) {
    // Each test jumps past the block when it fails; fixed up once the block is complete.
    std::vector<bpf_insn> block;
    block.push_back(
        jump_imm(BPF_JNE, BPF_REG_2, e.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, 0));
    block.push_back(insn(BPF_ALU | BPF_X | BPF_MOV, BPF_REG_1, BPF_REG_3, 0, 0));
    if (f.default_allow) {  // deny when the request touches any denied access
      block.push_back(alu32_imm(BPF_AND, BPF_REG_1, static_cast<int32_t>(e.access)));
      block.push_back(jump_imm(BPF_JEQ, BPF_REG_1, 0, 0));
    } else {  // allow when every requested access is allowed
      block.push_back(alu32_imm(BPF_AND, BPF_REG_1, static_cast<int32_t>(~e.access & 7u)));
      block.push_back(jump_imm(BPF_JNE, BPF_REG_1, 0, 0));
    }
    if (e.major) block.push_back(jump_imm(BPF_JNE, BPF_REG_4, static_cast<int32_t>(*e.major), 0));
    if (e.minor) block.push_back(jump_imm(BPF_JNE, BPF_REG_5, static_cast<int32_t>(*e.minor), 0));
    block.push_back(return_imm_insn(on_match));
    block.push_back(exit_insn());
    for (size_t i = 0; i < block.size(); ++i)
      if (BPF_CLASS(block[i].code) == BPF_JMP && BPF_OP(block[i].code) != BPF_EXIT)
        block[i].off = static_cast<int16_t>(block.size() - i - 1);
    p.insert(p.end(), block.begin(), block.end());
  }
  p.push_back(return_imm_insn(f.default_allow ? 1 : 0));
  p.push_back(exit_insn());
  return p;
}

Status attach_device_program(int cgroup_fd, const std::string& dir,
                             const std::vector<bpf_insn>& program) {
  if (auto* fake = internal::fake_fs()) {  // a temp dir cannot hold a program
    fake->writes.emplace_back(dir + "/[bpf device program]",
                              std::to_string(program.size()) + " insns");
    return {};
  }
  static const char kLicense[] = "Apache";
  union bpf_attr load = {};
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = reinterpret_cast<uint64_t>(program.data());
  load.insn_cnt = static_cast<uint32_t>(program.size());
  load.license = reinterpret_cast<uint64_t>(kLicense);
  UniqueFd prog(static_cast<int>(bpf(BPF_PROG_LOAD, &load)));
  if (!prog) {
    int err = errno;
    std::string log(4096, '\0');  // load again with the verifier log, for the message
    load.log_buf = reinterpret_cast<uint64_t>(log.data());
    load.log_size = static_cast<uint32_t>(log.size());
    load.log_level = 1;
    UniqueFd again(static_cast<int>(bpf(BPF_PROG_LOAD, &load)));
    log.resize(log.find('\0'));
    return fail("cgroup: load device bpf program: " + internal::errno_text(err) +
                    (log.empty() ? "" : " (verifier: " + log + ")"),
                err);
  }

  uint32_t old_ids[64];
  union bpf_attr query = {};
  query.query.target_fd = static_cast<uint32_t>(cgroup_fd);
  query.query.attach_type = BPF_CGROUP_DEVICE;
  query.query.prog_ids = reinterpret_cast<uint64_t>(old_ids);
  query.query.prog_cnt = 64;
  if (bpf(BPF_PROG_QUERY, &query) != 0)
    return fail("cgroup: query device programs of " + dir + ": " + internal::errno_text(errno),
                errno);
  const uint32_t old_count = query.query.prog_cnt;
  // A program attached without BPF_F_ALLOW_MULTI (by another tool) is replaced in place.
  const bool multi = old_count == 0 || (query.query.attach_flags & BPF_F_ALLOW_MULTI);

  union bpf_attr attach = {};
  attach.target_fd = static_cast<uint32_t>(cgroup_fd);
  attach.attach_bpf_fd = static_cast<uint32_t>(prog.get());
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = multi ? BPF_F_ALLOW_MULTI : 0;
  if (bpf(BPF_PROG_ATTACH, &attach) != 0)
    return fail("cgroup: attach device bpf program to " + dir + ": " + internal::errno_text(errno),
                errno);
  if (Explain::enabled())
    Explain::step("cgroup bpf attach device program (" + std::to_string(program.size()) +
                  " insns) to " + dir);

  // Only now drop the old programs: there is never a moment without a filter.
  for (uint32_t i = 0; multi && i < old_count && i < 64; ++i) {
    union bpf_attr get = {};
    get.prog_id = old_ids[i];
    UniqueFd old(static_cast<int>(bpf(BPF_PROG_GET_FD_BY_ID, &get)));
    if (!old) continue;  // already gone
    union bpf_attr detach = {};
    detach.target_fd = static_cast<uint32_t>(cgroup_fd);
    detach.attach_bpf_fd = static_cast<uint32_t>(old.get());
    detach.attach_type = BPF_CGROUP_DEVICE;
    if (bpf(BPF_PROG_DETACH, &detach) != 0 && errno != ENOENT)
      return fail(
          "cgroup: detach old device bpf program from " + dir + ": " + internal::errno_text(errno),
          errno);
  }
  return {};
}

Status apply_devices(const Node& n, const std::vector<oci::DeviceCgroupRule>& rules) {
  DeviceFilter filter = TRY(emulate_device_rules(rules));
  return attach_device_program(n.fd.get(), n.dir, compile_device_filter(filter));
}

}  // namespace md::cgroups::v2
