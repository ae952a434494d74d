// Internals shared by the cgroup files (not a public header).
//
// All reads and writes of cgroup interface files go through the functions here, relative
// to a directory fd. write_file() is the only function that writes a cgroup file: it logs
// the --explain step and words the error (`cgroup: write 5000000 to memory.limit_in_bytes:
// device or resource busy`).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "cgroups/cgroup.h"

namespace md::cgroups {

namespace internal {

enum class IfMissing { kFail, kSkip };

// Writes `value` to `file` in the directory `dirfd` (whose path is `dir`, for messages).
// Returns false (and writes nothing) when the file is absent and `missing` is kSkip.
Result<bool> write_file(int dirfd, const std::string& dir, std::string_view file,
                        std::string_view value, IfMissing missing = IfMissing::kFail);
// Reads a file, trailing newline removed. Error messages name the file.
Result<std::string> read_file(int dirfd, std::string_view file);
// nullopt when the file does not exist.
Result<std::optional<std::string>> read_file_if_exists(int dirfd, std::string_view file);
bool file_exists(int dirfd, std::string_view file);
// Drops the "was written" flag of write_file().
inline Status to_status(Result<bool> r) {
  if (!r) return std::unexpected(std::move(r).error());
  return {};
}
// strerror() in lower case ("device or resource busy").
std::string errno_text(int err);
// Whitespace-separated words.
std::vector<std::string> split_words(std::string_view s);
bool contains(const std::vector<std::string>& v, std::string_view s);

// Fake cgroupfs seam for unit tests (see testing.h).
struct FakeFs;
FakeFs* fake_fs();

}  // namespace internal

struct Cgroup::Node {
  Hierarchy hierarchy;
  std::string dir;                   // absolute path of this cgroup in the hierarchy
  UniqueFd fd;                       // O_DIRECTORY fd of `dir`
  std::vector<std::string> created;  // directories create() made, parent first

  bool v2() const { return hierarchy.v2; }
  bool has(std::string_view controller) const {
    return internal::contains(hierarchy.controllers, controller);
  }
  Result<bool> write(std::string_view file, std::string_view value,
                     internal::IfMissing missing = internal::IfMissing::kFail) const {
    return internal::write_file(fd.get(), dir, file, value, missing);
  }
  Result<std::string> read(std::string_view file) const {
    return internal::read_file(fd.get(), file);
  }
  bool exists(std::string_view file) const { return internal::file_exists(fd.get(), file); }
};

using Node = Cgroup::Node;

// Per-version controller code. Each function writes only what its resources set.
namespace v1 {
Status apply_memory(const Node& n, const oci::MemoryResources& m);
Status apply_cpu(const Node& n, const oci::CpuResources& c);
Status apply_cpuset(const Node& n, const oci::CpuResources& c);
Status apply_pids(const Node& n, int64_t limit);
Status apply_blkio(const Node& n, const oci::BlockIoResources& b);
Status apply_hugetlb(const Node& n, const std::vector<oci::HugepageLimit>& limits);
Status apply_devices(const Node& n, const std::vector<oci::DeviceCgroupRule>& rules);
// A new cpuset cgroup starts with empty cpus/mems, and a task cannot join it (ENOSPC):
// fill whichever of the two is empty from the parent.
Status copy_cpuset_from_parent(int parent_fd, int child_fd, const std::string& child_dir);
Status set_frozen(const Node& n, bool frozen);
Result<bool> is_frozen(const Node& n);
// "a *:* rwm", "c 1:3 rw", "b 8:* m"
std::string device_rule_text(const oci::DeviceCgroupRule& r);
}  // namespace v1

namespace v2 {
Status apply_memory(const Node& n, const oci::MemoryResources& m);
Status apply_cpu(const Node& n, const oci::CpuResources& c);
Status apply_cpuset(const Node& n, const oci::CpuResources& c);
Status apply_pids(const Node& n, int64_t limit);
Status apply_io(const Node& n, const oci::BlockIoResources& b);
Status apply_hugetlb(const Node& n, const std::vector<oci::HugepageLimit>& limits);
Status apply_unified(const Node& n, const std::map<std::string, std::string>& unified);
// Compiles the rules to a BPF_PROG_TYPE_CGROUP_DEVICE program and attaches it, replacing
// the one attached before (devices_bpf.cc).
Status apply_devices(const Node& n, const std::vector<oci::DeviceCgroupRule>& rules);
// Makes sure `parent_fd`'s cgroup.subtree_control enables `wanted` (those of them listed
// in `available`). Controllers the kernel refuses are skipped (a later write names them).
Status enable_controllers(int parent_fd, const std::string& parent_dir,
                          const std::vector<std::string>& wanted,
                          const std::vector<std::string>& available);
Status set_frozen(const Node& n, bool frozen);
Result<bool> is_frozen(const Node& n);
}  // namespace v2

}  // namespace md::cgroups
