#include "monitor/events.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "monitor/json_out.h"

namespace md::monitor {

namespace {

// Fills `j` with the event; attributes in Go's map order (sorted keys).
void build(JsonOut& j, std::string_view action, const std::string& id, const std::string& name,
           const std::string& image, int exit_code, int64_t time_ns) {
  j.raw("{").key("status", true).str(action).key("id").str(id).key("from").str(image);
  j.key("Type").str("container").key("Action").str(action);
  j.key("Actor").raw("{").key("ID", true).str(id).key("Attributes").raw("{");
  bool first = true;
  if (exit_code >= 0) {
    char n[24];
    j.key("exitCode", true).str(n, format_int(n, exit_code));
    first = false;
  }
  j.key("image", first).str(image).key("name").str(name).raw("}}");
  j.key("scope").str("local").key("time").num(time_ns / 1'000'000'000).key("timeNano").num(time_ns).raw("}\n");
}

int64_t now_ns() {
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

}  // namespace

Result<EventLog> EventLog::open(const std::string& path, std::string id, std::string name, std::string image) {
  EventLog e;
  e.fd_ = UniqueFd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
  if (!e.fd_) return fail_errno("--events-file: open " + path);
  e.path_ = path;
  e.id_ = std::move(id);
  e.name_ = std::move(name);
  e.image_ = std::move(image);
  return e;
}

void EventLog::emit(std::string_view action, int exit_code, int64_t time_ns) const {
  if (!fd_) return;
  JsonOut j;
  build(j, action, id_, name_, image_, exit_code, time_ns ? time_ns : now_ns());
  if (!j.ok()) return;
  auto v = j.view();
  ssize_t w;
  do {
    w = ::write(fd_.get(), v.data(), v.size());
  } while (w < 0 && errno == EINTR);
  if (w != static_cast<ssize_t>(v.size()))
    std::fprintf(stderr, "minidocker-monitor: append event \"%.*s\" to %s: %s\n", static_cast<int>(action.size()),
                 action.data(), path_.c_str(), w < 0 ? std::strerror(errno) : "short write");
}

std::string event_line(std::string_view action, const std::string& id, const std::string& name,
                       const std::string& image, int exit_code, int64_t time_ns) {
  JsonOut j;
  build(j, action, id, name, image, exit_code, time_ns);
  return std::string(j.view());
}

}  // namespace md::monitor
