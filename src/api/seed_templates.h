// The seeds' container templates (docs/templates.md) offered by GET /api/templates.
//
// Templates are the YAML/JSON files of docs/templates.md, read with the CLI's parser
// (cli/common/seed_config.h), from the first of these directories that exists:
//   $MINIDOCKER_TEMPLATES, <root>/templates, /usr/share/minidocker/templates,
//   <dir of this program>/../examples/templates, <dir of this program>/../../examples/templates
// (the last two find the repository's examples/templates from a build directory).
// Each becomes {name, description, config} where config is the object POST /api/containers
// takes (seed_model.h): mem_limit in bytes, cpu_limit in CPUs, durations in seconds.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace md::api {

struct SeedTemplateEntry {
  std::string name;         // the file's name without its extension
  std::string description;  // its `description`, else its first comment line
  nlohmann::json config;
  std::string error;        // set when the file does not parse (config is then null)
};

// The templates in the directory found as above (sorted by name); empty when none.
std::vector<SeedTemplateEntry> load_seed_templates(const std::string& root);

// "1m30s", "500ms", "2s", "" → seconds (0 for "").
double go_duration_seconds(const std::string& d);

}  // namespace md::api
