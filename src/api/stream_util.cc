// Helpers of the streaming endpoints (stream_util.h).
#include "api/stream_util.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <thread>

#include "api/http_util.h"
#include "engine/core/follow.h"

namespace md::api {

namespace {

std::string lower(std::string s) {
  for (auto& ch : s) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

}  // namespace

bool wants_upgrade(const Request& q) {
  auto c = q.headers.find("connection");
  auto u = q.headers.find("upgrade");
  return c != q.headers.end() && lower(c->second).find("upgrade") != std::string::npos && u != q.headers.end() &&
         !u->second.empty();
}

Response attach_stream_response(const Request& q, bool tty) {
  Response r;
  r.content_type = tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream";
  if (wants_upgrade(q)) {
    r.status = 101;
    r.headers = {{"Connection", "Upgrade"}, {"Upgrade", "tcp"}};
  }
  return r;
}

bool client_gone(int fd) {
  for (;;) {
    pollfd p{fd, POLLIN | POLLRDHUP, 0};
    int r = ::poll(&p, 1, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    if (p.revents & (POLLHUP | POLLERR | POLLNVAL)) return true;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0) return errno != EAGAIN && errno != EINTR;
  }
}

bool FrameReader::next(int* stream, std::string* payload) {
  if (buf_.size() - pos_ < 8) {
    if (pos_ > 0) {
      buf_.erase(0, pos_);
      pos_ = 0;
    }
    return false;
  }
  auto* h = reinterpret_cast<const unsigned char*>(buf_.data() + pos_);
  size_t len = (size_t(h[4]) << 24) | (size_t(h[5]) << 16) | (size_t(h[6]) << 8) | h[7];
  if (buf_.size() - pos_ - 8 < len) {
    buf_.erase(0, pos_);
    pos_ = 0;
    return false;
  }
  *stream = h[0];
  payload->assign(buf_, pos_ + 8, len);
  pos_ += 8 + len;
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
  return true;
}

bool DetachKeys::parse(const std::string& spec) {
  if (spec.empty()) {
    keys_ = "\x10\x11";
    return true;
  }
  std::string keys;
  size_t pos = 0;
  while (pos <= spec.size()) {
    size_t comma = spec.find(',', pos);
    std::string k = spec.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? spec.size() + 1 : comma + 1;
    std::string lk = lower(k);
    if (lk.size() == 6 && lk.rfind("ctrl-", 0) == 0) {
      char ch = lk[5];
      if (ch >= 'a' && ch <= 'z') keys += char(ch - 'a' + 1);
      else if (ch == '@') keys += '\0';
      else if (ch == '[') keys += '\x1b';
      else if (ch == '\\') keys += '\x1c';
      else if (ch == ']') keys += '\x1d';
      else if (ch == '^') keys += '\x1e';
      else if (ch == '_') keys += '\x1f';
      else return false;
    } else if (k.size() == 1) {
      keys += k;
    } else {
      return false;
    }
  }
  if (keys.empty()) return false;
  keys_ = keys;
  matched_ = 0;
  return true;
}

bool DetachKeys::scan(std::string_view in, std::string& out) {
  for (char ch : in) {
    if (ch == keys_[matched_]) {
      if (++matched_ == keys_.size()) return true;
      continue;
    }
    // Not the sequence after all: what was held back goes through, then this byte (which
    // may start a new match).
    out.append(keys_, 0, matched_);
    matched_ = 0;
    if (ch == keys_[0]) {
      matched_ = 1;
      if (matched_ == keys_.size()) return true;
    } else {
      out += ch;
    }
  }
  return false;
}

void hand_off(Hijacked& h, std::function<void(int fd, const std::string& pending)> fn) {
  int fd = ::fcntl(h.fd, F_DUPFD_CLOEXEC, 3);
  if (fd < 0) return;
  std::thread([fd, pending = h.pending, fn = std::move(fn)] {
    try {
      fn(fd, pending);
    } catch (const std::exception&) {
    }
    ::close(fd);
  }).detach();
}

Response logs_follow_response(engine::Engine& e, const store::Container& c, const engine::LogOptions& o,
                              bool timestamps) {
  bool tty = c.config.value("Tty", false);
  Response r;
  r.content_type = tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream";
  r.headers = {{"Transfer-Encoding", "chunked"}};
  r.hijack = [paths = e.paths(), id = c.id, o, timestamps, tty](Hijacked& h) {
    hand_off(h, [paths, id, o, timestamps, tty](int fd, const std::string&) {
      bool ok = true;
      engine::FollowCancel cancel{fd, [fd] { return client_gone(fd); }};
      (void)engine::follow_logs(paths, id, o, [&](const engine::LogLine& l) {
        std::string text = timestamps ? l.time + " " + l.text : l.text;
        std::string out;
        if (tty) out = text;
        else put_frame(out, l.is_stderr, text);
        ok = write_all(fd, http_chunk(out));
        return ok;
      }, cancel);
      if (ok) write_all(fd, kLastChunk);
    });
  };
  return r;
}

}  // namespace md::api
