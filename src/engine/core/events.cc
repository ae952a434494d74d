#include "engine/core/events.h"
#include "engine/core/follow.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <ctime>

#include "base/file_util.h"
#include "base/unique_fd.h"
#include "engine/store/container_store.h"

namespace md::engine {


nlohmann::json event_json(const Event& e, int64_t time_ns) {
  nlohmann::json j;
  if (e.type == "container" || e.type == "image") {
    j["status"] = e.action;
    j["id"] = e.id;
    if (!e.from.empty()) j["from"] = e.from;
  }
  j["Type"] = e.type;
  j["Action"] = e.action;
  nlohmann::json attrs = nlohmann::json::object();
  for (auto& [k, v] : e.attributes) attrs[k] = v;
  j["Actor"] = {{"ID", e.id}, {"Attributes", attrs}};
  j["scope"] = "local";
  j["time"] = time_ns / 1000000000;
  j["timeNano"] = time_ns;
  return j;
}

void append_event(const std::string& events_file, const Event& e) {
  std::string line = event_json(e, store::now_unix_nanos()).dump() + "\n";
  int fd = ::open(events_file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return;
  (void)!::write(fd, line.data(), line.size());
  ::close(fd);
}

Status read_events(const std::string& events_file, const EventQuery& q,
                   const std::function<bool(const nlohmann::json&)>& sink) {
  return follow_events(events_file, q, sink, FollowCancel{});  // follow.cc: one reader, one matcher
}

}  // namespace md::engine
