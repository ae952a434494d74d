#include "engine/image/image_config.h"

#include <time.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <optional>

#include "engine/image/sha256.h"

namespace md::image {

using nlohmann::json;
using nlohmann::ordered_json;

// ---------------------------------------------------------------------------------------
// Times

int64_t unix_nanos_now() {
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::string format_rfc3339_nano(int64_t unix_nanos) {
  int64_t secs = unix_nanos / 1000000000;
  int64_t nanos = unix_nanos % 1000000000;
  if (nanos < 0) {
    nanos += 1000000000;
    --secs;
  }
  time_t t = static_cast<time_t>(secs);
  struct tm tm;
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  std::string out = buf;
  if (nanos != 0) {
    char frac[16];
    std::snprintf(frac, sizeof frac, "%09lld", static_cast<long long>(nanos));
    std::string f = frac;
    while (!f.empty() && f.back() == '0') f.pop_back();
    out += "." + f;
  }
  out += "Z";
  return out;
}

Result<int64_t> parse_rfc3339(std::string_view text) {
  auto bad = [&] {
    return fail("invalid time \"" + std::string(text) + "\": want RFC 3339 (2024-05-01T10:20:30Z)",
                EINVAL);
  };
  auto digits = [&](size_t pos, size_t n, int& out) {
    if (pos + n > text.size()) return false;
    out = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
      out = out * 10 + (text[i] - '0');
    }
    return true;
  };
  int year, mon, day, hour, min, sec;
  if (!digits(0, 4, year) || text.size() < 20 || text[4] != '-' || !digits(5, 2, mon) ||
      text[7] != '-' || !digits(8, 2, day) || (text[10] != 'T' && text[10] != 't') ||
      !digits(11, 2, hour) || text[13] != ':' || !digits(14, 2, min) || text[16] != ':' ||
      !digits(17, 2, sec))
    return bad();
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) return bad();
  size_t pos = 19;
  int64_t nanos = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int n = 0;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      if (n < 9) nanos = nanos * 10 + (text[pos] - '0');
      ++n;
      ++pos;
    }
    if (n == 0) return bad();
    for (; n < 9; ++n) nanos *= 10;
  }
  int64_t offset = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh, om;
    if (!digits(pos + 1, 2, oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !digits(pos + 4, 2, om))
      return bad();
    offset = (oh * 3600 + om * 60) * (text[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return bad();
  }
  if (pos != text.size()) return bad();
  struct tm tm = {};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  int64_t secs = static_cast<int64_t>(::timegm(&tm)) - offset;
  return secs * 1000000000 + nanos;
}

// ---------------------------------------------------------------------------------------
// Dockerfile words: quotes, backslashes and variables

namespace {

using Env = std::map<std::string, std::string>;

Env env_of(const json& config) {
  Env env;
  if (auto it = config.find("Env"); it != config.end() && it->is_array())
    for (const auto& kv : *it) {
      if (!kv.is_string()) continue;
      std::string s = kv.get<std::string>();
      size_t eq = s.find('=');
      if (eq == std::string::npos)
        env[s] = "";
      else
        env[s.substr(0, eq)] = s.substr(eq + 1);
    }
  return env;
}

// Typed reads that never throw: the config may come from anywhere.
std::string string_of(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}
bool bool_of(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_boolean() && it->get<bool>();
}

bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

class Lexer {
 public:
  Lexer(std::string_view s, const Env& env) : s_(s), env_(env) {}

  // split: whitespace outside quotes separates words (empty quotes make an empty word);
  // otherwise the whole input is one word, whitespace kept.
  Result<std::vector<std::string>> words(bool split) {
    std::vector<std::string> out;
    std::string cur;
    bool started = false;
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (split && std::isspace(static_cast<unsigned char>(c))) {
        ++i_;
        if (started) out.push_back(std::move(cur));
        cur.clear();
        started = false;
        continue;
      }
      started = true;
      if (c == '\\') {
        ++i_;
        if (i_ < s_.size()) cur += s_[i_++];
        else cur += '\\';
      } else if (c == '\'') {
        size_t end = s_.find('\'', i_ + 1);
        if (end == std::string_view::npos) return fail("unexpected end of statement while looking for matching single-quote", EINVAL);
        cur.append(s_.substr(i_ + 1, end - i_ - 1));
        i_ = end + 1;
      } else if (c == '"') {
        ++i_;
        for (;;) {
          if (i_ >= s_.size()) return fail("unexpected end of statement while looking for matching double-quote", EINVAL);
          char d = s_[i_];
          if (d == '"') {
            ++i_;
            break;
          }
          if (d == '\\' && i_ + 1 < s_.size() &&
              (s_[i_ + 1] == '"' || s_[i_ + 1] == '$' || s_[i_ + 1] == '\\')) {
            cur += s_[i_ + 1];
            i_ += 2;
          } else if (d == '$') {
            cur += TRY(variable());
          } else {
            cur += d;
            ++i_;
          }
        }
      } else if (c == '$') {
        cur += TRY(variable());
      } else {
        cur += c;
        ++i_;
      }
    }
    if (started || !split) out.push_back(std::move(cur));
    return out;
  }

 private:
  // At a '$': the variable's value (or "$" when no name follows).
  Result<std::string> variable() {
    ++i_;
    if (i_ < s_.size() && s_[i_] == '{') {
      size_t start = ++i_;
      while (i_ < s_.size() && name_char(s_[i_])) ++i_;
      std::string name(s_.substr(start, i_ - start));
      if (name.empty()) return fail("bad substitution: missing variable name", EINVAL);
      if (i_ < s_.size() && s_[i_] == '}') {
        ++i_;
        auto it = env_.find(name);
        return it == env_.end() ? std::string() : it->second;
      }
      if (i_ + 1 < s_.size() && s_[i_] == ':' && (s_[i_ + 1] == '-' || s_[i_ + 1] == '+')) {
        char mod = s_[i_ + 1];
        i_ += 2;
        // The word runs to the matching '}' (nested braces counted).
        size_t wstart = i_;
        int depth = 1;
        while (i_ < s_.size()) {
          if (s_[i_] == '\\') {
            i_ += 2;
            continue;
          }
          if (s_[i_] == '{') ++depth;
          if (s_[i_] == '}' && --depth == 0) break;
          ++i_;
        }
        if (i_ >= s_.size()) return fail("bad substitution: missing '}'", EINVAL);
        std::string_view word = s_.substr(wstart, i_ - wstart);
        ++i_;
        auto it = env_.find(name);
        bool set = it != env_.end() && !it->second.empty();
        if ((mod == '-' && set) || (mod == '+' && !set)) return set ? it->second : std::string();
        auto w = TRY(Lexer(word, env_).words(false));
        return w.empty() ? std::string() : w[0];
      }
      return fail("bad substitution: unsupported modifier in ${" + name + "...}", EINVAL);
    }
    size_t start = i_;
    while (i_ < s_.size() && name_char(s_[i_])) ++i_;
    if (start == i_) return std::string("$");
    auto it = env_.find(std::string(s_.substr(start, i_ - start)));
    return it == env_.end() ? std::string() : it->second;
  }

  std::string_view s_;
  const Env& env_;
  size_t i_ = 0;
};

// Splits on whitespace outside quotes, keeping quotes and backslashes (the Dockerfile
// parser's first pass for ENV and LABEL).
std::vector<std::string> raw_words(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  char quote = 0;
  bool started = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (!quote && std::isspace(static_cast<unsigned char>(c))) {
      if (started) out.push_back(std::move(cur));
      cur.clear();
      started = false;
      continue;
    }
    started = true;
    cur += c;
    if (c == '\\' && i + 1 < s.size() && quote != '\'') {
      cur += s[++i];
    } else if (quote && c == quote) {
      quote = 0;
    } else if (!quote && (c == '"' || c == '\'')) {
      quote = c;
    }
  }
  if (started) out.push_back(std::move(cur));
  return out;
}

