// The seeds' container object and create body (docs/api-seeds.md), mapped onto the engine's
// rows and Docker's ContainerCreate body. Pure JSON work plus engine reads; no HTTP here.
//
//   seed_container_json   row (+ inspect_json) → {"id","name","image","command",…}
//   seed_create_body      {"name","image","command","mem_limit",…} → Docker's create body,
//                         every field checked; errors are EINVAL naming the field
//   seed_export           row → the object seed_create_body takes (export/import round trip)
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "engine/core/engine.h"

namespace md::api {

// The seeds' container object. `inspect` is engine::inspect_json of the same row (passed in
// so a caller that has it does not compute it twice; null = computed here).
nlohmann::json seed_container_json(engine::Engine& e, const store::Container& c,
                                   const nlohmann::json& inspect = nullptr);

struct SeedCreate {
  std::string name;          // "" = generated
  nlohmann::json body;       // Docker's ContainerCreate body
  bool start = true;
};
// Validates the seeds' create object. Errors (EINVAL) name the field:
// `mem_limit: expected bytes or a size like "64m", got "lots"`.
Result<SeedCreate> seed_create_body(const nlohmann::json& in);

// The seeds' create object for an existing container (what GET …/export answers).
nlohmann::json seed_export(const store::Container& c);

// "64m", "1g", "512k", "1048576", 1048576 → bytes (binary units, as Docker's -m).
Result<int64_t> parse_mem_size(const nlohmann::json& v);

}  // namespace md::api
