// ScopeGuard: runs a callable when the scope ends unless cancel() was called.
// Used for rollback: a failed create must leave nothing behind.
#pragma once

#include <utility>

namespace md {

template <class F>
class ScopeGuard {
 public:
  explicit ScopeGuard(F f) : f_(std::move(f)) {}
  ScopeGuard(const ScopeGuard&) = delete;
  ScopeGuard& operator=(const ScopeGuard&) = delete;
  ~ScopeGuard() {
    if (active_) f_();
  }
  void cancel() { active_ = false; }

 private:
  F f_;
  bool active_ = true;
};

}  // namespace md
