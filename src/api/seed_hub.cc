// The WebSocket hub (seed_hub.h).
#include "api/seed_hub.h"

#include <sys/eventfd.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include <nlohmann/json.hpp>

#include "api/seed_model.h"
#include "engine/core/containers.h"
#include "engine/core/events.h"
#include "engine/core/stats.h"

namespace md::api {

using nlohmann::json;

HubClient::HubClient() : wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

void HubClient::push(const std::string& msg) {
  {
    std::lock_guard l(mu_);
    if (dropped_) return;
    if (queue_.size() >= kMaxQueued) {
      dropped_ = true;
      queue_.clear();
    } else {
      queue_.push_back(msg);
    }
  }
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
}

std::deque<std::string> HubClient::take() {
  uint64_t n;
  (void)!::read(wake_.get(), &n, sizeof n);
  std::lock_guard l(mu_);
  return std::exchange(queue_, {});
}

bool HubClient::dropped() const {
  std::lock_guard l(mu_);
  return dropped_;
}

bool HubClient::subscribed(const std::string& id) const {
  std::lock_guard l(mu_);
  return logs_.count(id) > 0;
}

Hub& Hub::instance() {
  static Hub* hub = new Hub();  // never destroyed: its threads live as long as the process
  return *hub;
}

void Hub::configure(const engine::EngineOptions& o) {
  std::lock_guard l(mu_);
  options_ = o;
}

std::shared_ptr<HubClient> Hub::join() {
  auto c = std::make_shared<HubClient>();
  std::lock_guard l(mu_);
  clients_.insert(c);
  if (!started_) start_locked();
  return c;
}

void Hub::leave(const std::shared_ptr<HubClient>& c) {
  std::set<std::string> ids;
  {
    std::lock_guard l(c->mu_);
    ids = c->logs_;
  }
  for (auto& id : ids) unsubscribe_logs(c, id);
  std::lock_guard l(mu_);
  clients_.erase(c);
}

size_t Hub::clients() const {
  std::lock_guard l(mu_);
  return clients_.size();
}

bool Hub::subscribe_logs(const std::shared_ptr<HubClient>& c, const std::string& id, const std::string& name,
                         const std::string& log_path) {
  {
    std::lock_guard l(c->mu_);
    if (c->logs_.count(id)) return true;
    if (c->logs_.size() >= HubClient::kMaxSubscriptions) return false;
    c->logs_.insert(id);
  }
  std::lock_guard l(mu_);
  auto& t = tails_[id];
  if (t.subscribers++ == 0) {
    t.name = name;
    t.path = log_path;
    struct stat st {};
    t.offset = ::stat(log_path.c_str(), &st) == 0 ? uint64_t(st.st_size) : 0;
  }
  return true;
}

void Hub::unsubscribe_logs(const std::shared_ptr<HubClient>& c, const std::string& id) {
  {
    std::lock_guard l(c->mu_);
    if (!c->logs_.erase(id)) return;
  }
  std::lock_guard l(mu_);
  auto it = tails_.find(id);
  if (it != tails_.end() && --it->second.subscribers <= 0) tails_.erase(it);
}

void Hub::start_locked() {
  started_ = true;
  std::thread([this] { events_loop(); }).detach();
  std::thread([this] { ticker_loop(); }).detach();
}

void Hub::broadcast(const std::string& msg) {
  std::lock_guard l(mu_);
  for (auto& c : clients_) c->push(msg);
}

// Container events → the seeds' messages. Exec, attach, resize and the like change nothing
// a dashboard shows.
void Hub::events_loop() {
  std::unique_ptr<engine::Engine> e;
  int64_t since = store::now_unix_nanos();
  for (;;) {
    if (!e) {
      engine::EngineOptions o;
      {
        std::lock_guard l(mu_);
        o = options_;
      }
      auto opened = engine::Engine::open(o);
      if (!opened) {
        std::this_thread::sleep_for(std::chrono::seconds(1));
        continue;
      }
      e = std::move(*opened);
    }
    engine::EventQuery q;
    q.since_ns = since;
    q.follow = true;
    q.filters["type"] = {"container"};
    (void)engine::read_events(e->paths().events_file(), q, [&](const json& ev) {
      since = ev.value("timeNano", since) + 1;
      std::string action = ev.value("Action", "");
      std::string id = ev.value("id", "");
      json attrs = ev.contains("Actor") ? ev["Actor"].value("Attributes", json::object()) : json::object();
      if (action.rfind("exec_", 0) == 0 || action == "attach" || action == "detach" || action == "resize" ||
          action == "top" || action == "export" || action == "commit" || action == "copy" || action == "archive-path" ||
          action == "extract-to-dir")
        return true;
      {
        std::lock_guard l(mu_);
        if (clients_.empty()) return true;
      }
      if (action == "destroy") {
        broadcast(json{{"type", "container_deleted"}, {"id", id}, {"name", attrs.value("name", "")}}.dump());
        return true;
      }
      auto c = engine::reconcile_container(*e, id);
      if (!c) return true;  // gone already: its destroy follows
      std::string type = action == "create" ? "container_created" : "container_updated";
      broadcast(json{{"type", type}, {"container", seed_container_json(*e, *c)}}.dump());
      return true;
    });
    std::this_thread::sleep_for(std::chrono::seconds(1));  // the log could not be read: retry
  }
}

void Hub::ticker_loop() {
  std::unique_ptr<engine::Engine> e;
  auto next_status = std::chrono::steady_clock::now();
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    bool any;
    {
      std::lock_guard l(mu_);
      any = !clients_.empty();
    }
    if (!any) continue;
    tick_logs();
    if (std::chrono::steady_clock::now() < next_status) continue;
    next_status = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    if (!e) {
      engine::EngineOptions o;
      {
        std::lock_guard l(mu_);
        o = options_;
      }
      auto opened = engine::Engine::open(o);
      if (!opened) continue;
      e = std::move(*opened);
    }
    tick_status(*e);
  }
}

