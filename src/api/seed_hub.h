// The hub behind /api/ws (docs/api-seeds.md): one place that watches the engine and fans
// messages out to every connected WebSocket client.
//
// Threads (started on the first client, then kept for the server's life):
//   events  follows <root>/events.log (engine::read_events, follow) — every writer (CLI,
//           monitors, this server) appends there, so changes made anywhere show up — and
//           turns container events into container_created / container_updated /
//           container_deleted with the seeds' container object;
//   ticker  every 2 s a status_update (engine stats of the running containers, CPU % from
//           the previous tick's sample), and every 0.5 s the new lines of the log files
//           that clients subscribed to (log_update), read from the saved file offset.
// Each client has a bounded queue (kMaxQueued messages); a client whose queue is full
// (it does not read fast enough) is marked dropped and its thread closes the socket
// (1008) — one slow browser never holds the hub or grows memory without bound.
#pragma once

#include <sys/types.h>

#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "base/unique_fd.h"
#include "engine/core/engine.h"

namespace md::api {

class HubClient {
 public:
  static constexpr size_t kMaxQueued = 512;
  static constexpr size_t kMaxSubscriptions = 64;
  HubClient();
  // Readable (eventfd) when messages are queued or the client was dropped.
  int wake_fd() const { return wake_.get(); }
  // Hub side: queue a text message; drops the client when its queue is full.
  void push(const std::string& msg);
  // Client side: everything queued so far (and clears the eventfd).
  std::deque<std::string> take();
  bool dropped() const;
  bool subscribed(const std::string& id) const;

 private:
  friend class Hub;
  mutable std::mutex mu_;
  std::deque<std::string> queue_;
  bool dropped_ = false;
  std::set<std::string> logs_;  // container ids
  UniqueFd wake_;
};

class Hub {
 public:
  // The process's hub; configure() once before the first join (serve() does).
  static Hub& instance();
  void configure(const engine::EngineOptions& o);
  std::shared_ptr<HubClient> join();
  void leave(const std::shared_ptr<HubClient>& c);
  // Follows the json-file log at `log_path` of container `id` for `c` from its current end.
  // False when the client already has kMaxSubscriptions.
  bool subscribe_logs(const std::shared_ptr<HubClient>& c, const std::string& id, const std::string& name,
                      const std::string& log_path);
  void unsubscribe_logs(const std::shared_ptr<HubClient>& c, const std::string& id);
  size_t clients() const;

 private:
  Hub() = default;
  void start_locked();
  void events_loop();
  void ticker_loop();
  void broadcast(const std::string& msg);
  void tick_logs();
  void tick_status(engine::Engine& e);

  struct LogTail {
    std::string name, path;
    uint64_t offset = 0;
    int subscribers = 0;
  };
  mutable std::mutex mu_;
  engine::EngineOptions options_;
  bool started_ = false;
  std::set<std::shared_ptr<HubClient>> clients_;
  std::map<std::string, LogTail> tails_;  // by container id
};

}  // namespace md::api
