// Test helpers for the store's unit tests: a private temp root and forked workers.
#pragma once

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <string>

#include "base/file_util.h"

namespace md::store::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it.
class TempRoot {
 public:
  TempRoot() {
    const char* base = ::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/md-store-test.XXXXXX";
    if (::mkdtemp(tmpl.data())) path_ = tmpl;
  }
  ~TempRoot() {
    if (!path_.empty()) (void)md::remove_tree(path_);
  }
  TempRoot(const TempRoot&) = delete;
  TempRoot& operator=(const TempRoot&) = delete;
  const std::string& path() const { return path_; }
  bool ok() const { return !path_.empty(); }

 private:
  std::string path_;
};

// Runs fn in a forked child whose exit status is fn's return value. The child never
// returns into the test: no destructors of the parent's objects run there (an inherited
// SQLite connection must be left alone: see database.h).
inline pid_t fork_worker(const std::function<int()>& fn) {
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    int rc = fn();
    std::fflush(nullptr);
    ::_exit(rc);
  }
  return pid;
}

// Exit status of a child: its code, 128 + signal when killed, -1 when waitpid fails.
inline int wait_worker(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace md::store::testing
