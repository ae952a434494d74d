#include "engine/image/layer_path.h"

#include <cstdio>
#include <vector>

namespace md::image {

namespace {

// Splits on '/', dropping empty and "." components; ".." pops. Returns false when a
// ".." would climb above the starting point.
bool push_components(std::vector<std::string_view>& parts, std::string_view path) {
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t next = path.find('/', pos);
    if (next == std::string_view::npos) next = path.size();
    std::string_view comp = path.substr(pos, next - pos);
    pos = next + 1;
    if (comp.empty() || comp == ".") continue;
    if (comp == "..") {
      if (parts.empty()) return false;
      parts.pop_back();
      continue;
    }
    parts.push_back(comp);
  }
  return true;
}

}  // namespace

Result<std::string> clean_layer_path(std::string_view name) {
  if (name.find('\0') != std::string_view::npos) return fail("name contains a NUL byte", EINVAL);
  std::vector<std::string_view> parts;
  if (!push_components(parts, name)) return fail("path escapes the layer", EXDEV);
  std::string out;
  out.reserve(name.size());
  for (auto comp : parts) {
    if (!out.empty()) out += '/';
    out += comp;
  }
  return out;
}

bool symlink_target_stays_inside(std::string_view link_path, std::string_view target) {
  if (target.starts_with('/')) return true;
  std::vector<std::string_view> parts;
  push_components(parts, parent_path(link_path));  // clean: cannot fail
  return push_components(parts, target);
}

std::string_view parent_path(std::string_view clean_path) {
  size_t slash = clean_path.rfind('/');
  return slash == std::string_view::npos ? std::string_view{} : clean_path.substr(0, slash);
}

std::string_view base_name(std::string_view clean_path) {
  size_t slash = clean_path.rfind('/');
  return slash == std::string_view::npos ? clean_path : clean_path.substr(slash + 1);
}

std::string join_clean(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  if (name.empty()) return std::string(dir);
  std::string out(dir);
  out += '/';
  out += name;
  return out;
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

}  // namespace md::image
