// Attached clients: `minidocker run` (the --attach-fd client, from the first byte),
// `minidocker attach` (through --attach-socket) and resize requests (--control-socket).
//
// Monitor → client: Docker's multiplexed stream, one frame per chunk the container wrote:
//   [stream: 1 stdout, 2 stderr][0][0][0][payload length, uint32 big-endian][payload]
// (with a terminal everything is stream 1). Client → monitor: raw bytes for the
// container's stdin (dropped unless the container has one).
//
// Nothing here blocks: sockets are non-blocking, output that a client does not take at
// once waits in its own buffer, and a client whose buffer passes kClientBufferMax is
// dropped. stdin bytes that the container does not take at once wait in one buffer while
// reading from clients pauses (so input is never reordered or lost).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace md::monitor {

inline constexpr size_t kClientBufferMax = 1 << 20;
inline constexpr size_t kMaxClients = 128;

// Binds a unix socket at `path` (any length: bound through its directory's fd), mode 0600;
// a stale socket file there is replaced. SOCK_STREAM: listening.
Result<UniqueFd> bind_unix(const std::string& path, int type);

class Attach {
 public:
  // Tags for the loop's epoll: the loop passes events whose tag's low byte is one of
  // kTagListen, kTagControl, kTagClient, kTagStdin back to on_event().
  static constexpr uint64_t kTagListen = 0x10, kTagControl = 0x11, kTagClient = 0x12, kTagStdin = 0x13;
  static bool owns(uint64_t tag) { return (tag & 0xff) >= kTagListen && (tag & 0xff) <= kTagStdin; }

  explicit Attach(int epfd) : epfd_(epfd) {}
  ~Attach();

  Status listen(const std::string& attach_path, const std::string& control_path);
  // An already-connected client; stdin_once: its EOF closes the container's stdin.
  void add_client(int fd, bool stdin_once);

  // The container's stdin: a pipe's write end, or (tty) the pty master; -1: none (bytes
  // from clients are then dropped). Takes ownership of `fd`.
  void set_stdin(int fd, bool tty);
  // The pty master for resize requests (not owned); -1: none.
  void set_terminal(int master) { master_ = master; }
  // Forgets the container's stdin and terminal (it exited); pending input is dropped.
  void container_gone();

  // One frame to every client.
  void broadcast(int stream, const char* data, size_t len);
  void on_event(uint64_t tag, uint32_t events);

  // The end: waits (at most timeout_ms) until every client took its pending output, then
  // closes them all (they see EOF after the last byte); stop_listening() too.
  void finish(int timeout_ms);
  // No new clients or control messages: closes the listeners and removes the socket files.
  void stop_listening();

  size_t client_count() const;

 private:
  struct Client {
    UniqueFd fd;
    bool stdin_once = false;
    bool reading = true;  // its input side is still open
    // Output not yet taken: [head, head+len) of buf.
    char* buf = nullptr;
    size_t head = 0, len = 0, cap = 0;
    ~Client();
  };

  void accept_clients();
  void on_control();
  void on_client(size_t slot, uint32_t events);
  void on_stdin_writable();
  void drop(size_t slot);
  bool queue(Client& c, const char* a, size_t alen, const char* b, size_t blen);
  bool flush_client(Client& c);  // false: the client is gone
  void update(size_t slot);
  void update_all();
  void feed_stdin(const char* data, size_t len);
  void stdin_eof();
  void close_stdin_now();

  int epfd_;
  UniqueFd listen_fd_, control_fd_;
  std::string attach_path_, control_path_;
  std::vector<std::unique_ptr<Client>> clients_;
  UniqueFd stdin_;
  bool stdin_tty_ = false;
  bool stdin_registered_ = false;
  bool stdin_close_pending_ = false;
  std::string stdin_pending_;
  int master_ = -1;
};

}  // namespace md::monitor
