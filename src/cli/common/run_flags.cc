#include "cli/common/run_flags.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "cli/common/units.h"

namespace md::cli {

namespace {

using nlohmann::json;

// ---- small helpers ----------------------------------------------------------------------

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
std::string upper(std::string s) {
  for (auto& c : s) c = char(std::toupper(static_cast<unsigned char>(c)));
  return s;
}
std::string trim(std::string_view s, std::string_view chars = " \t\n\r\v\f") {
  size_t b = s.find_first_not_of(chars);
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(chars);
  return std::string(s.substr(b, e - b + 1));
}

std::vector<std::string> split(std::string_view s, char sep, size_t max_parts = SIZE_MAX) {
  std::vector<std::string> out;
  size_t start = 0;
  while (out.size() + 1 < max_parts) {
    size_t p = s.find(sep, start);
    if (p == std::string_view::npos) break;
    out.emplace_back(s.substr(start, p - start));
    start = p + 1;
  }
  out.emplace_back(s.substr(start));
  return out;
}

std::string go_quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (c == '\t') {
      out += "\\t";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

// Go's path.Clean.
std::string clean_path(const std::string& p) {
  if (p.empty()) return ".";
  bool rooted = p[0] == '/';
  std::vector<std::string> parts;
  for (auto& part : split(p, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..") parts.pop_back();
      else if (!rooted) parts.push_back("..");
      continue;
    }
    parts.push_back(part);
  }
  std::string out = rooted ? "/" : "";
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? "/" : "") + parts[i];
  return out.empty() ? "." : out;
}

std::string cwd() {
  char buf[PATH_MAX];
  if (!::getcwd(buf, sizeof buf)) return "/";
  return buf;
}

// Go's filepath.Abs.
std::string absolute(const std::string& p) {
  if (!p.empty() && p[0] == '/') return clean_path(p);
  return clean_path(cwd() + "/" + p);
}

// Go's syscall error text: strerror, lower-cased ("no such file or directory").
std::string errno_text(int err) {
  std::string s = std::strerror(err);
  if (!s.empty()) s[0] = char(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

std::optional<std::string> lookup_env(const std::string& name) {
  const char* v = ::getenv(name.c_str());
  if (!v) return std::nullopt;
  return std::string(v);
}

// strconv.ParseInt(s, 0, 64) as pflag's int flags use it.
Result<int64_t> parse_int_flag(const std::string& s) {
  auto syntax = [&] { return fail("strconv.ParseInt: parsing " + go_quote(s) + ": invalid syntax", EINVAL); };
  std::string_view v = s;
  bool neg = false;
  if (!v.empty() && (v[0] == '+' || v[0] == '-')) {
    neg = v[0] == '-';
    v.remove_prefix(1);
  }
  if (v.empty()) return syntax();
  int base = 10;
  bool prefixed = false;
  if (v.size() > 1 && v[0] == '0') {
    char p = char(v[1] | 0x20);
    if (p == 'x') base = 16, v.remove_prefix(2), prefixed = true;
    else if (p == 'o') base = 8, v.remove_prefix(2), prefixed = true;
    else if (p == 'b') base = 2, v.remove_prefix(2), prefixed = true;
    else base = 8, v.remove_prefix(1), prefixed = true;
  }
  if (v.empty()) return syntax();
  unsigned __int128 n = 0;
  bool overflow = false;
  char prev = prefixed ? '_' : '0';
  for (char c : v) {
    if (c == '_') {
      if (prev == '_') return syntax();
      prev = '_';
      continue;
    }
    int d = (c >= '0' && c <= '9') ? c - '0' : ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ? (c | 0x20) - 'a' + 10 : 99;
    if (d >= base) return syntax();
    if (!overflow) {
      n = n * unsigned(base) + unsigned(d);
      if (n > (unsigned __int128)(uint64_t(1) << 63)) overflow = true;
    }
    prev = '0';
  }
  if (prev == '_' && !(prefixed && v.empty())) return syntax();
  if (overflow || (!neg && n > (unsigned __int128)INT64_MAX))
    return fail("strconv.ParseInt: parsing " + go_quote(s) + ": value out of range", ERANGE);
  return neg ? -static_cast<int64_t>(n - 1) - 1 : static_cast<int64_t>(n);
}

// Go's net.ParseIP(...).String(), via inet_pton/inet_ntop.
std::optional<std::string> canonical_ip(const std::string& s) {
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN];
  if (::inet_pton(AF_INET, s.c_str(), buf) == 1) {
    // Go rejects leading zeros ("01.2.3.4"); inet_pton does too.
    ::inet_ntop(AF_INET, buf, out, sizeof out);
    return std::string(out);
  }
  if (s.find('%') == std::string::npos && ::inet_pton(AF_INET6, s.c_str(), buf) == 1) {
    static const unsigned char kV4Prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(buf, kV4Prefix, 12) == 0) {
      ::inet_ntop(AF_INET, buf + 12, out, sizeof out);
      return std::string(out);
    }
    ::inet_ntop(AF_INET6, buf, out, sizeof out);
    return std::string(out);
  }
  return std::nullopt;
}

// ---- flag definitions -------------------------------------------------------------------

std::vector<FlagDef> make_run_defs(RunVerb verb) {
  using K = FlagKind;
  bool run = verb == RunVerb::kRun;
  std::vector<FlagDef> d = {
      {"add-host", 0, K::kList, "Add a custom host-to-IP mapping (host:ip)"},
      {"annotation", 0, K::kList, "Add an annotation to the container (passed through to the OCI runtime)", "map", "map[]"},
      {"attach", 'a', K::kList, "Attach to STDIN, STDOUT or STDERR"},
      {"cap-add", 0, K::kList, "Add Linux capabilities"},
      {"cap-drop", 0, K::kList, "Drop Linux capabilities"},
      {"cgroup-parent", 0, K::kValue, "Optional parent cgroup for the container"},
      {"cgroupns", 0, K::kValue, "Cgroup namespace to use (host|private)"},
      {"cidfile", 0, K::kValue, "Write the container ID to the file"},
      {"config", 0, K::kValue, "Read the container's settings from a template file (YAML or JSON); flags given here win", "file"},
      {"cpu-period", 0, K::kValue, "Limit CPU CFS (Completely Fair Scheduler) period", "int"},
      {"cpu-quota", 0, K::kValue, "Limit CPU CFS (Completely Fair Scheduler) quota", "int"},
      {"cpu-shares", 'c', K::kValue, "CPU shares (relative weight)", "int"},
      {"cpus", 0, K::kValue, "Number of CPUs", "decimal"},
      {"cpuset-cpus", 0, K::kValue, "CPUs in which to allow execution (0-3, 0,1)"},
      {"cpuset-mems", 0, K::kValue, "MEMs in which to allow execution (0-3, 0,1)"},
  };
  if (run) {
    d.push_back({"detach", 'd', K::kBool, "Run container in background and print container ID"});
    d.push_back({"detach-keys", 0, K::kValue, "Override the key sequence for detaching a container"});
  }
  std::vector<FlagDef> rest = {
      {"device", 0, K::kList, "Add a host device to the container"},
      {"disable-content-trust", 0, K::kBool, "Skip image verification", "string", "true", true},
      {"dns", 0, K::kList, "Set custom DNS servers"},
      {"dns-opt", 0, K::kList, "Set DNS options", "string", "", true},
      {"dns-option", 0, K::kList, "Set DNS options"},
      {"dns-search", 0, K::kList, "Set custom DNS search domains"},
      {"domainname", 0, K::kValue, "Container NIS domain name"},
      {"entrypoint", 0, K::kValue, "Overwrite the default ENTRYPOINT of the image"},
      {"env", 'e', K::kList, "Set environment variables"},
      {"env-file", 0, K::kList, "Read in a file of environment variables"},
      {"explain", 0, K::kBool, "Print each step the engine takes (namespaces, mounts, cgroups, exec)"},
      {"expose", 0, K::kList, "Expose a port or a range of ports"},
      {"group-add", 0, K::kList, "Add additional groups to join"},
      {"health-cmd", 0, K::kValue, "Command to run to check health"},
      {"health-interval", 0, K::kValue, "Time between running the check (ms|s|m|h)", "duration", "0s"},
      {"health-retries", 0, K::kValue, "Consecutive failures needed to report unhealthy", "int"},
      {"health-start-interval", 0, K::kValue, "Time between running the check during the start period (ms|s|m|h)", "duration", "0s"},
      {"health-start-period", 0, K::kValue, "Start period for the container to initialize before starting health-retries countdown (ms|s|m|h)", "duration", "0s"},
      {"health-timeout", 0, K::kValue, "Maximum time to allow one check to run (ms|s|m|h)", "duration", "0s"},
      {"hostname", 'h', K::kValue, "Container host name"},
      {"init", 0, K::kBool, "Run an init inside the container that forwards signals and reaps processes"},
      {"interactive", 'i', K::kBool, "Keep STDIN open even if not attached"},
      {"ipc", 0, K::kValue, "IPC mode to use"},
      {"label", 'l', K::kList, "Set meta data on a container"},
      {"label-file", 0, K::kList, "Read in a line delimited file of labels"},
      {"log-driver", 0, K::kValue, "Logging driver for the container"},
      {"log-opt", 0, K::kList, "Log driver options"},
      {"memory", 'm', K::kValue, "Memory limit", "bytes"},
      {"memory-reservation", 0, K::kValue, "Memory soft limit", "bytes"},
      {"memory-swap", 0, K::kValue, "Swap limit equal to memory plus swap: '-1' to enable unlimited swap", "bytes"},
      {"memory-swappiness", 0, K::kValue, "Tune container memory swappiness (0 to 100)", "int", "-1"},
      {"mount", 0, K::kList, "Attach a filesystem mount to the container", "mount"},
      {"name", 0, K::kValue, "Assign a name to the container"},
      {"net", 0, K::kList, "Connect a container to a network", "network", "", true},
      {"net-alias", 0, K::kList, "Add network-scoped alias for the container", "string", "", true},
      {"network", 0, K::kList, "Connect a container to a network", "network"},
      {"network-alias", 0, K::kList, "Add network-scoped alias for the container"},
      {"no-healthcheck", 0, K::kBool, "Disable any container-specified HEALTHCHECK"},
      {"oom-kill-disable", 0, K::kBool, "Disable OOM Killer"},
      {"oom-score-adj", 0, K::kValue, "Tune host's OOM preferences (-1000 to 1000)", "int"},
      {"pid", 0, K::kValue, "PID namespace to use"},
      {"pids-limit", 0, K::kValue, "Tune container pids limit (set -1 for unlimited)", "int"},
      {"platform", 0, K::kValue, "Set platform if server is multi-platform capable"},
      {"pod", 0, K::kValue, "Join the pod's shared namespaces"},
      {"privileged", 0, K::kBool, "Give extended privileges to this container"},
      {"publish", 'p', K::kList, "Publish a container's port(s) to the host"},
      {"publish-all", 'P', K::kBool, "Publish all exposed ports to random ports"},
      {"pull", 0, K::kValue, run ? "Pull image before running (\"missing\", \"never\")" : "Pull image before creating (\"missing\", \"never\")", "string", "\"missing\""},
      {"quiet", 'q', K::kBool, "Suppress the pull output"},
      {"read-only", 0, K::kBool, "Mount the container's root filesystem as read only"},
      {"restart", 0, K::kValue, "Restart policy to apply when a container exits", "string", "\"no\""},
      {"rm", 0, K::kBool, "Automatically remove the container and its associated anonymous volumes when it exits"},
      {"runtime", 0, K::kValue, "Runtime to use for this container"},
      {"security-opt", 0, K::kList, "Security Options"},
      {"shm-size", 0, K::kValue, "Size of /dev/shm", "bytes"},
  };
  d.insert(d.end(), rest.begin(), rest.end());
  if (run) d.push_back({"sig-proxy", 0, K::kBool, "Proxy received signals to the process", "string", "true"});
  std::vector<FlagDef> tail = {
      {"stop-signal", 0, K::kValue, "Signal to stop the container"},
      {"stop-timeout", 0, K::kValue, "Timeout (in seconds) to stop a container", "int"},
      {"sysctl", 0, K::kList, "Sysctl options", "map", "map[]"},
      {"tmpfs", 0, K::kList, "Mount a tmpfs directory"},
      {"tty", 't', K::kBool, "Allocate a pseudo-TTY"},
      {"ulimit", 0, K::kList, "Ulimit options", "ulimit", "[]"},
      {"user", 'u', K::kValue, "Username or UID (format: <name|uid>[:<group|gid>])"},
      {"userns", 0, K::kValue, "User namespace to use"},
      {"uts", 0, K::kValue, "UTS namespace to use"},
      {"volume", 'v', K::kList, "Bind mount a volume"},
      {"volumes-from", 0, K::kList, "Mount volumes from the specified container(s)"},
      {"workdir", 'w', K::kValue, "Working directory inside the container"},
  };
  d.insert(d.end(), tail.begin(), tail.end());
  return d;
}

std::string usage_line(RunVerb verb) {
  return std::string("minidocker ") + (verb == RunVerb::kRun ? "run" : "create") +
         " [OPTIONS] IMAGE [COMMAND] [ARG...]";
}

// pflag's name for a flag in messages: "-m, --memory" or "--memory-swap".
std::string flag_name(RunVerb verb, const std::string& name) {
  for (auto& d : run_flag_defs(verb))
    if (d.name == name) return d.shorthand ? std::string("-") + d.shorthand + ", --" + name : "--" + name;
  return "--" + name;
}

std::unexpected<Error> invalid_argument(const std::string& value, const std::string& shown, const std::string& msg) {
  return fail("invalid argument " + go_quote(value) + " for " + go_quote(shown) + " flag: " + msg, EINVAL);
}

// ---- individual values ------------------------------------------------------------------

// opts.ValidateEnv: "KEY=VALUE" as is; "KEY" from this environment, or bare.
Result<std::string> validate_env(const std::string& v) {
  std::string key = v.substr(0, v.find('='));
  if (key.empty()) return fail("invalid environment variable: " + v, EINVAL);
  if (v.find('=') != std::string::npos) return v;
  if (auto e = lookup_env(key)) return key + "=" + *e;
  return v;
}

// opts.ValidateLabel.
Result<std::string> validate_label(const std::string& v) {
  size_t eq = v.find('=');
  std::string key = v.substr(0, eq);
  size_t b = 0;
  while (b < key.size() && is_space(key[b])) ++b;
  key = key.substr(b);
  if (key.empty()) return fail("invalid label '" + v + "': empty name", EINVAL);
  if (key.find_first_of(" \t\n\r\v\f") != std::string::npos)
    return fail("label '" + key + "' contains whitespaces", EINVAL);
  if (eq == std::string::npos) return key;
  return key + "=" + v.substr(eq + 1);
}

// opts.ValidateDNSSearch.
Result<std::string> validate_dns_search(const std::string& raw) {
  std::string v = trim(raw, " ");
  if (v == ".") return v;
  auto bad = [&] { return fail(v + " is not a valid domain", EINVAL); };
  if (std::none_of(v.begin(), v.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); }))
    return bad();
  std::string body = v;
  while (!body.empty() && is_space(body.back())) body.pop_back();
  if (!body.empty() && body.back() == '.') body.pop_back();
  if (body.empty() || body.size() >= 255) return bad();
  for (auto& label : split(body, '.')) {
    if (label.empty() || label.front() == '-' || label.back() == '-') return bad();
    for (char c : label)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return bad();
  }
  return body;
}

