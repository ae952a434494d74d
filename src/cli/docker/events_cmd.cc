// events: the engine's event log (events.log), filtered, optionally followed.
#include <cstdio>

#include "cli/common/go_template.h"
#include "cli/common/units.h"
#include "cli/docker/cli.h"
#include "engine/core/events.h"
#include "engine/store/ids.h"

namespace md::cli {

using nlohmann::json;

int cmd_events(Invocation& inv) {
  FlagSet f("minidocker events [OPTIONS]",
            {{"filter", 'f', FlagKind::kList, "Filter output based on conditions provided", "filter"},
             {"format", 0, FlagKind::kValue, "Format output using a custom template"},
             {"since", 0, FlagKind::kValue, "Show all events created since timestamp"},
             {"until", 0, FlagKind::kValue, "Stream events until this timestamp"}});
  int rc = 0;
  if (!parse_or_exit(f, "events", inv.args, &rc) || !require_args(f, "events", 0, 0, &rc)) return rc;
  engine::EventQuery q;
  int64_t now = store::now_unix_nanos();
  for (auto [flag, out] : {std::pair{"since", &q.since_ns}, {"until", &q.until_ns}}) {
    if (!f.given(flag)) continue;
    auto t = parse_time_filter(f.value(flag), now);
    if (!t) return std::fprintf(stderr, "Error: invalid value for \"%s\": %s\n", flag, t.error().message.c_str()), 1;
    *out = *t;
  }
  // Docker: without --until, events follow; --since alone replays then follows.
  q.follow = !f.given("until");
  if (!f.given("since") && !f.given("until")) q.since_ns = now;
  for (auto& fl : f.list("filter")) {
    auto eq = fl.find('=');
    if (eq == std::string::npos) return usage_error("events", "bad format of filter (expected name=value)");
    q.filters[fl.substr(0, eq)].push_back(fl.substr(eq + 1));
  }
  auto e = inv.engine();
  if (!e) return report(e.error());
  std::optional<GoTemplate> tpl;
  std::string format = f.value("format");
  if (!format.empty() && format != "{{json .}}") {
    auto t = GoTemplate::parse(format);
    if (!t) return std::fprintf(stderr, "template parsing error: %s\n", t.error().message.c_str()), 1;
    tpl = std::move(*t);
  }
  auto st = engine::read_events((*e)->paths().events_file(), q, [&](const json& ev) {
    if (format == "{{json .}}") {
      std::printf("%s\n", ev.dump().c_str());
    } else if (tpl) {
      auto out = tpl->execute(ev);
      std::printf("%s\n", out ? out->c_str() : "");
    } else {
      // 2026-11-23T19:14:15.473689359Z container start 3f2a… (image=busybox, name=web)
      std::string attrs;
      for (auto& [k, v] : ev["Actor"]["Attributes"].items())
        attrs += (attrs.empty() ? "" : ", ") + k + "=" + v.get<std::string>();
      std::string when = format_rfc3339_nano(ev.value("timeNano", int64_t{0}));
      std::printf("%s %s %s %s (%s)\n", when.c_str(), ev.value("Type", "").c_str(), ev.value("Action", "").c_str(),
                  ev["Actor"].value("ID", "").c_str(), attrs.c_str());
    }
    std::fflush(stdout);
    return !std::ferror(stdout);
  });
  if (!st) return report(st.error());
  return 0;
}

int cmd_version(Invocation& inv) {
  FlagSet f("minidocker version [OPTIONS]", {{"format", 'f', FlagKind::kValue, "Format output using a custom template"}});
  int rc = 0;
  if (!parse_or_exit(f, "version", inv.args, &rc)) return rc;
  json v = {{"Client", {{"Version", "0.1.0"}, {"ApiVersion", "1.43"}, {"Os", "linux"}, {"Arch", "amd64"}}},
            {"Server", {{"Version", "0.1.0"}, {"ApiVersion", "1.43"}, {"MinAPIVersion", "1.24"}, {"Os", "linux"},
                        {"Engine", "minidocker (daemonless)"}}}};
  std::string format = f.value("format");
  if (!format.empty()) {
    auto t = GoTemplate::parse(format);
    if (!t) return std::fprintf(stderr, "template parsing error: %s\n", t.error().message.c_str()), 1;
    auto out = t->execute(v);
    std::printf("%s\n", out ? out->c_str() : "");
    return 0;
  }
  std::printf(
      "Client:\n Version:           0.1.0\n API version:       1.43\n OS/Arch:           linux/amd64\n\n"
      "Server: minidocker (daemonless: the engine runs in each command)\n Engine:\n  Version:          0.1.0\n"
      "  API version:      1.43 (minimum version 1.24)\n  OS/Arch:          linux/amd64\n");
  return 0;
}

}  // namespace md::cli
