#include "engine/core/follow.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <deque>

#include "base/file_util.h"
#include "base/unique_fd.h"
#include "engine/core/monitor_client.h"
#include "engine/store/ids.h"

namespace md::engine {

using nlohmann::json;

namespace {

bool parse_log_line(std::string_view raw, LogLine& out) {
  json j = json::parse(raw, nullptr, false);
  if (!j.is_object()) return false;
  out.text = j.value("log", "");
  out.is_stderr = j.value("stream", "") == "stderr";
  out.time = j.value("time", "");
  out.time_ns = parse_rfc3339_nano(out.time);
  return true;
}

bool wanted(const LogOptions& o, const LogLine& l) {
  if (l.is_stderr ? !o.stderr_stream : !o.stdout_stream) return false;
  if (o.since_ns && l.time_ns < o.since_ns) return false;
  if (o.until_ns && l.time_ns > o.until_ns) return false;
  return true;
}

bool cancelled(const FollowCancel& c) { return c.stop && c.stop(); }

// Sleeps until `ino` has events, the cancel fd wakes up or `timeout_ms` passes; true
// when the caller should stop.
bool wait_for_more(int ino, const FollowCancel& c, int timeout_ms) {
  pollfd p[2] = {{ino, POLLIN, 0}, {c.fd, POLLIN | POLLRDHUP, 0}};
  int r = ::poll(p, 2, std::max(timeout_ms, 0));
  if (r > 0 && (p[0].revents & POLLIN)) {
    char buf[4096];
    while (::read(ino, buf, sizeof buf) > 0) {
    }
  }
  return cancelled(c);
}

bool any_of(const std::vector<std::string>& wanted, const std::string& v) {
  return std::find(wanted.begin(), wanted.end(), v) != wanted.end();
}

}  // namespace

bool monitor_says_up(const Paths& p, const std::string& id) {
  auto s = read_monitor_status(p, id);
  return s && (s->state == "running" || s->state == "restarting") && process_alive(s->monitor_pid, 0);
}

Status follow_logs(const Paths& p, const std::string& id, const LogOptions& o,
                   const std::function<bool(const LogLine&)>& sink, const FollowCancel& cancel) {
  std::string path = p.log_file(id);
  std::vector<std::string> files;  // rotated: path.N … path.1, then path
  for (int n = 20; n >= 1; --n)
    if (path_exists(path + "." + std::to_string(n))) files.push_back(path + "." + std::to_string(n));
  std::deque<LogLine> tail;
  int64_t tail_limit = o.tail;  // the backlog only: followed lines go straight out
  auto emit = [&](const LogLine& l) -> bool {
    if (!wanted(o, l)) return true;
    if (tail_limit >= 0) {
      tail.push_back(l);
      if (int64_t(tail.size()) > tail_limit) tail.pop_front();
      return true;
    }
    return sink(l);
  };
  for (auto& f : files) {
    auto text = read_file(f);
    if (!text) continue;
    size_t pos = 0, eol;
    while ((eol = text->find('\n', pos)) != std::string::npos) {
      LogLine l;
      if (parse_log_line(std::string_view(*text).substr(pos, eol - pos), l) && !emit(l)) return {};
      pos = eol + 1;
    }
  }
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  std::string pending;
  auto drain = [&]() -> bool {
    if (!fd.valid()) fd = UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return true;
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd.get(), buf, sizeof buf)) > 0) {
      pending.append(buf, size_t(n));
      size_t pos = 0, eol;
      while ((eol = pending.find('\n', pos)) != std::string::npos) {
        LogLine l;
        if (parse_log_line(std::string_view(pending).substr(pos, eol - pos), l) && !emit(l)) return false;
        pos = eol + 1;
      }
      pending.erase(0, pos);
    }
    return true;
  };
  if (!drain()) return {};
  if (o.tail >= 0) {
    for (auto& l : tail)
      if (!sink(l)) return {};
    tail.clear();
  }
  if (!o.follow) return {};
  tail_limit = -1;
  UniqueFd ino(inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (ino.valid()) inotify_add_watch(ino.get(), p.container_dir(id).c_str(), IN_MODIFY | IN_CREATE | IN_MOVED_TO);
  for (;;) {
    if (cancelled(cancel)) return {};
    // Checked before the last read: once the monitor says "exited", everything the
    // container wrote is in the file.
    bool up = monitor_says_up(p, id);
    struct stat a {}, b {};
    if (fd.valid() && ::fstat(fd.get(), &a) == 0 && (::stat(path.c_str(), &b) != 0 || a.st_ino != b.st_ino)) {
      if (!drain()) return {};  // rotated: finish the old file, then reopen by name
      fd.reset();
      pending.clear();
    }
    if (!drain()) return {};
    if (!up) return {};
    if (o.until_ns && store::now_unix_nanos() > o.until_ns) return {};
    if (wait_for_more(ino.get(), cancel, 500)) return {};
  }
}

