// inspect: containers (and, with --type or as a fallback in Docker's order, images,
// networks and volumes), Docker's JSON array, or -f/--format through the Go template subset.
#include <cstdio>

#include "cli/common/go_template.h"
#include "cli/docker/cli.h"
#include "cli/docker/image_views.h"
#include "engine/core/containers.h"
#include "engine/core/networks.h"
#include "engine/core/volumes.h"

namespace md::cli {

using nlohmann::json;

int print_inspect(const std::vector<json>& items, const std::string& format) {
  if (format.empty()) {
    json arr = items;
    std::printf("%s\n", items.empty() ? "[]" : arr.dump(4).c_str());
    return 0;
  }
  auto tpl = GoTemplate::parse(format);
  if (!tpl) return std::fprintf(stderr, "template parsing error: %s\n", tpl.error().message.c_str()), 1;
  for (auto& it : items) {
    auto out = tpl->execute(it);
    if (!out) return std::fprintf(stderr, "template parsing error: %s\n", out.error().message.c_str()), 1;
    std::printf("%s\n", out->c_str());
  }
  return 0;
}

int cmd_inspect(Invocation& inv) {
  FlagSet f("minidocker inspect [OPTIONS] NAME|ID [NAME|ID...]",
            {{"format", 'f', FlagKind::kValue, "Format output using a custom template"},
             {"size", 's', FlagKind::kBool, "Display total file sizes if the type is container"},
             {"type", 0, FlagKind::kValue, "Only inspect objects of the given type (container, image, network, volume)"}});
  int rc = 0;
  if (!parse_or_exit(f, "inspect", inv.args, &rc) || !require_args(f, "inspect", 1, SIZE_MAX, &rc)) return rc;
  std::string type = f.value("type");
  if (!type.empty() && type != "container" && type != "image" && type != "network" && type != "volume")
    return std::fprintf(stderr, "\"%s\" is not a valid value for --type\n", type.c_str()), 1;
  auto e = inv.engine();
  if (!e) return report(e.error());
  std::vector<json> items;
  for (auto& ref : f.args()) {
    if (type.empty() || type == "container") {
      auto id = (*e)->containers().resolve(ref);
      if (id) {
        auto c = engine::reconcile_container(**e, *id);
        if (c) {
          items.push_back(engine::inspect_json(**e, *c));
          continue;
        }
      }
    }
    if (type.empty() || type == "image") {
      if (auto img = image_inspect_json(**e, ref)) {
        items.push_back(*img);
        continue;
      }
    }
    if (type.empty() || type == "network") {
      if (engine::ensure_builtin_networks(**e))
        if (auto n = (*e)->networks().get(ref)) {
          items.push_back(engine::network_json(**e, *n));
          continue;
        }
    }
    if (type.empty() || type == "volume") {
      if (auto v = engine::inspect_volume(**e, ref)) {
        items.push_back(*v);
        continue;
      }
    }
    std::fprintf(stderr, "Error: No such %s: %s\n", type.empty() ? "object" : type.c_str(), ref.c_str());
    rc = 1;
  }
  int prc = print_inspect(items, f.value("format"));
  return rc ? rc : prc;
}

}  // namespace md::cli
