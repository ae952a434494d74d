// Image verbs: images, import, load, save, tag, rmi, history, image inspect, image prune.
#include <fcntl.h>
#include <fnmatch.h>
#include <unistd.h>

#include <cstdio>
#include <set>

#include "base/unique_fd.h"
#include "cli/common/go_template.h"
#include "cli/common/table.h"
#include "cli/common/units.h"
#include "cli/docker/cli.h"
#include "cli/docker/image_views.h"
#include "engine/core/containers.h"
#include "engine/image/image_filter.h"
#include "engine/image/image_service.h"
#include "engine/store/ids.h"

namespace md::cli {

using nlohmann::json;

namespace {

image::ImageService service(engine::Engine& e) { return image::ImageService(e.paths().root, e.db()); }

std::string short_image_id(const std::string& id, bool no_trunc) {
  if (no_trunc) return id;
  std::string hex = id.rfind("sha256:", 0) == 0 ? id.substr(7) : id;
  return hex.substr(0, 12);
}

// Containers (any state) created from `image_id`: rmi's conflicts are about those only.
std::vector<image::ImageUser> image_users(engine::Engine& e, const std::string& image_id) {
  std::vector<image::ImageUser> users;
  store::ContainerFilter f;
  f.all = true;
  if (auto list = e.containers().list(f))
    for (auto& c : *list)
      if (c.image == image_id)
        users.push_back({c.id, c.state == store::ContainerState::kRunning || c.state == store::ContainerState::kPaused ||
                                   c.state == store::ContainerState::kRestarting});
  return users;
}

}  // namespace

Result<json> image_inspect_json(engine::Engine& e, const std::string& ref) {
  auto svc = service(e);
  auto j = TRY(svc.inspect(ref));
  return json::parse(j.dump());
}

int cmd_images(Invocation& inv) {
  FlagSet f("minidocker images [OPTIONS] [REPOSITORY[:TAG]]",
            {{"all", 'a', FlagKind::kBool, "Show all images (default hides intermediate images)"},
             {"quiet", 'q', FlagKind::kBool, "Only show image IDs"},
             {"no-trunc", 0, FlagKind::kBool, "Don't truncate output"},
             {"digests", 0, FlagKind::kBool, "Show digests"},
             {"filter", 'f', FlagKind::kList, "Filter output based on conditions provided", "filter"},
             {"format", 0, FlagKind::kValue, "Format output using a custom template"}});
  int rc = 0;
  if (!parse_or_exit(f, "images", inv.args, &rc) || !require_args(f, "images", 0, 1, &rc)) return rc;
  auto e = inv.engine();
  if (!e) return report(e.error());
  auto svc = service(**e);
  auto list = svc.list();
  if (!list) return report(list.error());
  // Docker's filters (engine/image/image_filter.h); the REPOSITORY[:TAG] argument is one
  // more reference filter, as in Docker's CLI.
  std::map<std::string, std::vector<std::string>> filters;
  for (auto& fl : f.list("filter")) {
    auto eq = fl.find('=');
    filters[fl.substr(0, eq)].push_back(eq == std::string::npos ? "" : fl.substr(eq + 1));
  }
  if (!f.args().empty()) filters["reference"].push_back(f.args()[0]);
  int64_t now = store::now_unix_nanos();
  auto filter = image::parse_image_list_filter((*e)->images(), filters, now);
  if (!filter) return daemon_error(filter.error());
  bool no_trunc = f.boolean("no-trunc");
  std::vector<json> rows;
  std::set<std::string> seen_ids;
  for (auto& img : *list) {
    auto shown = image::filter_image(*filter, img);
    if (!shown) continue;
    std::vector<std::pair<std::string, std::string>> names;
    for (auto& t : *shown) {
      auto colon = t.rfind(':');
      names.emplace_back(t.substr(0, colon), t.substr(colon + 1));
    }
    if (names.empty()) names.emplace_back("<none>", "<none>");
    for (auto& [repo, tag] : names) {
      if (f.boolean("quiet")) {
        if (seen_ids.insert(img.id).second) std::printf("%s\n", short_image_id(img.id, no_trunc).c_str());
        continue;
      }
      rows.push_back({{"Repository", repo},
                      {"Tag", tag},
                      {"ID", short_image_id(img.id, no_trunc)},
                      {"Digest", "<none>"},
                      {"CreatedSince", img.created ? human_duration(now - img.created) + " ago" : "N/A"},
                      {"CreatedAt", format_rfc3339_nano(img.created)},
                      {"Size", human_size(double(img.size))},
                      {"VirtualSize", human_size(double(img.size))},
                      {"Containers", "N/A"},
                      {"SharedSize", "N/A"},
                      {"UniqueSize", "N/A"}});
    }
  }
  if (f.boolean("quiet")) return 0;
  std::string format = f.value("format", "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}");
  auto out = format_table(format, rows, image_headers());
  if (!out) return std::fprintf(stderr, "template parsing error: %s\n", out.error().message.c_str()), 1;
  std::fputs(out->c_str(), stdout);
  return 0;
}

int cmd_import(Invocation& inv) {
  FlagSet f("minidocker import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
            {{"change", 'c', FlagKind::kList, "Apply Dockerfile instruction to the created image"},
             {"message", 'm', FlagKind::kValue, "Set commit message for imported image"},
             {"platform", 0, FlagKind::kValue, "Set platform if server is multi-platform capable"}});
  int rc = 0;
  if (!parse_or_exit(f, "import", inv.args, &rc) || !require_args(f, "import", 1, 2, &rc)) return rc;
  std::string src = f.args()[0];
  if (src.rfind("http://", 0) == 0 || src.rfind("https://", 0) == 0)
    return std::fprintf(stderr, "Error: importing from a URL is not supported (no network access to registries): download the file and import it\n"), 1;
  UniqueFd fd(src == "-" ? ::dup(0) : ::open(src.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return std::fprintf(stderr, "Error: open %s: %s\n", src.c_str(), std::strerror(errno)), 1;
  auto e = inv.engine();
  if (!e) return report(e.error());
  image::ImportOptions o;
  if (f.args().size() > 1) o.tag = f.args()[1];
  o.changes = f.list("change");
  o.message = f.value("message");
  o.platform = f.value("platform");
  auto svc = service(**e);
  auto img = svc.import_tarball(fd.get(), o);
  if (!img) return daemon_error(img.error());
  (*e)->emit({.type = "image", .action = "import", .id = img->id, .attributes = {{"name", o.tag}}});
  std::printf("%s\n", img->id.c_str());
  return 0;
}

int cmd_load(Invocation& inv) {
  FlagSet f("minidocker load [OPTIONS]",
            {{"input", 'i', FlagKind::kValue, "Read from tar archive file, instead of STDIN"},
             {"quiet", 'q', FlagKind::kBool, "Suppress the load output"}});
  int rc = 0;
  if (!parse_or_exit(f, "load", inv.args, &rc) || !require_args(f, "load", 0, 0, &rc)) return rc;
  std::string input = f.value("input");
  if (input.empty() && ::isatty(0))
    return std::fprintf(stderr, "requested load from stdin, but stdin is empty\n"), 1;
  UniqueFd fd(input.empty() ? ::dup(0) : ::open(input.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return std::fprintf(stderr, "Error: open %s: %s\n", input.c_str(), std::strerror(errno)), 1;
  auto e = inv.engine();
  if (!e) return report(e.error());
  auto svc = service(**e);
  auto loaded = svc.load(fd.get());
  if (!loaded) return daemon_error(loaded.error());
  for (auto& l : *loaded) {
    for (auto& [tag, old] : l.moved_tags)
      if (!f.boolean("quiet"))
        std::printf("The image %s already exists, renaming the old one with ID %s to empty string\n", tag.c_str(), old.c_str());
    if (l.tags.empty() && !f.boolean("quiet")) std::printf("Loaded image ID: %s\n", l.id.c_str());
    for (auto& t : l.tags)
      if (!f.boolean("quiet")) std::printf("Loaded image: %s\n", t.c_str());
    (*e)->emit({.type = "image", .action = "load", .id = l.id, .attributes = {{"name", l.tags.empty() ? l.id : l.tags[0]}}});
  }
  return 0;
}

int cmd_save(Invocation& inv) {
  FlagSet f("minidocker save [OPTIONS] IMAGE [IMAGE...]",
            {{"output", 'o', FlagKind::kValue, "Write to a file, instead of STDOUT"}});
  int rc = 0;
  if (!parse_or_exit(f, "save", inv.args, &rc) || !require_args(f, "save", 1, SIZE_MAX, &rc)) return rc;
  std::string output = f.value("output");
  if (output.empty() && ::isatty(1))
    return std::fprintf(stderr, "Error: cowardly refusing to save to a terminal. Use the -o flag or redirect\n"), 1;
  auto e = inv.engine();
  if (!e) return report(e.error());
  std::string tmp = output.empty() ? "" : output + ".tmp-" + std::to_string(::getpid());
  UniqueFd fd(output.empty() ? ::dup(1) : ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) return std::fprintf(stderr, "Error: open %s: %s\n", output.c_str(), std::strerror(errno)), 1;
  auto svc = service(**e);
  auto saved = svc.save(f.args(), fd.get());
  if (!saved) {
    if (!tmp.empty()) ::unlink(tmp.c_str());
    return daemon_error(saved.error());
  }
  if (!tmp.empty() && ::rename(tmp.c_str(), output.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return std::fprintf(stderr, "Error: write %s: %s\n", output.c_str(), std::strerror(errno)), 1;
  }
  for (auto& s : *saved) (*e)->emit({.type = "image", .action = "save", .id = s.id});
  return 0;
}

int cmd_tag(Invocation& inv) {
  FlagSet f("minidocker tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]", {});
  int rc = 0;
  if (!parse_or_exit(f, "tag", inv.args, &rc) || !require_args(f, "tag", 2, 2, &rc)) return rc;
  auto e = inv.engine();
  if (!e) return report(e.error());
  auto svc = service(**e);
  auto st = svc.tag(f.args()[0], f.args()[1]);
  if (!st) return daemon_error(st.error());
  if (auto img = svc.get(f.args()[1]))
    (*e)->emit({.type = "image", .action = "tag", .id = img->id, .attributes = {{"name", f.args()[1]}}});
  return 0;
}

int cmd_rmi(Invocation& inv) {
  FlagSet f("minidocker rmi [OPTIONS] IMAGE [IMAGE...]",
            {{"force", 'f', FlagKind::kBool, "Force removal of the image"},
             {"no-prune", 0, FlagKind::kBool, "Do not delete untagged parents"}});
  int rc = 0;
  if (!parse_or_exit(f, "rmi", inv.args, &rc) || !require_args(f, "rmi", 1, SIZE_MAX, &rc)) return rc;
  auto e = inv.engine();
  if (!e) return report(e.error());
  (void)engine::reconcile_all(**e);
  auto svc = service(**e);
  for (auto& ref : f.args()) {
    auto img = svc.get(ref);
    if (!img) {
      rc = daemon_error(img.error());
      continue;
    }
    auto r = svc.remove(ref, f.boolean("force"), image_users(**e, img->id));
    if (!r) {
      rc = daemon_error(r.error());
      continue;
    }
    for (auto& rec : r->records) {
      bool untag = rec.kind == image::DeleteRecord::Kind::kUntagged;
      std::printf("%s: %s\n", untag ? "Untagged" : "Deleted", rec.value.c_str());
      (*e)->emit({.type = "image", .action = untag ? "untag" : "delete", .id = rec.value});
    }
  }
  return rc;
}

int cmd_history(Invocation& inv) {
  FlagSet f("minidocker history [OPTIONS] IMAGE",
            {{"human", 'H', FlagKind::kBool, "Print sizes and dates in human readable format", "", "true"},
             {"no-trunc", 0, FlagKind::kBool, "Don't truncate output"},
             {"quiet", 'q', FlagKind::kBool, "Only show image IDs"},
             {"format", 0, FlagKind::kValue, "Format output using a custom template"}});
  int rc = 0;
  if (!parse_or_exit(f, "history", inv.args, &rc) || !require_args(f, "history", 1, 1, &rc)) return rc;
  auto e = inv.engine();
  if (!e) return report(e.error());
  auto svc = service(**e);
  auto rows = svc.history(f.args()[0]);
  if (!rows) return daemon_error(rows.error());
  bool no_trunc = f.boolean("no-trunc");
  bool human = !f.given("human") || f.boolean("human");
  int64_t now = store::now_unix_nanos();
  std::vector<json> out_rows;
  for (auto& r : *rows) {
    if (f.boolean("quiet")) {
      std::printf("%s\n", r.id == "<missing>" ? "<missing>" : short_image_id(r.id, no_trunc).c_str());
      continue;
    }
    std::string by = r.created_by;
    if (!no_trunc && by.size() > 45) by = by.substr(0, 44) + "…";
    out_rows.push_back({{"ID", r.id == "<missing>" ? r.id : short_image_id(r.id, no_trunc)},
                        {"CreatedSince", r.created ? (human ? human_duration(now - r.created) + " ago" : format_rfc3339_nano(r.created)) : "N/A"},
                        {"CreatedAt", format_rfc3339_nano(r.created)},
                        {"CreatedBy", by},
                        {"Size", human ? human_size(double(r.size)) : std::to_string(r.size)},
                        {"Comment", r.comment}});
  }
  if (f.boolean("quiet")) return 0;
  std::string format = f.value("format", "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}");
  auto out = format_table(format, out_rows, history_headers());
  if (!out) return std::fprintf(stderr, "template parsing error: %s\n", out.error().message.c_str()), 1;
  std::fputs(out->c_str(), stdout);
  return 0;
}

int print_inspect(const std::vector<json>& items, const std::string& format);

int cmd_image_inspect(Invocation& inv) {
  FlagSet f("minidocker image inspect [OPTIONS] IMAGE [IMAGE...]",
            {{"format", 'f', FlagKind::kValue, "Format output using a custom template"}});
  int rc = 0;
  if (!parse_or_exit(f, "image inspect", inv.args, &rc) || !require_args(f, "image inspect", 1, SIZE_MAX, &rc)) return rc;
  auto e = inv.engine();
  if (!e) return report(e.error());
  std::vector<json> items;
  for (auto& ref : f.args()) {
    auto j = image_inspect_json(**e, ref);
    if (!j) {
      std::fprintf(stderr, "Error: No such image: %s\n", ref.c_str());
      rc = 1;
      continue;
    }
    items.push_back(*j);
  }
  int prc = print_inspect(items, f.value("format"));
  return rc ? rc : prc;
}

int cmd_image_prune(Invocation& inv) {
  FlagSet f("minidocker image prune [OPTIONS]",
            {{"all", 'a', FlagKind::kBool, "Remove all unused images, not just dangling ones"},
             {"force", 'f', FlagKind::kBool, "Do not prompt for confirmation"},
             {"filter", 0, FlagKind::kList, "Provide filter values (e.g. \"until=<timestamp>\")", "filter"}});
  int rc = 0;
  if (!parse_or_exit(f, "image prune", inv.args, &rc) || !require_args(f, "image prune", 0, 0, &rc)) return rc;
  if (!f.boolean("force")) {
    std::printf(f.boolean("all") ? "WARNING! This will remove all images without at least one container associated to them.\n"
                                 : "WARNING! This will remove all dangling images.\n");
    std::printf("Are you sure you want to continue? [y/N] ");
    std::fflush(stdout);
    char answer[16] = {0};
    if (!std::fgets(answer, sizeof answer, stdin) || (answer[0] != 'y' && answer[0] != 'Y')) return 0;
  }
  auto e = inv.engine();
  if (!e) return report(e.error());
  (void)engine::reconcile_all(**e);
  image::PruneOptions o;
  o.all = f.boolean("all");
  store::ContainerFilter cf;
  cf.all = true;
  if (auto list = (*e)->containers().list(cf))
    for (auto& c : *list) o.in_use.insert(c.image);
  int64_t now = store::now_unix_nanos();
  for (auto& fl : f.list("filter")) {
    auto eq = fl.find('=');
    std::string k = fl.substr(0, eq), v = eq == std::string::npos ? "" : fl.substr(eq + 1);
    if (k == "until") {
      auto t = parse_time_filter(v, now);
      if (!t) return std::fprintf(stderr, "Error: %s\n", t.error().message.c_str()), 1;
      int64_t until = *t;
      o.filter = [until](const store::Image& img) { return img.created <= until; };
    } else if (k != "label") {
      return std::fprintf(stderr, "Error response from daemon: invalid filter '%s'\n", k.c_str()), 1;
    }
  }
  auto svc = service(**e);
  auto r = svc.prune(o);
  if (!r) return daemon_error(r.error());
  if (!r->records.empty()) {
    std::printf("Deleted Images:\n");
    for (auto& rec : r->records)
      std::printf("%s: %s\n", rec.kind == image::DeleteRecord::Kind::kUntagged ? "untagged" : "deleted", rec.value.c_str());
    std::printf("\n");
  }
  std::printf("Total reclaimed space: %s\n", human_size(double(r->space_reclaimed)).c_str());
  return 0;
}

}  // namespace md::cli
