#include "monitor/options.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "base/file_util.h"

namespace md::monitor {

namespace {

Result<int64_t> parse_int(const std::string& flag, const std::string& v) {
  char* end = nullptr;
  errno = 0;
  long long n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end || errno) return fail(flag + ": not a number: \"" + v + "\"", EINVAL);
  return static_cast<int64_t>(n);
}

// Docker: 0 means "the default"; otherwise at least 1 ms.
Result<int64_t> parse_duration(const std::string& flag, const std::string& v, int64_t dflt) {
  int64_t n = TRY(parse_int(flag, v));
  if (n < 0) return fail(flag + ": must not be negative: \"" + v + "\"", EINVAL);
  if (n == 0) return dflt;
  if (n < 1'000'000) return fail(flag + ": must be at least 1 ms (1000000 ns): \"" + v + "\"", EINVAL);
  return n;
}

// "24x80" → rows 24, cols 80.
Status parse_tty_size(const std::string& v, unsigned short& rows, unsigned short& cols) {
  auto x = v.find('x');
  auto bad = [&] { return fail("--tty-size: expected ROWSxCOLS (e.g. 24x80): \"" + v + "\"", EINVAL); };
  if (x == std::string::npos) return bad();
  char* end = nullptr;
  errno = 0;
  unsigned long r = std::strtoul(v.c_str(), &end, 10);
  if (end != v.c_str() + x || errno || r > 65535) return bad();
  unsigned long c = std::strtoul(v.c_str() + x + 1, &end, 10);
  if (*end || end == v.c_str() + x + 1 || errno || c > 65535) return bad();
  rows = static_cast<unsigned short>(r);
  cols = static_cast<unsigned short>(c);
  return {};
}

}  // namespace

const char* usage_text() {
  return "usage: minidocker-monitor --root DIR --id ID --bundle DIR --log-path FILE --exit-file FILE\n"
         "       [--log-max-size BYTES] [--log-max-files N] [--pid-file FILE] [--foreground]\n"
         "       [--status-file FILE] [--tty] [--tty-size ROWSxCOLS] [--stdin] [--attach-fd N]\n"
         "       [--attach-socket PATH] [--control-socket PATH]\n"
         "       [--restart no|always|unless-stopped|on-failure[:N]] [--stop-marker PATH]\n"
         "       [--health-cmd JSON] [--health-interval NS] [--health-timeout NS] [--health-retries N]\n"
         "       [--health-start-period NS]\n"
         "       [--events-file FILE] [--name NAME] [--image IMAGE]\n"
         "       [--exit-command PATH] [--exit-command-arg ARG]...\n";
}

