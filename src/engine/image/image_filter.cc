// Docker's image list filters; see image_filter.h.
#include "engine/image/image_filter.h"

#include <fnmatch.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "engine/image/image_config.h"

namespace md::image {

namespace {

using nlohmann::json;

bool has_label(const std::map<std::string, std::string>& labels, const std::string& spec) {
  auto eq = spec.find('=');
  auto it = labels.find(spec.substr(0, eq));
  if (it == labels.end()) return false;
  return eq == std::string::npos || it->second == spec.substr(eq + 1);
}

// Go's time.ParseDuration for the units a filter uses; nullopt when `s` is not one.
std::optional<int64_t> parse_duration_ns(std::string_view s) {
  if (s.empty()) return std::nullopt;
  bool negative = false;
  if (s.front() == '-' || s.front() == '+') {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return 0;
  double total = 0;
  while (!s.empty()) {
    size_t i = 0;
    while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
    if (i == 0) return std::nullopt;
    std::string number(s.substr(0, i));
    s.remove_prefix(i);
    size_t u = 0;
    while (u < s.size() && !((s[u] >= '0' && s[u] <= '9') || s[u] == '.')) ++u;
    std::string_view unit = s.substr(0, u);
    s.remove_prefix(u);
    double scale = 0;
    if (unit == "ns") scale = 1;
    else if (unit == "us" || unit == "\xC2\xB5s") scale = 1e3;
    else if (unit == "ms") scale = 1e6;
    else if (unit == "s") scale = 1e9;
    else if (unit == "m") scale = 60e9;
    else if (unit == "h") scale = 3600e9;
    else return std::nullopt;
    char* end = nullptr;
    double v = std::strtod(number.c_str(), &end);
    if (end != number.c_str() + number.size()) return std::nullopt;
    total += v * scale;
  }
  return int64_t(negative ? -total : total);
}

}  // namespace

std::map<std::string, std::string> image_labels(const store::Image& img) {
  std::map<std::string, std::string> out;
  json cfg = json::parse(img.config, nullptr, false);
  if (!cfg.is_object()) return out;
  auto c = cfg.find("config");
  if (c == cfg.end() || !c->is_object()) return out;
  auto l = c->find("Labels");
  if (l == c->end() || !l->is_object()) return out;
  for (auto& [k, v] : l->items())
    if (v.is_string()) out[k] = v.get<std::string>();
  return out;
}

Result<int64_t> parse_filter_time(std::string_view value, int64_t now_ns) {
  std::string v(value);
  if (v.empty()) return fail("invalid time filter: empty value", EINVAL);
  // Unix seconds, maybe with a fraction.
  char* end = nullptr;
  errno = 0;
  double secs = std::strtod(v.c_str(), &end);
  if (errno == 0 && end == v.c_str() + v.size() && std::isfinite(secs) && v.find_first_of("eExX") == std::string::npos)
    return int64_t(secs * 1e9);
  if (auto d = parse_duration_ns(v)) return now_ns - *d;
  if (auto t = parse_rfc3339(v)) return *t;
  // Docker also takes a date or a date-time without a zone (read as UTC).
  if (v.size() == 10) {
    if (auto t = parse_rfc3339(v + "T00:00:00Z")) return *t;
  } else if (v.size() == 19) {
    if (auto t = parse_rfc3339(v + "Z")) return *t;
  }
  return fail("invalid time filter value \"" + v + "\": use Unix seconds, RFC 3339 or a duration such as 10m", EINVAL);
}

bool reference_matches(std::string_view pattern, std::string_view tag) {
  std::string p(pattern), full(tag);
  std::string repo = full.substr(0, full.rfind(':'));
  // A tag's ':' is after the last '/' (a registry port is before it).
  if (auto colon = full.rfind(':'); colon == std::string::npos || full.find('/', colon) != std::string::npos) repo = full;
  return ::fnmatch(p.c_str(), full.c_str(), FNM_PATHNAME) == 0 || ::fnmatch(p.c_str(), repo.c_str(), FNM_PATHNAME) == 0;
}

Result<ImageListFilter> parse_image_list_filter(store::ImageStore& images,
                                                const std::map<std::string, std::vector<std::string>>& filters,
                                                int64_t now_ns) {
  ImageListFilter f;
  for (const auto& [key, values] : filters) {
    if (key == "dangling") {
      for (const auto& v : values) {
        if (v == "true" || v == "1") f.dangling = true;
        else if (v == "false" || v == "0") f.dangling = false;
        else return fail("invalid filter 'dangling=" + v + "'", EINVAL);
      }
    } else if (key == "reference") {
      f.references.insert(f.references.end(), values.begin(), values.end());
    } else if (key == "label") {
      f.labels.insert(f.labels.end(), values.begin(), values.end());
    } else if (key == "before" || key == "since") {
      for (const auto& v : values) {
        auto img = images.get(v);
        if (!img) {
          if (img.error().errno_value == ENOENT) return fail("No such image: " + v, ENOENT);
          return std::unexpected(img.error());
        }
        // Several values: the tightest bound wins.
        auto& bound = key == "before" ? f.before_ns : f.since_ns;
        if (!bound || (key == "before" ? img->created < *bound : img->created > *bound)) bound = img->created;
      }
    } else if (key == "until") {
      for (const auto& v : values) {
        int64_t t = TRY(parse_filter_time(v, now_ns));
        if (!f.until_ns || t < *f.until_ns) f.until_ns = t;
      }
    } else {
      return fail("invalid filter '" + key + "'", EINVAL);
    }
  }
  return f;
}

std::optional<std::vector<std::string>> filter_image(const ImageListFilter& f, const store::Image& img) {
  const bool dangling = img.tags.empty();
  if (f.dangling && *f.dangling != dangling) return std::nullopt;
  if (f.before_ns && img.created >= *f.before_ns) return std::nullopt;
  if (f.since_ns && img.created <= *f.since_ns) return std::nullopt;
  if (f.until_ns && img.created > *f.until_ns) return std::nullopt;
  if (!f.labels.empty()) {
    auto labels = image_labels(img);
    for (const auto& l : f.labels)
      if (!has_label(labels, l)) return std::nullopt;
  }
  if (f.references.empty()) return img.tags;
  // Docker drops an untagged image under a reference filter, and lists only the tags
  // that matched.
  std::vector<std::string> shown;
  for (const auto& t : img.tags)
    for (const auto& p : f.references)
      if (reference_matches(p, t)) {
        shown.push_back(t);
        break;
      }
  if (shown.empty()) return std::nullopt;
  return shown;
}

}  // namespace md::image
