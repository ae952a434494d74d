// Engine-wide views and clean-up: `container prune`, `volume prune` with filters,
// `image prune` through the image service, `system df`, `system info`.
//
// Shapes follow the Engine API so the API server can return them as they are:
// disk_usage() is GET /system/df's body, system_info() GET /info's (Docker's field
// names), the prune reports POST /…/prune's (ContainersDeleted / VolumesDeleted /
// ImagesDeleted + SpaceReclaimed).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "engine/core/engine.h"

namespace md::engine {

// Docker's prune filters, already parsed (the CLI turns until=10m into a time).
struct PruneFilter {
  std::optional<int64_t> until_ns;       // until=: only what was created before this
  std::vector<std::string> labels;       // label=k or label=k=v: all must match
  std::vector<std::string> not_labels;   // label!=k or label!=k=v: none may match
};

// Docker's matchLabels: `labels` satisfies every label= and no label!= of `f`.
bool prune_labels_match(const PruneFilter& f, const std::map<std::string, std::string>& labels);

struct PruneReport {
  std::vector<std::string> deleted;  // container ids / volume names
  int64_t reclaimed = 0;             // bytes
};

// Removes containers that are not running (created, exited, dead), as Docker's
// ContainersPrune: full ids, and the bytes of their writable layers.
Result<PruneReport> prune_containers(Engine& e, const PruneFilter& f);

// Removes volumes no container uses: anonymous ones only unless `all` (Docker ≥ 23).
Result<PruneReport> prune_unused_volumes(Engine& e, bool all, const PruneFilter& f);

struct ImagePruneReport {
  // ("untagged", "busybox:old") / ("deleted", "sha256:…"), in order.
  std::vector<std::pair<std::string, std::string>> records;
  int64_t reclaimed = 0;
};
// Dangling images (every image no container uses, with `all`), via the image service.
Result<ImagePruneReport> prune_images(Engine& e, bool all, const PruneFilter& f);

// GET /system/df: {"LayersSize", "Images": [ImageSummary + SharedSize, Containers],
// "Containers": [Summary + SizeRw], "Volumes": [Volume + UsageData{Size, RefCount}],
// "BuildCache": []}.
Result<nlohmann::json> disk_usage(Engine& e);

// GET /info with Docker's field names (Containers, ContainersRunning, …, Driver
// "overlay2", CgroupDriver "cgroupfs", CgroupVersion "1"/"2", KernelVersion,
// OperatingSystem, NCPU, MemTotal, DockerRootDir, …).
Result<nlohmann::ordered_json> system_info(Engine& e);

// Docker's size of a directory: bytes of the files and symlinks below `path` (lstat, a
// hard link counted once); 0 when absent.
int64_t tree_bytes(const std::string& path);

}  // namespace md::engine
