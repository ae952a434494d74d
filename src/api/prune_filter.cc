#include "api/prune_filter.h"

#include <algorithm>
#include <cerrno>

#include "cli/common/units.h"
#include "engine/store/container_store.h"

namespace md::api {

Result<engine::PruneFilter> prune_filter_from(const std::map<std::string, std::vector<std::string>>& filters,
                                              const std::vector<std::string>& accepted, bool* all) {
  engine::PruneFilter pf;
  int64_t now = store::now_unix_nanos();
  for (auto& [key, values] : filters) {
    if (std::find(accepted.begin(), accepted.end(), key) == accepted.end())
      return fail("invalid filter '" + key + "'", EINVAL);
    for (auto& v : values) {
      if (key == "until") {
        // The daemon's own reading of the value (time or duration), shared with the CLI.
        pf.until_ns = TRY(cli::parse_time_filter(v, now));
      } else if (key == "label") {
        pf.labels.push_back(v);
      } else if (key == "label!") {
        pf.not_labels.push_back(v);
      } else if (key == "all") {
        if (v == "1" || v == "true" || v == "True" || v == "TRUE") {
          if (all) *all = true;
        } else if (v == "0" || v == "false" || v == "False" || v == "FALSE") {
          if (all) *all = false;
        } else {
          return fail("invalid filter 'all=" + v + "'", EINVAL);
        }
      }
    }
  }
  return pf;
}

}  // namespace md::api
