// JsonLogWriter: Docker's json-file log driver, with fixed buffers.
//
// Each line a container writes becomes one JSON object on its own line:
//   {"log":"hello\n","stream":"stdout","time":"2026-11-23T18:00:00.123456789Z"}
// A line longer than kMaxLine (16 KiB, Docker's bufio size) is split into chunks whose
// "log" has no trailing "\n"; a partial last line is flushed at EOF the same way.
// Size-based rotation: when appending would make FILE larger than max_size, FILE.(N-2) →
// FILE.(N-1), …, FILE → FILE.1 and a fresh FILE is started (N = max_files; N = 1 truncates).
// Memory: two 16 KiB line buffers and one escape buffer, all fixed; no allocation per line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace md::monitor {

inline constexpr size_t kMaxLine = 16 * 1024;

enum class Stream { kStdout = 0, kStderr = 1 };

// RFC 3339 with nanoseconds, UTC: "2026-11-23T18:00:00.123456789Z". `out` needs 31 bytes.
size_t format_rfc3339_nano(char* out, int64_t sec, long nsec);
// The current time in that format.
std::string now_rfc3339_nano();

// Escapes `data` as the inside of a JSON string the way Docker's json-file does (Go's
// encoder: control characters as \u00XX, <, > and & as \u003c/\u003e/\u0026). `out`
// must hold 6 * len bytes. Returns the length written.
size_t json_escape(const char* data, size_t len, char* out);

class JsonLogWriter {
 public:
  // max_size <= 0: no rotation. max_files >= 1.
  static Result<JsonLogWriter> open(const std::string& path, int64_t max_size, int max_files);

  JsonLogWriter(JsonLogWriter&&) = default;
  JsonLogWriter& operator=(JsonLogWriter&&) = default;

  // Feeds bytes read from a stream; complete lines (and 16 KiB chunks) are written.
  Status feed(Stream s, const char* data, size_t len);
  // Reads once from `fd` straight into the stream's line buffer. Returns bytes read
  // (0 = EOF, -1 with errno on error) after writing whatever became complete.
  ssize_t read_from(Stream s, int fd);
  // Writes a pending partial line of `s` (at EOF), without a trailing "\n".
  Status flush(Stream s);

  int64_t size() const { return size_; }

 private:
  JsonLogWriter() = default;
  Status drain(Stream s);
  Status write_entry(Stream s, const char* data, size_t len);
  Status rotate();

  struct Pending {
    char buf[kMaxLine];
    size_t len = 0;
  };
  std::string path_;
  int64_t max_size_ = 0;
  int max_files_ = 1;
  int64_t size_ = 0;
  UniqueFd fd_;
  // Heap-allocated once so the object stays movable and cheap; pages are touched only
  // as far as lines actually reach.
  std::unique_ptr<Pending[]> pending_;
};

}  // namespace md::monitor
