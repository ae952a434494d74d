// container export-config: a container's settings as the seeds' template (YAML or JSON),
// which `run --config FILE` takes back (docs/templates.md).
#include <cstdio>
#include <ctime>

#include "base/file_util.h"
#include "cli/common/seed_config.h"
#include "cli/docker/cli.h"
#include "cli/docker/image_views.h"
#include "engine/core/containers.h"

namespace md::cli {

int cmd_export_config(Invocation& inv) {
  FlagSet f("minidocker container export-config [OPTIONS] CONTAINER",
            {{"output", 'o', FlagKind::kValue, "Write to a file, instead of STDOUT"},
             {"format", 0, FlagKind::kValue, "yaml or json (default: from the -o file's extension, else yaml)"}});
  int rc = 0;
  if (!parse_or_exit(f, "container export-config", inv.args, &rc) ||
      !require_args(f, "container export-config", 1, 1, &rc))
    return rc;
  std::string output = f.value("output");
  std::string format = f.value("format");
  if (format.empty()) format = output.size() > 5 && output.ends_with(".json") ? "json" : "yaml";
  if (format != "yaml" && format != "json")
    return usage_error("container export-config", "invalid --format \"" + format + "\": use yaml or json");
  auto e = inv.engine();
  if (!e) return report(e.error());
  auto c = (*e)->containers().get(f.args()[0]);
  if (!c) return std::fprintf(stderr, "Error response from daemon: %s\n", c.error().message.c_str()), 1;
  nlohmann::json inspect = engine::inspect_json(**e, *c);
  nlohmann::json image = image_inspect_json(**e, c->image).value_or(nlohmann::json());
  SeedTemplate t = seed_template_from_inspect(inspect, image);
  time_t now = time(nullptr);
  struct tm tm {};
  localtime_r(&now, &tm);
  char when[32];
  strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
  t.exported_at = when;
  std::string text = format == "json" ? seed_template_to_json(t) : seed_template_to_yaml(t);
  if (output.empty()) {
    std::fputs(text.c_str(), stdout);
    return 0;
  }
  auto st = write_file_atomic(output, text, 0644);
  if (!st) return report(st.error());
  return 0;
}

}  // namespace md::cli
