// serve: the Docker Engine API, the seeds' /api/*, /metrics and the dashboard on unix
// sockets, TCP and TLS (src/api, docs/api.md, docs/api-server.md).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "api/server.h"
#include "cli/docker/cli.h"
#include "engine/core/paths.h"

namespace md::cli {

int cmd_serve(Invocation& inv) {
  FlagSet f("minidocker serve [OPTIONS]",
            {{"host", 'H', FlagKind::kList,
              "Where to listen: unix:///path or tcp://ADDR:PORT (default: unix:///run/minidocker/minidocker.sock, "
              "or <root>/run/minidocker.sock with --root)", "list"},
             {"web", 0, FlagKind::kList, "Serve the dashboard (and the API) on ADDR:PORT, e.g. 127.0.0.1:5000", "list"},
             {"token", 0, FlagKind::kValue,
              "Require this token on TCP and --web listeners (Authorization: Bearer, md_token cookie or ?token=); "
              "also read from $MINIDOCKER_TOKEN", "string"},
             {"tls-cert", 0, FlagKind::kValue, "TLS certificate chain (PEM) for TCP and --web listeners", "file"},
             {"tls-key", 0, FlagKind::kValue, "TLS private key (PEM)", "file"},
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
    else if (h.rfind("tcp://", 0) == 0) o.tcp.push_back(h.substr(6));
    else return usage_error("serve", "unsupported -H " + h + " (unix:///path or tcp://ADDR:PORT)");
  }
  for (auto& w : f.list("web")) {
    std::string a = w;
    if (a.rfind("http://", 0) == 0) a = a.substr(7);
    else if (a.rfind("https://", 0) == 0) a = a.substr(8);
    if (!a.empty() && a.back() == '/') a.pop_back();
    o.web.push_back(a);
  }
  for (auto* list : {&o.tcp, &o.web})
    for (auto& a : *list) {
      std::string host;
      int port = 0;
      if (!api::split_host_port(a, &host, &port))
        return usage_error("serve", "invalid address \"" + a + "\" (expected ADDR:PORT, e.g. 127.0.0.1:5000)");
    }
  o.token = f.value("token", "");
  if (o.token.empty())
    if (const char* t = std::getenv("MINIDOCKER_TOKEN")) o.token = t;
  o.tls_cert = f.value("tls-cert", "");
  o.tls_key = f.value("tls-key", "");
  if (o.unix_sockets.empty() && o.tcp.empty()) {  // no -H: the default socket (with or without --web)
    auto p = engine::Paths::resolve(o.engine.root, o.engine.run_root);
    o.unix_sockets.push_back(p.run_root + "/minidocker.sock");
  }
  return api::serve(o);
}

}  // namespace md::cli
