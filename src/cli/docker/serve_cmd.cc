// serve: the Docker Engine API on unix sockets (src/api, docs/api.md).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "api/server.h"
#include "cli/docker/cli.h"
#include "engine/core/paths.h"

namespace md::cli {

int cmd_serve(Invocation& inv) {
  FlagSet f("minidocker serve [OPTIONS]",
            {{"host", 'H', FlagKind::kList, "Socket to listen on: unix:///path (default: unix:///run/minidocker/minidocker.sock, "
                                            "or <root>/run/minidocker.sock with --root)", "list"},
             {"workers", 0, FlagKind::kValue, "Threads running engine operations, each with its own engine", "int", "4"}});
  int rc = 0;
  if (!parse_or_exit(f, "serve", inv.args, &rc)) return rc;
  if (!require_args(f, "serve", 0, 0, &rc)) return rc;
  if (::geteuid() != 0) return report(Error{EPERM, "minidocker serve needs root"});
  api::ServeOptions o;
  o.engine.root = inv.globals.root;
  o.engine.run_root = inv.globals.run_root;
  o.workers = std::atoi(f.value("workers", "4").c_str());
  if (o.workers < 1 || o.workers > 64) return usage_error("serve", "--workers must be between 1 and 64");
  for (auto& h : f.list("host")) {
    if (h.rfind("unix://", 0) == 0) o.unix_sockets.push_back(h.substr(7));
    else if (!h.empty() && h[0] == '/') o.unix_sockets.push_back(h);
    else return usage_error("serve", "unsupported -H " + h + ": only unix:///path listeners exist so far");
  }
  if (o.unix_sockets.empty()) {
    auto p = engine::Paths::resolve(o.engine.root, o.engine.run_root);
    o.unix_sockets.push_back(p.run_root + "/minidocker.sock");
  }
  return api::serve(o);
}

}  // namespace md::cli
