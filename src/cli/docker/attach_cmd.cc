// attach: connect to a running container's monitor (its attach socket) and stream its
// output (and our stdin, unless --no-stdin) until it exits or we are interrupted.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>

#include "base/unique_fd.h"
#include "cli/docker/attach_stream.h"
#include "cli/docker/cli.h"
#include "engine/core/containers.h"

namespace md::cli {

namespace {
struct Proxy {
  engine::Engine* e;
  std::string id;
};
void forward(int sig, void* ctx) {
  auto* p = static_cast<Proxy*>(ctx);
  const char* n = sigabbrev_np(sig);
  (void)engine::kill_container(*p->e, p->id, n ? n : std::to_string(sig));
}
}  // namespace

int cmd_attach(Invocation& inv) {
  FlagSet f("minidocker attach [OPTIONS] CONTAINER",
            {{"no-stdin", 0, FlagKind::kBool, "Do not attach STDIN"},
             {"sig-proxy", 0, FlagKind::kBool, "Proxy all received signals to the process", "", "true"},
             {"detach-keys", 0, FlagKind::kValue, "Override the key sequence for detaching a container"}});
  int rc = 0;
  if (!parse_or_exit(f, "attach", inv.args, &rc) || !require_args(f, "attach", 1, 1, &rc)) return rc;
  auto e = inv.engine();
  if (!e) return report(e.error());
  auto id = (*e)->containers().resolve(f.args()[0]);
  if (!id) return std::fprintf(stderr, "Error response from daemon: %s\n", id.error().message.c_str()), 1;
  auto c = engine::reconcile_container(**e, *id);
  if (!c) return report(c.error());
  if (c->state != store::ContainerState::kRunning && c->state != store::ContainerState::kPaused)
    return std::fprintf(stderr, "You cannot attach to a stopped container, start it first\n"), 1;
  std::string path = (*e)->paths().attach_socket(*id);
  UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  if (!s.valid() || ::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return std::fprintf(stderr, "Error: cannot attach to %s: %s\n", f.args()[0].c_str(), std::strerror(errno)), 1;
  Proxy p{*e, *id};
  AttachOptions o;
  o.stdin_open = !f.boolean("no-stdin") && c->config.value("OpenStdin", false);
  o.tty = c->config.value("Tty", false);
  bool sig_proxy = !f.given("sig-proxy") || f.boolean("sig-proxy");
  if (sig_proxy && !o.tty) {
    o.on_signal = forward;
    o.ctx = &p;
  }
  pump_attach(s.get(), o);
  auto code = engine::wait_container(**e, *id, engine::WaitCondition::kNotRunning);
  return code ? *code : 0;
}

}  // namespace md::cli
