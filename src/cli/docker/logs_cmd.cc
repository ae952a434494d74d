// logs: the container's json-file log, as `docker logs` prints it.
#include <unistd.h>

#include <cstdio>

#include "cli/common/units.h"
#include "cli/docker/cli.h"
#include "engine/core/logs.h"
#include "engine/store/ids.h"

namespace md::cli {

int cmd_logs(Invocation& inv) {
  FlagSet f("minidocker logs [OPTIONS] CONTAINER",
            {{"follow", 'f', FlagKind::kBool, "Follow log output"},
             {"timestamps", 't', FlagKind::kBool, "Show timestamps"},
             {"tail", 'n', FlagKind::kValue, "Number of lines to show from the end of the logs", "string", "\"all\""},
             {"since", 0, FlagKind::kValue, "Show logs since timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" for 42 minutes)"},
             {"until", 0, FlagKind::kValue, "Show logs before a timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" for 42 minutes)"},
             {"details", 0, FlagKind::kBool, "Show extra details provided to logs"}});
  int rc = 0;
  if (!parse_or_exit(f, "logs", inv.args, &rc) || !require_args(f, "logs", 1, 1, &rc)) return rc;
  engine::LogOptions o;
  o.follow = f.boolean("follow");
  std::string tail = f.value("tail", "all");
  if (tail != "all") {
    char* end = nullptr;
    long long n = std::strtoll(tail.c_str(), &end, 10);
    if (tail.empty() || *end) return usage_error("logs", "invalid value for \"tail\": \"" + tail + "\"");
    o.tail = n < 0 ? -1 : n;
  }
  int64_t now = store::now_unix_nanos();
  for (auto [flag, out] : {std::pair{"since", &o.since_ns}, {"until", &o.until_ns}}) {
    if (!f.given(flag)) continue;
    auto t = parse_time_filter(f.value(flag), now);
    if (!t) return std::fprintf(stderr, "Error: invalid value for \"%s\": %s\n", flag, t.error().message.c_str()), 1;
    *out = *t;
  }
  auto e = inv.engine();
  if (!e) return report(e.error());
  bool ts = f.boolean("timestamps");
  auto st = engine::read_logs(**e, f.args()[0], o, [&](const engine::LogLine& l) {
    FILE* out = l.is_stderr ? stderr : stdout;
    if (ts) std::fprintf(out, "%s ", l.time.c_str());
    std::fwrite(l.text.data(), 1, l.text.size(), out);
    std::fflush(out);
    return true;
  });
  if (!st) return std::fprintf(stderr, "Error response from daemon: %s\n", st.error().message.c_str()), 1;
  return 0;
}

}  // namespace md::cli
