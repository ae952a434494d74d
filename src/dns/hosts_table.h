// The names a network's DNS server answers for, from the file the engine writes:
//
//   # comment
//   10.89.0.2 web 4f1c2a9b3e7d web-alias
//   10.89.0.3 db
//
// One line per address: the address, then its names. Names are case-insensitive
// (stored lowercase) and may appear on several lines (a shared alias answers with
// every address). The first name on a line is the one PTR answers give.
#pragma once

#include <sys/stat.h>

#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "dns/ip_address.h"

namespace md::dns {

class HostsTable {
 public:
  // Parses the whole file. Bad lines and names are skipped, never fatal (one bad
  // entry must not take every container's name resolution down); each skip is
  // described in `problems` for the caller to log.
  static HostsTable parse(std::string_view text, std::vector<std::string>* problems = nullptr);

  // `name` is lowercase without a trailing dot (Name::text). nullptr when unknown.
  // Addresses are in file order, without duplicates, both families mixed.
  const std::vector<IpAddress>* addresses(std::string_view name) const;
  // The first name listed for `ip`, or nullptr.
  const std::string* name_for(const IpAddress& ip) const;
  size_t name_count() const { return by_name_.size(); }

 private:
  // std::less<> so lookups by string_view do not allocate.
  std::map<std::string, std::vector<IpAddress>, std::less<>> by_name_;
  std::map<IpAddress, std::string> by_address_;
};

// Whether `name` is acceptable in the hosts file: dot-separated labels of 1 to 63
// letters, digits, '-' or '_', at most 253 characters.
bool valid_host_name(std::string_view name);

// The hosts file on disk, re-read only when it changed. The engine replaces it by
// rename, so a new inode means a new version; size and mtime catch in-place edits.
// Keeps the file it last read open so its inode number cannot be reused by a later
// version (which would then look unchanged).
class HostsFile {
 public:
  explicit HostsFile(std::string path) : path_(std::move(path)) {}

  // Re-reads the file if stat() says it changed. Returns whether the table was
  // replaced. A missing file is an empty table (no containers yet, or all gone).
  // Other errors keep the previous table and are returned for the caller to log;
  // the next refresh() tries again. Parse problems go to `problems`.
  Result<bool> refresh(std::vector<std::string>* problems = nullptr);
  const HostsTable& table() const { return table_; }
  const std::string& path() const { return path_; }

 private:
  struct Identity {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = -1;
    timespec mtime{};
    timespec ctime{};
    bool operator==(const Identity&) const;
  };
  static Identity identity_of(const struct stat& st);

  std::string path_;
  HostsTable table_;
  UniqueFd current_;  // the version `table_` came from
  Identity identity_;
  bool missing_ = false;  // table_ is empty because the file did not exist
};

}  // namespace md::dns