Result<std::string> one_word(std::string_view s, const Env& env) {
  auto w = TRY(Lexer(s, env).words(false));
  return w.empty() ? std::string() : w[0];
}

// "k=v k2=v2" or the legacy "k v w" (one pair, the value being the rest of the line).
Result<std::vector<std::pair<std::string, std::string>>> name_values(std::string_view what,
                                                                      std::string_view rest,
                                                                      const Env& env) {
  std::vector<std::pair<std::string, std::string>> out;
  auto words = raw_words(rest);
  if (words.empty()) return fail(std::string(what) + " requires at least one argument", EINVAL);
  if (words[0].find('=') == std::string::npos) {
    size_t ws = rest.find_first_of(" \t");
    if (ws == std::string_view::npos)
      return fail("Syntax error - can't find = in \"" + words[0] +
                      "\". Must be of the form: name=value",
                  EINVAL);
    std::string_view value = rest.substr(ws);
    value.remove_prefix(std::min(value.find_first_not_of(" \t"), value.size()));
    out.emplace_back(TRY(one_word(words[0], env)), TRY(one_word(value, env)));
  } else {
    for (const std::string& w : words) {
      size_t eq = w.find('=');
      if (eq == std::string::npos)
        return fail("Syntax error - can't find = in \"" + w + "\". Must be of the form: name=value",
                    EINVAL);
      out.emplace_back(TRY(one_word(std::string_view(w).substr(0, eq), env)),
                       TRY(one_word(std::string_view(w).substr(eq + 1), env)));
    }
  }
  for (const auto& [k, v] : out)
    if (k.empty()) return fail(std::string(what) + " names can not be blank", EINVAL);
  return out;
}

