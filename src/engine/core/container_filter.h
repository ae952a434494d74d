// Docker's container list filters (`docker ps --filter`, GET /containers/json?filters=),
// in one place for the CLI (cli/docker/ps_cmd.cc) and the API server
// (api/container_handlers.cc), with Docker's daemon semantics (daemon/list.go):
//
//   - values of one key are ORed (label values are ANDed, as Docker's MatchKVList),
//     different keys are ANDed;
//   - name and id are unanchored regular expressions (Docker's filters.Match): name is
//     matched against "/<name>", so `name=^/web$` is an exact match and `name=web` a
//     substring one;
//   - label=k / label=k=v, status (Docker's seven states), exited (exit codes),
//     ancestor (image reference or id), before/since (a container: created before/after
//     it), volume (volume name or mount destination), network (name or id prefix),
//     health (starting|healthy|unhealthy|none), publish/expose (port[-port][/proto]),
//     isolation (default|process|hyperv), is-task (bool; never true here: no swarm);
//   - status, exited, before and since imply "all" (stopped containers are listed).
//
// Errors (EINVAL unless said otherwise) use the daemon's texts: "invalid filter 'x'"
// for an unknown key, "invalid filter 'status=x'" for a bad value,
// `strconv.Atoi: parsing "x": invalid syntax` for a bad exit code, ENOENT "No such
// container: x" for before/since naming no container.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "engine/core/engine.h"

namespace md::engine {

using FilterMap = std::map<std::string, std::vector<std::string>>;

// Checked filters, ready to match. before/since are resolved to creation times once.
struct ContainerFilters {
  FilterMap values;
  std::optional<int64_t> before_ns, since_ns;
  std::vector<std::set<std::string>> publish, expose;  // one "80/tcp" set per value
  // status, exited, before or since was given: stopped containers are candidates.
  bool implies_all = false;
};

// Validates `raw` (Docker's filters map). Needs the engine only for before/since.
Result<ContainerFilters> parse_container_filters(Engine& e, const FilterMap& raw);

// Does `c` pass every filter?
bool container_matches(Engine& e, const store::Container& c, const ContainerFilters& f);

struct ContainerListOptions {
  bool all = false;
  int64_t limit = -1;  // > 0: the newest `limit` (and stopped ones are listed, as Docker)
  ContainerFilters filters;
};
// The containers a `docker ps` with these options shows, newest first, reconciled.
Result<std::vector<store::Container>> list_containers(Engine& e, const ContainerListOptions& o);

// ---- pieces the list views share (ps table, API summary)

// One entry of Docker's summary "Ports" (types.Port).
struct PortEntry {
  std::string ip;  // "" when only exposed
  int private_port = 0, public_port = 0;
  std::string type;  // tcp | udp
};
// The published bindings and the exposed ports that are not published, while the
// container is up (Docker clears them when it stops).
std::vector<PortEntry> container_port_entries(Engine& e, const store::Container& c);

// Docker's summary Command: the entrypoint and command joined by spaces, each argument
// after the first that contains a space wrapped in single quotes ("sh -c 'echo hi'").
std::string summary_command(const store::Container& c);

// (name, id) of the networks a container is on, sorted by name ("host"/"none" for those modes).
std::vector<std::pair<std::string, std::string>> container_network_names(Engine& e, const store::Container& c);

// ---- pure pieces (unit-tested)

// publish=/expose= value: "80", "80/udp", "8000-8080/tcp" → {"80/tcp", …}. Errors:
// "filter for 'publish' should not contain ':': 1:2", "… invalid port range x".
Result<std::set<std::string>> parse_port_filter(const std::string& key, const std::string& value);

// Docker's filters.Match: an unanchored regular expression search (ECMAScript here);
// a value that is not a valid expression matches nothing.
bool regex_search_match(const std::string& pattern, const std::string& text);

// Docker's filters.MatchKVList for label filters: every `want` ("k" or "k=v") holds.
bool labels_match(const std::vector<std::string>& want, const std::map<std::string, std::string>& labels);

}  // namespace md::engine
