// Helpers the streaming endpoints share (docs/api-streams.md): Docker's raw and
// multiplexed attach streams, detach keys, noticing a client that went away, and streams
// handed to a thread of their own.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "api/handlers.h"
#include "engine/core/engine.h"
#include "engine/core/logs.h"
#include "engine/store/container_store.h"

namespace md::api {

// The client asked to switch protocols (Connection: Upgrade, Upgrade: tcp): attach and
// exec start then answer 101 UPGRADED, otherwise 200 with the same stream (as dockerd).
bool wants_upgrade(const Request& q);

// The answer that starts an attach or exec stream: 101 or 200, with Docker's content type
// (application/vnd.docker.raw-stream with a tty, .multiplexed-stream without).
Response attach_stream_response(const Request& q, bool tty);

// Whether the peer of a hijacked socket is gone (hung up, reset, or closed its side for
// good). Never blocks; bytes it sent meanwhile are read and dropped (the endpoints that use
// this take no input).
bool client_gone(int fd);

// Frames of Docker's multiplexed stream (the monitor speaks it too): [stream,0,0,0,len(be32)].
class FrameReader {
 public:
  void feed(const char* data, size_t n) { buf_.append(data, n); }
  // The next complete frame; false when more bytes are needed.
  bool next(int* stream, std::string* payload);

 private:
  std::string buf_;
  size_t pos_ = 0;
};

// Docker's detach key sequence ("ctrl-p,ctrl-q" by default): scans a client's input and
// holds back a partial match until it is decided.
class DetachKeys {
 public:
  // `spec`: Docker's comma-separated keys ("ctrl-a".."ctrl-z", "ctrl-@", "ctrl-[", "ctrl-\\",
  // "ctrl-]", "ctrl-^", "ctrl-_", or one character); "" is the default. false when invalid.
  bool parse(const std::string& spec);
  // Appends to `out` what may pass of `in`; true once the whole sequence was typed (the
  // bytes of the sequence are not passed on).
  bool scan(std::string_view in, std::string& out);

 private:
  std::string keys_ = "\x10\x11";
  size_t matched_ = 0;
};

// Runs `fn` with a dup of the hijacked connection on a detached thread of its own (the
// connection is closed when fn returns), so a long stream (logs follow) does not hold the
// pool worker its route ran on. fn must not use the handler's Engine.
void hand_off(Hijacked& h, std::function<void(int fd, const std::string& pending)> fn);

// GET /containers/{id}/logs?follow=1, called by container_logs with `c` looked up and its
// options parsed: the backlog, then new lines until the container stops (or `until`
// passes) or the client goes away; chunked, on a thread of its own.
Response logs_follow_response(engine::Engine& e, const store::Container& c, const engine::LogOptions& o,
                              bool timestamps);

// Registration of attach routes (stream_attach.cc) for add_stream_routes.
void add_attach_routes(Router<Route>& r);

}  // namespace md::api
