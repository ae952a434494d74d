// exec: `--process FILE` or argv form with runc's flags.
#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "base/file_util.h"
#include "cli/runtime/commands.h"
#include "cli/runtime/flags.h"
#include "oci/capabilities.h"

namespace md::cli {

namespace {

Result<uint32_t> parse_id(const std::string& s, const char* what) {
  char* end = nullptr;
  unsigned long v = std::strtoul(s.c_str(), &end, 10);
  if (s.empty() || !end || *end || v > 0xffffffffUL) return fail(std::string(what) + ": invalid id \"" + s + "\"", EINVAL);
  return static_cast<uint32_t>(v);
}

}  // namespace

int cmd_exec(Context& ctx) {
  Flags f({{{"process", "p"}, true, "path to a process.json (overrides the other process flags)"},
           {{"console-socket"}, true, "unix socket that receives the pty master"},
           {{"cwd"}, true, "current working directory in the container"},
           {{"env", "e"}, true, "add an environment variable (repeatable)"},
           {{"tty", "t"}, false, "allocate a pseudo-TTY"},
           {{"user", "u"}, true, "uid[:gid]"},
           {{"additional-gids", "g"}, true, "additional gid (repeatable)"},
           {{"cap", "c"}, true, "add a capability (repeatable)"},
           {{"no-new-privs"}, false, "set no_new_privs"},
           {{"detach", "d"}, false, "do not wait for the process"},
           {{"pid-file"}, true, "file to write the process pid to"},
           {{"preserve-fds"}, true, "pass this many extra fds"},
           {{"process-label"}, true, "ignored (no SELinux)"},
           {{"apparmor"}, true, "ignored (no AppArmor)"},
           {{"ignore-paused"}, false, "accepted for compatibility"}});
  for (size_t i = 1; i < ctx.args.size() && ctx.args[i][0] == '-'; ++i)
    if (ctx.args[i] == "--help" || ctx.args[i] == "-h") {
      std::printf("Usage: minidocker-runtime exec [options] <container-id> <command> [args...]\n\nOptions:\n%s", f.usage().c_str());
      return 0;
    }
  if (auto st = f.parse(ctx.args, 1); !st) return usage_error("exec", st.error().message);
  if (f.rest().empty()) return usage_error("exec", "expected <container-id>");
  runtime::ExecOptions o;
  o.id = f.rest()[0];
  o.console_socket = f.get("console-socket");
  o.pid_file = f.get("pid-file");
  o.detach = f.has("detach");
  o.preserve_fds = std::atoi(f.get("preserve-fds", "0").c_str());
  if (f.has("process")) {
    auto text = read_file(f.get("process"));
    if (!text) return report_error(with_context(text.error(), "--process"));
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_discarded()) return report_error({EINVAL, "--process " + f.get("process") + ": invalid JSON"});
    auto p = oci::parse_process(j);
    if (!p) return report_error(p.error());
    o.process = *p;
  } else {
    if (f.rest().size() < 2) return usage_error("exec", "expected <container-id> <command> [args...]");
    auto tmpl = runtime::container_process_template(ctx.global, o.id);
    if (!tmpl) return report_error(tmpl.error());
    o.process = *tmpl;
    o.process.args.assign(f.rest().begin() + 1, f.rest().end());
    o.process.terminal = f.has("tty");
    if (f.has("cwd")) o.process.cwd = f.get("cwd");
    for (auto& e : f.all("env")) {
      std::string key = e.substr(0, e.find('='));
      std::erase_if(o.process.env, [&](const std::string& x) { return x.substr(0, x.find('=')) == key; });
      o.process.env.push_back(e);
    }
    if (f.has("user")) {
      std::string u = f.get("user");
      auto colon = u.find(':');
      auto uid = parse_id(u.substr(0, colon), "--user");
      if (!uid) return report_error(uid.error());
      o.process.user.uid = *uid;
      if (colon != std::string::npos) {
        auto gid = parse_id(u.substr(colon + 1), "--user");
        if (!gid) return report_error(gid.error());
        o.process.user.gid = *gid;
      }
    }
    for (auto& g : f.all("additional-gids")) {
      auto gid = parse_id(g, "--additional-gids");
      if (!gid) return report_error(gid.error());
      o.process.user.additional_gids.push_back(*gid);
    }
    for (auto& c : f.all("cap")) {
      auto cap = oci::capability_from_name(c);
      if (!cap) return report_error({EINVAL, "--cap: unknown capability \"" + c + "\""});
      if (!o.process.capabilities) o.process.capabilities = oci::Capabilities{};
      auto& caps = *o.process.capabilities;
      for (auto* set : {&caps.bounding, &caps.effective, &caps.permitted, &caps.inheritable, &caps.ambient})
        set->push_back(*cap);
    }
    if (f.has("no-new-privs")) o.process.no_new_privileges = true;
  }
  auto rc = runtime::exec_in_container(ctx.global, o);
  if (!rc) return report_error(rc.error());
  return *rc;
}

}  // namespace md::cli
