#include "monitor/attach.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace md::monitor {

namespace {

// Client input is read through this (static: no allocation, pages touched only when used).
char g_in[16384];

uint64_t client_tag(size_t slot) { return Attach::kTagClient | (static_cast<uint64_t>(slot) << 8); }

int64_t monotonic_ms() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000LL + ts.tv_nsec / 1'000'000;
}

}  // namespace

Result<UniqueFd> bind_unix(const std::string& path, int type) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  UniqueFd dirfd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dirfd) return fail_errno("open the directory of socket " + path);
  struct stat st;
  if (::fstatat(dirfd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (!S_ISSOCK(st.st_mode)) return fail("socket path " + path + " exists and is not a socket", EEXIST);
    ::unlinkat(dirfd.get(), name.c_str(), 0);  // stale, from an earlier monitor
  }
  UniqueFd s(::socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!s) return fail_errno("create socket for " + path);
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  int n = std::snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", dirfd.get(), name.c_str());
  if (n < 0 || static_cast<size_t>(n) >= sizeof addr.sun_path) return fail("socket name too long: " + path, ENAMETOOLONG);
  mode_t old = ::umask(0177);  // the socket file is born 0600
  int r = ::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int err = errno;
  ::umask(old);
  if (r != 0) return fail_errno("bind " + path, err);
  if (type == SOCK_STREAM && ::listen(s.get(), 16) != 0) return fail_errno("listen on " + path);
  return s;
}

Attach::Client::~Client() { std::free(buf); }

Attach::~Attach() {
  if (!attach_path_.empty()) ::unlink(attach_path_.c_str());
  if (!control_path_.empty()) ::unlink(control_path_.c_str());
}

Status Attach::listen(const std::string& attach_path, const std::string& control_path) {
  struct epoll_event ev{};
  ev.events = EPOLLIN;
  if (!attach_path.empty()) {
    listen_fd_ = TRY_CTX(bind_unix(attach_path, SOCK_STREAM), "--attach-socket");
    attach_path_ = attach_path;
    ev.data.u64 = kTagListen;
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, listen_fd_.get(), &ev);
  }
  if (!control_path.empty()) {
    control_fd_ = TRY_CTX(bind_unix(control_path, SOCK_DGRAM), "--control-socket");
    control_path_ = control_path;
    ev.data.u64 = kTagControl;
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, control_fd_.get(), &ev);
  }
  return {};
}

size_t Attach::client_count() const {
  size_t n = 0;
  for (auto& c : clients_) n += c != nullptr;
  return n;
}