bool event_matches(const json& ev, const EventQuery& q) {
  int64_t t = ev.value("timeNano", int64_t{0});
  if (q.since_ns && t < q.since_ns) return false;
  if (q.until_ns && t > q.until_ns) return false;
  json actor = ev.value("Actor", json::object());
  json attrs = actor.value("Attributes", json::object());
  std::string type = ev.value("Type", "");
  std::string id = actor.value("ID", "");
  std::string name = attrs.is_object() ? attrs.value("name", "") : "";
  auto id_or_name = [&](const std::vector<std::string>& values) {
    for (auto& v : values)
      if (v == name || (!v.empty() && id.compare(0, v.size(), v) == 0)) return true;
    return false;
  };
  for (auto& [key, values] : q.filters) {
    if (values.empty()) continue;
    if (key == "type") {
      if (!any_of(values, type)) return false;
    } else if (key == "event" || key == "action") {
      std::string a = ev.value("Action", "");
      if (!any_of(values, a) && !any_of(values, a.substr(0, a.find(':')))) return false;
    } else if (key == "container") {
      if (type != "container" || !id_or_name(values)) return false;
    } else if (key == "network" || key == "volume") {
      if (type != key || !id_or_name(values)) return false;
    } else if (key == "image") {
      std::string img = attrs.is_object() ? attrs.value("image", ev.value("from", "")) : ev.value("from", "");
      if (type == "image" && img.empty()) img = id;
      if (!any_of(values, img) && !any_of(values, img + ":latest") && !(type == "image" && id_or_name(values)))
        return false;
    } else if (key == "label") {
      for (auto& v : values) {
        auto eq = v.find('=');
        std::string k = v.substr(0, eq);
        if (!attrs.is_object() || !attrs.contains(k)) return false;
        if (eq != std::string::npos && attrs.value(k, "") != v.substr(eq + 1)) return false;
      }
    }
  }
  return true;
}

Status follow_events(const std::string& events_file, const EventQuery& q,
                     const std::function<bool(const json&)>& sink, const FollowCancel& cancel) {
  UniqueFd ino;
  if (q.follow) {
    ino = UniqueFd(inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (!ino.valid()) return fail_errno("inotify_init1");
    // Watch the directory: the file may not exist yet.
    std::string dir = events_file.substr(0, events_file.rfind('/'));
    if (inotify_add_watch(ino.get(), dir.c_str(), IN_MODIFY | IN_CREATE) < 0) return fail_errno("watch " + dir);
  }
  UniqueFd fd;
  std::string pending;
  for (;;) {
    if (cancelled(cancel)) return {};
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
          auto ev = json::parse(pending.begin() + long(start), pending.begin() + long(eol), nullptr, false);
          start = eol + 1;
          if (ev.is_discarded() || !ev.is_object()) continue;
          if (q.until_ns && ev.value("timeNano", int64_t{0}) > q.until_ns) return {};
          if (event_matches(ev, q) && !sink(ev)) return {};
        }
        pending.erase(0, start);
      }
    }
    if (!q.follow) return {};
    int64_t now = store::now_unix_nanos();
    if (q.until_ns && now > q.until_ns) return {};
    if (progressed) continue;
    int timeout_ms = 500;
    if (q.until_ns) timeout_ms = int(std::min<int64_t>(500, (q.until_ns - now) / 1000000 + 1));
    if (wait_for_more(ino.get(), cancel, timeout_ms)) return {};
  }
}

}  // namespace md::engine
