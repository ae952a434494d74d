#include "monitor/status_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "monitor/health.h"
#include "monitor/json_out.h"

namespace md::monitor {

namespace {

void build(JsonOut& j, const ContainerStatusInfo& s, const HealthState* health) {
  j.raw("{").key("state", true).str(s.state);
  j.key("monitor_pid").num(s.monitor_pid).key("pid").num(s.pid);
  j.key("pid_start_time").num(static_cast<int64_t>(s.pid_start_time));
  j.key("started_at").num(s.started_at).key("finished_at").num(s.finished_at);
  j.key("exit_code").num(s.exit_code).key("oom_killed").boolean(s.oom_killed);
  j.key("restart_count").num(s.restart_count).key("exit_count").num(s.exit_count);
  j.key("error").str(s.error).key("health");
  if (health) health->write_json(j);
  else j.raw("null");
  j.raw("}\n");
}

}  // namespace

std::string status_json(const ContainerStatusInfo& s, const HealthState* health) {
  JsonOut j;
  build(j, s, health);
  return std::string(j.view());
}

Status write_status_file(const std::string& path, const ContainerStatusInfo& s, const HealthState* health) {
  JsonOut j;
  build(j, s, health);
  if (!j.ok()) return fail("status file " + path + ": document too large", EOVERFLOW);
  // By hand rather than write_file_atomic: no std::string copy of the document.
  char tmp[4200];
  int n = 0;
  {
    const char* suffix = ".tmp.";
    if (path.size() + 32 > sizeof tmp) return fail("status file path too long: " + path, ENAMETOOLONG);
    for (char c : path) tmp[n++] = c;
    for (const char* p = suffix; *p; p++) tmp[n++] = *p;
    n += static_cast<int>(format_int(tmp + n, ::getpid()));
    tmp[n] = 0;
  }
  int fd = ::open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail_errno("create " + std::string(tmp));
  auto v = j.view();
  size_t off = 0;
  while (off < v.size()) {
    ssize_t w = ::write(fd, v.data() + off, v.size() - off);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp);
      return fail_errno("write " + std::string(tmp), err);
    }
    off += static_cast<size_t>(w);
  }
  ::close(fd);
  if (::rename(tmp, path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp);
    return fail_errno("rename " + std::string(tmp) + " to " + path, err);
  }
  return {};
}

}  // namespace md::monitor