void Attach::add_client(int fd, bool stdin_once) {
  size_t slot = 0;
  while (slot < clients_.size() && clients_[slot]) slot++;
  if (slot >= kMaxClients) {
    ::close(fd);
    return;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  auto c = std::make_unique<Client>();
  c->fd = UniqueFd(fd);
  c->stdin_once = stdin_once;
  if (slot == clients_.size()) clients_.push_back(nullptr);
  clients_[slot] = std::move(c);
  struct epoll_event ev{};
  ev.events = stdin_pending_.empty() ? uint32_t{EPOLLIN} : 0u;
  ev.data.u64 = client_tag(slot);
  ::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
}

void Attach::set_stdin(int fd, bool tty) {
  int master = master_;
  container_gone();
  master_ = master;
  stdin_ = UniqueFd(fd);
  stdin_tty_ = tty;
  if (fd >= 0) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

void Attach::container_gone() {
  if (stdin_registered_) ::epoll_ctl(epfd_, EPOLL_CTL_DEL, stdin_.get(), nullptr);
  stdin_registered_ = false;
  stdin_.reset();
  stdin_close_pending_ = false;
  bool was_paused = !stdin_pending_.empty();
  std::string().swap(stdin_pending_);
  master_ = -1;
  if (was_paused) update_all();
}

// Appends a + b to the client's buffer; false when that would pass the limit.
bool Attach::queue(Client& c, const char* a, size_t alen, const char* b, size_t blen) {
  size_t need = c.len + alen + blen;
  if (need > kClientBufferMax) return false;
  if (c.head + need > c.cap) {
    if (need <= c.cap) {
      std::memmove(c.buf, c.buf + c.head, c.len);
    } else {
      size_t cap = c.cap ? c.cap : 16384;
      while (cap < need) cap *= 2;
      char* nb = static_cast<char*>(std::malloc(cap));
      if (!nb) return false;
      if (c.len) std::memcpy(nb, c.buf + c.head, c.len);
      std::free(c.buf);
      c.buf = nb;
      c.cap = cap;
    }
    c.head = 0;
  }
  std::memcpy(c.buf + c.head + c.len, a, alen);
  std::memcpy(c.buf + c.head + c.len + alen, b, blen);
  c.len += alen + blen;
  return true;
}

[[gnu::hot]] void Attach::broadcast(int stream, const char* data, size_t len) {
  if (clients_.empty() || len == 0) return;
  unsigned char hdr[8] = {static_cast<unsigned char>(stream), 0, 0, 0,
                          static_cast<unsigned char>(len >> 24), static_cast<unsigned char>(len >> 16),
                          static_cast<unsigned char>(len >> 8), static_cast<unsigned char>(len)};
  for (size_t i = 0; i < clients_.size(); i++) {
    Client* c = clients_[i].get();
    if (!c) continue;
    size_t sent = 0;
    if (c->len == 0) {
      struct iovec iov[2] = {{hdr, sizeof hdr}, {const_cast<char*>(data), len}};
      struct msghdr msg = {};
      msg.msg_iov = iov;
      msg.msg_iovlen = 2;
      ssize_t n;
      do {
        n = ::sendmsg(c->fd.get(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
      } while (n < 0 && errno == EINTR);
      if (n < 0 && errno != EAGAIN) {
        drop(i);
        continue;
      }
      sent = n < 0 ? 0 : static_cast<size_t>(n);
      if (sent == sizeof hdr + len) continue;
    }
    size_t hoff = sent < sizeof hdr ? sent : sizeof hdr;
    size_t doff = sent > sizeof hdr ? sent - sizeof hdr : 0;
    bool was_empty = c->len == 0;
    if (!queue(*c, reinterpret_cast<char*>(hdr) + hoff, sizeof hdr - hoff, data + doff, len - doff)) {
      drop(i);  // too slow: never let it hold the container back
      continue;
    }
    if (was_empty) update(i);
  }
}

bool Attach::flush_client(Client& c) {
  while (c.len > 0) {
    ssize_t n = ::send(c.fd.get(), c.buf + c.head, c.len, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno == EAGAIN;
    c.head += static_cast<size_t>(n);
    c.len -= static_cast<size_t>(n);
  }
  c.head = 0;
  if (c.cap > 65536) {  // a burst is over: give the memory back
    std::free(c.buf);
    c.buf = nullptr;
    c.cap = 0;
  }
  return true;
}

void Attach::update(size_t slot) {
  Client* c = clients_[slot].get();
  if (!c) return;
  struct epoll_event ev{};
  ev.events = (c->reading && stdin_pending_.empty() ? uint32_t{EPOLLIN} : 0u) | (c->len ? uint32_t{EPOLLOUT} : 0u);
  ev.data.u64 = client_tag(slot);
  ::epoll_ctl(epfd_, EPOLL_CTL_MOD, c->fd.get(), &ev);
}

void Attach::update_all() {
  for (size_t i = 0; i < clients_.size(); i++) update(i);
}

void Attach::drop(size_t slot) {
  Client* c = clients_[slot].get();
  if (!c) return;
  ::epoll_ctl(epfd_, EPOLL_CTL_DEL, c->fd.get(), nullptr);
  bool once = c->stdin_once && c->reading;
  clients_[slot].reset();
  while (!clients_.empty() && !clients_.back()) clients_.pop_back();
  if (once) stdin_eof();  // the stdin-once client went away: as if it sent EOF
}

void Attach::on_event(uint64_t tag, uint32_t events) {
  switch (tag & 0xff) {
    case kTagListen: accept_clients(); break;
    case kTagControl: on_control(); break;
    case kTagStdin: on_stdin_writable(); break;
    case kTagClient: {
      size_t slot = static_cast<size_t>(tag >> 8);
      if (slot < clients_.size() && clients_[slot]) on_client(slot, events);
      break;
    }
  }
}

void Attach::accept_clients() {
  for (;;) {
    int fd = ::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;
    }
    add_client(fd, false);
  }
}

// Datagrams: "resize ROWS COLS". Anything else is ignored.
void Attach::on_control() {
  for (;;) {
    char msg[128];
    ssize_t n = ::recv(control_fd_.get(), msg, sizeof msg - 1, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return;
    msg[n] = 0;
    unsigned rows = 0, cols = 0;
    char extra;
    if (std::sscanf(msg, "resize %u %u %c", &rows, &cols, &extra) == 2 && rows <= 65535 && cols <= 65535 && master_ >= 0) {
      struct winsize ws = {};
      ws.ws_row = static_cast<unsigned short>(rows);
      ws.ws_col = static_cast<unsigned short>(cols);
      ::ioctl(master_, TIOCSWINSZ, &ws);  // the kernel sends SIGWINCH to the foreground group
    }
  }
}

void Attach::on_client(size_t slot, uint32_t events) {
  Client* c = clients_[slot].get();
  if ((events & EPOLLOUT) && c->len) {
    if (!flush_client(*c)) {
      drop(slot);
      return;
    }
    if (!c->len) update(slot);
  }
  bool hup = events & (EPOLLHUP | EPOLLERR);
  // Input: one read per event while the container takes it; everything left when the
  // client hung up (its socket buffer bounds that).
  while (c->reading && ((events & EPOLLIN) || hup) && (stdin_pending_.empty() || hup)) {
    ssize_t n = ::read(c->fd.get(), g_in, sizeof g_in);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    if (n <= 0) {  // EOF (shutdown of its write side) or an error
      c->reading = false;
      if (c->stdin_once) stdin_eof();
      update(slot);
      break;
    }
    feed_stdin(g_in, static_cast<size_t>(n));
    if (!hup) break;
  }
  if (hup) drop(slot);
}

void Attach::feed_stdin(const char* data, size_t len) {
  if (!stdin_) return;  // no stdin (or closed already): dropped, as Docker does
  if (stdin_pending_.empty()) {
    ssize_t n;
    do {
      n = ::write(stdin_.get(), data, len);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno != EAGAIN) {  // the container closed its stdin
      close_stdin_now();
      return;
    }
    size_t w = n < 0 ? 0 : static_cast<size_t>(n);
    if (w == len) return;
    data += w;
    len -= w;
  }
  bool was_empty = stdin_pending_.empty();
  stdin_pending_.append(data, len);
  if (was_empty) {
    struct epoll_event ev{};
    ev.events = EPOLLOUT;
    ev.data.u64 = kTagStdin;
    stdin_registered_ = ::epoll_ctl(epfd_, EPOLL_CTL_ADD, stdin_.get(), &ev) == 0;
    update_all();  // pause reading from clients
  }
}

void Attach::on_stdin_writable() {
  while (stdin_ && !stdin_pending_.empty()) {
    ssize_t n = ::write(stdin_.get(), stdin_pending_.data(), stdin_pending_.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      close_stdin_now();
      return;
    }
    stdin_pending_.erase(0, static_cast<size_t>(n));
  }
  if (stdin_registered_) ::epoll_ctl(epfd_, EPOLL_CTL_DEL, stdin_.get(), nullptr);
  stdin_registered_ = false;
  std::string().swap(stdin_pending_);
  if (stdin_close_pending_) close_stdin_now();
  update_all();  // resume reading from clients
}

// The stdin-once client's input ended (EOF, or it went away). As Docker: without a
// terminal the container's stdin is closed; with one it stays open (a pty has no separate
// input to close; a user ends input by typing ^D, which reaches the pty as a byte).
void Attach::stdin_eof() {
  if (!stdin_ || stdin_tty_) return;
  if (!stdin_pending_.empty()) stdin_close_pending_ = true;
  else close_stdin_now();
}

// The container reads EOF (a pipe), or (a pty, or a write that failed) we stop writing.
void Attach::close_stdin_now() {
  if (!stdin_) return;
  if (stdin_registered_) ::epoll_ctl(epfd_, EPOLL_CTL_DEL, stdin_.get(), nullptr);
  stdin_registered_ = false;
  stdin_.reset();
  stdin_close_pending_ = false;
  bool was_paused = !stdin_pending_.empty();
  std::string().swap(stdin_pending_);
  if (was_paused) update_all();
}

void Attach::finish(int timeout_ms) {
  int64_t deadline = monotonic_ms() + timeout_ms;
  for (;;) {
    struct pollfd fds[kMaxClients];
    size_t slots[kMaxClients];
    nfds_t n = 0;
    for (size_t i = 0; i < clients_.size(); i++) {
      Client* c = clients_[i].get();
      if (c && c->len) {
        fds[n] = {c->fd.get(), POLLOUT, 0};
        slots[n++] = i;
      }
    }
    int64_t left = deadline - monotonic_ms();
    if (n == 0 || left <= 0) break;
    int r = ::poll(fds, n, static_cast<int>(left));
    if (r < 0 && errno != EINTR) break;
    for (nfds_t k = 0; r > 0 && k < n; k++) {
      if (!fds[k].revents) continue;
      Client* c = clients_[slots[k]].get();
      if ((fds[k].revents & (POLLERR | POLLHUP | POLLNVAL)) || !flush_client(*c)) drop(slots[k]);
    }
  }
  for (size_t i = 0; i < clients_.size(); i++)
    if (clients_[i]) ::epoll_ctl(epfd_, EPOLL_CTL_DEL, clients_[i]->fd.get(), nullptr);
  clients_.clear();  // closing: every client sees EOF after its last byte
  container_gone();
  stop_listening();
}

void Attach::stop_listening() {
  for (UniqueFd* fd : {&listen_fd_, &control_fd_})
    if (*fd) ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd->get(), nullptr);
  listen_fd_.reset();
  control_fd_.reset();
  if (!attach_path_.empty()) ::unlink(attach_path_.c_str());
  if (!control_path_.empty()) ::unlink(control_path_.c_str());
  attach_path_.clear();
  control_path_.clear();
}

}  // namespace md::monitor
