// Docker's image list filters (GET /images/json?filters=, `docker images --filter`):
// reference, dangling, label, before, since, until. Parsing resolves before=/since= to the
// named image's creation time once; matching is then a pure function of one image.
//
// Also Docker's time filter values (until= of the image list and of prune): Unix seconds
// with an optional fraction, RFC 3339, or a Go duration ("10m", "1h30m") back from now.
//
// Errors (EINVAL, → 400): an unknown filter key ("invalid filter 'x'"), a dangling value
// other than true/false/1/0, a malformed time. ENOENT (→ 404): before=/since= naming an
// image that does not exist ("No such image: x"). Nothing here touches files.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "engine/store/image_store.h"

namespace md::image {

struct ImageListFilter {
  std::optional<bool> dangling;          // dangling=true: only untagged; false: only tagged
  std::vector<std::string> references;   // shell patterns over "repo" and "repo:tag"
  std::vector<std::string> labels;       // "k" or "k=v": all must match
  std::optional<int64_t> before_ns;      // created strictly before (before=<image>)
  std::optional<int64_t> since_ns;       // created strictly after (since=<image>)
  std::optional<int64_t> until_ns;       // created at or before (until=<time>)
};

// `filters` as http_util's parse_filters returns it. `now_ns` anchors durations.
Result<ImageListFilter> parse_image_list_filter(store::ImageStore& images,
                                                const std::map<std::string, std::vector<std::string>>& filters,
                                                int64_t now_ns);

// Whether `img` passes, and the tags to show for it: every tag, or with reference
// filters only the tags that match one (Docker lists only those). nullopt: filtered out.
std::optional<std::vector<std::string>> filter_image(const ImageListFilter& f, const store::Image& img);

// Docker's reference filter: `pattern` (path.Match syntax: * ? [..], "*" not crossing
// "/") against "repo:tag" and against "repo" ("busybox", "busy*", "*:1.36" all match
// "busybox:1.36").
bool reference_matches(std::string_view pattern, std::string_view tag);

// The image config's config.Labels.
std::map<std::string, std::string> image_labels(const store::Image& img);

// until=/since= values: "1700000000", "1700000000.5", "2024-05-01T10:00:00Z", "10m",
// "1h30m" (a duration counts back from now_ns). EINVAL otherwise.
Result<int64_t> parse_filter_time(std::string_view value, int64_t now_ns);

}  // namespace md::image