void Hub::tick_status(engine::Engine& e) {
  static std::map<std::string, engine::ContainerStats> prev;  // ticker thread only
  (void)engine::reconcile_all(e);
  store::ContainerFilter f;
  f.all = true;
  auto rows = e.containers().list(f);
  if (!rows) return;
  json list = json::array();
  std::map<std::string, engine::ContainerStats> next;
  for (auto& c : *rows) {
    json item = {{"id", c.id}, {"name", c.name}, {"status", store::state_name(c.state)}, {"cpu_percent", 0.0},
                 {"memory_usage", 0}, {"memory_limit", 0}, {"memory_percent", 0.0}, {"pids", 0}};
    if (c.state == store::ContainerState::kRunning || c.state == store::ContainerState::kPaused) {
      auto cur = engine::sample_container_stats(e, c);
      if (cur) {
        auto it = prev.find(c.id);
        auto entry = engine::stats_entry(it != prev.end() ? it->second : engine::ContainerStats{}, *cur);
        if (it == prev.end()) entry.cpu_percent = 0;
        item["cpu_percent"] = entry.cpu_percent;
        item["memory_usage"] = uint64_t(entry.memory);
        item["memory_limit"] = uint64_t(entry.memory_limit);
        item["memory_percent"] = entry.memory_percent;
        item["pids"] = entry.pids;
        next[c.id] = std::move(*cur);
      }
    }
    list.push_back(std::move(item));
  }
  prev = std::move(next);
  broadcast(json{{"type", "status_update"}, {"time", double(store::now_unix_nanos()) / 1e9}, {"containers", list}}.dump());
}

// New lines of the followed log files, from the saved offsets (at most 256 KiB per file
// and tick: a container printing faster than that is followed in steps).
void Hub::tick_logs() {
  struct Job {
    std::string id, name, path;
    uint64_t offset;
  };
  std::vector<Job> jobs;
  {
    std::lock_guard l(mu_);
    for (auto& [id, t] : tails_) jobs.push_back({id, t.name, t.path, t.offset});
  }
  for (auto& j : jobs) {
    int fd = ::open(j.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    struct stat st {};
    ::fstat(fd, &st);
    uint64_t size = uint64_t(st.st_size);
    if (size < j.offset) j.offset = 0;  // rotated or truncated
    std::string data;
    if (size > j.offset) {
      data.resize(size_t(std::min<uint64_t>(size - j.offset, 256 * 1024)));
      ssize_t n = ::pread(fd, data.data(), data.size(), off_t(j.offset));
      data.resize(n > 0 ? size_t(n) : 0);
    }
    ::close(fd);
    size_t end = data.rfind('\n');
    if (end == std::string::npos) continue;
    json lines = json::array();
    size_t pos = 0;
    while (pos <= end) {
      size_t nl = data.find('\n', pos);
      json l = json::parse(data.substr(pos, nl - pos), nullptr, false);
      pos = nl + 1;
      if (!l.is_object()) continue;
      std::string text = l.value("log", "");
      if (!text.empty() && text.back() == '\n') text.pop_back();
      lines.push_back({{"time", l.value("time", "")}, {"stream", l.value("stream", "stdout")}, {"text", text}});
    }
    std::string msg = json{{"type", "log_update"}, {"id", j.id}, {"name", j.name}, {"lines", lines}}.dump();
    std::lock_guard l(mu_);
    if (auto it = tails_.find(j.id); it != tails_.end()) it->second.offset = j.offset + end + 1;
    if (lines.empty()) continue;
    for (auto& c : clients_)
      if (c->subscribed(j.id)) c->push(msg);
  }
}

}  // namespace md::api
