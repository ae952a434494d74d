#include "base/explain.h"

#include "base/child_io.h"

namespace md {

void Explain::enable(int fd) {
  enabled_ = true;
  fd_ = fd;
  last_ns_ = child::now_ns();
}

void format_explain_line(char* out, unsigned long cap, int64_t elapsed_ns, const char* what) {
  child::LineBuffer line;
  line.add("[explain] +");
  long long us = elapsed_ns / 1000;
  long long ms = us / 1000, frac = us % 1000;
  if (ms < 10) line.add(" ");
  if (ms < 100) line.add(" ");
  line.add_int(ms).add(".");
  if (frac < 100) line.add("0");
  if (frac < 10) line.add("0");
  line.add_int(frac).add(" ms  ").add(what).add("\n");
  unsigned long n = line.size() < cap - 1 ? line.size() : cap - 1;
  for (unsigned long i = 0; i < n; ++i) out[i] = line.data()[i];
  out[n] = 0;
}

void Explain::step(const std::string& what) {
  if (!enabled_) return;
  int64_t now = child::now_ns();
  char buf[512];
  format_explain_line(buf, sizeof buf, now - last_ns_, what.c_str());
  child::write_all(fd_, buf, child::str_len(buf));
  last_ns_ = child::now_ns();
}

void Explain::note(const std::string& what) {
  if (!enabled_) return;
  std::string line = "[explain]             " + what + "\n";
  child::write_all(fd_, line.data(), line.size());
}

}  // namespace md
