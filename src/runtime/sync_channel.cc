#include "runtime/sync_channel.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <cstring>

namespace md::runtime {

Status send_message(int fd, MessageType t) {
  SyncMessage m = {};
  m.type = t;
  if (::send(fd, &m, sizeof m, MSG_NOSIGNAL) < 0) return fail_errno("write to the container process");
  return {};
}

Result<std::optional<SyncMessage>> receive_message(int fd) {
  SyncMessage m;
  for (;;) {
    ssize_t n = ::recv(fd, &m, sizeof m, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno("read from the container process");
    if (n == 0) return std::optional<SyncMessage>();
    m.text[sizeof m.text - 1] = 0;
    return std::optional<SyncMessage>(m);
  }
}

Error message_error(const SyncMessage& m) {
  std::string msg = m.text;
  if (m.errno_value) {
    // Go's (runc's) errno text is strerror lower-cased ("no such file or directory"); the
    // docker CLI picks `run`'s exit code 127/126 by looking for exactly that text.
    std::string text = std::strerror(m.errno_value);
    if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z') text[0] = char(text[0] - 'A' + 'a');
    msg += ": " + text;
  }
  return Error{m.errno_value, msg};
}

Error child_error_or(int fd, Error e) {
  SyncMessage m;
  if (::recv(fd, &m, sizeof m, MSG_DONTWAIT) > 0 && m.type == MessageType::kError) {
    m.text[sizeof m.text - 1] = 0;
    return message_error(m);
  }
  return e;
}

Status expect_message(int fd, MessageType want, const char* who) {
  auto msg = TRY(receive_message(fd));
  if (!msg) return fail(std::string(who) + " exited before it was ready", ECHILD);
  if (msg->type == MessageType::kError) return std::unexpected(message_error(*msg));
  if (msg->type != want) return fail(std::string("unexpected message from ") + who, EPROTO);
  return {};
}

Status release_process(int fd, const nlohmann::json& state, bool send_start) {
  if (send_start) TRY(send_message(fd, MessageType::kStart));
  std::string text = state.dump();
  if (::send(fd, text.data(), text.size(), MSG_NOSIGNAL) < 0) return fail_errno("send the state to the container process");
  auto msg = TRY(receive_message(fd));
  if (msg && msg->type == MessageType::kError) return std::unexpected(message_error(*msg));
  return {};
}

namespace {
volatile pid_t g_forward_pid = 0;
void forward(int sig) {
  if (g_forward_pid > 0) ::kill(g_forward_pid, sig);
}
}  // namespace

void forward_signals_to(pid_t pid) {
  g_forward_pid = pid;
  if (pid <= 0) return;
  struct sigaction sa = {};
  sa.sa_handler = forward;
  sa.sa_flags = SA_RESTART;
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) ::sigaction(sig, &sa, nullptr);
}

int exit_code_of(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

}  // namespace md::runtime
