// Small helpers every API handler file shares: JSON answers, Docker's query value
// conventions, container lookup with Docker's 404 text, filters and stream frames.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/handlers.h"
#include "base/result.h"
#include "engine/core/containers.h"
#include "engine/core/engine.h"

namespace md::api {

// `j` dumped with a trailing newline (as dockerd does), Content-Type application/json.
Response json_response(int status, const nlohmann::json& j);
// An empty answer (204 No Content, 304 Not Modified) without a Content-Type.
Response no_content(int status = 204);

// Running, paused or restarting: the container has processes.
bool is_up(store::ContainerState s);

// Docker's boolean query values: "1", "true", "True" are true; absent, "", "0", "false" false.
bool query_bool(const Request& q, const std::string& key);
std::string query_value(const Request& q, const std::string& key, const std::string& def = "");
// An integer query value; nullopt when absent, an EINVAL error when malformed.
Result<std::optional<int64_t>> query_int(const Request& q, const std::string& key);

// The container `ref` names (id, prefix or name), reconciled; ENOENT "No such container:
// <ref>" (Docker's text, → 404) when there is none.
Result<store::Container> lookup(engine::Engine& e, const std::string& ref);

// Docker's filters query value: {"status":["running"]} or the old {"status":{"running":true}}.
// EINVAL on anything else.
Result<std::map<std::string, std::vector<std::string>>> parse_filters(const std::string& text);

// Docker's since/until: unix seconds, maybe with a fraction ("1700000000.123456789"), → ns.
int64_t unix_ns(const std::string& v);

// Appends one frame of Docker's multiplexed stream: [stream,0,0,0,size(be32)] + payload;
// stream 1 stdout, 2 stderr.
void put_frame(std::string& out, bool is_stderr, const std::string& payload);

}  // namespace md::api
