#include "engine/core/logs.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <deque>

#include <nlohmann/json.hpp>

#include "base/file_util.h"
#include "base/unique_fd.h"
#include "engine/core/containers.h"

namespace md::engine {

using nlohmann::json;

int64_t parse_rfc3339_nano(const std::string& s) {
  struct tm tm {};
  const char* rest = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!rest) return 0;
  int64_t secs = timegm(&tm);
  int64_t frac = 0;
  if (*rest == '.') {
    ++rest;
    int digits = 0;
    while (*rest >= '0' && *rest <= '9') {
      if (digits < 9) {
        frac = frac * 10 + (*rest - '0');
        ++digits;
      }
      ++rest;
    }
    while (digits++ < 9) frac *= 10;
  }
  return secs * 1000000000 + frac;
}

namespace {

bool parse_line(const std::string& raw, LogLine& out) {
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

}  // namespace

Status read_logs(Engine& e, const std::string& ref, const LogOptions& o,
                 const std::function<bool(const LogLine&)>& sink) {
  store::Container c = TRY(e.containers().get(ref));
  std::string path = e.paths().log_file(c.id);
  // Rotated files: path.N … path.1, then path.
  std::vector<std::string> files;
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
      if (parse_line(text->substr(pos, eol - pos), l) && !emit(l)) return {};
      pos = eol + 1;
    }
  }
  // The live file: read what is there, then (with follow) keep reading as it grows.
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
        if (parse_line(pending.substr(pos, eol - pos), l) && !emit(l)) return false;
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
  std::string dir = e.paths().container_dir(c.id);
  if (ino.valid()) inotify_add_watch(ino.get(), dir.c_str(), IN_MODIFY | IN_CREATE | IN_MOVED_TO);
  for (;;) {
    auto r = reconcile_container(e, c.id);
    bool up = r && (r->state == store::ContainerState::kRunning || r->state == store::ContainerState::kPaused ||
                    r->state == store::ContainerState::kRestarting);
    // Rotation: the file we hold was renamed; reopen by name when it shrank or moved.
    struct stat a {}, b {};
    if (fd.valid() && ::fstat(fd.get(), &a) == 0 && (::stat(path.c_str(), &b) != 0 || a.st_ino != b.st_ino)) {
      if (!drain()) return {};
      fd.reset();
    }
    if (!drain()) return {};
    if (!up) return {};
    if (o.until_ns) {
      timespec ts{};
      clock_gettime(CLOCK_REALTIME, &ts);
      if (int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec > o.until_ns) return {};
    }
    pollfd p{ino.get(), POLLIN, 0};
    if (::poll(&p, 1, 500) > 0) {
      char buf[4096];
      while (::read(ino.get(), buf, sizeof buf) > 0) {
      }
    }
  }
}

}  // namespace md::engine
