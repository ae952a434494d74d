#include "dns/hosts_table.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

namespace md::dns {

bool valid_host_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok || ++label > 63) return false;
  }
  return label > 0;
}

static std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Built by append: GCC 12 warns falsely (-Wrestrict) about "`" + std::string(...).
static std::string quoted(std::string_view s) {
  std::string out = "`";
  out += s;
  out += '`';
  return out;
}

HostsTable HostsTable::parse(std::string_view text, std::vector<std::string>* problems) {
  HostsTable t;
  auto problem = [&](size_t line, std::string what) {
    if (problems) problems->push_back("line " + std::to_string(line) + ": " + std::move(what));
  };
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    std::vector<std::string_view> fields;
    constexpr std::string_view kSpace = " \t\r\v\f";
    for (size_t pos = line.find_first_not_of(kSpace); pos != std::string_view::npos;
         pos = line.find_first_not_of(kSpace, pos)) {
      size_t end = line.find_first_of(kSpace, pos);
      fields.push_back(line.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
      pos = end == std::string_view::npos ? line.size() : end;
    }
    if (fields.empty()) continue;
    auto ip = parse_ip(fields[0]);
    if (!ip) {
      problem(line_no, quoted(fields[0]) + " is not an IP address");
      continue;
    }
    if (fields.size() == 1) problem(line_no, "address " + std::string(fields[0]) + " has no names");
    for (size_t i = 1; i < fields.size(); ++i) {
      std::string_view raw = fields[i];
      if (raw.ends_with('.')) raw.remove_suffix(1);
      if (!valid_host_name(raw)) {
        problem(line_no, quoted(fields[i]) + " is not a valid host name");
        continue;
      }
      std::string name = lowercase(raw);
      std::vector<IpAddress>& ips = t.by_name_[name];
      if (std::find(ips.begin(), ips.end(), *ip) == ips.end()) ips.push_back(*ip);
      t.by_address_.emplace(*ip, std::move(name));  // keeps the first name for this address
    }
  }
  return t;
}

const std::vector<IpAddress>* HostsTable::addresses(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &it->second;
}

const std::string* HostsTable::name_for(const IpAddress& ip) const {
  auto it = by_address_.find(ip);
  return it == by_address_.end() ? nullptr : &it->second;
}

bool HostsFile::Identity::operator==(const Identity& o) const {
  return dev == o.dev && ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
         mtime.tv_nsec == o.mtime.tv_nsec && ctime.tv_sec == o.ctime.tv_sec && ctime.tv_nsec == o.ctime.tv_nsec;
}

HostsFile::Identity HostsFile::identity_of(const struct stat& st) {
  return Identity{st.st_dev, st.st_ino, st.st_size, st.st_mtim, st.st_ctim};
}

Result<bool> HostsFile::refresh(std::vector<std::string>* problems) {
  auto now_missing = [&]() -> Result<bool> {
    if (missing_) return false;
    table_ = HostsTable();
    current_.reset();
    identity_ = Identity();
    missing_ = true;
    return true;
  };
  struct stat st;
  if (::stat(path_.c_str(), &st) != 0) {
    if (errno == ENOENT) return now_missing();
    return fail_errno("stat hosts file " + path_);
  }
  if (current_ && identity_of(st) == identity_) return false;
  // Open, then fstat the open file: the identity recorded is that of the bytes read,
  // even if the file is replaced between the stat above and here.
  UniqueFd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd) {
    if (errno == ENOENT) return now_missing();
    return fail_errno("open hosts file " + path_);
  }
  if (::fstat(fd.get(), &st) != 0) return fail_errno("stat hosts file " + path_);
  if (!S_ISREG(st.st_mode)) return fail("read hosts file " + path_ + ": not a regular file", EINVAL);
  std::string text;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("read hosts file " + path_);
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  table_ = HostsTable::parse(text, problems);
  current_ = std::move(fd);
  identity_ = identity_of(st);
  missing_ = false;
  return true;
}

}  // namespace md::dns