// A JSON array of strings ("exec form"), or nullopt (shell form).
std::optional<std::vector<std::string>> json_args(std::string_view rest) {
  if (rest.empty() || rest.front() != '[') return std::nullopt;
  json j = json::parse(rest, nullptr, false);
  if (j.is_discarded() || !j.is_array()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& v : j) {
    if (!v.is_string()) return std::nullopt;
    out.push_back(v.get<std::string>());
  }
  return out;
}

json command_of(std::string_view rest) {
  if (auto args = json_args(rest)) return *args;
  return json::array({"/bin/sh", "-c", std::string(rest)});
}

// Go's time.ParseDuration for what a HEALTHCHECK takes: "30s", "1m30s", "1.5h", "500ms".
Result<int64_t> parse_duration(std::string_view s) {
  auto bad = [&] { return fail("invalid duration \"" + std::string(s) + "\"", EINVAL); };
  if (s == "0") return 0;
  if (s.empty()) return bad();
  double total = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (start == i) return bad();
    std::string num(s.substr(start, i - start));
    char* end = nullptr;
    double v = std::strtod(num.c_str(), &end);
    if (end != num.c_str() + num.size()) return bad();
    size_t ustart = i;
    while (i < s.size() && !std::isdigit(static_cast<unsigned char>(s[i])) && s[i] != '.') ++i;
    std::string_view unit = s.substr(ustart, i - ustart);
    double mul;
    if (unit == "ns") mul = 1;
    else if (unit == "us" || unit == "µs") mul = 1e3;
    else if (unit == "ms") mul = 1e6;
    else if (unit == "s") mul = 1e9;
    else if (unit == "m") mul = 60e9;
    else if (unit == "h") mul = 3600e9;
    else return bad();
    total += v * mul;
  }
  return static_cast<int64_t>(total);
}