// opts.ValidateExtraHost.
Result<std::string> validate_extra_host(const std::string& val) {
  size_t sep = val.find('=');
  if (sep == std::string::npos) sep = val.find(':');
  std::string k = sep == std::string::npos ? val : val.substr(0, sep);
  if (sep == std::string::npos || k.empty() || k.find(':') != std::string::npos)
    return fail("bad format for add-host: " + go_quote(val), EINVAL);
  std::string v = val.substr(sep + 1);
  if (v != "host-gateway") {
    if (v.size() > 2 && v.front() == '[' && v.back() == ']') v = v.substr(1, v.size() - 2);
    if (!canonical_ip(trim(v))) return fail("invalid IP address in add-host: " + go_quote(v), EINVAL);
  }
  return k + ":" + v;
}

// opts.ValidateSysctl.
Status validate_sysctl(const std::string& val) {
  static const std::set<std::string> kAllowed = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                                                 "kernel.shmall", "kernel.shmmax", "kernel.shmmni",
                                                 "kernel.shm_rmid_forced"};
  size_t eq = val.find('=');
  std::string k = val.substr(0, eq);
  if (eq == std::string::npos || k.empty()) return fail("sysctl '" + val + "' is not allowed", EINVAL);
  if (kAllowed.count(k) || k.starts_with("net.") || k.starts_with("fs.mqueue.")) return {};
  return fail("sysctl '" + val + "' is not allowed", EINVAL);
}

