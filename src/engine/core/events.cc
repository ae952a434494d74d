#include "engine/core/events.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <ctime>

#include "base/file_util.h"
#include "base/unique_fd.h"
#include "engine/store/container_store.h"

namespace md::engine {

namespace {

bool any_of(const std::vector<std::string>& wanted, const std::string& v) {
  for (auto& w : wanted)
    if (w == v) return true;
  return false;
}

bool matches(const nlohmann::json& ev, const EventQuery& q) {
  int64_t t = ev.value("timeNano", int64_t{0});
  if (q.since_ns && t < q.since_ns) return false;
  if (q.until_ns && t > q.until_ns) return false;
  const auto& actor = ev["Actor"];
  auto attrs = actor.value("Attributes", nlohmann::json::object());
  for (auto& [key, values] : q.filters) {
    if (values.empty()) continue;
    if (key == "type") {
      if (!any_of(values, ev.value("Type", ""))) return false;
    } else if (key == "event" || key == "action") {
      std::string a = ev.value("Action", "");
      std::string base = a.substr(0, a.find(':'));
      if (!any_of(values, a) && !any_of(values, base)) return false;
    } else if (key == "container") {
      if (ev.value("Type", "") != "container") return false;
      std::string id = actor.value("ID", "");
      std::string name = attrs.value("name", "");
      bool ok = false;
      for (auto& v : values)
        if (v == name || (!v.empty() && id.compare(0, v.size(), v) == 0)) ok = true;
      if (!ok) return false;
    } else if (key == "image") {
      std::string img = attrs.value("image", ev.value("from", ""));
      if (!any_of(values, img) && !any_of(values, img + ":latest")) return false;
    } else if (key == "label") {
      for (auto& v : values) {
        auto eq = v.find('=');
        std::string k = v.substr(0, eq);
        if (!attrs.contains(k)) return false;
        if (eq != std::string::npos && attrs.value(k, "") != v.substr(eq + 1)) return false;
      }
    }
  }
  return true;
}

}  // namespace

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
  UniqueFd ino;
  if (q.follow) {
    ino = UniqueFd(inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (!ino.valid()) return fail_errno("inotify_init1");
    // Watch the directory: the file may not exist yet.
    std::string dir = events_file.substr(0, events_file.rfind('/'));
    if (inotify_add_watch(ino.get(), dir.c_str(), IN_MODIFY | IN_CREATE) < 0)
      return fail_errno("watch " + dir);
  }
  UniqueFd fd;
  std::string pending;
  for (;;) {
    if (!fd.valid()) fd = UniqueFd(::open(events_file.c_str(), O_RDONLY | O_CLOEXEC));
    bool progressed = false;
    if (fd.valid()) {
      char buf[65536];
      for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        progressed = true;
        pending.append(buf, size_t(n));
        size_t start = 0, eol;
        while ((eol = pending.find('\n', start)) != std::string::npos) {
          auto ev = nlohmann::json::parse(pending.begin() + start, pending.begin() + eol, nullptr, false);
          start = eol + 1;
          if (ev.is_discarded() || !ev.is_object()) continue;
          if (q.until_ns && ev.value("timeNano", int64_t{0}) > q.until_ns) return {};
          if (matches(ev, q) && !sink(ev)) return {};
        }
        pending.erase(0, start);
      }
    }
    if (!q.follow) return {};
    if (q.until_ns && store::now_unix_nanos() > q.until_ns) return {};
    if (progressed) continue;
    int timeout_ms = -1;
    if (q.until_ns) timeout_ms = int((q.until_ns - store::now_unix_nanos()) / 1000000) + 1;
    pollfd p{ino.get(), POLLIN, 0};
    int r = ::poll(&p, 1, timeout_ms < 0 ? 1000 : std::min(timeout_ms, 1000));
    if (r > 0) {
      char ib[4096];
      while (::read(ino.get(), ib, sizeof ib) > 0) {
      }
    }
  }
}

}  // namespace md::engine