Result<json> healthcheck(std::string_view rest) {
  json hc = json::object();
  std::string_view r = rest;
  auto trim = [](std::string_view& v) {
    v.remove_prefix(std::min(v.find_first_not_of(" \t"), v.size()));
  };
  trim(r);
  while (r.starts_with("--")) {
    size_t end = r.find_first_of(" \t");
    std::string_view flag = r.substr(2, end == std::string_view::npos ? r.size() - 2 : end - 2);
    r = end == std::string_view::npos ? std::string_view() : r.substr(end);
    trim(r);
    size_t eq = flag.find('=');
    if (eq == std::string_view::npos)
      return fail("HEALTHCHECK flag --" + std::string(flag) + " needs a value (--flag=value)", EINVAL);
    std::string_view name = flag.substr(0, eq), value = flag.substr(eq + 1);
    if (name == "interval") hc["Interval"] = TRY(parse_duration(value));
    else if (name == "timeout") hc["Timeout"] = TRY(parse_duration(value));
    else if (name == "start-period") hc["StartPeriod"] = TRY(parse_duration(value));
    else if (name == "start-interval") hc["StartInterval"] = TRY(parse_duration(value));
    else if (name == "retries") {
      int n = 0;
      for (char c : value) {
        if (!std::isdigit(static_cast<unsigned char>(c)) || n > 100000000)
          return fail("HEALTHCHECK --retries must be a number, not \"" + std::string(value) + "\"", EINVAL);
        n = n * 10 + (c - '0');
      }
      hc["Retries"] = n;
    } else {
      return fail("unknown HEALTHCHECK flag --" + std::string(name), EINVAL);
    }
  }
  size_t sp = r.find_first_of(" \t");
  std::string kind(r.substr(0, sp));
  std::transform(kind.begin(), kind.end(), kind.begin(), ::toupper);
  std::string_view args = sp == std::string_view::npos ? std::string_view() : r.substr(sp);
  trim(args);
  if (kind == "NONE") {
    if (!args.empty() || hc.size() > 0)
      return fail("HEALTHCHECK NONE takes no arguments or flags", EINVAL);
    return json{{"Test", json::array({"NONE"})}};
  }
  if (kind != "CMD") return fail("HEALTHCHECK wants NONE or CMD, not \"" + kind + "\"", EINVAL);
  if (args.empty()) return fail("HEALTHCHECK CMD needs a command", EINVAL);
  json test = json::array({"CMD"});
  if (auto a = json_args(args)) {
    for (auto& s : *a) test.push_back(s);
  } else {
    test = json::array({"CMD-SHELL", std::string(args)});
  }
  json out = {{"Test", test}};
  out.update(hc);
  return out;
}

// "/a/./b/../c" → "/a/c"
std::string clean_abs(std::string_view p) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos <= p.size()) {
    size_t next = p.find('/', pos);
    if (next == std::string_view::npos) next = p.size();
    std::string comp(p.substr(pos, next - pos));
    pos = next + 1;
    if (comp.empty() || comp == ".") continue;
    if (comp == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(comp);
  }
  std::string out;
  for (const auto& c : parts) out += "/" + c;
  return out.empty() ? "/" : out;
}

Status expose(json& config, const std::vector<std::string>& ports) {
  for (const std::string& spec : ports) {
    std::string port = spec, proto = "tcp";
    if (size_t slash = spec.find('/'); slash != std::string::npos) {
      port = spec.substr(0, slash);
      proto = spec.substr(slash + 1);
      std::transform(proto.begin(), proto.end(), proto.begin(), ::tolower);
    }
    if (proto != "tcp" && proto != "udp" && proto != "sctp")
      return fail("invalid proto: " + proto, EINVAL);
    auto number = [&](std::string_view s) -> Result<int> {
      int n = 0;
      if (s.empty() || s.size() > 5) return fail("invalid containerPort: " + spec, EINVAL);
      for (char c : s) {
        if (!std::isdigit(static_cast<unsigned char>(c)))
          return fail("invalid containerPort: " + spec, EINVAL);
        n = n * 10 + (c - '0');
      }
      if (n > 65535) return fail("invalid containerPort: " + spec, EINVAL);
      return n;
    };
    int first, last;
    if (size_t dash = port.find('-'); dash != std::string::npos) {
      first = TRY(number(std::string_view(port).substr(0, dash)));
      last = TRY(number(std::string_view(port).substr(dash + 1)));
      if (last < first) return fail("invalid range specified for containerPort: " + spec, EINVAL);
    } else {
      first = last = TRY(number(port));
    }
    if (!config.contains("ExposedPorts") || !config["ExposedPorts"].is_object())
      config["ExposedPorts"] = json::object();
    for (int p = first; p <= last; ++p)
      config["ExposedPorts"][std::to_string(p) + "/" + proto] = json::object();
  }
  return {};
}

