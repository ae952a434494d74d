// Docker's prune filters for POST /containers|networks|volumes/prune?filters=…: the
// filters map (http_util.h parse_filters) → engine::PruneFilter. Owned by the objects
// endpoints (container_extra_handlers.cc, network_handlers.cc, volume_handlers.cc).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "engine/core/system.h"

namespace md::api {

// `accepted`: the keys this prune takes ("until", "label", "label!", "all"). until is a
// Unix time, a date/time or a Go duration before now ("10m"), as the daemon reads it.
// `all` (volumes) is set from all=true/false when given. Errors (EINVAL): "invalid filter
// 'x'" for another key, the time parser's message for a bad until.
Result<engine::PruneFilter> prune_filter_from(const std::map<std::string, std::vector<std::string>>& filters,
                                              const std::vector<std::string>& accepted, bool* all = nullptr);

}  // namespace md::api
