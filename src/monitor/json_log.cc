#include "monitor/json_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace md::monitor {

namespace {

// One escaped entry: 6 bytes per input byte at worst, plus the JSON around it.
constexpr size_t kEntryCap = 6 * kMaxLine + 128;
char g_entry[kEntryCap];

[[gnu::hot]] Status write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return fail_errno("write log");
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return {};
}

}  // namespace

// By hand (Howard Hinnant's civil_from_days) rather than gmtime_r + snprintf: this runs
// for every log line and should not pull in locale or time-zone code (RSS, docs/monitor.md).
[[gnu::hot]] size_t format_rfc3339_nano(char* out, int64_t sec, long nsec) {
  int64_t days = sec >= 0 ? sec / 86400 : -((-sec + 86399) / 86400);
  int64_t rem = sec - days * 86400;
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) y++;
  auto put = [&](char* p, int64_t v, int width) {
    for (int i = width - 1; i >= 0; i--) {
      p[i] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
  };
  put(out, y, 4);
  out[4] = '-';
  put(out + 5, m, 2);
  out[7] = '-';
  put(out + 8, d, 2);
  out[10] = 'T';
  put(out + 11, rem / 3600, 2);
  out[13] = ':';
  put(out + 14, rem / 60 % 60, 2);
  out[16] = ':';
  put(out + 17, rem % 60, 2);
  out[19] = '.';
  put(out + 20, nsec, 9);
  out[29] = 'Z';
  out[30] = 0;
  return 30;
}

std::string now_rfc3339_nano() {
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  char buf[32];
  size_t n = format_rfc3339_nano(buf, ts.tv_sec, ts.tv_nsec);
  return std::string(buf, n);
}

[[gnu::hot]] size_t json_escape(const char* data, size_t len, char* out) {
  static const char hex[] = "0123456789abcdef";
  char* o = out;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = static_cast<unsigned char>(data[i]);
    switch (c) {
      case '"': *o++ = '\\'; *o++ = '"'; break;
      case '\\': *o++ = '\\'; *o++ = '\\'; break;
      case '\n': *o++ = '\\'; *o++ = 'n'; break;
      case '\r': *o++ = '\\'; *o++ = 'r'; break;
      case '\t': *o++ = '\\'; *o++ = 't'; break;
      default:
        if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x7f) {
          if (c == 0x7f) {  // Go passes DEL through
            *o++ = static_cast<char>(c);
            break;
          }
          *o++ = '\\'; *o++ = 'u'; *o++ = '0'; *o++ = '0';
          *o++ = hex[c >> 4];
          *o++ = hex[c & 15];
        } else {
          *o++ = static_cast<char>(c);
        }
    }
  }
  return static_cast<size_t>(o - out);
}

Result<JsonLogWriter> JsonLogWriter::open(const std::string& path, int64_t max_size, int max_files) {
  JsonLogWriter w;
  w.path_ = path;
  w.max_size_ = max_size;
  w.max_files_ = max_files < 1 ? 1 : max_files;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return fail_errno("open log " + path);
  w.fd_.reset(fd);
  struct stat st;
  if (::fstat(fd, &st) == 0) w.size_ = st.st_size;
  w.pending_.reset(new Pending[2]);
  return w;
}

Status JsonLogWriter::rotate() {
  fd_.reset();
  if (max_files_ > 1) {
    for (int i = max_files_ - 1; i >= 1; i--) {
      std::string from = i == 1 ? path_ : path_ + "." + std::to_string(i - 1);
      std::string to = path_ + "." + std::to_string(i);
      if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) return fail_errno("rotate " + from);
    }
  }
  int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (max_files_ > 1 ? 0 : O_TRUNC);
  int fd = ::open(path_.c_str(), flags, 0640);
  if (fd < 0) return fail_errno("open log " + path_);
  fd_.reset(fd);
  size_ = 0;
  return {};
}

[[gnu::hot]] Status JsonLogWriter::write_entry(Stream s, const char* data, size_t len) {
  static const char kHead[] = "{\"log\":\"";
  char* o = g_entry;
  std::memcpy(o, kHead, sizeof kHead - 1);
  o += sizeof kHead - 1;
  o += json_escape(data, len, o);
  const char* mid = s == Stream::kStdout ? "\",\"stream\":\"stdout\",\"time\":\"" : "\",\"stream\":\"stderr\",\"time\":\"";
  size_t ml = std::strlen(mid);
  std::memcpy(o, mid, ml);
  o += ml;
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  o += format_rfc3339_nano(o, ts.tv_sec, ts.tv_nsec);
  *o++ = '"';
  *o++ = '}';
  *o++ = '\n';
  size_t n = static_cast<size_t>(o - g_entry);
  if (max_size_ > 0 && size_ > 0 && size_ + static_cast<int64_t>(n) > max_size_) TRY(rotate());
  TRY(write_all(fd_.get(), g_entry, n));
  size_ += static_cast<int64_t>(n);
  return {};
}

// Writes every complete line of the stream's buffer, and the whole buffer as one chunk
// when it is full without a newline; keeps the rest.
[[gnu::hot]] Status JsonLogWriter::drain(Stream s) {
  Pending& p = pending_[static_cast<int>(s)];
  size_t start = 0;
  while (start < p.len) {
    const void* nl = std::memchr(p.buf + start, '\n', p.len - start);
    if (!nl) break;
    size_t end = static_cast<size_t>(static_cast<const char*>(nl) - p.buf) + 1;
    TRY(write_entry(s, p.buf + start, end - start));
    start = end;
  }
  if (start == 0 && p.len == kMaxLine) {  // a full buffer without a newline: a 16 KiB chunk
    TRY(write_entry(s, p.buf, p.len));
    start = p.len;
  }
  if (start > 0) {
    std::memmove(p.buf, p.buf + start, p.len - start);
    p.len -= start;
  }
  return {};
}

[[gnu::hot]] Status JsonLogWriter::feed(Stream s, const char* data, size_t len) {
  Pending& p = pending_[static_cast<int>(s)];
  while (len > 0) {
    size_t n = std::min(len, kMaxLine - p.len);
    std::memcpy(p.buf + p.len, data, n);
    p.len += n;
    data += n;
    len -= n;
    TRY(drain(s));
  }
  return {};
}

ssize_t JsonLogWriter::read_from(Stream s, int fd) {
  Pending& p = pending_[static_cast<int>(s)];
  ssize_t n;
  do {
    n = ::read(fd, p.buf + p.len, kMaxLine - p.len);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return n;
  p.len += static_cast<size_t>(n);
  if (auto st = drain(s); !st) {
    errno = st.error().errno_value ? st.error().errno_value : EIO;
    return -1;
  }
  return n;
}

Status JsonLogWriter::flush(Stream s) {
  Pending& p = pending_[static_cast<int>(s)];
  if (p.len == 0) return {};
  TRY(write_entry(s, p.buf, p.len));
  p.len = 0;
  return {};
}

}  // namespace md::monitor
