#include "api/router.h"

#include <cctype>

namespace md::api {

std::pair<std::string, std::string> strip_version(std::string_view path) {
  // "/v" digits "." digits ("/" …)?
  if (path.size() < 5 || path[0] != '/' || path[1] != 'v') return {std::string(path), ""};
  size_t i = 2, dot = std::string_view::npos;
  while (i < path.size() && path[i] != '/') {
    if (path[i] == '.') {
      if (dot != std::string_view::npos) return {std::string(path), ""};
      dot = i;
    } else if (!std::isdigit(static_cast<unsigned char>(path[i]))) {
      return {std::string(path), ""};
    }
    ++i;
  }
  if (dot == std::string_view::npos || dot == 2 || dot + 1 == i) return {std::string(path), ""};
  std::string version(path.substr(2, i - 2));
  std::string rest(path.substr(i));
  if (rest.empty()) rest = "/";
  return {rest, version};
}

std::string url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += char(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::multimap<std::string, std::string> parse_query_all(std::string_view q) {
  std::multimap<std::string, std::string> out;
  size_t i = 0;
  while (i <= q.size()) {
    size_t j = q.find('&', i);
    if (j == std::string_view::npos) j = q.size();
    auto part = q.substr(i, j - i);
    if (!part.empty()) {
      auto eq = part.find('=');
      if (eq == std::string_view::npos) out.emplace(url_decode(part), "");
      else out.emplace(url_decode(part.substr(0, eq)), url_decode(part.substr(eq + 1)));
    }
    i = j + 1;
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view q) {
  std::map<std::string, std::string> out;
  for (auto& [key, value] : parse_query_all(q)) out[key] = value;  // in order: the last one wins
  return out;
}

}  // namespace md::api
