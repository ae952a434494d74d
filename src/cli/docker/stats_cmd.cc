// stats: `docker stats [--no-stream] [--no-trunc] [-a] [--format] [CONTAINER...]`.
//
// Each frame takes a sample of every container (engine/core/stats.h) and prints it with
// the previous one, so CPU % is Docker's delta over the interval. --no-stream takes two
// samples 300 ms apart and prints once. Streaming redraws every second: on a terminal the
// screen is cleared first ("\033[2J\033[H", as Docker does), otherwise frames follow each
// other. Without names, the running containers (all with -a) are listed again each frame,
// so containers that start or stop come and go as with Docker.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <thread>

#include "cli/common/table.h"
#include "cli/docker/cli.h"
#include "engine/core/containers.h"
#include "engine/core/stats.h"
#include "engine/store/ids.h"

namespace md::cli {

namespace {

using nlohmann::json;

constexpr const char* kDefaultFormat =
    "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";

struct Target {
  std::string label;  // what the Container column shows
  std::string id;
};

volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

}  // namespace

int cmd_stats(Invocation& inv) {
  FlagSet f("minidocker stats [OPTIONS] [CONTAINER...]\n\nDisplay a live stream of container(s) resource usage statistics",
            {{"all", 'a', FlagKind::kBool, "Show all containers (default shows just running)"},
             {"no-stream", 0, FlagKind::kBool, "Disable streaming stats and only pull the first result"},
             {"no-trunc", 0, FlagKind::kBool, "Do not truncate output"},
             {"format", 0, FlagKind::kValue, "Format output using a custom template ('table', 'table TEMPLATE', 'json', 'TEMPLATE')"}});
  int rc = 0;
  if (!parse_or_exit(f, "stats", inv.args, &rc)) return rc;
  bool no_stream = f.boolean("no-stream"), trunc = !f.boolean("no-trunc"), all = f.boolean("all");
  std::string format = f.value("format");
  if (format.empty() || format == "table") format = kDefaultFormat;
  else if (format == "json") format = "{{json .}}";
  auto formatter = TableFormatter::parse(format, stats_headers());
  if (!formatter) {
    std::fprintf(stderr, "template parsing error: %s\n", formatter.error().message.c_str());
    return 1;
  }
  auto e = inv.engine();
  if (!e) return report(e.error());
  engine::Engine& eng = **e;

  // Named containers: resolved once; an unknown one is an error before anything prints.
  bool show_all = f.args().empty();
  std::vector<Target> named;
  std::vector<std::string> errors;
  for (auto& ref : f.args()) {
    auto id = eng.containers().resolve(ref);
    if (!id) {
      std::string msg = id.error().message;
      if (id.error().errno_value == ENOENT) msg = "No such container: " + ref;
      errors.push_back("Error response from daemon: " + msg);
      continue;
    }
    named.push_back({ref, *id});
  }
  if (!errors.empty()) {
    for (auto& m : errors) std::fprintf(stderr, "%s\n", m.c_str());
    return 1;
  }

  auto targets = [&]() -> std::vector<Target> {
    if (!show_all) return named;
    std::vector<Target> out;
    (void)engine::reconcile_all(eng);
    store::ContainerFilter cf;
    cf.all = all;
    if (auto list = eng.containers().list(cf))
      for (auto& c : *list) out.push_back({store::short_id(c.id), c.id});
    return out;
  };
  auto sample = [&](const Target& t) -> engine::ContainerStats {
    auto c = show_all ? eng.containers().get_by_id(t.id) : engine::reconcile_container(eng, t.id);
    engine::ContainerStats s;
    s.id = t.id;
    if (!c) return s;
    s.name = c->name;
    if (auto r = engine::sample_container_stats(eng, *c)) return *r;
    return s;
  };

  std::map<std::string, engine::ContainerStats> prev;
  auto take = [&](const std::vector<Target>& ts) {
    std::map<std::string, engine::ContainerStats> cur;
    for (auto& t : ts) cur[t.id] = sample(t);
    return cur;
  };
  std::vector<Target> ts = targets();
  prev = take(ts);
  bool tty = ::isatty(STDOUT_FILENO);
  if (!no_stream) {
    ::signal(SIGINT, on_signal);
    ::signal(SIGTERM, on_signal);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(no_stream ? 300 : 500));
  for (;;) {
    auto cur = take(ts);
    std::vector<json> rows;
    for (auto& t : ts) {
      auto it = cur.find(t.id);
      if (it == cur.end()) continue;
      auto p = prev.find(t.id);
      engine::StatsEntry entry = engine::stats_entry(p != prev.end() ? p->second : engine::ContainerStats{}, it->second);
      rows.push_back(engine::stats_row(entry, t.label, trunc));
    }
    auto out = formatter->render(rows);
    if (!out) {
      std::fprintf(stderr, "failed to execute template: %s\n", out.error().message.c_str());
      return 1;
    }
    if (!no_stream && tty) std::fputs("\033[2J\033[H", stdout);
    std::fputs(out->c_str(), stdout);
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) return 0;  // reader went away
    if (no_stream || g_stop) return 0;
    prev = std::move(cur);
    for (int i = 0; i < 10 && !g_stop; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (g_stop) return 0;
    if (show_all) {
      ts = targets();
      for (auto& t : ts)
        if (!prev.count(t.id)) prev[t.id] = sample(t);  // new container: its first sample
    }
  }
}

}  // namespace md::cli
