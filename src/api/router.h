// The API server's router: (method, path pattern) → handler, with Docker's optional
// version prefix ("/v1.43/containers/json" is "/containers/json") stripped first and
// "{name}" segments captured as path parameters ("/containers/{id}/json").
//
// One "{name*}" segment per pattern takes one or more whole segments, joined by "/":
// Docker's image names contain slashes ("/images/{name*}/json" matches
// "/images/localhost:5000/a/b:tag/json" with name "localhost:5000/a/b:tag"). The segments
// after it must match literally (or as "{x}"), so the rest parameter gets what is between.
//
// Plain data, no Beast: the unit tests drive it directly (router_test.cc).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace md::api {

// "/v1.43/containers/json" → ("/containers/json", "1.43"); a path without a version
// prefix is returned as it is with version "". Only "/v<digits>.<digits>/…" is a prefix.
std::pair<std::string, std::string> strip_version(std::string_view path);

// Splits "a=1&b=x%20y" into a map (later duplicates win; "+" and %XX decoded).
std::map<std::string, std::string> parse_query(std::string_view query);
// Every value of every key, in order ("changes=A&changes=B": docker commit -c A -c B,
// "names=a&names=b": docker save a b).
std::multimap<std::string, std::string> parse_query_all(std::string_view query);
std::string url_decode(std::string_view s);

template <class Handler>
class Router {
 public:
  struct Match {
    const Handler* handler = nullptr;
    std::map<std::string, std::string> params;  // {id} → value (URL-decoded)
  };

  // `pattern`: "/containers/{id}/start" or "/images/{name*}/json"; `method`: "GET", "POST", … ("HEAD" matches GET
  // routes too, as HTTP wants).
  void add(std::string method, std::string_view pattern, Handler h) {
    routes_.push_back(Route{std::move(method), split(pattern), std::move(h)});
  }

  // The route for `method` and `path` (already without its query string and version).
  // `path_known` is set when some route matched the path under another method (→ 405
  // rather than 404 for a caller that wants to tell them apart).
  std::optional<Match> match(std::string_view method, std::string_view path, bool* path_known = nullptr) const {
    auto segs = split(path);
    if (path_known) *path_known = false;
    for (auto& r : routes_) {
      std::map<std::string, std::string> params;
      if (!match_segments(r.segments, segs, params)) continue;
      if (r.method == method || (method == "HEAD" && r.method == "GET")) return Match{&r.handler, std::move(params)};
      if (path_known) *path_known = true;
    }
    return std::nullopt;
  }

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    Handler handler;
  };

  static std::vector<std::string> split(std::string_view p) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < p.size()) {
      while (i < p.size() && p[i] == '/') ++i;
      size_t j = p.find('/', i);
      if (j == std::string_view::npos) j = p.size();
      if (j > i) out.emplace_back(p.substr(i, j - i));
      i = j;
    }
    return out;
  }

  static bool is_param(const std::string& p) { return p.size() >= 2 && p.front() == '{' && p.back() == '}'; }
  static bool is_rest(const std::string& p) { return p.size() >= 3 && is_param(p) && p[p.size() - 2] == '*'; }

  static bool match_segments(const std::vector<std::string>& pattern, const std::vector<std::string>& segs,
                             std::map<std::string, std::string>& params) {
    size_t rest = pattern.size();
    for (size_t i = 0; i < pattern.size(); ++i)
      if (is_rest(pattern[i])) rest = i;
    if (rest == pattern.size() ? pattern.size() != segs.size() : segs.size() < pattern.size()) return false;
    // Pattern segment i matches path segment i before the rest parameter, and the one as
    // far from the end after it.
    const size_t extra = segs.size() - pattern.size();
    for (size_t i = 0; i < pattern.size(); ++i) {
      const auto& p = pattern[i];
      if (i == rest) {
        std::string joined;
        for (size_t k = i; k <= i + extra; ++k) joined += (k == i ? "" : "/") + segs[k];
        params[p.substr(1, p.size() - 3)] = url_decode(joined);
        continue;
      }
      const auto& s = segs[i < rest ? i : i + extra];
      if (is_param(p)) params[p.substr(1, p.size() - 2)] = url_decode(s);
      else if (p != s) return false;
    }
    return true;
  }

  std::vector<Route> routes_;
};

}  // namespace md::api
