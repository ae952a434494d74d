// Image lookups shared by verbs (inspect's fallback to images).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "engine/core/engine.h"

namespace md::cli {

// Docker's `image inspect` object for `ref`; ENOENT when there is no such image.
Result<nlohmann::json> image_inspect_json(engine::Engine& e, const std::string& ref);

}  // namespace md::cli
