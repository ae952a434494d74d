#include "cli/common/seed_config.h"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>
#include <tuple>

#include "base/file_util.h"
#include "cli/common/run_flags.h"
#include "cli/common/units.h"

namespace md::cli {

namespace {

using nlohmann::json;
using ojson = nlohmann::ordered_json;

constexpr int64_t kMiB = 1024 * 1024;
constexpr int64_t kMs = 1000000;

const std::vector<std::string> kFields = {
    "name",         "image",          "command",      "mem_limit_mb", "cpu_limit_percent",
    "ports",        "volumes",        "env_vars",     "restart_policy", "health_check",
    "exported_at",  "description"};
const std::vector<std::string> kHealthFields = {"command", "interval", "timeout", "retries",
                                                "start_period"};

// JSON-quoted, for messages and for YAML's double-quoted style (a superset of JSON strings).
std::string quote(std::string_view s) {
  return json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += sep;
    out += v[i];
  }
  return out;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t p = s.find(sep, start);
    out.emplace_back(s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return out;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t prev = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cur = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1)});
      prev = cur;
    }
  }
  return row[b.size()];
}

std::string unknown_field(const std::string& key, const std::vector<std::string>& known) {
  std::string best;
  size_t best_d = 3;
  for (auto& k : known) {
    size_t d = edit_distance(key, k);
    if (d < best_d) best_d = d, best = k;
  }
  std::string msg = "unknown field " + quote(key);
  if (!best.empty()) msg += "; did you mean " + quote(best) + "?";
  msg += " (the fields are: " + join(known, ", ") + ")";
  return msg;
}

const char* kind_of(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Null: return "nothing";
    default: return "a string";
  }
}

bool parse_int64(std::string_view s, int64_t& out) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

bool parse_double(std::string_view s, double& out) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && std::isfinite(out);
}

std::string format_number(double d) {
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, ec == std::errc() ? p : buf);
}

int host_cpus() {
  long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? int(n) : 1;
}

