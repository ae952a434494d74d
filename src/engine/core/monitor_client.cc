#include "engine/core/monitor_client.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

#include "base/explain.h"
#include "base/file_util.h"
#include "base/unique_fd.h"
#include "engine/core/container_config.h"
#include "engine/store/ids.h"
#include "runtime/state_store.h"

namespace md::engine {

using nlohmann::json;

bool process_alive(pid_t pid, uint64_t start_time) {
  if (pid <= 0) return false;
  // The runtime's reader: nullopt for a process that is gone or a zombie.
  auto st = runtime::process_start_time(pid);
  return st && (start_time == 0 || *st == start_time);
}

std::optional<MonitorStatus> read_monitor_status(const Paths& paths, const std::string& id) {
  auto text = read_file(paths.status_file(id));
  if (!text) return std::nullopt;
  json j = json::parse(*text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  MonitorStatus s;
  s.state = j.value("state", "");
  s.monitor_pid = j.value("monitor_pid", 0);
  s.pid = j.value("pid", 0);
  s.pid_start_time = j.value("pid_start_time", uint64_t{0});
  s.started_at = j.value("started_at", int64_t{0});
  s.finished_at = j.value("finished_at", int64_t{0});
  s.exit_code = j.value("exit_code", 0);
  s.oom_killed = j.value("oom_killed", false);
  s.restart_count = j.value("restart_count", 0);
  s.exit_count = j.value("exit_count", 0);
  s.error = j.value("error", "");
  s.health = j.value("health", json());
  return s;
}

Status spawn_monitor(Engine& e, const store::Container& c, const MonitorStart& o) {
  const Paths& p = e.paths();
  const json& cfg = c.config;
  const json& hc = c.host_config;
  std::string mdir = p.monitor_dir(c.id);
  TRY(make_directories(mdir, 0700));
  for (auto f : {p.status_file(c.id), p.exit_file(c.id), p.stop_marker(c.id), p.attach_socket(c.id),
                 p.control_socket(c.id)})
    ::unlink(f.c_str());

  std::vector<std::string> args = {
      e.monitor_path(),    "--root",      p.runtime_root(),          "--id",
      c.id,                "--bundle",    p.container_dir(c.id),     "--log-path",
      p.log_file(c.id),    "--exit-file", p.exit_file(c.id),         "--status-file",
      p.status_file(c.id), "--pid-file",  p.monitor_pid_file(c.id),  "--attach-socket",
      p.attach_socket(c.id), "--control-socket", p.control_socket(c.id), "--stop-marker",
      p.stop_marker(c.id), "--events-file", p.events_file(),         "--name",
      c.name,              "--image",     cfg.value("Image", c.image), "--restart",
      restart_policy_string(hc),
      "--exit-command",    e.self_path(),
  };
  for (auto a : {std::string("--root"), p.root, std::string("--runroot"), p.run_root,
                 std::string("container"), std::string("cleanup"), c.id}) {
    args.push_back("--exit-command-arg");
    args.push_back(a);
  }
  json log_opts = hc.value("LogConfig", json::object()).value("Config", json::object());
  if (log_opts.contains("max-size")) {
    // Docker's json-file max-size: "10m", "512k", "1g" (binary multipliers) or bytes.
    std::string v = log_opts["max-size"].get<std::string>();
    char* end = nullptr;
    double n = std::strtod(v.c_str(), &end);
    int64_t mult = 1;
    switch (end && *end ? std::tolower(static_cast<unsigned char>(*end)) : 0) {
      case 'k': mult = 1024; break;
      case 'm': mult = 1024 * 1024; break;
      case 'g': mult = 1024 * 1024 * 1024; break;
      default: break;
    }
    args.push_back("--log-max-size");
    args.push_back(std::to_string(int64_t(n * double(mult))));
  }
  if (log_opts.contains("max-file")) {
    args.push_back("--log-max-files");
    args.push_back(log_opts["max-file"].get<std::string>());
  }
  if (cfg.value("Tty", false)) {
    args.push_back("--tty");
    if (o.tty_rows > 0 && o.tty_cols > 0) {
      args.push_back("--tty-size");
      args.push_back(std::to_string(o.tty_rows) + "x" + std::to_string(o.tty_cols));
    }
  }
  if (cfg.value("OpenStdin", false)) args.push_back("--stdin");
  if (o.attach_fd >= 0) {
    args.push_back("--attach-fd");
    args.push_back(std::to_string(o.attach_fd));
  }
  if (cfg.contains("Healthcheck") && cfg["Healthcheck"].is_object()) {
    const json& h = cfg["Healthcheck"];
    if (h["Test"].is_array() && !h["Test"].empty() && h["Test"][0] != "NONE") {
      args.push_back("--health-cmd");
      args.push_back(h["Test"].dump());
      auto ns = [&](const char* k) { return h.contains(k) && h[k].is_number() ? h[k].get<int64_t>() : 0; };
      for (auto [flag, key] : {std::pair{"--health-interval", "Interval"}, {"--health-timeout", "Timeout"},
                               {"--health-start-period", "StartPeriod"}})
        if (ns(key) > 0) {
          args.push_back(flag);
          args.push_back(std::to_string(ns(key)));
        }
      if (ns("Retries") > 0) {
        args.push_back("--health-retries");
        args.push_back(std::to_string(ns("Retries")));
      }
    }
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  Explain::step("spawn minidocker-monitor");
  // --explain: the monitor (which runs the runtime) writes its steps to our stderr.
  UniqueFd explain_fd;
  if (Explain::enabled()) explain_fd = UniqueFd(::fcntl(Explain::fd(), F_DUPFD_CLOEXEC, 3));
  std::string explain_env = "MINIDOCKER_EXPLAIN_FD=" + std::to_string(explain_fd.get());
  pid_t pid = ::fork();
  if (pid < 0) return fail_errno("fork monitor");
  if (pid == 0) {
    if (explain_fd.valid()) {
      ::fcntl(explain_fd.get(), F_SETFD, 0);
      ::putenv(explain_env.data());
    }
    if (o.attach_fd >= 0) {
      int fl = ::fcntl(o.attach_fd, F_GETFD);
      if (fl >= 0) ::fcntl(o.attach_fd, F_SETFD, fl & ~FD_CLOEXEC);
    }
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  explain_fd.reset();
  Explain::step("monitor reports the container started");
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && !path_exists(p.exit_file(c.id)))
    return fail("cannot execute the monitor " + e.monitor_path(), ENOENT);
  std::string message = "the monitor failed to start the container";
  if (auto text = read_file(p.exit_file(c.id))) {
    json j = json::parse(*text, nullptr, false);
    if (j.is_object() && j.contains("error")) message = j["error"].get<std::string>();
  }
  return fail(message, EIO);
}

}  // namespace md::engine
