// RFC 6455 server side (websocket.h).
#include "api/websocket.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cerrno>

namespace md::api::ws {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string header(const Request& q, const std::string& name) {
  auto it = q.headers.find(name);
  return it == q.headers.end() ? "" : it->second;
}

// "keep-alive, Upgrade" contains the token "upgrade".
bool has_token(const std::string& list, const std::string& token) {
  std::string l = lower(list);
  size_t pos = 0;
  while (pos <= l.size()) {
    size_t comma = l.find(',', pos);
    std::string t = l.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    t.erase(0, t.find_first_not_of(" \t"));
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.pop_back();
    if (t == token) return true;
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return false;
}

bool is_control(Opcode op) { return (uint8_t(op) & 0x8) != 0; }

}  // namespace

std::string accept_key(std::string_view key) {
  std::string in(key);
  in += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(in.data(), in.size(), digest, &len, EVP_sha1(), nullptr);
  unsigned char out[64];
  int n = EVP_EncodeBlock(out, digest, int(len));
  return std::string(reinterpret_cast<char*>(out), size_t(n));
}

std::string upgrade_problem(const Request& q) {
  if (q.method != "GET") return "a WebSocket upgrade must be a GET";
  if (lower(header(q, "upgrade")) != "websocket") return "this endpoint is a WebSocket: Upgrade: websocket required";
  if (!has_token(header(q, "connection"), "upgrade")) return "Connection: Upgrade required";
  if (header(q, "sec-websocket-version") != "13") return "Sec-WebSocket-Version: 13 required";
  if (header(q, "sec-websocket-key").empty()) return "Sec-WebSocket-Key required";
  return "";
}

std::string handshake_response(const Request& q) {
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
         accept_key(header(q, "sec-websocket-key")) + "\r\nServer: minidocker/" + kVersion + "\r\n\r\n";
}

std::string encode_frame(Opcode op, std::string_view payload) {
  std::string f;
  f.reserve(payload.size() + 10);
  f += char(0x80 | uint8_t(op));
  size_t n = payload.size();
  if (n < 126) {
    f += char(n);
  } else if (n <= 0xffff) {
    f += char(126);
    f += char(n >> 8);
    f += char(n & 0xff);
  } else {
    f += char(127);
    for (int i = 7; i >= 0; --i) f += char((uint64_t(n) >> (8 * i)) & 0xff);
  }
  f.append(payload);
  return f;
}

std::string encode_close(uint16_t code, std::string_view reason) {
  std::string p;
  p += char(code >> 8);
  p += char(code & 0xff);
  p.append(reason.substr(0, 123));
  return encode_frame(Opcode::kClose, p);
}

bool FrameParser::fail(uint16_t code, std::string text) {
  error_code_ = code;
  error_text_ = std::move(text);
  buf_.clear();
  partial_.clear();
  return false;
}

bool FrameParser::feed(std::string_view data, std::vector<Message>& out) {
  if (error_code_) return false;
  buf_.append(data);
  for (;;) {
    if (buf_.size() < 2) return true;
    auto b = reinterpret_cast<const unsigned char*>(buf_.data());
    bool fin = b[0] & 0x80;
    if (b[0] & 0x70) return fail(kProtocolError, "reserved bits set");
    auto op = Opcode(b[0] & 0x0f);
    bool masked = b[1] & 0x80;
    if (!masked) return fail(kProtocolError, "client frames must be masked");
    uint64_t len = b[1] & 0x7f;
    size_t head = 2;
    if (len == 126) {
      if (buf_.size() < 4) return true;
      len = (uint64_t(b[2]) << 8) | b[3];
      head = 4;
    } else if (len == 127) {
      if (buf_.size() < 10) return true;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | b[2 + i];
      head = 10;
    }
    uint8_t code = uint8_t(op);
    if (!(code <= 2 || (code >= 8 && code <= 10))) return fail(kProtocolError, "unknown opcode");
    if (is_control(op) && (len > 125 || !fin)) return fail(kProtocolError, "bad control frame");
    if (len > max_ || (!is_control(op) && partial_.size() + len > max_))
      return fail(kTooBig, "message larger than " + std::to_string(max_) + " bytes");
    if (buf_.size() < head + 4 + len) return true;  // wait for the whole frame
    const unsigned char* mask = b + head;
    std::string payload(buf_.data() + head + 4, size_t(len));
    for (size_t i = 0; i < payload.size(); ++i) payload[i] = char(payload[i] ^ mask[i % 4]);
    buf_.erase(0, head + 4 + size_t(len));
    if (is_control(op)) {
      Message m;
      m.op = op;
      if (op == Opcode::kClose && payload.size() >= 2) {
        m.close_code = uint16_t((uint8_t(payload[0]) << 8) | uint8_t(payload[1]));
        m.data = payload.substr(2);
      } else {
        m.data = std::move(payload);
      }
      out.push_back(std::move(m));
      continue;
    }
    if (op == Opcode::kContinuation) {
      if (!in_fragment_) return fail(kProtocolError, "continuation without a message");
      partial_ += payload;
    } else {
      if (in_fragment_) return fail(kProtocolError, "new message inside a fragmented one");
      partial_op_ = op;
      partial_ = std::move(payload);
      in_fragment_ = true;
    }
    if (fin) {
      out.push_back(Message{partial_op_, std::move(partial_), 0});
      partial_.clear();
      in_fragment_ = false;
    }
  }
}

Connection::Connection(int fd, std::string pending, size_t max_message) : fd_(fd), parser_(max_message) {
  timeval tv{10, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (!pending.empty()) {
    std::vector<Message> msgs;
    if (!parser_.feed(pending, msgs)) close(parser_.error_code(), parser_.error_text());
    pending_ = handle(std::move(msgs));
  }
}

std::vector<Message> Connection::take_pending() { return std::exchange(pending_, {}); }

std::vector<Message> Connection::handle(std::vector<Message> in) {
  std::vector<Message> out;
  for (auto& m : in) {
    if (closed_) break;
    switch (m.op) {
      case Opcode::kPing:
        if (!send(Opcode::kPong, m.data)) closed_ = true;
        break;
      case Opcode::kPong:
        break;
      case Opcode::kClose:
        close(m.close_code ? m.close_code : kNormal);
        break;
      default:
        out.push_back(std::move(m));
    }
  }
  return out;
}

std::vector<Message> Connection::read_available() {
  if (closed_) return {};
  char buf[65536];
  ssize_t n;
  do n = ::recv(fd_, buf, sizeof buf, 0);
  while (n < 0 && errno == EINTR);
  if (n <= 0) {
    closed_ = true;
    return {};
  }
  std::vector<Message> msgs;
  bool ok = parser_.feed(std::string_view(buf, size_t(n)), msgs);
  auto out = handle(std::move(msgs));
  if (!ok) close(parser_.error_code(), parser_.error_text());
  return out;
}

bool Connection::send(Opcode op, std::string_view data) {
  if (close_sent_) return false;
  if (!write_all(fd_, encode_frame(op, data))) {
    closed_ = true;
    close_sent_ = true;
    return false;
  }
  return true;
}

void Connection::close(uint16_t code, std::string_view reason) {
  if (!close_sent_) {
    close_sent_ = true;
    (void)write_all(fd_, encode_close(code, reason));
  }
  closed_ = true;
}

}  // namespace md::api::ws
