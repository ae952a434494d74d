// run, create, and start -a: create the container from Docker's create body, start it
// with the monitor, and (in the foreground) stay attached until it exits.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>

#include "base/explain.h"
#include "base/file_util.h"
#include "base/unique_fd.h"
#include "cli/common/run_flags.h"
#include "cli/docker/attach_stream.h"
#include "cli/docker/cli.h"
#include "cli/common/seed_config.h"
#include "engine/core/containers.h"
#include "runtime/container.h"

namespace md::cli {

namespace {

using nlohmann::json;

// Docker's codes for `run`: 125 for the engine's errors, 126/127 for a command that cannot
// be executed or found.
int run_error(const Error& e, const char* verb, bool starting = false) {
  int code = 125;
  // Only the container's own command failing to execute is 126/127 (start_container
  // reports it with ENOENT/EACCES and the runtime's "exec: …" message).
  if (starting && e.message.find("exec: ") != std::string::npos) {
    if (e.errno_value == ENOENT) code = 127;
    if (e.errno_value == EACCES) code = 126;
  }
  std::fprintf(stderr, "minidocker: Error response from daemon: %s\nSee 'minidocker %s --help'.\n", e.message.c_str(), verb);
  return code;
}

struct SignalProxy {
  engine::Engine* engine;
  std::string id;
};

void proxy_signal(int sig, void* ctx) {
  auto* p = static_cast<SignalProxy*>(ctx);
  const char* name = sigabbrev_np(sig);
  (void)engine::kill_container(*p->engine, p->id, name ? name : std::to_string(sig));
}

// Starts `id` attached through a socketpair the monitor inherits, pumps its output until
// it exits, and returns its exit code. `rm`: remove it afterwards (we hold the foreground
// lock, so the monitor's cleanup leaves that to us).
int start_and_attach(engine::Engine& e, const std::string& id, bool interactive, bool tty, bool sig_proxy,
                     bool rm, const char* verb) {
  std::string mdir = e.paths().monitor_dir(id);
  if (auto st = make_directories(mdir, 0700); !st) return run_error(st.error(), verb);
  UniqueFd fg(::open((mdir + "/foreground.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (fg.valid()) ::flock(fg.get(), LOCK_SH);
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return run_error(Error{errno, "socketpair"}, verb);
  UniqueFd ours(sv[0]), theirs(sv[1]);
  engine::MonitorStart ms;
  ms.attach_fd = theirs.get();
  if (tty) terminal_size(&ms.tty_rows, &ms.tty_cols);
  auto st = engine::start_container(e, id, ms);
  theirs.reset();
  if (!st) {
    fg.reset();
    if (rm) (void)engine::remove_container(e, id, true, true);
    return run_error(st.error(), verb, true);
  }
  SignalProxy proxy{&e, id};
  AttachOptions ao;
  ao.stdin_open = interactive;
  ao.tty = tty;
  if (sig_proxy && !tty) {
    ao.on_signal = proxy_signal;
    ao.ctx = &proxy;
  }
  pump_attach(ours.get(), ao);
  ours.reset();
  Explain::step("container output ended (monitor closed the attach stream)");
  auto code = engine::wait_container(e, id, engine::WaitCondition::kNotRunning);
  Explain::step("container exited: recorded, rootfs unmounted, runtime state deleted");
  fg.reset();  // from here the monitor's cleanup (or any command) may remove an --rm container
  if (rm) {
    (void)engine::remove_container(e, id, true, true);
    Explain::step("container removed (--rm)");
  }
  if (!code) return run_error(code.error(), verb);
  return *code;
}

int create_or_run(Invocation& inv, RunVerb verb) {
  const char* name = verb == RunVerb::kRun ? "run" : "create";
  auto parsed = parse_run_args(inv.args, verb);
  if (!parsed) {
    if (parsed.error().message == "help") return 0;
    return usage_error(name, parsed.error().message);
  }
  RunArgs ra = std::move(*parsed);
  if (ra.help) {
    std::printf("%s", run_help(verb).c_str());
    return 0;
  }
  if (ra.explain) Explain::enable(2);
  if (!ra.config_file.empty()) {
    auto merged = apply_seed_config(ra);
    if (!merged) return run_error(merged.error(), name);
  }
  auto e = inv.engine();
  if (!e) return run_error(e.error(), name);
  Explain::step("open engine state " + (*e)->paths().root);
  auto c = engine::create_container(**e, engine::CreateRequest{ra.body, ra.name, ra.pod});
  if (!c) {
    if (c.error().message.rfind("No such image", 0) == 0)
      std::fprintf(stderr, "Unable to find image '%s' locally\n",
                   store::normalize_tag(ra.body.value("Image", "")).value_or(ra.body.value("Image", "")).c_str());
    return run_error(c.error(), name);
  }
  if (!ra.cidfile.empty()) {
    if (path_exists(ra.cidfile)) {
      (void)engine::remove_container(**e, c->id, true, true);
      return run_error(Error{EEXIST, "Container ID file found, make sure the other container isn't running or delete " + ra.cidfile}, name);
    }
    (void)write_file_atomic(ra.cidfile, c->id, 0644);
  }
  if (verb == RunVerb::kCreate) {
    std::printf("%s\n", c->id.c_str());
    return 0;
  }
  bool rm = ra.body["HostConfig"].value("AutoRemove", false);
  if (ra.detach) {
    auto st = engine::start_container(**e, c->id);
    if (!st) {
      if (rm) (void)engine::remove_container(**e, c->id, true, true);
      return run_error(st.error(), name, true);
    }
    std::printf("%s\n", c->id.c_str());
    return 0;
  }
  return start_and_attach(**e, c->id, ra.interactive, ra.tty, ra.sig_proxy, rm, name);
}

}  // namespace

int cmd_run(Invocation& inv) { return create_or_run(inv, RunVerb::kRun); }
int cmd_create(Invocation& inv) { return create_or_run(inv, RunVerb::kCreate); }

int start_attached(Invocation& inv, const std::string& ref, bool interactive) {
  auto e = inv.engine();
  if (!e) return report(e.error());
  auto c = (*e)->containers().get(ref);
  if (!c) return report(c.error());
  bool tty = c->config.value("Tty", false);
  return start_and_attach(**e, c->id, interactive && c->config.value("OpenStdin", false), tty, true,
                          false, "start");
}

}  // namespace md::cli
