// top: `docker top CONTAINER [ps OPTIONS]`, the host's ps filtered to the container's
// processes, printed through Go's tabwriter settings Docker uses (minwidth 20, padding 3).
#include <cstdio>

#include "cli/common/table.h"
#include "cli/docker/cli.h"
#include "engine/core/top.h"

namespace md::cli {


int cmd_top(Invocation& inv) {
  // Not interspersed: `top web -ef` leaves -ef to ps.
  FlagSet f("minidocker top CONTAINER [ps OPTIONS]\n\nDisplay the running processes of a container", {}, false);
  int rc = 0;
  if (!parse_or_exit(f, "top", inv.args, &rc) || !require_args(f, "top", 1, SIZE_MAX, &rc)) return rc;
  std::string ps_args;
  for (size_t i = 1; i < f.args().size(); ++i) ps_args += (i > 1 ? " " : "") + f.args()[i];
  auto e = inv.engine();
  if (!e) return report(e.error());
  auto r = engine::top_container(**e, f.args()[0], ps_args.empty() ? "-ef" : ps_args);
  if (!r) {
    std::string msg = r.error().message;
    if (r.error().errno_value == ENOENT && msg.rfind("no such container", 0) == 0) msg = "No such container: " + f.args()[0];
    std::fprintf(stderr, "Error response from daemon: %s\n", msg.c_str());
    return 1;
  }
  // Docker: tabwriter.NewWriter(out, 20, 1, 3, ' ', 0).
  TabWriter w(20, 3, ' ');
  auto write_row = [&](const std::vector<std::string>& cells) {
    std::string l;
    for (size_t i = 0; i < cells.size(); ++i) l += (i ? "\t" : "") + cells[i];
    w.write(l + "\n");
  };
  write_row(r->titles);
  for (auto& p : r->processes) write_row(p);
  std::fputs(w.flush().c_str(), stdout);
  return 0;
}

}  // namespace md::cli
