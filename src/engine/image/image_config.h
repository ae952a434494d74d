// Docker's image config JSON: building one (import, commit), applying `--change`
// instructions to its "config" object, reading its times, and the shapes `docker image
// inspect` shows. Pure functions over nlohmann::json; no files, no database.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace md::image {

// The PATH Docker gives a Linux image that sets none.
inline constexpr const char* kDefaultPathEnv =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// Go's time.RFC3339Nano in UTC: "2024-05-01T10:20:30.123456789Z", trailing zeros of the
// fraction dropped ("2024-05-01T10:20:30Z" when there is none).
std::string format_rfc3339_nano(int64_t unix_nanos);
// RFC 3339 with any fraction and a "Z" or ±hh:mm offset → Unix nanoseconds.
// EINVAL naming the value otherwise.
Result<int64_t> parse_rfc3339(std::string_view text);
// Now, in Unix nanoseconds (CLOCK_REALTIME).
int64_t unix_nanos_now();

// Applies Dockerfile instructions to `config` (Docker's container Config object: "Cmd",
// "Env", …), as `docker import -c` and `docker commit -c` do. Supported: CMD, ENTRYPOINT
// (JSON array, or shell form → ["/bin/sh","-c","…"]; ENTRYPOINT clears a Cmd not set by
// these same changes), ENV (k=v… or "k v"), LABEL, WORKDIR (relative to the previous one),
// USER, EXPOSE (port, port/proto, ranges), VOLUME (JSON array or words), STOPSIGNAL,
// HEALTHCHECK (NONE, or [--interval= --timeout= --start-period= --start-interval=
// --retries=] CMD …). $VAR and ${VAR} (also ${VAR:-x}, ${VAR:+x}) are expanded from the
// config's Env where a Dockerfile would, quotes and backslashes are removed.
// Errors (EINVAL) name the change: ONBUILD is refused, as are RUN, COPY, FROM, … On error
// `config` is left unchanged.
Status apply_changes(nlohmann::json& config, const std::vector<std::string>& changes);

// Docker's chain ids ("sha256:…") for layers with these diff ids, bottom first.
std::vector<std::string> chain_ids(const std::vector<std::string>& diff_ids);

// A config's "config" object in the full shape `docker image inspect` prints (every field
// of Docker's container Config, defaults where the image has none).
nlohmann::ordered_json inspect_container_config(const nlohmann::json& config);

}  // namespace md::image