// docker's validateDevice: "bad format for path", "… is not an absolute path", "bad mode".
bool valid_device_mode(const std::string& mode) {
  if (mode.empty()) return false;
  std::set<char> seen;
  for (char c : mode) {
    if ((c != 'r' && c != 'w' && c != 'm') || !seen.insert(c).second) return false;
  }
  return true;
}

// Go's strings.Cut-based CSV reader (encoding/csv, one record).
Result<std::vector<std::string>> read_csv_record(const std::string& s) {
  if (s.empty()) return fail("EOF", EINVAL);
  std::vector<std::string> fields;
  size_t i = 0;
  int line = 1;
  for (;;) {
    std::string field;
    if (i < s.size() && s[i] == '"') {
      size_t start_col = i + 1;
      ++i;
      for (;;) {
        if (i >= s.size())
          return fail("parse error on line " + std::to_string(line) + ", column " + std::to_string(s.size() + 1) +
                          ": extraneous or missing \" in quoted-field",
                      EINVAL);
        if (s[i] == '"') {
          if (i + 1 < s.size() && s[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += s[i++];
      }
      (void)start_col;
      if (i < s.size() && s[i] != ',')
        return fail("parse error on line 1, column " + std::to_string(i) + ": extraneous or missing \" in quoted-field",
                    EINVAL);
    } else {
      while (i < s.size() && s[i] != ',') {
        if (s[i] == '"')
          return fail("parse error on line 1, column " + std::to_string(i + 1) + ": bare \" in non-quoted-field", EINVAL);
        if (s[i] == '\n') break;
        field += s[i++];
      }
    }
    if (!field.empty() && field.back() == '\r' && i >= s.size()) field.pop_back();
    fields.push_back(field);
    if (i < s.size() && s[i] == ',') {
      ++i;
      continue;
    }
    break;
  }
  return fields;
}

Result<bool> parse_bool_value(const std::string& v) {
  auto b = parse_go_bool(v);
  if (!b) return fail(b.error().message, EINVAL);
  return *b;
}

// compose loader ParseVolume (docker's -v client side): source, target, and whether a
// source is a path.
struct VolumeSpec {
  std::string source, target;
  bool bind = false;
};

Result<VolumeSpec> parse_volume_spec(const std::string& spec) {
  VolumeSpec v;
  if (spec.empty()) return fail("invalid empty volume spec", EINVAL);
  if (spec.size() <= 2) {
    v.target = spec;
    return v;
  }
  std::string buffer;
  int fields = 0;
  auto is_drive = [&](char c) {
    return c == ':' && buffer.size() == 1 && std::isalpha(static_cast<unsigned char>(buffer[0]));
  };
  std::string s = spec;
  for (size_t i = 0; i <= s.size(); ++i) {
    bool end = i == s.size();
    char c = end ? '\0' : s[i];
    if (!end && is_drive(c)) {
      buffer += c;
      continue;
    }
    if (end || c == ':') {
      if (buffer.empty()) return fail("invalid spec: " + spec + ": empty section between colons", EINVAL);
      if (v.source.empty() && end && fields == 0) {
        v.target = buffer;
      } else if (fields == 0) {
        v.source = buffer;
      } else if (fields == 1) {
        v.target = buffer;
      } else if (!end) {
        return fail("invalid spec: " + spec + ": too many colons", EINVAL);
      }
      ++fields;
      buffer.clear();
      continue;
    }
    buffer += c;
  }
  if (!v.source.empty()) {
    char f = v.source[0];
    v.bind = f == '.' || f == '/' || f == '~' || v.source.starts_with("\\\\") ||
             (v.source.size() > 1 && std::isalpha(static_cast<unsigned char>(f)) && v.source[1] == ':');
  }
  return v;
}

// go-connections nat.ParsePortRange.
Result<std::pair<uint64_t, uint64_t>> parse_port_range(const std::string& ports) {
  if (ports.empty()) return fail("empty string specified for ports", EINVAL);
  auto parse = [](const std::string& s) -> Result<uint64_t> {
    if (s.empty()) return fail("strconv.ParseUint: parsing " + go_quote(s) + ": invalid syntax", EINVAL);
    uint64_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return fail("strconv.ParseUint: parsing " + go_quote(s) + ": invalid syntax", EINVAL);
      v = v * 10 + uint64_t(c - '0');
      if (v > 65535) {
        // keep scanning for syntax errors first, as Go does
        for (char d : s)
          if (d < '0' || d > '9') return fail("strconv.ParseUint: parsing " + go_quote(s) + ": invalid syntax", EINVAL);
        return fail("strconv.ParseUint: parsing " + go_quote(s) + ": value out of range", ERANGE);
      }
    }
    return v;
  };
  if (ports.find('-') == std::string::npos) {
    uint64_t v = TRY(parse(ports));
    return std::pair{v, v};
  }
  auto parts = split(ports, '-');
  uint64_t start = TRY(parse(parts[0]));
  uint64_t end = TRY(parse(parts[1]));
  if (end < start) return fail("invalid range specified for port: " + ports, EINVAL);
  return std::pair{start, end};
}

// nat.SplitProtoPort.
std::pair<std::string, std::string> split_proto_port(const std::string& raw) {
  auto parts = split(raw, '/');
  if (raw.empty() || parts[0].empty()) return {"", ""};
  if (parts.size() == 1) return {"tcp", raw};
  if (parts[1].empty()) return {"tcp", parts[0]};
  return {parts[1], parts[0]};
}

Status add_exposed(const std::string& e, json& exposed) {
  if (e.find(':') != std::string::npos) return fail("invalid port format for --expose: " + e, EINVAL);
  auto [proto, port] = split_proto_port(e);
  auto range = parse_port_range(port);
  if (!range) return fail("invalid range format for --expose: " + e + ", error: " + range.error().message, EINVAL);
  for (uint64_t p = range->first; p <= range->second; ++p) {
    std::string key = std::to_string(p) + "/" + proto;
    if (!exposed.contains(key)) exposed[key] = json::object();
  }
  return {};
}

// ---- env files --------------------------------------------------------------------------

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    if (n == 2 && c < 0xC2) return false;
    i += n;
  }
  return true;
}

}  // namespace

// ---- public: env files ------------------------------------------------------------------

