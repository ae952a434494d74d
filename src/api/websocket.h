// WebSocket (RFC 6455), server side, on a hijacked blocking socket (handlers.h Hijacked).
//
// Small on purpose: the handshake (Sec-WebSocket-Accept = base64(SHA-1(key + GUID))), frame
// encoding (server frames are never masked) and an incremental parser of client frames
// (which must be masked) that reassembles fragmented messages. Limits that keep a hostile
// or broken client from growing our memory: a message (and a frame) is at most
// `max_message` bytes (default 1 MiB; bigger → close 1009), control frames at most 125
// bytes, the parser's buffer never holds more than one frame. Pings are answered by
// Connection::read_available itself. Writes time out (SO_SNDTIMEO, 10 s): a client that
// does not read is dropped rather than blocking its thread forever.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/handlers.h"

namespace md::api::ws {

enum class Opcode : uint8_t { kContinuation = 0, kText = 1, kBinary = 2, kClose = 8, kPing = 9, kPong = 10 };

// Close codes used here.
inline constexpr uint16_t kNormal = 1000, kGoingAway = 1001, kProtocolError = 1002, kUnsupported = 1003,
                          kPolicy = 1008, kTooBig = 1009, kInternal = 1011;

struct Message {
  Opcode op = Opcode::kText;  // kText, kBinary, kClose (data: the reason), kPing, kPong
  std::string data;
  uint16_t close_code = 0;    // kClose only
};

// The Sec-WebSocket-Accept value for a client's Sec-WebSocket-Key.
std::string accept_key(std::string_view key);
// Empty when `q` is a valid upgrade request (GET, Upgrade: websocket, Connection: upgrade,
// Sec-WebSocket-Version: 13, a key); else what is wrong (answer 400 with it).
std::string upgrade_problem(const Request& q);
// The 101 answer to send on the hijacked socket.
std::string handshake_response(const Request& q);

// One frame, FIN set, unmasked (server → client).
std::string encode_frame(Opcode op, std::string_view payload);
std::string encode_close(uint16_t code, std::string_view reason);

// Client frames → messages. feed() may be called with any split of the byte stream.
class FrameParser {
 public:
  explicit FrameParser(size_t max_message = 1 << 20) : max_(max_message) {}
  // Appends `data` and moves every complete message to `out`. False on a protocol error
  // or a message over the limit: error_code()/error_text() say which (send that close).
  bool feed(std::string_view data, std::vector<Message>& out);
  uint16_t error_code() const { return error_code_; }
  const std::string& error_text() const { return error_text_; }
  // Bytes held (buffered frame + partial message): bounded by about 2 × max_message.
  size_t held() const { return buf_.size() + partial_.size(); }

 private:
  bool fail(uint16_t code, std::string text);
  size_t max_;
  std::string buf_;
  std::string partial_;  // a fragmented message so far
  Opcode partial_op_ = Opcode::kText;
  bool in_fragment_ = false;
  uint16_t error_code_ = 0;
  std::string error_text_;
};

// A server-side WebSocket on a blocking socket. Not thread-safe: one thread reads, and
// writes go through the same thread (or are serialised by the caller).
class Connection {
 public:
  // `pending`: bytes the client sent right after the handshake (already read by the server).
  Connection(int fd, std::string pending, size_t max_message = 1 << 20);
  int fd() const { return fd_; }
  bool closed() const { return closed_; }
  // Reads what the socket has (call when poll() says it is readable; at most 64 KiB per
  // call, so a flood is handled in bounded steps), answers pings and close frames, and
  // returns the data messages (kText, kBinary). On EOF, an error or a close frame the
  // connection is closed() afterwards.
  std::vector<Message> read_available();
  // Messages fed by the constructor's `pending` bytes (call once, first).
  std::vector<Message> take_pending();
  bool send_text(std::string_view data) { return send(Opcode::kText, data); }
  bool send_binary(std::string_view data) { return send(Opcode::kBinary, data); }
  bool send(Opcode op, std::string_view data);
  // Sends a close frame (once) and marks the connection closed.
  void close(uint16_t code, std::string_view reason = "");

 private:
  std::vector<Message> handle(std::vector<Message> in);
  int fd_;
  FrameParser parser_;
  std::vector<Message> pending_;
  bool closed_ = false, close_sent_ = false;
};

}  // namespace md::api::ws
