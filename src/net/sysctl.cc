#include "net/sysctl.h"

#include <algorithm>

#include "base/file_util.h"

namespace md::net {

namespace {

std::string sysctl_path(const std::string& key) {
  std::string rel = key;
  if (rel.find('/') == std::string::npos) std::replace(rel.begin(), rel.end(), '.', '/');
  return "/proc/sys/" + rel;
}

}  // namespace

Status write_sysctl(const std::string& key, const std::string& value) {
  TRY_CTX(write_existing_file(sysctl_path(key), value), "set sysctl " + key);
  return {};
}

Result<std::string> read_sysctl(const std::string& key) {
  std::string value = TRY_CTX(read_file(sysctl_path(key)), "read sysctl " + key);
  while (!value.empty() && value.back() == '\n') value.pop_back();
  return value;
}

Status ensure_ip_forward() {
  constexpr const char* kKey = "net/ipv4/ip_forward";
  std::string current = TRY(read_sysctl(kKey));
  if (current == "1") return {};
  return write_sysctl(kKey, "1");
}

}  // namespace md::net