Result<std::vector<std::string>> parse_env_file(const std::string& path, bool lookup) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    return fail("open " + path + ": " + errno_text(err), err);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  std::vector<std::string> out;
  auto bad = [&](const std::string& msg) { return fail("invalid env file (" + path + "): " + msg, EINVAL); };
  size_t pos = 0;
  for (int line_no = 1; pos < text.size(); ++line_no) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!valid_utf8(line)) {
      std::string bytes = "[";
      for (size_t i = 0; i < line.size(); ++i)
        bytes += (i ? " " : "") + std::to_string(static_cast<unsigned char>(line[i]));
      return bad("invalid utf8 bytes at line " + std::to_string(line_no) + ": " + bytes + "]");
    }
    if (line_no == 1 && line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);
    size_t b = 0;
    while (b < line.size() && is_space(line[b])) ++b;
    line.erase(0, b);
    if (line.empty() || line[0] == '#') continue;
    size_t eq = line.find('=');
    std::string key = line.substr(0, eq);
    if (eq == std::string::npos) {
      if (key.find_first_of(" \t") != std::string::npos) return bad("variable '" + key + "' contains whitespaces");
      if (lookup)
        if (auto v = lookup_env(key)) out.push_back(key + "=" + *v);
      continue;
    }
    if (key.empty()) return bad("no variable name on line '" + line + "'");
    if (key.find_first_of(" \t") != std::string::npos) return bad("variable '" + key + "' contains whitespaces");
    out.push_back(line);
  }
  return out;
}

// ---- public: pieces ---------------------------------------------------------------------

Status parse_publish(const std::string& raw_spec, json& exposed, json& bindings) {
  std::string spec = raw_spec;
  if (spec.find('=') != std::string::npos) {  // docker's long syntax
    std::map<std::string, std::string> params = {{"protocol", "tcp"}};
    for (auto& param : split(spec, ',')) {
      size_t eq = param.find('=');
      if (eq == std::string::npos || eq == 0)
        return fail("invalid publish opts format (should be name=value but got '" + param + "')", EINVAL);
      params[param.substr(0, eq)] = param.substr(eq + 1);
    }
    spec = params["published"] + ":" + params["target"] + "/" + params["protocol"];
  }
  // nat.splitParts
  auto parts = split(spec, ':');
  std::string ip, host, container = parts.back();
  size_t n = parts.size();
  if (n == 2) {
    host = parts[0];
  } else if (n == 3) {
    ip = parts[0];
    host = parts[1];
  } else if (n > 3) {
    for (size_t i = 0; i + 2 < n; ++i) ip += (i ? ":" : "") + parts[i];
    host = parts[n - 2];
  }
  auto [proto, cport] = split_proto_port(container);
  if (!ip.empty() && ip[0] == '[') {
    if (ip.back() != ']' || ip.size() < 2) return fail("invalid IP address " + ip + ": missing ']' in address", EINVAL);
    ip = ip.substr(1, ip.size() - 2);
  }
  if (!ip.empty() && !canonical_ip(ip)) return fail("invalid IP address: " + ip, EINVAL);
  if (cport.empty()) return fail("no port specified: " + container + "<empty>", EINVAL);
  auto crange = parse_port_range(cport);
  if (!crange) return fail("invalid containerPort: " + cport, EINVAL);
  uint64_t hstart = 0, hend = 0;
  if (!host.empty()) {
    auto hrange = parse_port_range(host);
    if (!hrange) return fail("invalid hostPort: " + host, EINVAL);
    hstart = hrange->first;
    hend = hrange->second;
  }
  auto [cstart, cend] = *crange;
  if (!host.empty() && (cend - cstart) != (hend - hstart)) {
    // A single container port may map onto a host range ("7000-7001:80").
    if (cend != cstart) return fail("invalid ranges specified for container and host Ports: " + cport + " and " + host, EINVAL);
  }
  std::string lproto = lower(proto);
  if (lproto != "tcp" && lproto != "udp" && lproto != "sctp") return fail("invalid proto: " + proto, EINVAL);
  for (uint64_t i = 0; i <= cend - cstart; ++i) {
    std::string hp = host;
    if (!host.empty()) hp = std::to_string(hstart + i);
    if (cstart == cend && hstart != hend) hp += "-" + std::to_string(hend);
    std::string key = std::to_string(cstart + i) + "/" + lproto;
    if (!exposed.contains(key)) exposed[key] = json::object();
    bindings[key].push_back({{"HostIp", ip}, {"HostPort", hp}});
  }
  return {};
}

Result<json> parse_mount_spec(const std::string& value) {
  auto fields = TRY(read_csv_record(value));
  json m = {{"Type", "volume"}};
  json volume_opts, bind_opts, tmpfs_opts;
  auto volume = [&]() -> json& {
    if (volume_opts.is_null()) volume_opts = json::object();
    return volume_opts;
  };
  auto bind = [&]() -> json& {
    if (bind_opts.is_null()) bind_opts = json::object();
    return bind_opts;
  };
  auto tmpfs = [&]() -> json& {
    if (tmpfs_opts.is_null()) tmpfs_opts = json::object();
    return tmpfs_opts;
  };
  auto invalid_value = [](const std::string& key, const std::string& val) {
    return fail("invalid value for " + key + ": " + val, EINVAL);
  };
  for (auto& field : fields) {
    size_t eq = field.find('=');
    std::string key = lower(field.substr(0, eq));
    if (eq == std::string::npos) {
      if (key == "readonly" || key == "ro") m["ReadOnly"] = true;
      else if (key == "volume-nocopy") volume()["NoCopy"] = true;
      else if (key == "bind-nonrecursive") bind()["NonRecursive"] = true;
      else if (key == "bind-create-mountpoint") bind()["CreateMountpoint"] = true;
      else return fail("invalid field '" + field + "' must be a key=value pair", EINVAL);
      continue;
    }
    std::string val = field.substr(eq + 1);
    if (key == "type") {
      m["Type"] = lower(val);
    } else if (key == "source" || key == "src") {
      std::string src = val;
      if (val == "." || val.starts_with("./")) src = absolute(val);
      m["Source"] = src;
    } else if (key == "target" || key == "dst" || key == "destination") {
      m["Target"] = val;
    } else if (key == "readonly" || key == "ro") {
      auto b = parse_bool_value(val);
      if (!b) return invalid_value(key, val);
      m["ReadOnly"] = *b;
    } else if (key == "consistency") {
      m["Consistency"] = lower(val);
    } else if (key == "bind-propagation") {
      bind()["Propagation"] = lower(val);
    } else if (key == "bind-nonrecursive" || key == "bind-create-mountpoint") {
      auto b = parse_bool_value(val);
      if (!b) return invalid_value(key, val);
      bind()[key == "bind-nonrecursive" ? "NonRecursive" : "CreateMountpoint"] = *b;
    } else if (key == "volume-nocopy") {
      auto b = parse_bool_value(val);
      if (!b) return invalid_value(key, val);
      volume()["NoCopy"] = *b;
    } else if (key == "volume-label" || key == "volume-opt") {
      size_t e2 = val.find('=');
      std::string k = val.substr(0, e2), v = e2 == std::string::npos ? "" : val.substr(e2 + 1);
      json& target = key == "volume-label" ? volume()["Labels"] : volume()["DriverConfig"]["Options"];
      if (target.is_null()) target = json::object();
      if (!k.empty()) target[k] = v;
    } else if (key == "volume-driver") {
      volume()["DriverConfig"]["Name"] = val;
    } else if (key == "volume-subpath") {
      volume()["Subpath"] = val;
    } else if (key == "tmpfs-size") {
      auto size = parse_ram_bytes(val);
      if (!size) return invalid_value(key, val);
      tmpfs()["SizeBytes"] = *size;
    } else if (key == "tmpfs-mode") {
      // strconv.ParseUint(val, 8, 32)
      if (val.empty() || val.find_first_not_of("01234567") != std::string::npos || val.size() > 11)
        return invalid_value(key, val);
      uint64_t mode = std::strtoull(val.c_str(), nullptr, 8);
      if (mode > 0xFFFFFFFFull) return invalid_value(key, val);
      tmpfs()["Mode"] = mode;
    } else {
      return fail("unexpected key '" + key + "' in '" + field + "'", EINVAL);
    }
  }
  std::string type = m["Type"].get<std::string>();
  if (type.empty()) return fail("type is required", EINVAL);
  if (!m.contains("Target") || m["Target"].get<std::string>().empty()) return fail("target is required", EINVAL);
  if (!volume_opts.is_null() && type != "volume")
    return fail("cannot mix 'volume-*' options with mount type '" + type + "'", EINVAL);
  if (!bind_opts.is_null() && type != "bind") return fail("cannot mix 'bind-*' options with mount type '" + type + "'", EINVAL);
  if (!tmpfs_opts.is_null() && type != "tmpfs")
    return fail("cannot mix 'tmpfs-*' options with mount type '" + type + "'", EINVAL);
  if (!bind_opts.is_null()) m["BindOptions"] = bind_opts;
  if (!volume_opts.is_null()) m["VolumeOptions"] = volume_opts;
  if (!tmpfs_opts.is_null()) m["TmpfsOptions"] = tmpfs_opts;
  if (m.contains("ReadOnly") && !m["ReadOnly"].get<bool>()) m.erase("ReadOnly");  // omitempty
  return m;
}

