#include "engine/core/top.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <regex>

#include "base/unique_fd.h"
#include "engine/core/containers.h"
#include "engine/store/container_lock.h"
#include "runtime/container.h"

extern char** environ;

namespace md::engine {

using store::ContainerState;

namespace {

// Go's strings.FieldsFunc(s, isASCIISpace): Docker splits ps output on ASCII spaces only.
std::vector<std::string> fields_ascii(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

struct Output {
  int status = -1;
  std::string out, err;
};

// Runs argv (through $PATH), capturing stdout and stderr.
Result<Output> run_capture(const std::vector<std::string>& argv) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return fail_errno("pipe");
  UniqueFd out_r(out_pipe[0]), out_w(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) return fail_errno("pipe");
  UniqueFd err_r(err_pipe[0]), err_w(err_pipe[1]);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out_w.get(), 1);
  posix_spawn_file_actions_adddup2(&fa, err_w.get(), 2);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return fail_errno("exec " + argv[0], rc);
  out_w.reset();
  err_w.reset();
  Output o;
  pollfd p[2] = {{out_r.get(), POLLIN, 0}, {err_r.get(), POLLIN, 0}};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    int n = ::poll(p, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t r = ::read(p[i].fd, buf, sizeof buf);
      if (r > 0) {
        (i == 0 ? o.out : o.err).append(buf, size_t(r));
      } else if (r == 0 || errno != EINTR) {
        p[i].fd = -1;
        --open_fds;
      }
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  o.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return o;
}

std::vector<std::string> split_args(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= s.size()) {
    size_t sp = s.find(' ', i);
    if (sp == std::string::npos) sp = s.size();
    if (sp > i) out.push_back(s.substr(i, sp - i));
    i = sp + 1;
  }
  return out;
}

}  // namespace

Status validate_ps_args(const std::string& ps_args) {
  static const std::regex re(R"(\s+([^\s]*)=\s*(PID[^\s]*))");
  for (auto it = std::sregex_iterator(ps_args.begin(), ps_args.end(), re); it != std::sregex_iterator(); ++it) {
    std::string k = (*it)[1], v = (*it)[2];
    if (k != "pid") return fail("specifying \"" + k + "=" + v + "\" is not allowed", EINVAL);
  }
  return {};
}

Result<TopResult> parse_ps_output(const std::string& output, const std::vector<int>& pids) {
  TopResult r;
  size_t nl = output.find('\n');
  r.titles = fields_ascii(output.substr(0, nl));
  int pid_index = -1;
  for (size_t i = 0; i < r.titles.size(); ++i)
    if (r.titles[i] == "PID") {
      pid_index = int(i);
      break;
    }
  if (pid_index < 0) return fail("Couldn't find PID field in ps output", EINVAL);
  size_t pos = nl == std::string::npos ? output.size() : nl + 1;
  while (pos < output.size()) {
    size_t end = output.find('\n', pos);
    if (end == std::string::npos) end = output.size();
    std::string line = output.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) continue;
    auto fields = fields_ascii(line);
    if (fields.size() <= size_t(pid_index)) continue;
    std::string pid_text = fields[size_t(pid_index)];
    // `ps -eLf`-style thread rows print "-" for the PID and the LWP next to it.
    if (pid_text == "-" && fields.size() > size_t(pid_index) + 1) pid_text = fields[size_t(pid_index) + 1];
    char* endp = nullptr;
    long p = std::strtol(pid_text.c_str(), &endp, 10);
    if (pid_text.empty() || *endp != '\0')
      return fail("Unexpected pid '" + fields[size_t(pid_index)] + "': strconv.Atoi: parsing \"" + pid_text +
                      "\": invalid syntax",
                  EINVAL);
    if (std::find(pids.begin(), pids.end(), int(p)) == pids.end()) continue;
    // As many fields as titles: the last one takes the rest of the line ("sleep 100").
    std::vector<std::string> row;
    size_t keep = r.titles.size() - 1;
    for (size_t i = 0; i < fields.size() && i < keep; ++i) row.push_back(fields[i]);
    std::string rest;
    for (size_t i = keep; i < fields.size(); ++i) {
      if (!rest.empty()) rest += ' ';
      rest += fields[i];
    }
    row.push_back(rest);
    r.processes.push_back(std::move(row));
  }
  return r;
}

Result<TopResult> top_container(Engine& e, const std::string& ref, const std::string& ps_args) {
  std::string args_text = ps_args.empty() ? "-ef" : ps_args;
  TRY(validate_ps_args(args_text));
  std::string id = TRY(e.containers().resolve(ref));
  store::Container c = TRY(reconcile_container(e, id));
  if (c.state == ContainerState::kRestarting)
    return fail("Container " + c.id + " is restarting, wait until the container is running", EINVAL);
  if (c.state != ContainerState::kRunning && c.state != ContainerState::kPaused)
    return fail("container " + c.id + " is not running", EINVAL);
  auto pids = TRY(runtime::container_pids(runtime::GlobalOptions{e.paths().runtime_root()}, id));
  std::vector<std::string> argv = {"ps"};
  for (auto& a : split_args(args_text)) argv.push_back(a);
  Output out;
  bool ok = false;
  if (!pids.empty()) {
    std::string list;
    for (int p : pids) {
      if (!list.empty()) list += ',';
      list += std::to_string(p);
    }
    auto with_q = argv;
    with_q.push_back("-q");
    with_q.push_back(list);
    auto o = run_capture(with_q);
    if (o && o->status == 0) {
      out = std::move(*o);
      ok = true;
    }
  }
  if (!ok) {
    // Some ps options (BSD "aux", "f") cannot be combined with -q: without it.
    out = TRY(run_capture(argv));
    if (out.status != 0) {
      std::string first = out.err.substr(0, out.err.find('\n'));
      if (first.empty()) first = "exit status " + std::to_string(out.status);
      return fail("ps: " + first, EIO);
    }
  }
  return parse_ps_output(out.out, pids);
}

}  // namespace md::engine
