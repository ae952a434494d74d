// The events file: one JSON line per container event, in Docker's `docker events` shape:
//   {"status":"die","id":ID,"from":IMAGE,"Type":"container","Action":"die",
//    "Actor":{"ID":ID,"Attributes":{"exitCode":"0","image":IMAGE,"name":NAME}},
//    "scope":"local","time":SECONDS,"timeNano":NS}
// The file is opened O_APPEND and every line is one write(): lines appended by several
// processes (other monitors, the engine) never interleave.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"

namespace md::monitor {

class EventLog {
 public:
  EventLog() = default;  // disabled: emit() does nothing
  static Result<EventLog> open(const std::string& path, std::string id, std::string name, std::string image);

  // `action`: "die", "oom", "start", "health_status: healthy", ...; `exit_code` >= 0 adds
  // the exitCode attribute (die). Failures are reported on stderr and otherwise ignored.
  void emit(std::string_view action, int exit_code = -1, int64_t time_ns = 0) const;

  bool enabled() const { return fd_.valid(); }

 private:
  UniqueFd fd_;
  std::string path_, id_, name_, image_;
};

// The line (with its trailing newline) emit() writes; exposed for the unit test.
std::string event_line(std::string_view action, const std::string& id, const std::string& name,
                       const std::string& image, int exit_code, int64_t time_ns);

}  // namespace md::monitor
