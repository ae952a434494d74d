// Helpers shared by the API handler files (http_util.h).
#include "api/http_util.h"

#include <cerrno>
#include <cstdlib>

namespace md::api {

using nlohmann::json;
using store::ContainerState;

Response json_response(int status, const json& j) {
  Response r;
  r.status = status;
  r.body = j.dump();
  r.body += '\n';
  return r;
}

Response no_content(int status) {
  Response r;
  r.status = status;
  r.content_type.clear();
  return r;
}

bool is_up(ContainerState s) {
  return s == ContainerState::kRunning || s == ContainerState::kPaused || s == ContainerState::kRestarting;
}

bool query_bool(const Request& q, const std::string& key) {
  auto it = q.query.find(key);
  if (it == q.query.end()) return false;
  const std::string& v = it->second;
  return !(v.empty() || v == "0" || v == "false" || v == "False" || v == "FALSE");
}

std::string query_value(const Request& q, const std::string& key, const std::string& def) {
  auto it = q.query.find(key);
  return it == q.query.end() ? def : it->second;
}

// An integer query value; nullopt when absent, an error message when malformed.
Result<std::optional<int64_t>> query_int(const Request& q, const std::string& key) {
  auto it = q.query.find(key);
  if (it == q.query.end() || it->second.empty()) return std::optional<int64_t>{};
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(it->second.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return fail("invalid value for " + key + ": " + it->second, EINVAL);
  return std::optional<int64_t>{v};
}

// The container `ref` names, reconciled; a Docker-shaped 404 when there is none.
Result<store::Container> lookup(engine::Engine& e, const std::string& ref) {
  auto id = e.containers().resolve(ref);
  if (!id) {
    if (id.error().errno_value == ENOENT) return fail("No such container: " + ref, ENOENT);
    return std::unexpected(id.error());
  }
  auto c = engine::reconcile_container(e, *id);
  if (!c && c.error().errno_value == ENOENT) return fail("No such container: " + ref, ENOENT);
  return c;
}

// Docker's filters query value: {"status":["running"]} or the old {"status":{"running":true}}.
Result<std::map<std::string, std::vector<std::string>>> parse_filters(const std::string& text) {
  std::map<std::string, std::vector<std::string>> out;
  if (text.empty()) return out;
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return fail("invalid filter: " + text, EINVAL);
  for (auto& [key, v] : j.items()) {
    if (v.is_array()) {
      for (auto& x : v)
        if (x.is_string()) out[key].push_back(x.get<std::string>());
    } else if (v.is_object()) {
      for (auto& [k, b] : v.items())
        if (b.is_boolean() && b.get<bool>()) out[key].push_back(k);
    } else {
      return fail("invalid filter: " + text, EINVAL);
    }
  }
  return out;
}

// Docker's since/until: unix seconds, maybe with a fraction ("1700000000.123456789").
int64_t unix_ns(const std::string& v) {
  if (v.empty()) return 0;
  auto dot = v.find('.');
  int64_t s = std::atoll(v.substr(0, dot).c_str()) * 1000000000LL;
  if (dot != std::string::npos) {
    std::string frac = v.substr(dot + 1, 9);
    frac.resize(9, '0');
    s += std::atoll(frac.c_str());
  }
  return s;
}

void put_frame(std::string& out, bool is_stderr, const std::string& payload) {
  uint32_t n = uint32_t(payload.size());
  char h[8] = {char(is_stderr ? 2 : 1), 0, 0, 0, char(n >> 24), char(n >> 16), char(n >> 8), char(n)};
  out.append(h, 8);
  out += payload;
}

}  // namespace md::api