Result<json> parse_restart_policy(const std::string& spec) {
  std::string name = spec;
  int64_t count = 0;
  size_t colon = spec.find(':');
  if (colon != std::string::npos) {
    name = spec.substr(0, colon);
    if (name.empty()) return fail("invalid restart policy format: no policy provided before colon", EINVAL);
    std::string v = spec.substr(colon + 1);
    if (!v.empty()) {
      // strconv.Atoi
      char* end = nullptr;
      errno = 0;
      long long n = std::strtoll(v.c_str(), &end, 10);
      bool ok = !v.empty() && end && *end == '\0' && errno == 0 && !is_space(v[0]) && n >= INT_MIN && n <= INT_MAX;
      if (!ok) return fail("invalid restart policy format: maximum retry count must be an integer", EINVAL);
      count = n;
    }
  }
  // moby's container.ValidateRestartPolicy.
  if (name == "always" || name == "unless-stopped" || name == "no" || name.empty()) {
    if (count != 0) {
      std::string msg = "invalid restart policy: maximum retry count can only be used with 'on-failure'";
      if (count < 0) msg += " and cannot be negative";
      return fail(msg, EINVAL);
    }
  } else if (name == "on-failure") {
    if (count < 0) return fail("invalid restart policy: maximum retry count cannot be negative", EINVAL);
  } else {
    return fail("invalid restart policy: unknown policy '" + name +
                    "'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'",
                EINVAL);
  }
  return json{{"Name", name}, {"MaximumRetryCount", count}};
}

Result<json> parse_ulimit(const std::string& val) {
  static const std::set<std::string> kNames = {"core",   "cpu",    "data",   "fsize",    "locks",
                                               "memlock", "msgqueue", "nice",  "nofile",   "nproc",
                                               "rss",    "rtprio", "rttime", "sigpending", "stack"};
  size_t eq = val.find('=');
  if (eq == std::string::npos) return fail("invalid ulimit argument: " + val, EINVAL);
  std::string name = val.substr(0, eq);
  if (!kNames.count(name)) return fail("invalid ulimit type: " + name, EINVAL);
  auto limits = split(val.substr(eq + 1), ':');
  auto parse10 = [](const std::string& s) -> Result<int64_t> {
    if (s.find_first_of("xXoObB_") != std::string::npos && s.size() > 1 && s[0] == '0')
      return fail("strconv.ParseInt: parsing " + go_quote(s) + ": invalid syntax", EINVAL);
    return parse_int_flag(s);
  };
  int64_t soft, hard;
  if (limits.size() == 2) {
    hard = TRY(parse10(limits[1]));
    soft = TRY(parse10(limits[0]));
  } else if (limits.size() == 1) {
    soft = TRY(parse10(limits[0]));
    hard = soft;
  } else {
    return fail("too many limit value arguments - " + val.substr(eq + 1) + ", can only have up to two, `soft[:hard]`",
                EINVAL);
  }
  if (hard != -1 && soft > hard)
    return fail("ulimit soft limit must be less than or equal to hard limit: " + std::to_string(soft) + " > " +
                    std::to_string(hard),
                EINVAL);
  return json{{"Name", name}, {"Soft", soft}, {"Hard", hard}};
}

Result<json> parse_device(const std::string& device) {
  // validateDevice
  if (std::count(device.begin(), device.end(), ':') > 2) return fail("bad format for path: " + device, EINVAL);
  auto parts = split(device, ':', 3);
  if (parts[0].empty()) return fail("bad format for path: " + device, EINVAL);
  std::string container_path, val;
  switch (parts.size()) {
    case 1:
      container_path = parts[0];
      val = clean_path(container_path);
      break;
    case 2:
      if (valid_device_mode(parts[1])) {
        container_path = parts[0];
        val = clean_path(container_path) + ":" + parts[1];
      } else {
        container_path = parts[1];
        val = parts[0] + ":" + clean_path(container_path);
      }
      break;
    default:
      container_path = parts[1];
      if (!valid_device_mode(parts[2])) return fail("bad mode specified: " + parts[2], EINVAL);
      val = device;
  }
  if (container_path.empty() || container_path[0] != '/') return fail(container_path + " is not an absolute path", EINVAL);
  // parseLinuxDevice
  auto arr = split(val, ':', 4);
  std::string src, dst, perms = "rwm";
  if (arr.size() == 3) perms = arr[2];
  if (arr.size() >= 2) {
    if (valid_device_mode(arr[1])) perms = arr[1];
    else dst = arr[1];
  }
  src = arr[0];
  if (dst.empty()) dst = src;
  return json{{"PathOnHost", src}, {"PathInContainer", dst}, {"CgroupPermissions", perms}};
}

// ---- public: run/create -----------------------------------------------------------------

const std::vector<FlagDef>& run_flag_defs(RunVerb verb) {
  static const std::vector<FlagDef> kRun = make_run_defs(RunVerb::kRun);
  static const std::vector<FlagDef> kCreate = make_run_defs(RunVerb::kCreate);
  return verb == RunVerb::kRun ? kRun : kCreate;
}

std::string run_help(RunVerb verb) {
  FlagSet f(usage_line(verb), run_flag_defs(verb), false);
  std::string h = f.help();
  std::string what = verb == RunVerb::kRun ? "Create and run a new container from an image" : "Create a new container";
  std::string v = verb == RunVerb::kRun ? "run" : "create";
  std::string insert = "\n" + what + "\n\nAliases:\n  minidocker container " + v + ", minidocker " + v + "\n";
  size_t at = h.find("\n\nOptions:");
  if (at == std::string::npos) return h + insert;
  return h.substr(0, at + 1) + insert + h.substr(at + 1);
}