void set_env(json& config, const std::string& key, const std::string& value) {
  if (!config.contains("Env") || !config["Env"].is_array()) config["Env"] = json::array();
  for (auto& kv : config["Env"]) {
    if (!kv.is_string()) continue;
    std::string s = kv.get<std::string>();
    if (s == key || s.starts_with(key + "=")) {
      kv = key + "=" + value;
      return;
    }
  }
  config["Env"].push_back(key + "=" + value);
}

Status apply_one(json& config, const std::string& change, bool& cmd_set) {
  std::string_view line = change;
  auto trim = [](std::string_view v) {
    v.remove_prefix(std::min(v.find_first_not_of(" \t\r\n"), v.size()));
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
    return v;
  };
  line = trim(line);
  size_t sp = line.find_first_of(" \t");
  std::string op(line.substr(0, sp));
  std::transform(op.begin(), op.end(), op.begin(), ::toupper);
  std::string_view rest = sp == std::string_view::npos ? std::string_view() : trim(line.substr(sp));
  const Env env = env_of(config);

  if (op == "CMD") {
    if (rest.empty()) return fail("CMD needs a command", EINVAL);
    config["Cmd"] = command_of(rest);
    cmd_set = true;
  } else if (op == "ENTRYPOINT") {
    if (rest.empty()) return fail("ENTRYPOINT needs a command", EINVAL);
    config["Entrypoint"] = command_of(rest);
    // A new entrypoint makes an inherited command meaningless (Docker's rule).
    if (!cmd_set) config["Cmd"] = nullptr;
  } else if (op == "ENV") {
    for (const auto& [k, v] : TRY(name_values("ENV", rest, env))) set_env(config, k, v);
  } else if (op == "LABEL") {
    auto pairs = TRY(name_values("LABEL", rest, env));
    if (!config.contains("Labels") || !config["Labels"].is_object()) config["Labels"] = json::object();
    for (const auto& [k, v] : pairs) config["Labels"][k] = v;
  } else if (op == "WORKDIR") {
    std::string dir = TRY(one_word(rest, env));
    if (dir.empty()) return fail("WORKDIR needs a path", EINVAL);
    if (dir[0] != '/') {
      std::string cur = string_of(config, "WorkingDir");
      dir = (cur.empty() ? std::string("/") : cur) + "/" + dir;
    }
    config["WorkingDir"] = clean_abs(dir);
  } else if (op == "USER") {
    std::string user = TRY(one_word(rest, env));
    if (user.empty()) return fail("USER needs a user name or uid", EINVAL);
    config["User"] = user;
  } else if (op == "EXPOSE") {
    auto ports = TRY(Lexer(rest, env).words(true));
    if (ports.empty()) return fail("EXPOSE needs at least one port", EINVAL);
    TRY(expose(config, ports));
  } else if (op == "VOLUME") {
    std::vector<std::string> vols;
    if (auto a = json_args(rest)) vols = *a;
    else vols = TRY(Lexer(rest, env).words(true));
    if (vols.empty()) return fail("VOLUME needs at least one path", EINVAL);
    if (!config.contains("Volumes") || !config["Volumes"].is_object()) config["Volumes"] = json::object();
    for (const auto& v : vols) {
      if (v.empty()) return fail("VOLUME specified can not be an empty string", EINVAL);
      config["Volumes"][v] = json::object();
    }
  } else if (op == "STOPSIGNAL") {
    std::string sig = TRY(one_word(rest, env));
    if (sig.empty()) return fail("STOPSIGNAL needs a signal", EINVAL);
    config["StopSignal"] = sig;
  } else if (op == "HEALTHCHECK") {
    config["Healthcheck"] = TRY(healthcheck(rest));
  } else if (op == "ONBUILD") {
    return fail("ONBUILD is not supported here: minidocker has no builder to run the trigger", EINVAL);
  } else if (op.empty()) {
    return fail("empty change", EINVAL);
  } else {
    return fail(op + " is not a valid change command (valid: CMD, ENTRYPOINT, ENV, EXPOSE, "
                     "HEALTHCHECK, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR)",
                EINVAL);
  }
  return {};
}

}  // namespace