Result<RestartPolicy> parse_restart_policy(const std::string& text) {
  RestartPolicy p;
  if (text.empty() || text == "no") return p;
  if (text == "always") {
    p.kind = RestartKind::kAlways;
    return p;
  }
  if (text == "unless-stopped") {
    p.kind = RestartKind::kUnlessStopped;
    return p;
  }
  if (text == "on-failure" || text.rfind("on-failure:", 0) == 0) {
    p.kind = RestartKind::kOnFailure;
    if (text.size() > 10) {
      std::string n = text.substr(11);
      char* end = nullptr;
      errno = 0;
      long v = std::strtol(n.c_str(), &end, 10);
      if (n.empty() || *end || errno || v < 0 || v > 1'000'000'000)
        return fail("--restart: bad maximum retry count in \"" + text + "\" (on-failure[:N], N >= 0)", EINVAL);
      p.max_retries = static_cast<int>(v);
    }
    return p;
  }
  return fail("--restart: unknown policy \"" + text + "\" (no, always, unless-stopped, on-failure[:N])", EINVAL);
}

Result<std::vector<std::string>> parse_health_cmd(const std::string& json_text) {
  auto j = nlohmann::json::parse(json_text, nullptr, false);
  if (j.is_discarded() || !j.is_array())
    return fail("--health-cmd: not a JSON array of strings: " + json_text, EINVAL);
  std::vector<std::string> test;
  for (auto& e : j) {
    if (!e.is_string()) return fail("--health-cmd: not a JSON array of strings: " + json_text, EINVAL);
    test.push_back(e.get<std::string>());
  }
  if (test.empty() || test[0] == "NONE") return std::vector<std::string>{};
  if (test[0] == "CMD-SHELL") {
    if (test.size() != 2) return fail("--health-cmd: CMD-SHELL takes exactly one command string: " + json_text, EINVAL);
    return std::vector<std::string>{"/bin/sh", "-c", test[1]};
  }
  if (test[0] == "CMD") {
    if (test.size() < 2) return fail("--health-cmd: CMD needs a command: " + json_text, EINVAL);
    return std::vector<std::string>(test.begin() + 1, test.end());
  }
  return fail("--health-cmd: the first element must be CMD, CMD-SHELL or NONE, not \"" + test[0] + "\"", EINVAL);
}

Result<MonitorOptions> parse_args(int argc, char** argv) {
  MonitorOptions o;
  for (int i = 0; i < argc; i++) {
    std::string a = argv[i];
    std::string value;
    bool has_value = false;
    if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
      has_value = true;
    }
    auto next = [&]() -> Result<std::string> {
      if (has_value) return value;
      if (i + 1 >= argc) return fail(a + ": missing value", EINVAL);
      return std::string(argv[++i]);
    };
    auto no_value = [&]() -> Status {
      if (has_value) return fail(a + " takes no value (got \"" + value + "\")", EINVAL);
      return {};
    };
    if (a == "--foreground") TRY(no_value()), o.foreground = true;
    else if (a == "--tty") TRY(no_value()), o.tty = true;
    else if (a == "--stdin") TRY(no_value()), o.stdin_open = true;
    else if (a == "--root") o.runtime_root = TRY(next());
    else if (a == "--id") o.id = TRY(next());
    else if (a == "--bundle") o.bundle = TRY(next());
    else if (a == "--log-path") o.log_path = TRY(next());
    else if (a == "--exit-file") o.exit_file = TRY(next());
    else if (a == "--pid-file") o.pid_file = TRY(next());
    else if (a == "--log-max-size") o.log_max_size = TRY(parse_int(a, TRY(next())));
    else if (a == "--log-max-files") o.log_max_files = static_cast<int>(TRY(parse_int(a, TRY(next()))));
    else if (a == "--status-file") o.status_file = TRY(next());
    else if (a == "--tty-size") TRY(parse_tty_size(TRY(next()), o.tty_rows, o.tty_cols));
    else if (a == "--attach-fd") {
      std::string v = TRY(next());
      int64_t fd = TRY(parse_int(a, v));
      struct stat st;
      if (fd < 3 || fd > 65535) return fail("--attach-fd: must be an inherited fd >= 3: \"" + v + "\"", EINVAL);
      if (::fstat(static_cast<int>(fd), &st) != 0) return fail_errno("--attach-fd " + v);
      if (!S_ISSOCK(st.st_mode)) return fail("--attach-fd " + v + ": not a socket", ENOTSOCK);
      o.attach_fd = static_cast<int>(fd);
    }
    else if (a == "--attach-socket") o.attach_socket = TRY(next());
    else if (a == "--control-socket") o.control_socket = TRY(next());
    else if (a == "--restart") o.restart = TRY(parse_restart_policy(TRY(next())));
    else if (a == "--stop-marker") o.stop_marker = TRY(next());
    else if (a == "--health-cmd") o.health.argv = TRY(parse_health_cmd(TRY(next())));
    else if (a == "--health-interval") o.health.interval_ns = TRY(parse_duration(a, TRY(next()), 30'000'000'000));
    else if (a == "--health-timeout") o.health.timeout_ns = TRY(parse_duration(a, TRY(next()), 30'000'000'000));
    else if (a == "--health-start-period") o.health.start_period_ns = TRY(parse_duration(a, TRY(next()), 0));
    else if (a == "--health-retries") {
      std::string v = TRY(next());
      int64_t n = TRY(parse_int(a, v));
      if (n < 0 || n > 1'000'000) return fail("--health-retries: must be between 0 and 1000000: \"" + v + "\"", EINVAL);
      o.health.retries = n == 0 ? 3 : static_cast<int>(n);
    }
    else if (a == "--events-file") o.events_file = TRY(next());
    else if (a == "--name") o.name = TRY(next());
    else if (a == "--image") o.image = TRY(next());
    else if (a == "--exit-command") o.exit_command = TRY(next());
    else if (a == "--exit-command-arg") o.exit_command_args.push_back(TRY(next()));
    else return fail("unknown argument \"" + a + "\"", EINVAL);
  }
  for (auto [flag, v] : {std::pair{"--root", &o.runtime_root}, {"--id", &o.id}, {"--bundle", &o.bundle},
                         {"--log-path", &o.log_path}, {"--exit-file", &o.exit_file}})
    if (v->empty()) return fail(std::string(flag) + " is required", EINVAL);
  if (o.log_max_files < 1) return fail("--log-max-files must be >= 1 (got " + std::to_string(o.log_max_files) + ")", EINVAL);
  if ((o.tty_rows || o.tty_cols) && !o.tty) return fail("--tty-size needs --tty", EINVAL);
  if (!o.exit_command_args.empty() && o.exit_command.empty()) return fail("--exit-command-arg needs --exit-command", EINVAL);
  // Paths become absolute before we chdir("/").
  for (std::string* p : {&o.runtime_root, &o.bundle, &o.log_path, &o.exit_file, &o.pid_file, &o.status_file,
                         &o.attach_socket, &o.control_socket, &o.stop_marker, &o.events_file})
    if (!p->empty()) *p = absolute_path(*p);
  if (!o.exit_command.empty() && o.exit_command.find('/') != std::string::npos) o.exit_command = absolute_path(o.exit_command);
  if (o.attach_fd >= 0) ::fcntl(o.attach_fd, F_SETFD, FD_CLOEXEC);
  return o;
}

}  // namespace md::monitor
