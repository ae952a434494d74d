#include "runtime/hooks.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/explain.h"
#include "base/unique_fd.h"
#include "runtime/proc_ns.h"

namespace md::runtime {

namespace {

Status run_one(const oci::Hook& hook, const std::string& label, const std::string& state, pid_t enter_pid) {
  std::vector<std::string> args = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = hook.env;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  // Namespace fds are opened before fork so the child only calls setns.
  std::vector<std::pair<UniqueFd, int>> ns_fds;
  if (enter_pid > 0) {
    const std::pair<const char*, int> kinds[] = {{"user", CLONE_NEWUSER}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
                                                 {"net", CLONE_NEWNET},   {"pid", CLONE_NEWPID}, {"mnt", CLONE_NEWNS}};
    for (auto& [name, flag] : kinds) {
      if (shares_namespace_with_self(enter_pid, name)) continue;
      std::string theirs = "/proc/" + std::to_string(enter_pid) + "/ns/" + name;
      int fd = ::open(theirs.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd >= 0) ns_fds.emplace_back(UniqueFd(fd), flag);
    }
  }
  int in[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return fail_errno("pipe for " + label);
  UniqueFd rd(in[0]), wr(in[1]);
  pid_t pid = ::fork();
  if (pid < 0) return fail_errno("fork " + label);
  if (pid == 0) {
    // Only the hook may hold the pipe: an intermediate process keeping the write end
    // open would leave the hook waiting for EOF on stdin forever.
    ::close(wr.get());
    for (auto& [fd, flag] : ns_fds)
      if (::setns(fd.get(), flag) != 0) _exit(126);
    if (!ns_fds.empty()) {
      // pid namespace applies to children: fork once more so the hook is inside it.
      pid_t inner = ::fork();
      if (inner < 0) _exit(126);
      if (inner > 0) {
        int st = 0;
        while (::waitpid(inner, &st, 0) < 0 && errno == EINTR) {
        }
        _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
      }
    }
    ::dup2(rd.get(), 0);
    ::execve(hook.path.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  rd.reset();
  // The hook may exit without reading stdin: ignore EPIPE.
  ::signal(SIGPIPE, SIG_IGN);
  size_t off = 0;
  while (off < state.size()) {
    ssize_t n = ::write(wr.get(), state.data() + off, state.size() - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  wr.reset();
  int status = 0;
  if (hook.timeout) {
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    struct pollfd pfd = {pidfd.get(), POLLIN, 0};
    int r = pidfd ? ::poll(&pfd, 1, *hook.timeout * 1000) : 1;
    if (r == 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return fail(label + " (" + hook.path + ") timed out after " + std::to_string(*hook.timeout) + "s", ETIMEDOUT);
    }
  }
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
    return fail(label + " (" + hook.path + ") could not be executed", ENOEXEC);
  if (WIFEXITED(status))
    return fail(label + " (" + hook.path + ") failed: exit status " + std::to_string(WEXITSTATUS(status)), ECANCELED);
  return fail(label + " (" + hook.path + ") killed by signal " + std::to_string(WTERMSIG(status)), ECANCELED);
}

}  // namespace

Status run_hooks(const std::vector<oci::Hook>& hooks, const char* kind, const nlohmann::json& state, pid_t enter_pid) {
  if (hooks.empty()) return {};
  std::string text = state.dump();
  for (size_t i = 0; i < hooks.size(); ++i) {
    std::string label = std::string(kind) + " hook #" + std::to_string(i);
    TRY(run_one(hooks[i], label, text, enter_pid));
    Explain::step("hook " + std::string(kind) + " " + hooks[i].path);
  }
  return {};
}

std::vector<oci::Hook> hooks_from_config(const nlohmann::json& config, const char* kind) {
  std::vector<oci::Hook> out;
  if (!config.is_object() || !config.contains("hooks") || !config["hooks"].is_object()) return out;
  const auto& h = config["hooks"];
  if (!h.contains(kind) || !h[kind].is_array()) return out;
  for (const auto& j : h[kind]) {
    if (!j.is_object() || !j.contains("path") || !j["path"].is_string()) continue;
    oci::Hook hook;
    hook.path = j["path"];
    if (j.contains("args") && j["args"].is_array())
      for (auto& a : j["args"]) if (a.is_string()) hook.args.push_back(a);
    if (j.contains("env") && j["env"].is_array())
      for (auto& e : j["env"]) if (e.is_string()) hook.env.push_back(e);
    if (j.contains("timeout") && j["timeout"].is_number_integer()) hook.timeout = j["timeout"].get<int>();
    out.push_back(std::move(hook));
  }
  return out;
}

}  // namespace md::runtime