Result<RunArgs> parse_run_args(std::span<const std::string> args, RunVerb verb) {
  FlagSet f(usage_line(verb), run_flag_defs(verb), false);
  TRY(f.parse(args));
  RunArgs ra;
  if (f.help_requested()) {
    ra.help = true;
    return ra;
  }
  auto fname = [&](const std::string& n) { return flag_name(verb, n); };

  // ---- values checked while parsing (pflag's Set) ----
  struct Bytes {
    const char* flag;
    bool swap;
  };
  std::map<std::string, int64_t> bytes;
  for (Bytes b : {Bytes{"memory", false}, {"memory-reservation", false}, {"memory-swap", true}, {"shm-size", false}}) {
    if (!f.given(b.flag)) continue;
    std::string v = f.value(b.flag);
    if (b.swap && v == "-1") {
      bytes[b.flag] = -1;
      continue;
    }
    auto n = parse_ram_bytes(v);
    if (!n) return invalid_argument(v, fname(b.flag), n.error().message);
    bytes[b.flag] = *n;
  }
  std::optional<int64_t> nano_cpus;
  if (f.given("cpus")) {
    auto n = parse_cpus(f.value("cpus"));
    if (!n) return invalid_argument(f.value("cpus"), fname("cpus"), n.error().message);
    nano_cpus = *n;
  }
  std::map<std::string, int64_t> ints;
  for (const char* flag : {"cpu-shares", "cpu-period", "cpu-quota", "pids-limit", "oom-score-adj", "memory-swappiness",
                           "stop-timeout", "health-retries"}) {
    if (!f.given(flag)) continue;
    auto n = parse_int_flag(f.value(flag));
    if (!n) return invalid_argument(f.value(flag), fname(flag), n.error().message);
    bool is_int32 = std::string_view(flag) == "oom-score-adj" || std::string_view(flag) == "stop-timeout" ||
                    std::string_view(flag) == "health-retries";
    (void)is_int32;  // Go's int is 64 bits on amd64
    ints[flag] = *n;
  }
  std::map<std::string, int64_t> durations;
  for (const char* flag : {"health-interval", "health-timeout", "health-start-period", "health-start-interval"}) {
    if (!f.given(flag)) continue;
    auto d = parse_go_duration(f.value(flag));
    if (!d) return invalid_argument(f.value(flag), fname(flag), d.error().message);
    durations[flag] = *d;
  }
  std::vector<std::string> env_flags;
  for (auto& e : f.list("env")) {
    auto v = validate_env(e);
    if (!v) return invalid_argument(e, fname("env"), v.error().message);
    env_flags.push_back(*v);
  }
  std::vector<std::string> label_flags;
  for (auto& l : f.list("label")) {
    auto v = validate_label(l);
    if (!v) return invalid_argument(l, fname("label"), v.error().message);
    label_flags.push_back(*v);
  }
  json dns = json::array(), dns_search = json::array(), dns_options = json::array();
  for (auto& d : f.list("dns")) {
    auto ip = canonical_ip(trim(d));
    if (!ip) return invalid_argument(d, fname("dns"), "IP address is not correctly formatted: " + d);
    dns.push_back(*ip);
  }
  for (auto& d : f.list("dns-search")) {
    auto v = validate_dns_search(d);
    if (!v) return invalid_argument(d, fname("dns-search"), v.error().message);
    dns_search.push_back(*v);
  }
  for (const char* flag : {"dns-option", "dns-opt"})
    for (auto& o : f.list(flag)) dns_options.push_back(o);
  json extra_hosts;
  for (auto& h : f.list("add-host")) {
    auto v = validate_extra_host(h);
    if (!v) return invalid_argument(h, fname("add-host"), v.error().message);
    extra_hosts.push_back(*v);
  }
  for (auto& a : f.list("attach")) {
    std::string s = lower(a);
    if (s != "stdin" && s != "stdout" && s != "stderr")
      return invalid_argument(a, fname("attach"), "valid streams are STDIN, STDOUT and STDERR");
    ra.attach.push_back(s);
  }
  json sysctls;
  for (auto& s : f.list("sysctl")) {
    if (auto st = validate_sysctl(s); !st) return invalid_argument(s, fname("sysctl"), st.error().message);
    size_t eq = s.find('=');
    sysctls[s.substr(0, eq)] = s.substr(eq + 1);
  }
  json ulimits = json::array();
  for (auto& u : f.list("ulimit")) {
    auto v = parse_ulimit(u);
    if (!v) return invalid_argument(u, fname("ulimit"), v.error().message);
    bool replaced = false;
    for (auto& existing : ulimits)
      if (existing["Name"] == (*v)["Name"]) existing = *v, replaced = true;
    if (!replaced) ulimits.push_back(*v);
  }
  json mounts;
  for (auto& m : f.list("mount")) {
    auto v = parse_mount_spec(m);
    if (!v) return invalid_argument(m, fname("mount"), v.error().message);
    mounts.push_back(*v);
  }
  json annotations;
  for (auto& a : f.list("annotation")) {
    size_t eq = a.find('=');
    annotations[a.substr(0, eq)] = eq == std::string::npos ? "" : a.substr(eq + 1);
  }

  // ---- arguments ----
  // With --config the template names the image: IMAGE may be left out.
  if (f.args().empty() && !f.given("config"))
    return fail(std::string("\"minidocker ") + (verb == RunVerb::kRun ? "run" : "create") +
                    "\" requires at least 1 argument.",
                EINVAL);
  const std::string image = f.args().empty() ? std::string() : f.args()[0];
  std::vector<std::string> cmd;
  if (!f.args().empty()) cmd.assign(f.args().begin() + 1, f.args().end());

  // ---- docker's parse(), in its order ----
  ra.name = f.value("name");
  ra.detach = f.boolean("detach");
  ra.interactive = f.boolean("interactive");
  ra.tty = f.boolean("tty");
  ra.rm = f.boolean("rm");
  ra.explain = f.boolean("explain");
  ra.config_file = f.value("config");
  ra.cidfile = f.value("cidfile");
  ra.sig_proxy = f.given("sig-proxy") ? f.boolean("sig-proxy") : true;
  ra.detach_keys = f.value("detach-keys");
  ra.pod = f.value("pod");
  ra.quiet = f.boolean("quiet");
  ra.platform = f.value("platform");

  if (ra.detach && !ra.attach.empty()) return fail("conflicting options: cannot specify both --attach and --detach", EINVAL);

  bool attach_stdin = std::count(ra.attach.begin(), ra.attach.end(), "stdin") > 0;
  bool attach_stdout = std::count(ra.attach.begin(), ra.attach.end(), "stdout") > 0;
  bool attach_stderr = std::count(ra.attach.begin(), ra.attach.end(), "stderr") > 0;
  if (ra.interactive) attach_stdin = true;
  if (ra.attach.empty()) attach_stdout = attach_stderr = true;
  if (ra.detach) attach_stdin = attach_stdout = attach_stderr = false;  // docker's runRun

  if (ints.count("memory-swappiness")) {
    int64_t s = ints["memory-swappiness"];
    if (s != -1 && (s < 0 || s > 100))
      return fail("invalid value: " + std::to_string(s) + ". Valid memory swappiness range is 0-100", EINVAL);
  }

  // -v: binds and anonymous volumes (duplicates collapse, as in docker's map).
  json binds, volumes = json::object();
  std::set<std::string> seen_volumes;
  for (auto& spec : f.list("volume")) {
    if (!seen_volumes.insert(spec).second) continue;
    VolumeSpec v = TRY(parse_volume_spec(spec));
    if (v.source.empty()) {
      volumes[spec] = json::object();
      continue;
    }
    std::string bind = spec;
    if (v.bind) {
      size_t colon = spec.find(':');
      std::string host = spec.substr(0, colon);
      if (host[0] != '/' && host[0] == '.') host = absolute(host);
      bind = host + spec.substr(colon);
    }
    binds.push_back(bind);
  }

  json tmpfs;
  for (auto& t : f.list("tmpfs")) {
    size_t colon = t.find(':');
    tmpfs[t.substr(0, colon)] = colon == std::string::npos ? "" : t.substr(colon + 1);
  }

  json entrypoint;
  if (f.given("entrypoint")) entrypoint = json::array({f.value("entrypoint")});

  json exposed = json::object(), port_bindings = json::object();
  for (auto& p : f.list("publish")) TRY(parse_publish(p, exposed, port_bindings));
  for (auto& e : f.list("expose")) TRY(add_exposed(e, exposed));

  json devices = json::array();
  for (auto& d : f.list("device")) devices.push_back(TRY(parse_device(d)));

  // Environment: --env-file entries, then -e (deduplicated by name, the last wins).
  std::vector<std::string> env;
  for (auto& file : f.list("env-file")) {
    auto lines = TRY(parse_env_file(file, true));
    env.insert(env.end(), lines.begin(), lines.end());
  }
  {
    std::vector<std::string> flags_env;
    for (auto& e : env_flags) {
      std::string key = e.substr(0, e.find('='));
      bool replaced = false;
      for (auto& x : flags_env)
        if (x.substr(0, x.find('=')) == key) x = e, replaced = true;
      if (!replaced) flags_env.push_back(e);
    }
    env.insert(env.end(), flags_env.begin(), flags_env.end());
  }

  json labels = json::object();
  for (auto& file : f.list("label-file")) {
    for (auto& l : TRY(parse_env_file(file, false))) {
      size_t eq = l.find('=');
      labels[l.substr(0, eq)] = l.substr(eq + 1);
    }
  }
  for (auto& l : label_flags) {
    size_t eq = l.find('=');
    labels[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
  }

  auto check_mode = [&](const char* flag, const char* what, std::initializer_list<const char*> modes, bool container_ok) -> Status {
    if (!f.given(flag)) return {};
    std::string v = f.value(flag);
    if (v.empty()) return {};
    for (auto m : modes)
      if (v == m) return {};
    if (container_ok && v.starts_with("container:") && v.size() > 10) return {};
    return fail(std::string("--") + flag + ": invalid " + what + " mode", EINVAL);
  };
  TRY(check_mode("pid", "PID", {"host"}, true));
  TRY(check_mode("uts", "UTS", {"host"}, false));
  TRY(check_mode("userns", "USER", {"host"}, false));
  TRY(check_mode("cgroupns", "CGROUP", {"host", "private"}, false));

  json restart = {{"Name", "no"}, {"MaximumRetryCount", 0}};
  if (f.given("restart")) restart = TRY(parse_restart_policy(f.value("restart")));

  std::string log_driver = f.value("log-driver");
  json log_opts = json::object();
  for (auto& o : f.list("log-opt")) {
    size_t eq = o.find('=');
    log_opts[o.substr(0, eq)] = eq == std::string::npos ? "" : o.substr(eq + 1);
  }
  if (log_driver == "none" && !log_opts.empty()) return fail("invalid logging opts for driver none", EINVAL);

  // --security-opt (seccomp profiles are sent inline, as docker does) and systempaths.
  json security_opt;
  bool unconfined_paths = false;
  for (auto& opt : f.list("security-opt")) {
    size_t eq = opt.find('=');
    std::string k = opt.substr(0, eq), v = eq == std::string::npos ? "" : opt.substr(eq + 1);
    bool ok = eq != std::string::npos;
    if (!ok && k != "no-new-privileges") {
      size_t colon = opt.find(':');
      ok = colon != std::string::npos;
      k = opt.substr(0, colon);
      v = ok ? opt.substr(colon + 1) : "";
    }
    if ((!ok || v.empty()) && k != "no-new-privileges") return fail("Invalid --security-opt: " + go_quote(opt), EINVAL);
    if (k == "systempaths" && v == "unconfined") {
      unconfined_paths = true;
      continue;
    }
    std::string out = opt;
    if (k == "seccomp" && v != "builtin" && v != "unconfined") {
      std::ifstream in(v, std::ios::binary);
      if (!in) {
        int err = errno;
        return fail("opening seccomp profile (" + v + ") failed: open " + v + ": " + errno_text(err), err);
      }
      std::stringstream ss;
      ss << in.rdbuf();
      auto profile = nlohmann::ordered_json::parse(ss.str(), nullptr, false);
      if (profile.is_discarded())
        return fail("compacting json for seccomp profile (" + v + ") failed: invalid character in JSON", EINVAL);
      out = "seccomp=" + profile.dump();
    }
    security_opt.push_back(out);
  }

  // Healthcheck.
  std::string health_cmd = f.value("health-cmd");
  auto dur = [&](const char* flag) { return durations.count(flag) ? durations[flag] : 0; };
  int64_t health_retries = ints.count("health-retries") ? ints["health-retries"] : 0;
  bool have_health = !health_cmd.empty() || dur("health-interval") != 0 || dur("health-timeout") != 0 ||
                     dur("health-start-period") != 0 || dur("health-start-interval") != 0 || health_retries != 0;
  json healthcheck;
  if (f.boolean("no-healthcheck")) {
    if (have_health) return fail("--no-healthcheck conflicts with --health-* options", EINVAL);
    healthcheck = {{"Test", {"NONE"}}};
  } else if (have_health) {
    for (const char* flag : {"health-interval", "health-timeout"})
      if (dur(flag) < 0) return fail(std::string("--") + flag + " cannot be negative", EINVAL);
    if (health_retries < 0) return fail("--health-retries cannot be negative", EINVAL);
    for (const char* flag : {"health-start-period", "health-start-interval"})
      if (dur(flag) < 0) return fail(std::string("--") + flag + " cannot be negative", EINVAL);
    healthcheck = json::object();
    if (!health_cmd.empty()) healthcheck["Test"] = {"CMD-SHELL", health_cmd};
    if (dur("health-interval")) healthcheck["Interval"] = dur("health-interval");
    if (dur("health-timeout")) healthcheck["Timeout"] = dur("health-timeout");
    if (dur("health-start-period")) healthcheck["StartPeriod"] = dur("health-start-period");
    if (dur("health-start-interval")) healthcheck["StartInterval"] = dur("health-start-interval");
    if (health_retries) healthcheck["Retries"] = health_retries;
  }

  if (ra.rm && restart["Name"] != "no" && restart["Name"] != "") return fail("conflicting options: cannot specify both --restart and --rm", EINVAL);

  // Networks: the first is NetworkMode; aliases only on user-defined networks.
  std::vector<std::string> networks = f.list("network");
  for (auto& n : f.list("net")) networks.push_back(n);
  for (auto& n : networks)
    if (n.empty()) return fail("no name set for network", EINVAL);
  std::vector<std::string> aliases = f.list("network-alias");
  for (auto& a : f.list("net-alias")) aliases.push_back(a);
  std::string network_mode = networks.empty() ? "default" : networks[0];
  auto user_defined = [](const std::string& n) {
    return n != "default" && n != "bridge" && n != "host" && n != "none" && !n.starts_with("container:");
  };
  json endpoints = json::object();
  bool has_user = false, has_builtin = false;
  for (size_t i = 0; i < networks.size(); ++i) {
    const std::string& n = networks[i];
    (user_defined(n) ? has_user : has_builtin) = true;
    if (endpoints.contains(n)) return fail("network " + go_quote(n) + " is specified multiple times", EINVAL);
    json ep = json::object();
    if (i == 0 && !aliases.empty()) ep["Aliases"] = aliases;
    if (i == 0 && networks.size() == 1 && ep.empty()) continue;
    endpoints[n] = ep;
  }
  if (has_user && has_builtin)
    return fail("conflicting options: cannot attach both user-defined and non-user-defined network-modes", EINVAL);
  if (!aliases.empty() && !user_defined(network_mode))
    return fail("network-scoped aliases are only supported for user-defined networks", EINVAL);

  if (f.given("pull")) {
    std::string p = f.value("pull");
    if (p == "always")
      return fail("invalid pull option: 'always': minidocker has no registry to pull from; use \"missing\" or \"never\"",
                  EINVAL);
    if (p != "missing" && p != "never")
      return fail("invalid pull option: '" + p + "': must be one of \"always\", \"missing\" or \"never\"", EINVAL);
    ra.pull = p;
  }

  // Capabilities: upper-cased, CAP_ prefixed, deduplicated, sorted.
  auto caps = [&](const char* flag) -> json {
    std::set<std::string> set;
    for (auto& c : f.list(flag)) {
      std::string n = upper(trim(c));
      if (n != "ALL" && n != "RESET" && !n.starts_with("CAP_")) n = "CAP_" + n;
      set.insert(n);
    }
    if (set.empty()) return json();
    return json(std::vector<std::string>(set.begin(), set.end()));
  };

  // ---- the body ----
  json& b = ra.body;
  b["Hostname"] = f.value("hostname");
  b["Domainname"] = f.value("domainname");
  b["User"] = f.value("user");
  b["AttachStdin"] = attach_stdin;
  b["AttachStdout"] = attach_stdout;
  b["AttachStderr"] = attach_stderr;
  if (!exposed.empty()) b["ExposedPorts"] = exposed;
  b["Tty"] = ra.tty;
  b["OpenStdin"] = ra.interactive;
  b["StdinOnce"] = ra.interactive && attach_stdin;
  b["Env"] = env.empty() ? json() : json(env);
  b["Cmd"] = cmd.empty() ? json() : json(cmd);
  if (!healthcheck.is_null()) b["Healthcheck"] = healthcheck;
  b["Image"] = image;
  b["Volumes"] = volumes;
  b["WorkingDir"] = f.value("workdir");
  b["Entrypoint"] = entrypoint;
  b["OnBuild"] = nullptr;
  b["Labels"] = labels;
  if (!f.value("stop-signal").empty()) b["StopSignal"] = f.value("stop-signal");
  if (ints.count("stop-timeout")) b["StopTimeout"] = ints["stop-timeout"];

  json hc = json::object();
  hc["Binds"] = binds;
  hc["ContainerIDFile"] = ra.cidfile;
  if (!log_driver.empty() || !log_opts.empty())
    hc["LogConfig"] = {{"Type", log_driver.empty() ? "json-file" : log_driver}, {"Config", log_opts}};
  hc["NetworkMode"] = network_mode;
  hc["PortBindings"] = port_bindings;
  hc["RestartPolicy"] = restart;
  hc["AutoRemove"] = ra.rm;
  hc["VolumesFrom"] = f.list("volumes-from").empty() ? json() : json(f.list("volumes-from"));
  hc["CapAdd"] = caps("cap-add");
  hc["CapDrop"] = caps("cap-drop");
  hc["CgroupnsMode"] = f.value("cgroupns");
  hc["Dns"] = dns;
  hc["DnsOptions"] = dns_options;
  hc["DnsSearch"] = dns_search;
  hc["ExtraHosts"] = extra_hosts;
  hc["GroupAdd"] = f.list("group-add").empty() ? json() : json(f.list("group-add"));
  hc["IpcMode"] = f.value("ipc");
  hc["OomScoreAdj"] = ints.count("oom-score-adj") ? ints["oom-score-adj"] : 0;
  hc["PidMode"] = f.value("pid");
  hc["Privileged"] = f.boolean("privileged");
  hc["PublishAllPorts"] = f.boolean("publish-all");
  hc["ReadonlyRootfs"] = f.boolean("read-only");
  hc["SecurityOpt"] = security_opt;
  if (!sysctls.is_null()) hc["Sysctls"] = sysctls;
  if (!tmpfs.is_null()) hc["Tmpfs"] = tmpfs;
  hc["UTSMode"] = f.value("uts");
  hc["UsernsMode"] = f.value("userns");
  hc["ShmSize"] = bytes.count("shm-size") ? bytes["shm-size"] : 0;
  if (!f.value("runtime").empty()) hc["Runtime"] = f.value("runtime");
  hc["CpuShares"] = ints.count("cpu-shares") ? ints["cpu-shares"] : 0;
  hc["Memory"] = bytes.count("memory") ? bytes["memory"] : 0;
  hc["NanoCpus"] = nano_cpus.value_or(0);
  hc["CgroupParent"] = f.value("cgroup-parent");
  hc["CpuPeriod"] = ints.count("cpu-period") ? ints["cpu-period"] : 0;
  hc["CpuQuota"] = ints.count("cpu-quota") ? ints["cpu-quota"] : 0;
  hc["CpusetCpus"] = f.value("cpuset-cpus");
  hc["CpusetMems"] = f.value("cpuset-mems");
  hc["Devices"] = devices;
  hc["MemoryReservation"] = bytes.count("memory-reservation") ? bytes["memory-reservation"] : 0;
  hc["MemorySwap"] = bytes.count("memory-swap") ? bytes["memory-swap"] : 0;
  if (ints.count("memory-swappiness") && ints["memory-swappiness"] != -1)
    hc["MemorySwappiness"] = ints["memory-swappiness"];
  hc["OomKillDisable"] = f.boolean("oom-kill-disable");
  if (ints.count("pids-limit")) hc["PidsLimit"] = ints["pids-limit"];
  hc["Ulimits"] = ulimits;
  if (!mounts.is_null()) hc["Mounts"] = mounts;
  if (unconfined_paths) {
    hc["MaskedPaths"] = json::array();
    hc["ReadonlyPaths"] = json::array();
  }
  if (f.given("init")) hc["Init"] = f.boolean("init");
  if (!annotations.is_null()) hc["Annotations"] = annotations;
  b["HostConfig"] = hc;
  b["NetworkingConfig"] = {{"EndpointsConfig", endpoints}};
  return ra;
}

// ---- public: exec -----------------------------------------------------------------------

const std::vector<FlagDef>& exec_flag_defs() {
  using K = FlagKind;
  static const std::vector<FlagDef> kDefs = {
      {"detach", 'd', K::kBool, "Detached mode: run command in the background"},
      {"detach-keys", 0, K::kValue, "Override the key sequence for detaching a container"},
      {"env", 'e', K::kList, "Set environment variables"},
      {"env-file", 0, K::kList, "Read in a file of environment variables"},
      {"interactive", 'i', K::kBool, "Keep STDIN open even if not attached"},
      {"privileged", 0, K::kBool, "Give extended privileges to the command"},
      {"tty", 't', K::kBool, "Allocate a pseudo-TTY"},
      {"user", 'u', K::kValue, "Username or UID (format: \"<name|uid>[:<group|gid>]\")"},
      {"workdir", 'w', K::kValue, "Working directory inside the container"},
  };
  return kDefs;
}

std::string exec_help() {
  FlagSet f("minidocker exec [OPTIONS] CONTAINER COMMAND [ARG...]", exec_flag_defs(), false);
  std::string h = f.help();
  std::string insert =
      "\nExecute a command in a running container\n\nAliases:\n  minidocker container exec, minidocker exec\n";
  size_t at = h.find("\n\nOptions:");
  if (at == std::string::npos) return h + insert;
  return h.substr(0, at + 1) + insert + h.substr(at + 1);
}

Result<ExecArgs> parse_exec_args(std::span<const std::string> args) {
  FlagSet f("minidocker exec [OPTIONS] CONTAINER COMMAND [ARG...]", exec_flag_defs(), false);
  TRY(f.parse(args));
  ExecArgs ea;
  if (f.help_requested()) {
    ea.help = true;
    return ea;
  }
  std::vector<std::string> env_flags;
  for (auto& e : f.list("env")) {
    auto v = validate_env(e);
    if (!v) return invalid_argument(e, "-e, --env", v.error().message);
    env_flags.push_back(*v);
  }
  if (f.args().size() < 2) return fail("\"minidocker exec\" requires at least 2 arguments.", EINVAL);
  ea.container = f.args()[0];
  std::vector<std::string> cmd(f.args().begin() + 1, f.args().end());
  ea.detach = f.boolean("detach");
  ea.interactive = f.boolean("interactive");
  ea.tty = f.boolean("tty");
  ea.detach_keys = f.value("detach-keys");
  std::vector<std::string> env;
  for (auto& file : f.list("env-file")) {
    auto lines = TRY(parse_env_file(file, true));
    env.insert(env.end(), lines.begin(), lines.end());
  }
  env.insert(env.end(), env_flags.begin(), env_flags.end());
  json& c = ea.config;
  c["User"] = f.value("user");
  c["Privileged"] = f.boolean("privileged");
  c["Tty"] = ea.tty;
  c["AttachStdin"] = ea.interactive && !ea.detach;
  c["AttachStderr"] = !ea.detach;
  c["AttachStdout"] = !ea.detach;
  c["Detach"] = ea.detach;
  c["DetachKeys"] = ea.detach_keys;
  c["Env"] = env.empty() ? json() : json(env);
  c["WorkingDir"] = f.value("workdir");
  c["Cmd"] = cmd;
  return ea;
}

}  // namespace md::cli