// Docker's container name rule.
bool valid_container_name(std::string_view s) {
  if (s.size() < 2 || !std::isalnum(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin() + 1, s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

bool named_volume(std::string_view s) {
  if (s.empty() || !std::isalnum(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

std::string normal_path(const std::string& p) {
  std::string s = std::filesystem::path(p).lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

// ---- shell words ----------------------------------------------------------------------

const std::set<std::string_view> kReserved = {"if", "then", "else", "elif", "fi",   "do",
                                              "done", "case", "esac", "while", "until", "for",
                                              "in", "{",   "}",    "!",     "[[",    "]]"};

struct ShellWords {
  std::vector<std::string> words;
  bool needs_shell = false;
};

Result<ShellWords> shell_split(std::string_view s) {
  ShellWords out;
  std::string cur;
  bool in_word = false;
  size_t word_start = 0;
  auto begin_word = [&](size_t i) {
    if (!in_word) word_start = i;
    in_word = true;
  };
  auto end_word = [&](size_t i) {
    if (!in_word) return;
    if (out.words.empty()) {
      std::string_view raw = s.substr(word_start, i - word_start);
      if (kReserved.count(raw)) out.needs_shell = true;
      // NAME=value before the command: a shell assignment.
      size_t eq = raw.find('=');
      if (eq != std::string_view::npos && eq > 0 &&
          (std::isalpha(static_cast<unsigned char>(raw[0])) || raw[0] == '_') &&
          std::all_of(raw.begin(), raw.begin() + eq, [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
          }))
        out.needs_shell = true;
    }
    out.words.push_back(std::move(cur));
    cur.clear();
    in_word = false;
  };
  auto unterminated = [&](char q) {
    return fail(std::string("unterminated ") + (q == '\'' ? "single" : "double") +
                    " quote in " + quote(s) + "; close it, or escape it with \\",
                EINVAL);
  };
  size_t i = 0, n = s.size();
  while (i < n) {
    char c = s[i];
    if (c == ' ' || c == '\t') {
      end_word(i);
      ++i;
    } else if (c == '\n' || c == '\r') {
      end_word(i);
      out.needs_shell = true;  // a second command
      ++i;
    } else if (c == '\'') {
      begin_word(i);
      size_t j = s.find('\'', i + 1);
      if (j == std::string_view::npos) return unterminated('\'');
      cur.append(s.substr(i + 1, j - i - 1));
      i = j + 1;
    } else if (c == '"') {
      begin_word(i);
      bool closed = false;
      for (++i; i < n; ++i) {
        char d = s[i];
        if (d == '"') {
          closed = true;
          ++i;
          break;
        }
        if (d == '\\' && i + 1 < n && s[i + 1] && std::strchr("$`\"\\\n", s[i + 1])) {
          if (s[i + 1] != '\n') cur += s[i + 1];
          ++i;
          continue;
        }
        if (d == '$' || d == '`') out.needs_shell = true;
        cur += d;
      }
      if (!closed) return unterminated('"');
    } else if (c == '\\') {
      if (i + 1 < n) {
        if (s[i + 1] != '\n') {
          begin_word(i);
          cur += s[i + 1];
        }
        i += 2;
      } else {
        begin_word(i);
        cur += c;
        ++i;
      }
    } else {
      if (c && std::strchr("|&;<>()$`*?[", c)) out.needs_shell = true;
      if (!in_word && (c == '#' || c == '~')) out.needs_shell = true;
      begin_word(i);
      cur += c;
      ++i;
    }
  }
  end_word(n);
  return out;
}

bool safe_word(const std::string& w, bool first) {
  if (w.empty()) return false;
  if (first && (kReserved.count(w) || w.find('=') != std::string::npos)) return false;
  return std::all_of(w.begin(), w.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || (c && std::strchr("_@%+=:,./-", c));
  });
}

// ---- ports and volumes ----------------------------------------------------------------

struct PortSpec {
  std::string ip, host, container, proto = "tcp";
  std::string canonical() const {
    std::string s;
    if (!ip.empty())
      s = (ip.find(':') != std::string::npos ? "[" + ip + "]" : ip) + ":" + host + ":" + container;
    else if (!host.empty())
      s = host + ":" + container;
    else
      s = container;
    if (proto != "tcp") s += "/" + proto;
    return s;
  }
};

bool port_number(const std::string& s, bool allow_zero) {
  int64_t v;
  if (s.empty() || !std::all_of(s.begin(), s.end(), ::isdigit) || !parse_int64(s, v)) return false;
  return v <= 65535 && (v >= 1 || allow_zero);
}

// "[IP:][HOST:]CONTAINER[/PROTO]"; the error says what is wrong, the caller adds the value.
Result<PortSpec> parse_port(const std::string& spec) {
  PortSpec p;
  std::string rest = spec;
  if (size_t slash = rest.rfind('/'); slash != std::string::npos) {
    p.proto = rest.substr(slash + 1);
    rest.resize(slash);
    if (p.proto != "tcp" && p.proto != "udp" && p.proto != "sctp")
      return fail("unknown protocol " + quote(p.proto) + " (use tcp, udp or sctp)", EINVAL);
  }
  std::vector<std::string> parts;
  if (!rest.empty() && rest[0] == '[') {
    size_t close = rest.find(']');
    if (close == std::string::npos || close + 1 >= rest.size() || rest[close + 1] != ':')
      return fail("an IPv6 address must be written [ADDRESS]:HOST:CONTAINER", EINVAL);
    p.ip = rest.substr(1, close - 1);
    parts = split(std::string_view(rest).substr(close + 2), ':');
    if (parts.size() != 2) return fail("an IPv6 address must be written [ADDRESS]:HOST:CONTAINER", EINVAL);
    parts.insert(parts.begin(), p.ip);
  } else {
    parts = split(rest, ':');
  }
  if (parts.size() > 3) return fail("too many colons", EINVAL);
  if (parts.size() == 3) {
    p.ip = parts[0];
    if (p.ip.empty()) return fail("the host IP before the first colon is empty", EINVAL);
  }
  p.container = parts.back();
  if (parts.size() >= 2) p.host = parts[parts.size() - 2];
  if (p.container.find('-') != std::string::npos || p.host.find('-') != std::string::npos)
    return fail("port ranges are not supported in templates; list each port", EINVAL);
  if (!port_number(p.container, false))
    return fail("container port " + quote(p.container) + " is not a number from 1 to 65535", EINVAL);
  if (parts.size() == 2 && p.host.empty())
    return fail("the host port before the colon is empty", EINVAL);
  if (!p.host.empty() && !port_number(p.host, false))
    return fail("host port " + quote(p.host) + " is not a number from 1 to 65535", EINVAL);
  return p;
}

const std::set<std::string> kVolumeModes = {"ro",     "rw",      "z",     "Z",      "shared",
                                            "rshared", "slave",  "rslave", "private", "rprivate",
                                            "nocopy", "consistent", "cached", "delegated"};

struct VolumeSpec {
  std::string source, target, mode;
};

Result<VolumeSpec> parse_volume(const std::string& spec) {
  if (spec.size() >= 3 && std::isalpha(static_cast<unsigned char>(spec[0])) && spec[1] == ':' &&
      (spec[2] == '\\' || spec[2] == '/'))
    return fail("Windows paths are not supported; use a Linux path such as /srv/data:/app/data", EINVAL);
  auto parts = split(spec, ':');
  if (parts.size() == 1)
    return fail("write HOST_PATH:CONTAINER_PATH[:ro], e.g. \"./data:/app/data\"", EINVAL);
  if (parts.size() > 3) return fail("too many colons (HOST_PATH:CONTAINER_PATH[:MODE])", EINVAL);
  VolumeSpec v{parts[0], parts[1], parts.size() == 3 ? parts[2] : ""};
  if (v.source.empty()) return fail("the host path is empty", EINVAL);
  if (v.source[0] == '~')
    return fail("\"~\" is not expanded in templates; write the full path", EINVAL);
  if (v.target.empty() || v.target[0] != '/')
    return fail("the container path " + quote(v.target) + " must be absolute", EINVAL);
  if (parts.size() == 3)
    for (auto& m : split(v.mode, ','))
      if (!kVolumeModes.count(m))
        return fail("invalid mode " + quote(m) + " (use ro or rw)", EINVAL);
  return v;
}

std::string resolve_source(const std::string& src, const std::string& base_dir) {
  if (src[0] == '/') return normal_path(src);
  if (named_volume(src)) return src;
  std::string base = base_dir.empty() ? absolute_path(".") : absolute_path(base_dir);
  return normal_path(join_path(base, src));
}

// ---- reading ---------------------------------------------------------------------------

class Reader {
 public:
  explicit Reader(const SeedParseOptions& o) : o_(o) {}

  std::unexpected<Error> err(const std::string& field, const std::string& msg) const {
    return std::unexpected(Error{EINVAL, o_.source + ": " + field + ": " + msg});
  }

  Result<std::string> str(const YAML::Node& n, const std::string& field) const {
    if (!n.IsScalar()) return err(field, std::string("expected a string, got ") + kind_of(n));
    return n.Scalar();
  }

  Result<int64_t> integer(const YAML::Node& n, const std::string& field) const {
    if (!n.IsScalar()) return err(field, std::string("expected a number, got ") + kind_of(n));
    std::string t = trim(n.Scalar());
    int64_t v;
    if (parse_int64(t, v)) return v;
    double d;
    if (parse_double(t, d)) return err(field, "expected a whole number, got " + quote(n.Scalar()));
    return err(field, "expected a number, got " + quote(n.Scalar()));
  }

  Result<double> number(const YAML::Node& n, const std::string& field) const {
    if (!n.IsScalar()) return err(field, std::string("expected a number, got ") + kind_of(n));
    double d;
    if (!parse_double(trim(n.Scalar()), d)) return err(field, "expected a number, got " + quote(n.Scalar()));
    return d;
  }

  Result<std::vector<std::string>> string_list(const YAML::Node& n, const std::string& field) const {
    if (!n.IsSequence()) return err(field, std::string("expected a list, got ") + kind_of(n));
    std::vector<std::string> out;
    for (size_t i = 0; i < n.size(); ++i)
      out.push_back(TRY(str(n[i], field + "[" + std::to_string(i) + "]")));
    return out;
  }

  // Seconds (a number) or a Go duration → canonical Go duration, "" for 0.
  Result<std::string> duration(const YAML::Node& n, const std::string& field) const {
    std::string t = trim(TRY(str(n, field)));
    int64_t ns;
    double secs;
    if (parse_double(t, secs)) {
      if (std::fabs(secs) > 9.2e9) return err(field, quote(t) + " is too long");
      ns = std::llround(secs * 1e9);
    } else if (auto d = parse_go_duration(t)) {
      ns = *d;
    } else {
      return err(field, "invalid duration " + quote(t) +
                            "; use seconds (30) or a duration such as \"30s\", \"1m30s\", \"500ms\"");
    }
    if (ns < 0) return err(field, "must not be negative, got " + quote(t));
    if (ns > 0 && ns < kMs) return err(field, quote(t) + " is shorter than the minimum of 1ms");
    return ns == 0 ? std::string() : format_go_duration(ns);
  }

  Status check_keys(const YAML::Node& map, const std::vector<std::string>& known,
                    const std::string& where) const {
    std::set<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (!it->first.IsScalar())
        return std::unexpected(Error{EINVAL, o_.source + ": " + where + "a field name must be a string, got " +
                                                 kind_of(it->first)});
      std::string k = it->first.Scalar();
      if (std::find(known.begin(), known.end(), k) == known.end())
        return std::unexpected(Error{EINVAL, o_.source + ": " + where + unknown_field(k, known)});
      if (!seen.insert(k).second)
        return std::unexpected(Error{EINVAL, o_.source + ": " + where + "field " + quote(k) + " is given twice"});
    }
    return {};
  }

  Result<SeedTemplate> read(const YAML::Node& root) const {
    if (!root.IsDefined() || root.IsNull())
      return fail(o_.source + ": the template is empty; give at least an image (image: busybox)", EINVAL);
    if (!root.IsMap())
      return fail(o_.source + ": expected a mapping of fields (name: …, image: …, command: …), got " +
                      (root.IsScalar() ? quote(root.Scalar()) : std::string(kind_of(root))),
                  EINVAL);
    TRY(check_keys(root, kFields, ""));
    SeedTemplate t;
    for (auto it = root.begin(); it != root.end(); ++it) {
      std::string k = it->first.Scalar();
      YAML::Node v = it->second;  // a copy: `it->` is a temporary proxy
      if (v.IsNull()) continue;  // `ports:` with nothing: as if absent
      if (k == "name") {
        t.name = TRY(str(v, k));
        if (!valid_container_name(t.name))
          return err(k, "invalid container name " + quote(t.name) +
                            ", only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed (at least 2 characters)");
      } else if (k == "image") {
        t.image = trim(TRY(str(v, k)));
        if (t.image.empty() || t.image.find_first_of(" \t\n") != std::string::npos)
          return err(k, "invalid image reference " + quote(v.Scalar()));
      } else if (k == "command") {
        if (v.IsSequence()) {
          auto words = TRY(string_list(v, k));
          if (words.empty()) continue;
          t.command = seed_quote_argv(words);
        } else {
          t.command = trim(TRY(str(v, k)));
          if (auto w = shell_split(t.command); !w) return err(k, w.error().message);
        }
      } else if (k == "mem_limit_mb") {
        int64_t mb = TRY(integer(v, k));
        if (mb < 0)
          return err(k, "must not be negative, got " + std::to_string(mb) + " (leave it out for no limit)");
        if (mb > 0 && mb < 6) return err(k, "the minimum memory limit is 6 (MB), got " + std::to_string(mb));
        if (mb > (INT64_MAX / kMiB)) return err(k, std::to_string(mb) + " is too large");
        t.mem_limit_mb = mb;
      } else if (k == "cpu_limit_percent") {
        double p = TRY(number(v, k));
        int cpus = o_.host_cpus > 0 ? o_.host_cpus : host_cpus();
        std::string shown = trim(v.Scalar());
        if (p < 0) return err(k, "must not be negative, got " + shown + " (leave it out for no limit)");
        if (p > 0 && p < 1)
          return err(k, shown + " is below the minimum of 1 (0.01 CPUs)");
        if (p > 100.0 * cpus)
          return err(k, shown + " is more than this machine's " + std::to_string(cpus) + " CPU" +
                            (cpus == 1 ? "" : "s") + " allow; use a value from 1 to " +
                            std::to_string(100 * cpus) + " (100 per CPU)");
        t.cpu_limit_percent = double(std::llround(p * 1e7)) / 1e7;  // what NanoCpus can hold
      } else if (k == "ports") {
        auto list = TRY(string_list(v, k));
        for (size_t i = 0; i < list.size(); ++i) {
          auto p = parse_port(trim(list[i]));
          if (!p)
            return err(k + "[" + std::to_string(i) + "]",
                       "invalid port " + quote(list[i]) + ": " + p.error().message +
                           " (write \"HOST:CONTAINER[/tcp|udp|sctp]\", e.g. \"8080:80\")");
          t.ports.push_back(p->canonical());
        }
      } else if (k == "volumes") {
        auto list = TRY(string_list(v, k));
        for (size_t i = 0; i < list.size(); ++i) {
          if (auto p = parse_volume(list[i]); !p)
            return err(k + "[" + std::to_string(i) + "]",
                       "invalid volume " + quote(list[i]) + ": " + p.error().message);
          t.volumes.push_back(list[i]);
        }
      } else if (k == "env_vars") {
        TRY(read_env(v, t));
      } else if (k == "restart_policy") {
        t.restart_policy = TRY(restart(v));
      } else if (k == "health_check") {
        TRY(read_health(v, t));
      } else if (k == "exported_at") {
        t.exported_at = TRY(str(v, k));
      } else if (k == "description") {
        (void)TRY(str(v, k));
      }
    }
    return t;
  }

 private:
  Status read_env(const YAML::Node& v, SeedTemplate& t) const {
    auto add = [&](const std::string& field, std::string key, std::string value) -> Status {
      if (key.empty()) return err(field, "a variable name is empty");
      if (key.find('=') != std::string::npos || key.find_first_of(" \t\n") != std::string::npos)
        return err(field, "invalid variable name " + quote(key));
      for (auto& [k, _] : t.env_vars)
        if (k == key) return err(field, "variable " + quote(key) + " is given twice");
      t.env_vars.emplace_back(std::move(key), std::move(value));
      return {};
    };
    if (v.IsMap()) {
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!it->first.IsScalar())
          return err("env_vars", std::string("a variable name must be a string, got ") + kind_of(it->first));
        std::string key = it->first.Scalar();
        std::string field = "env_vars." + key;
        if (it->second.IsNull())
          return err(field, "has no value; write " + key + ": \"\" for an empty one");
        TRY(add(field, key, TRY(str(it->second, field))));
      }
      return {};
    }
    if (v.IsSequence()) {
      for (size_t i = 0; i < v.size(); ++i) {
        std::string field = "env_vars[" + std::to_string(i) + "]";
        std::string e = TRY(str(v[i], field));
        size_t eq = e.find('=');
        if (eq == std::string::npos)
          return err(field, quote(e) + " has no value; write " + e + "=VALUE");
        TRY(add(field, e.substr(0, eq), e.substr(eq + 1)));
      }
      return {};
    }
    return err("env_vars", std::string("expected a mapping (NAME: value) or a list (NAME=value), got ") +
                               (v.IsScalar() ? quote(v.Scalar()) : kind_of(v)));
  }

  Result<std::string> restart(const YAML::Node& v) const {
    const std::string k = "restart_policy";
    std::string p = trim(TRY(str(v, k)));
    auto bad = [&] {
      return err(k, "invalid restart policy " + quote(p) +
                        "; use one of no, always, on-failure, on-failure:MAX_RETRIES, unless-stopped");
    };
    if (p == "no") return std::string();
    if (p == "always" || p == "unless-stopped" || p == "on-failure") return p;
    size_t colon = p.find(':');
    if (colon == std::string::npos) return bad();
    std::string name = p.substr(0, colon), count = p.substr(colon + 1);
    if (name != "on-failure") {
      if (name == "no" || name == "always" || name == "unless-stopped")
        return err(k, quote(p) + ": a maximum retry count can only be used with on-failure");
      return bad();
    }
    int64_t n;
    if (!parse_int64(count, n) || !std::all_of(count.begin(), count.end(), ::isdigit) || n > INT32_MAX)
      return err(k, quote(p) + ": the maximum retry count " + quote(count) +
                        " is not a whole number from 0 up");
    return n == 0 ? std::string("on-failure") : "on-failure:" + std::to_string(n);
  }

  Status read_health(const YAML::Node& v, SeedTemplate& t) const {
    const std::string k = "health_check";
    if (v.IsScalar()) {
      if (trim(v.Scalar()) == "none") {
        t.has_health = true;
        t.health.disabled = true;
        return {};
      }
      return err(k, "expected a mapping (command, interval, timeout, retries, start_period) or \"none\", got " +
                        quote(v.Scalar()));
    }
    if (!v.IsMap())
      return err(k, std::string("expected a mapping (command, interval, timeout, retries, start_period), got ") +
                        kind_of(v));
    TRY(check_keys(v, kHealthFields, k + ": "));
    auto& h = t.health;
    for (auto it = v.begin(); it != v.end(); ++it) {
      std::string f = it->first.Scalar();
      std::string field = k + "." + f;
      YAML::Node n = it->second;
      if (n.IsNull()) continue;
      if (f == "command") {
        if (n.IsSequence()) {
          auto words = TRY(string_list(n, field));
          if (words.empty()) return err(field, "the list is empty");
          h.command = seed_quote_argv(words);
          h.exec_form = true;
        } else {
          h.command = trim(TRY(str(n, field)));
          if (h.command.empty()) return err(field, "is empty");
        }
      } else if (f == "interval") {
        h.interval = TRY(duration(n, field));
      } else if (f == "timeout") {
        h.timeout = TRY(duration(n, field));
      } else if (f == "start_period") {
        h.start_period = TRY(duration(n, field));
      } else if (f == "retries") {
        int64_t r = TRY(integer(n, field));
        if (r < 0) return err(field, "must not be negative, got " + std::to_string(r));
        if (r > INT32_MAX) return err(field, std::to_string(r) + " is too large");
        h.retries = int(r);
      }
    }
    if (h.command.empty() && h.interval.empty() && h.timeout.empty() && h.start_period.empty() &&
        h.retries == 0)
      return err(k, "is empty; give at least a command (command: \"wget -q -O /dev/null http://127.0.0.1/\")");
    t.has_health = true;
    return {};
  }

  const SeedParseOptions& o_;
};

YAML::Node to_yaml_node(const ojson& j) {
  switch (j.type()) {
    case ojson::value_t::object: {
      YAML::Node n(YAML::NodeType::Map);
      for (auto& [k, v] : j.items()) n[k] = to_yaml_node(v);
      return n;
    }
    case ojson::value_t::array: {
      YAML::Node n(YAML::NodeType::Sequence);
      for (auto& v : j) n.push_back(to_yaml_node(v));
      return n;
    }
    case ojson::value_t::null: return YAML::Node(YAML::NodeType::Null);
    case ojson::value_t::string: return YAML::Node(j.get<std::string>());
    case ojson::value_t::number_float: return YAML::Node(format_number(j.get<double>()));
    default: return YAML::Node(j.dump());
  }
}

// ---- writing ---------------------------------------------------------------------------

// A YAML scalar: plain when no YAML reader (1.1 or 1.2) can take it for anything but this
// string, double-quoted (JSON escapes, which YAML shares) otherwise.
std::string yaml_scalar(const std::string& s) {
  static const std::set<std::string> kWords = {"y",  "n",   "yes",  "no",    "true", "false",
                                               "on", "off", "null", "~",     ".nan", ".inf"};
  if (s.empty()) return "\"\"";
  std::string lower = s;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  bool plain = !kWords.count(lower) && !std::isspace(static_cast<unsigned char>(s.front())) &&
               !std::isspace(static_cast<unsigned char>(s.back())) &&
               !std::strchr("-?:,[]{}#&*!|>'\"%@`+.=0123456789", s.front()) && s.back() != ':' &&
               s.find(": ") == std::string::npos && s.find(" #") == std::string::npos &&
               std::none_of(s.begin(), s.end(), [](char c) {
                 return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
               });
  return plain ? s : quote(s);
}

std::vector<std::pair<std::string, std::string>> env_from(const json& list) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!list.is_array()) return out;
  for (auto& e : list) {
    if (!e.is_string()) continue;
    std::string s = e.get<std::string>();
    size_t eq = s.find('=');
    if (eq == std::string::npos) out.emplace_back(s, "");
    else out.emplace_back(s.substr(0, eq), s.substr(eq + 1));
  }
  return out;
}

const json& member(const json& j, const char* key) {
  static const json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

std::string member_string(const json& j, const char* key) {
  const json& v = member(j, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

int64_t member_int(const json& j, const char* key) {
  const json& v = member(j, key);
  return v.is_number() ? v.get<int64_t>() : 0;
}

ojson template_object(const SeedTemplate& t, bool yaml) {
  (void)yaml;
  ojson o = ojson::object();
  if (!t.name.empty()) o["name"] = t.name;
  if (!t.image.empty()) o["image"] = t.image;
  if (!t.command.empty()) o["command"] = t.command;
  if (t.mem_limit_mb > 0) o["mem_limit_mb"] = t.mem_limit_mb;
  if (t.cpu_limit_percent > 0) {
    if (t.cpu_limit_percent == std::floor(t.cpu_limit_percent))
      o["cpu_limit_percent"] = int64_t(t.cpu_limit_percent);
    else
      o["cpu_limit_percent"] = t.cpu_limit_percent;
  }
  if (!t.ports.empty()) o["ports"] = t.ports;
  if (!t.volumes.empty()) o["volumes"] = t.volumes;
  if (!t.env_vars.empty()) {
    ojson env = ojson::object();
    for (auto& [k, v] : t.env_vars) env[k] = v;
    o["env_vars"] = env;
  }
  if (!t.restart_policy.empty()) o["restart_policy"] = t.restart_policy;
  if (t.has_health) {
    const auto& h = t.health;
    if (h.disabled) {
      o["health_check"] = "none";
    } else {
      ojson hc = ojson::object();
      if (!h.command.empty()) {
        if (h.exec_form) hc["command"] = seed_command_argv(h.command).value_or(std::vector<std::string>{h.command});
        else hc["command"] = h.command;
      }
      if (!h.interval.empty()) hc["interval"] = h.interval;
      if (!h.timeout.empty()) hc["timeout"] = h.timeout;
      if (h.retries > 0) hc["retries"] = h.retries;
      if (!h.start_period.empty()) hc["start_period"] = h.start_period;
      o["health_check"] = hc;
    }
  }
  if (!t.exported_at.empty()) o["exported_at"] = t.exported_at;
  return o;
}

void emit_yaml(std::string& out, const ojson& v, int indent) {
  std::string pad(indent, ' ');
  for (auto& [k, val] : v.items()) {
    out += pad + yaml_scalar(k) + ":";
    if (val.is_object()) {
      out += "\n";
      emit_yaml(out, val, indent + 2);
    } else if (val.is_array()) {
      out += "\n";
      for (auto& e : val) out += pad + "  - " + yaml_scalar(e.get<std::string>()) + "\n";
    } else if (val.is_string()) {
      out += " " + yaml_scalar(val.get<std::string>()) + "\n";
    } else if (val.is_number_float()) {
      out += " " + format_number(val.get<double>()) + "\n";
    } else {
      out += " " + val.dump() + "\n";
    }
  }
}

json image_config_of(const json& image) {
  if (!image.is_object()) return json::object();
  if (image.contains("Config") && image["Config"].is_object()) return image["Config"];
  if (image.contains("config") && image["config"].is_object()) return image["config"];
  return image;
}

}  // namespace

// ---- public ----------------------------------------------------------------------------

Result<std::vector<std::string>> seed_command_argv(const std::string& command) {
  std::string c = trim(command);
  if (c.empty()) return std::vector<std::string>{};
  auto w = TRY(shell_split(c));
  if (w.needs_shell) return std::vector<std::string>{"/bin/sh", "-c", c};
  return std::move(w.words);
}

std::string seed_quote_argv(const std::vector<std::string>& argv) {
  std::string out;
  for (size_t i = 0; i < argv.size(); ++i) {
    if (i) out += ' ';
    const std::string& w = argv[i];
    if (safe_word(w, i == 0)) {
      out += w;
      continue;
    }
    if (w.find('\'') != std::string::npos && w.find_first_of("$`\"\\") == std::string::npos) {
      out += '"' + w + '"';  // python -c "print('hi')": as people write it
      continue;
    }
    out += '\'';
    for (char c : w) {
      if (c == '\'') out += "'\\''";
      else out += c;
    }
    out += '\'';
  }
  return out;
}

Result<SeedTemplate> parse_seed_template(const std::string& text, const SeedParseOptions& opts) {
  Reader r(opts);
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') {
    ojson j;
    try {
      j = ojson::parse(text);
    } catch (const ojson::parse_error& e) {
      std::string what = e.what();
      if (size_t p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
      return fail(opts.source + ": invalid JSON: " + what, EINVAL);
    }
    return r.read(to_yaml_node(j));
  }
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return fail(opts.source + ": invalid YAML at line " + std::to_string(e.mark.line + 1) + ", column " +
                    std::to_string(e.mark.column + 1) + ": " + e.msg,
                EINVAL);
  }
  return r.read(root);
}

Result<SeedTemplate> load_seed_template(const std::string& path, int host_cpus) {
  auto text = read_file(path);
  if (!text) return fail("read template: " + text.error().message, text.error().errno_value);
  return parse_seed_template(*text, SeedParseOptions{"template " + path, host_cpus});
}

json seed_template_to_create_body(const SeedTemplate& t, const std::string& base_dir) {
  json b = json::object();
  json hc = json::object();
  if (!t.image.empty()) b["Image"] = t.image;
  if (!t.command.empty())
    b["Cmd"] = seed_command_argv(t.command).value_or(std::vector<std::string>{"/bin/sh", "-c", t.command});
  if (!t.env_vars.empty()) {
    json env = json::array();
    for (auto& [k, v] : t.env_vars) env.push_back(k + "=" + v);
    b["Env"] = env;
  }
  if (!t.ports.empty()) {
    json exposed = json::object(), bindings = json::object();
    for (auto& spec : t.ports) {
      auto p = parse_port(spec);
      if (!p) continue;
      std::string key = p->container + "/" + p->proto;
      exposed[key] = json::object();
      bindings[key].push_back({{"HostIp", p->ip}, {"HostPort", p->host}});
    }
    b["ExposedPorts"] = exposed;
    hc["PortBindings"] = bindings;
  }
  if (t.has_health) {
    const auto& h = t.health;
    json check = json::object();
    if (h.disabled) {
      check["Test"] = {"NONE"};
    } else {
      if (!h.command.empty()) {
        if (h.exec_form) {
          json test = {"CMD"};
          for (auto& w : seed_command_argv(h.command).value_or(std::vector<std::string>{h.command}))
            test.push_back(w);
          check["Test"] = test;
        } else {
          check["Test"] = {"CMD-SHELL", h.command};
        }
      }
      auto ns = [](const std::string& d) { return d.empty() ? 0 : parse_go_duration(d).value_or(0); };
      if (!h.interval.empty()) check["Interval"] = ns(h.interval);
      if (!h.timeout.empty()) check["Timeout"] = ns(h.timeout);
      if (!h.start_period.empty()) check["StartPeriod"] = ns(h.start_period);
      if (h.retries > 0) check["Retries"] = h.retries;
    }
    b["Healthcheck"] = check;
  }
  if (t.mem_limit_mb > 0) hc["Memory"] = t.mem_limit_mb * kMiB;
  if (t.cpu_limit_percent > 0) hc["NanoCpus"] = std::llround(t.cpu_limit_percent * 1e7);
  if (!t.volumes.empty()) {
    json binds = json::array();
    for (auto& spec : t.volumes) {
      auto v = parse_volume(spec);
      if (!v) {
        binds.push_back(spec);
        continue;
      }
      std::string s = resolve_source(v->source, base_dir) + ":" + v->target;
      if (!v->mode.empty()) s += ":" + v->mode;
      binds.push_back(s);
    }
    hc["Binds"] = binds;
  }
  if (!t.restart_policy.empty()) {
    std::string name = t.restart_policy;
    int count = 0;
    if (size_t colon = name.find(':'); colon != std::string::npos) {
      count = std::atoi(name.c_str() + colon + 1);
      name.resize(colon);
    }
    hc["RestartPolicy"] = {{"Name", name}, {"MaximumRetryCount", count}};
  }
  b["HostConfig"] = hc;
  return b;
}

namespace {

bool unset(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return true;
  const json& v = j[key];
  if (v.is_null()) return true;
  if (v.is_string()) return v.get_ref<const std::string&>().empty();  // json("").empty() is false
  if (v.is_array() || v.is_object()) return v.empty();
  if (v.is_number()) return v == 0;
  return false;
}

std::string env_key(const json& e) {
  std::string s = e.is_string() ? e.get<std::string>() : std::string();
  return s.substr(0, s.find('='));
}

std::string bind_target(const json& b) {
  if (!b.is_string()) return {};
  auto parts = split(b.get<std::string>(), ':');
  return parts.size() >= 2 ? normal_path(parts[1]) : std::string();
}

// `over` (the command line) wins; `base` (the template) fills what it left unset.
void merge_body(json& over, const json& base) {
  if (!over.is_object()) over = json::object();
  if (unset(over, "Image") && !unset(base, "Image")) over["Image"] = base["Image"];
  if (unset(over, "Cmd") && unset(over, "Entrypoint") && !unset(base, "Cmd")) over["Cmd"] = base["Cmd"];
  if (!unset(base, "Env")) {
    json env = base["Env"];
    if (!unset(over, "Env"))
      for (auto& e : over["Env"]) {
        bool replaced = false;
        for (auto& b : env)
          if (env_key(b) == env_key(e)) b = e, replaced = true;
        if (!replaced) env.push_back(e);
      }
    over["Env"] = env;
  }
  if (!unset(base, "ExposedPorts")) {
    json ports = base["ExposedPorts"];
    if (!unset(over, "ExposedPorts")) ports.update(over["ExposedPorts"]);
    over["ExposedPorts"] = ports;
  }
  if (!unset(base, "Healthcheck")) {
    const json& bh = base["Healthcheck"];
    if (unset(over, "Healthcheck")) {
      over["Healthcheck"] = bh;
    } else {
      json& oh = over["Healthcheck"];
      bool none = oh.contains("Test") && oh["Test"].is_array() && !oh["Test"].empty() && oh["Test"][0] == "NONE";
      if (!none)
        for (auto k : {"Test", "Interval", "Timeout", "StartPeriod", "Retries"})
          if (unset(oh, k) && !unset(bh, k)) oh[k] = bh[k];
    }
  }
  if (!over.contains("HostConfig") || !over["HostConfig"].is_object()) over["HostConfig"] = json::object();
  json& oh = over["HostConfig"];
  const json& bh = member(base, "HostConfig");
  if (unset(oh, "Memory") && !unset(bh, "Memory")) oh["Memory"] = bh["Memory"];
  if (unset(oh, "NanoCpus") && unset(oh, "CpuQuota") && unset(oh, "CpuPeriod") && !unset(bh, "NanoCpus"))
    oh["NanoCpus"] = bh["NanoCpus"];
  bool user_policy = oh.contains("RestartPolicy") && !unset(oh["RestartPolicy"], "Name") &&
                     oh["RestartPolicy"]["Name"] != "no";
  bool auto_remove = oh.contains("AutoRemove") && oh["AutoRemove"] == true;
  if (!user_policy && !auto_remove && !unset(bh, "RestartPolicy")) oh["RestartPolicy"] = bh["RestartPolicy"];
  if (!unset(bh, "PortBindings")) {
    json pb = bh["PortBindings"];
    if (!unset(oh, "PortBindings"))
      for (auto& [k, v] : oh["PortBindings"].items()) pb[k] = v;
    oh["PortBindings"] = pb;
  }
  if (!unset(bh, "Binds")) {
    json binds = json::array();
    std::set<std::string> taken;
    if (!unset(oh, "Binds"))
      for (auto& b : oh["Binds"]) taken.insert(bind_target(b));
    if (!unset(oh, "Mounts"))
      for (auto& m : oh["Mounts"]) taken.insert(normal_path(member_string(m, "Target")));
    if (!unset(oh, "Tmpfs"))
      for (auto& [dst, _] : oh["Tmpfs"].items()) taken.insert(normal_path(dst));
    for (auto& b : bh["Binds"])
      if (!taken.count(bind_target(b))) binds.push_back(b);
    if (!unset(oh, "Binds"))
      for (auto& b : oh["Binds"]) binds.push_back(b);
    oh["Binds"] = binds;
  }
}

}  // namespace

Status apply_seed_config(RunArgs& ra) {
  SeedTemplate t = TRY(load_seed_template(ra.config_file));
  std::string dir = absolute_path(ra.config_file);
  dir = dir.substr(0, dir.rfind('/'));
  if (dir.empty()) dir = "/";
  merge_body(ra.body, seed_template_to_create_body(t, dir));
  if (ra.name.empty()) ra.name = t.name;
  return {};
}

SeedTemplate seed_template_from_inspect(const json& inspect, const json& image) {
  SeedTemplate t;
  const json& cfg = member(inspect, "Config");
  const json& hc = member(inspect, "HostConfig");
  json ic = image_config_of(image);
  bool have_image = image.is_object();

  t.name = member_string(inspect, "Name");
  if (!t.name.empty() && t.name[0] == '/') t.name.erase(0, 1);
  t.image = member_string(cfg, "Image");

  const json& cmd = member(cfg, "Cmd");
  bool image_cmd = have_image && cmd == member(ic, "Cmd") && member(cfg, "Entrypoint") == member(ic, "Entrypoint");
  if (cmd.is_array() && !cmd.empty() && !image_cmd) {
    std::vector<std::string> argv;
    for (auto& w : cmd)
      if (w.is_string()) argv.push_back(w.get<std::string>());
    t.command = seed_quote_argv(argv);
    if (argv.size() == 3 && (argv[0] == "/bin/sh" || argv[0] == "sh") && argv[1] == "-c" &&
        argv[2] == trim(argv[2])) {
      auto w = shell_split(argv[2]);
      if (w && w->needs_shell && argv[0] == "/bin/sh") t.command = argv[2];
    }
  }

  int64_t mem = member_int(hc, "Memory");
  if (mem > 0) t.mem_limit_mb = (mem + kMiB - 1) / kMiB;
  int64_t nano = member_int(hc, "NanoCpus");
  int64_t quota = member_int(hc, "CpuQuota"), period = member_int(hc, "CpuPeriod");
  if (nano > 0) {
    t.cpu_limit_percent = double(nano) / 1e7;
  } else if (quota > 0) {
    if (period <= 0) period = 100000;
    t.cpu_limit_percent = double(std::llround(double(quota) / double(period) * 1e9)) / 1e7;
  }

  const json& pb = member(hc, "PortBindings");
  if (pb.is_object()) {
    std::vector<std::tuple<int, std::string, size_t, std::string>> ports;
    size_t seq = 0;
    for (auto& [key, list] : pb.items()) {
      PortSpec p;
      auto slash = key.find('/');
      p.container = key.substr(0, slash);
      if (slash != std::string::npos) p.proto = key.substr(slash + 1);
      int num = std::atoi(p.container.c_str());
      if (!list.is_array() || list.empty()) {
        ports.emplace_back(num, p.proto, seq++, p.canonical());
        continue;
      }
      for (auto& b : list) {
        PortSpec q = p;
        q.ip = member_string(b, "HostIp");
        q.host = member_string(b, "HostPort");
        ports.emplace_back(num, q.proto, seq++, q.canonical());
      }
    }
    std::sort(ports.begin(), ports.end());
    for (auto& p : ports) t.ports.push_back(std::get<3>(p));
  }

  const json& binds = member(hc, "Binds");
  if (binds.is_array())
    for (auto& b : binds)
      if (b.is_string()) t.volumes.push_back(b.get<std::string>());
  const json& mounts = member(hc, "Mounts");
  if (mounts.is_array())
    for (auto& m : mounts) {
      std::string type = member_string(m, "Type"), src = member_string(m, "Source"),
                  dst = member_string(m, "Target");
      if ((type != "bind" && type != "volume") || src.empty() || dst.empty()) continue;
      std::string v = src + ":" + dst;
      if (member(m, "ReadOnly") == true) v += ":ro";
      t.volumes.push_back(v);
    }

  std::set<std::string> image_env;
  if (have_image && member(ic, "Env").is_array())
    for (auto& e : member(ic, "Env"))
      if (e.is_string()) image_env.insert(e.get<std::string>());
  for (auto& [k, v] : env_from(member(cfg, "Env")))
    if (!image_env.count(k + "=" + v)) t.env_vars.emplace_back(k, v);

  const json& rp = member(hc, "RestartPolicy");
  std::string policy = member_string(rp, "Name");
  if (policy == "on-failure" && member_int(rp, "MaximumRetryCount") > 0)
    t.restart_policy = "on-failure:" + std::to_string(member_int(rp, "MaximumRetryCount"));
  else if (policy != "no")
    t.restart_policy = policy;

  const json& check = member(cfg, "Healthcheck");
  if (check.is_object() && !(have_image && check == member(ic, "Healthcheck"))) {
    auto& h = t.health;
    const json& test = member(check, "Test");
    std::vector<std::string> words;
    if (test.is_array())
      for (auto& w : test)
        if (w.is_string()) words.push_back(w.get<std::string>());
    if (!words.empty() && words[0] == "NONE") {
      h.disabled = true;
    } else if (words.size() >= 2 && words[0] == "CMD-SHELL") {
      h.command = words[1];
    } else if (words.size() >= 2 && words[0] == "CMD") {
      h.command = seed_quote_argv(std::vector<std::string>(words.begin() + 1, words.end()));
      h.exec_form = true;
    }
    auto dur = [&](const char* key) {
      int64_t ns = member_int(check, key);
      return ns > 0 ? format_go_duration(ns) : std::string();
    };
    h.interval = dur("Interval");
    h.timeout = dur("Timeout");
    h.start_period = dur("StartPeriod");
    h.retries = int(std::max<int64_t>(0, member_int(check, "Retries")));
    t.has_health = h.disabled || !h.command.empty() || !h.interval.empty() || !h.timeout.empty() ||
                   !h.start_period.empty() || h.retries > 0;
    if (!t.has_health) h = {};
  }
  return t;
}

std::string seed_template_to_yaml(const SeedTemplate& t) {
  std::string out;
  emit_yaml(out, template_object(t, true), 0);
  return out;
}

std::string seed_template_to_json(const SeedTemplate& t) {
  return template_object(t, false).dump(2, ' ', false, ojson::error_handler_t::replace) + "\n";
}

}  // namespace md::cli