Status apply_changes(json& config, const std::vector<std::string>& changes) {
  json work = config.is_object() ? config : json::object();
  bool cmd_set = false;
  for (const std::string& c : changes) {
    if (c.find_first_not_of(" \t\r\n") == std::string::npos) continue;
    auto s = apply_one(work, c, cmd_set);
    if (!s) return std::unexpected(with_context(s.error(), "change \"" + c + "\""));
  }
  config = std::move(work);
  return {};
}

std::vector<std::string> chain_ids(const std::vector<std::string>& diff_ids) {
  std::vector<std::string> out;
  for (const std::string& d : diff_ids) {
    if (out.empty())
      out.push_back(d);
    else
      out.push_back(sha256_digest(out.back() + " " + d));
  }
  return out;
}

ordered_json inspect_container_config(const json& config) {
  const json c = config.is_object() ? config : json::object();
  auto get = [&](const char* key, json dflt) {
    auto it = c.find(key);
    return it == c.end() ? dflt : *it;
  };
  ordered_json out;
  out["Hostname"] = get("Hostname", "");
  out["Domainname"] = get("Domainname", "");
  out["User"] = get("User", "");
  out["AttachStdin"] = get("AttachStdin", false);
  out["AttachStdout"] = get("AttachStdout", false);
  out["AttachStderr"] = get("AttachStderr", false);
  if (c.contains("ExposedPorts") && c["ExposedPorts"].is_object() && !c["ExposedPorts"].empty())
    out["ExposedPorts"] = c["ExposedPorts"];
  out["Tty"] = get("Tty", false);
  out["OpenStdin"] = get("OpenStdin", false);
  out["StdinOnce"] = get("StdinOnce", false);
  out["Env"] = get("Env", nullptr);
  out["Cmd"] = get("Cmd", nullptr);
  if (c.contains("Healthcheck") && !c["Healthcheck"].is_null()) out["Healthcheck"] = c["Healthcheck"];
  if (bool_of(c, "ArgsEscaped")) out["ArgsEscaped"] = true;
  out["Image"] = get("Image", "");
  out["Volumes"] = get("Volumes", nullptr);
  out["WorkingDir"] = get("WorkingDir", "");
  out["Entrypoint"] = get("Entrypoint", nullptr);
  if (bool_of(c, "NetworkDisabled")) out["NetworkDisabled"] = true;
  if (!string_of(c, "MacAddress").empty()) out["MacAddress"] = c["MacAddress"];
  out["OnBuild"] = get("OnBuild", nullptr);
  out["Labels"] = get("Labels", nullptr);
  if (!string_of(c, "StopSignal").empty()) out["StopSignal"] = c["StopSignal"];
  if (c.contains("StopTimeout") && !c["StopTimeout"].is_null()) out["StopTimeout"] = c["StopTimeout"];
  if (c.contains("Shell") && !c["Shell"].is_null()) out["Shell"] = c["Shell"];
  return out;
}

}  // namespace md::image
