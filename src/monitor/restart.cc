#include "monitor/restart.h"

namespace md::monitor {

RestartTracker::Decision RestartTracker::on_exit(int exit_code, bool stopped, int64_t ran_ns) {
  if (policy_.kind == RestartKind::kNo || stopped) return {};
  // The back-off moves on every exit, as Docker's restart manager does.
  if (ran_ns >= kBackoffResetAfterNs) backoff_ns_ = 0;
  if (backoff_ns_ == 0) backoff_ns_ = kBackoffInitialNs;
  else if (backoff_ns_ < kBackoffMaxNs) backoff_ns_ *= 2;
  if (backoff_ns_ > kBackoffMaxNs) backoff_ns_ = kBackoffMaxNs;

  bool restart = false;
  switch (policy_.kind) {
    case RestartKind::kAlways:
    case RestartKind::kUnlessStopped:
      restart = true;
      break;
    case RestartKind::kOnFailure:
      restart = exit_code != 0 && (policy_.max_retries == 0 || restart_count_ < policy_.max_retries);
      break;
    case RestartKind::kNo:
      break;
  }
  if (!restart) return {};
  restart_count_++;
  return {true, backoff_ns_};
}

}  // namespace md::monitor
