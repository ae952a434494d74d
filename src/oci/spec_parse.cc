// config.json → oci::Spec, validating every field we use.
#include <sched.h>
#include <sys/resource.h>

#include "oci/capabilities.h"
#include "oci/spec.h"

namespace md::oci {

using nlohmann::json;

namespace {

std::string quote(const json& v) { return v.dump(); }

std::unexpected<Error> bad(const std::string& where, const std::string& what) {
  return fail(where + ": " + what, EINVAL);
}

Result<std::string> get_string(const json& j, const std::string& where) {
  if (!j.is_string()) return bad(where, "expected a string, got " + quote(j));
  return j.get<std::string>();
}

template <class T>
Result<T> get_number(const json& j, const std::string& where) {
  if (!j.is_number_integer()) return bad(where, "expected an integer, got " + quote(j));
  if constexpr (std::is_unsigned_v<T>) {
    if (j.is_number_unsigned()) {
      auto v = j.get<uint64_t>();
      if (v > std::numeric_limits<T>::max()) return bad(where, "value " + quote(j) + " is too large");
      return static_cast<T>(v);
    }
    auto v = j.get<int64_t>();
    if (v < 0) return bad(where, "expected a non-negative integer, got " + quote(j));
    if (static_cast<uint64_t>(v) > std::numeric_limits<T>::max())
      return bad(where, "value " + quote(j) + " is too large");
    return static_cast<T>(v);
  } else {
    if (j.is_number_unsigned() && j.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<T>::max()))
      return bad(where, "value " + quote(j) + " is too large");
    auto v = j.get<int64_t>();
    if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max())
      return bad(where, "value " + quote(j) + " is out of range");
    return static_cast<T>(v);
  }
}

Result<bool> get_bool(const json& j, const std::string& where) {
  if (!j.is_boolean()) return bad(where, "expected true or false, got " + quote(j));
  return j.get<bool>();
}

Result<std::vector<std::string>> get_strings(const json& j, const std::string& where) {
  if (j.is_null()) return std::vector<std::string>{};
  if (!j.is_array()) return bad(where, "expected an array of strings, got " + quote(j));
  std::vector<std::string> out;
  for (size_t i = 0; i < j.size(); ++i)
    out.push_back(TRY(get_string(j[i], where + "[" + std::to_string(i) + "]")));
  return out;
}

Result<std::map<std::string, std::string>> get_string_map(const json& j, const std::string& where) {
  std::map<std::string, std::string> out;
  if (j.is_null()) return out;
  if (!j.is_object()) return bad(where, "expected an object, got " + quote(j));
  for (auto it = j.begin(); it != j.end(); ++it)
    out[it.key()] = TRY(get_string(it.value(), where + "." + it.key()));
  return out;
}

// Optional member: calls fn(value, path) when present and not null.
template <class F>
Status member(const json& obj, const char* key, const std::string& where, F&& fn) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  return fn(*it, where + "." + key);
}

Status expect_object(const json& j, const std::string& where) {
  if (!j.is_object()) return bad(where, "expected an object, got " + quote(j));
  return {};
}

Result<std::vector<int>> parse_cap_list(const json& j, const std::string& where) {
  auto names = TRY(get_strings(j, where));
  std::vector<int> out;
  for (size_t i = 0; i < names.size(); ++i) {
    auto cap = capability_from_name(names[i]);
    if (!cap) return bad(where + "[" + std::to_string(i) + "]", "unknown capability \"" + names[i] + "\"");
    out.push_back(*cap);
  }
  return out;
}

struct RlimitName {
  const char* name;
  int resource;
};
constexpr RlimitName kRlimits[] = {
    {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_DATA", RLIMIT_DATA},       {"RLIMIT_STACK", RLIMIT_STACK},
    {"RLIMIT_CORE", RLIMIT_CORE},       {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},     {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},
};

Result<User> parse_user(const json& j, const std::string& where) {
  TRY(expect_object(j, where));
  User u;
  TRY(member(j, "uid", where, [&](const json& v, const std::string& w) -> Status {
    u.uid = TRY(get_number<uint32_t>(v, w));
    return {};
  }));
  TRY(member(j, "gid", where, [&](const json& v, const std::string& w) -> Status {
    u.gid = TRY(get_number<uint32_t>(v, w));
    return {};
  }));
  TRY(member(j, "umask", where, [&](const json& v, const std::string& w) -> Status {
    u.umask = TRY(get_number<uint32_t>(v, w));
    return {};
  }));
  TRY(member(j, "additionalGids", where, [&](const json& v, const std::string& w) -> Status {
    if (!v.is_array()) return bad(w, "expected an array of integers, got " + quote(v));
    for (size_t i = 0; i < v.size(); ++i)
      u.additional_gids.push_back(TRY(get_number<uint32_t>(v[i], w + "[" + std::to_string(i) + "]")));
    return {};
  }));
  if (j.contains("username") && !j["username"].is_null())
    TRY(get_string(j["username"], where + ".username"));
  return u;
}

Result<Hook> parse_hook(const json& j, const std::string& where) {
  TRY(expect_object(j, where));
  Hook h;
  if (!j.contains("path")) return bad(where + ".path", "required field is missing");
  h.path = TRY(get_string(j["path"], where + ".path"));
  if (h.path.empty() || h.path[0] != '/')
    return bad(where + ".path", "must be an absolute path, got \"" + h.path + "\"");
  TRY(member(j, "args", where, [&](const json& v, const std::string& w) -> Status {
    h.args = TRY(get_strings(v, w));
    return {};
  }));
  TRY(member(j, "env", where, [&](const json& v, const std::string& w) -> Status {
    h.env = TRY(get_strings(v, w));
    return {};
  }));
  TRY(member(j, "timeout", where, [&](const json& v, const std::string& w) -> Status {
    int t = TRY(get_number<int>(v, w));
    if (t <= 0) return bad(w, "must be greater than zero, got " + std::to_string(t));
    h.timeout = t;
    return {};
  }));
  return h;
}

Result<std::vector<Hook>> parse_hook_list(const json& j, const std::string& where) {
  if (!j.is_array()) return bad(where, "expected an array of hooks, got " + quote(j));
  std::vector<Hook> out;
  for (size_t i = 0; i < j.size(); ++i)
    out.push_back(TRY(parse_hook(j[i], where + "[" + std::to_string(i) + "]")));
  return out;
}

Result<Hooks> parse_hooks(const json& j, const std::string& where) {
  TRY(expect_object(j, where));
  Hooks h;
  struct {
    const char* key;
    std::vector<Hook>* dest;
  } kinds[] = {{"prestart", &h.prestart},
               {"createRuntime", &h.create_runtime},
               {"createContainer", &h.create_container},
               {"startContainer", &h.start_container},
               {"poststart", &h.poststart},
               {"poststop", &h.poststop}};
  for (auto& k : kinds)
    TRY(member(j, k.key, where, [&](const json& v, const std::string& w) -> Status {
      *k.dest = TRY(parse_hook_list(v, w));
      return {};
    }));
  return h;
}

Result<Mount> parse_mount(const json& j, const std::string& where) {
  TRY(expect_object(j, where));
  Mount m;
  if (!j.contains("destination")) return bad(where + ".destination", "required field is missing");
  m.destination = TRY(get_string(j["destination"], where + ".destination"));
  if (m.destination.empty() || m.destination[0] != '/')
    return bad(where + ".destination", "must be an absolute path, got \"" + m.destination + "\"");
  TRY(member(j, "type", where, [&](const json& v, const std::string& w) -> Status {
    m.type = TRY(get_string(v, w));
    return {};
  }));
  TRY(member(j, "source", where, [&](const json& v, const std::string& w) -> Status {
    m.source = TRY(get_string(v, w));
    return {};
  }));
  TRY(member(j, "options", where, [&](const json& v, const std::string& w) -> Status {
    m.options = TRY(get_strings(v, w));
    return {};
  }));
  return m;
}

Result<IdMapping> parse_id_mapping(const json& j, const std::string& where) {
  TRY(expect_object(j, where));
  IdMapping m;
  for (auto [key, dest] : {std::pair{"containerID", &m.container_id}, std::pair{"hostID", &m.host_id},
                           std::pair{"size", &m.size}}) {
    if (!j.contains(key)) return bad(where + "." + key, "required field is missing");
    *dest = TRY(get_number<uint32_t>(j[key], where + "." + key));
  }
  return m;
}

Result<Device> parse_device(const json& j, const std::string& where) {
  TRY(expect_object(j, where));
  Device d;
  if (!j.contains("path")) return bad(where + ".path", "required field is missing");
  d.path = TRY(get_string(j["path"], where + ".path"));
  if (d.path.empty() || d.path[0] != '/')
    return bad(where + ".path", "must be an absolute path, got \"" + d.path + "\"");
  if (!j.contains("type")) return bad(where + ".type", "required field is missing");
  auto type = TRY(get_string(j["type"], where + ".type"));
  if (type != "c" && type != "b" && type != "u" && type != "p")
    return bad(where + ".type", "unknown device type \"" + type + "\" (expected c, b, u or p)");
  d.type = type[0];
  if (d.type != 'p') {
    for (auto [key, dest] : {std::pair{"major", &d.major}, std::pair{"minor", &d.minor}}) {
      if (!j.contains(key)) return bad(where + "." + key, "required for device type " + type);
      *dest = TRY(get_number<int64_t>(j[key], where + "." + key));
    }
  }
  TRY(member(j, "fileMode", where, [&](const json& v, const std::string& w) -> Status {
    d.file_mode = TRY(get_number<uint32_t>(v, w));
    return {};
  }));
  TRY(member(j, "uid", where, [&](const json& v, const std::string& w) -> Status {
    d.uid = TRY(get_number<uint32_t>(v, w));
    return {};
  }));
  TRY(member(j, "gid", where, [&](const json& v, const std::string& w) -> Status {
    d.gid = TRY(get_number<uint32_t>(v, w));
    return {};
  }));
  return d;
}

template <class T>
Status opt_number(const json& obj, const char* key, const std::string& where, std::optional<T>& dest) {
  return member(obj, key, where, [&](const json& v, const std::string& w) -> Status {
    dest = TRY(get_number<T>(v, w));
    return {};
  });
}

Result<std::vector<BlockIoDeviceRate>> parse_rates(const json& j, const std::string& where) {
  if (!j.is_array()) return bad(where, "expected an array, got " + quote(j));
  std::vector<BlockIoDeviceRate> out;
  for (size_t i = 0; i < j.size(); ++i) {
    std::string w = where + "[" + std::to_string(i) + "]";
    TRY(expect_object(j[i], w));
    BlockIoDeviceRate r;
    r.major = TRY(get_number<int64_t>(j[i].value("major", json()), w + ".major"));
    r.minor = TRY(get_number<int64_t>(j[i].value("minor", json()), w + ".minor"));
    r.rate = TRY(get_number<uint64_t>(j[i].value("rate", json()), w + ".rate"));
    out.push_back(r);
  }
  return out;
}

Result<SeccompArg> parse_seccomp_arg(const json& j, const std::string& where) {
  TRY(expect_object(j, where));
  SeccompArg a;
  a.index = TRY(get_number<unsigned>(j.value("index", json()), where + ".index"));
  if (a.index > 5) return bad(where + ".index", "must be 0..5, got " + std::to_string(a.index));
  a.value = TRY(get_number<uint64_t>(j.value("value", json()), where + ".value"));
  if (j.contains("valueTwo")) a.value_two = TRY(get_number<uint64_t>(j["valueTwo"], where + ".valueTwo"));
  a.op = TRY(get_string(j.value("op", json()), where + ".op"));
  return a;
}

Result<Seccomp> parse_seccomp(const json& j, const std::string& where) {
  TRY(expect_object(j, where));
  Seccomp s;
  if (!j.contains("defaultAction")) return bad(where + ".defaultAction", "required field is missing");
  s.default_action = TRY(get_string(j["defaultAction"], where + ".defaultAction"));
  TRY(opt_number(j, "defaultErrnoRet", where, s.default_errno_ret));
  TRY(member(j, "architectures", where, [&](const json& v, const std::string& w) -> Status {
    s.architectures = TRY(get_strings(v, w));
    return {};
  }));
  TRY(member(j, "flags", where, [&](const json& v, const std::string& w) -> Status {
    s.flags = TRY(get_strings(v, w));
    return {};
  }));
  TRY(member(j, "listenerPath", where, [&](const json& v, const std::string& w) -> Status {
    s.listener_path = TRY(get_string(v, w));
    return {};
  }));
  TRY(member(j, "syscalls", where, [&](const json& v, const std::string& w) -> Status {
    if (!v.is_array()) return bad(w, "expected an array, got " + quote(v));
    for (size_t i = 0; i < v.size(); ++i) {
      std::string wi = w + "[" + std::to_string(i) + "]";
      TRY(expect_object(v[i], wi));
      SeccompSyscall sc;
      sc.names = TRY(get_strings(v[i].value("names", json()), wi + ".names"));
      if (sc.names.empty()) return bad(wi + ".names", "must name at least one syscall");
      sc.action = TRY(get_string(v[i].value("action", json()), wi + ".action"));
      TRY(opt_number(v[i], "errnoRet", wi, sc.errno_ret));
      TRY(member(v[i], "args", wi, [&](const json& a, const std::string& wa) -> Status {
        if (!a.is_array()) return bad(wa, "expected an array, got " + quote(a));
        for (size_t k = 0; k < a.size(); ++k)
          sc.args.push_back(TRY(parse_seccomp_arg(a[k], wa + "[" + std::to_string(k) + "]")));
        return {};
      }));
      s.syscalls.push_back(std::move(sc));
    }
    return {};
  }));
  return s;
}

Result<DeviceCgroupRule> parse_device_rule(const json& j, const std::string& where) {
  TRY(expect_object(j, where));
  DeviceCgroupRule r;
  if (!j.contains("allow")) return bad(where + ".allow", "required field is missing");
  r.allow = TRY(get_bool(j["allow"], where + ".allow"));
  TRY(member(j, "type", where, [&](const json& v, const std::string& w) -> Status {
    auto t = TRY(get_string(v, w));
    if (t != "a" && t != "c" && t != "b")
      return bad(w, "unknown device type \"" + t + "\" (expected a, c or b)");
    r.type = t[0];
    return {};
  }));
  TRY(opt_number(j, "major", where, r.major));
  TRY(opt_number(j, "minor", where, r.minor));
  TRY(member(j, "access", where, [&](const json& v, const std::string& w) -> Status {
    r.access = TRY(get_string(v, w));
    for (char c : r.access)
      if (c != 'r' && c != 'w' && c != 'm') return bad(w, "invalid access \"" + r.access + "\" (use r, w, m)");
    return {};
  }));
  return r;
}

}  // namespace

Result<Resources> parse_resources(const json& j, const std::string& where) {
  TRY(expect_object(j, where));
  Resources r;
  TRY(member(j, "devices", where, [&](const json& v, const std::string& w) -> Status {
    if (!v.is_array()) return bad(w, "expected an array, got " + quote(v));
    for (size_t i = 0; i < v.size(); ++i)
      r.devices.push_back(TRY(parse_device_rule(v[i], w + "[" + std::to_string(i) + "]")));
    return {};
  }));
  TRY(member(j, "memory", where, [&](const json& v, const std::string& w) -> Status {
    TRY(expect_object(v, w));
    MemoryResources m;
    TRY(opt_number(v, "limit", w, m.limit));
    TRY(opt_number(v, "reservation", w, m.reservation));
    TRY(opt_number(v, "swap", w, m.swap));
    TRY(opt_number(v, "kernel", w, m.kernel));
    TRY(opt_number(v, "kernelTCP", w, m.kernel_tcp));
    TRY(opt_number(v, "swappiness", w, m.swappiness));
    TRY(member(v, "disableOOMKiller", w, [&](const json& b, const std::string& wb) -> Status {
      m.disable_oom_killer = TRY(get_bool(b, wb));
      return {};
    }));
    r.memory = m;
    return {};
  }));
  TRY(member(j, "cpu", where, [&](const json& v, const std::string& w) -> Status {
    TRY(expect_object(v, w));
    CpuResources c;
    TRY(opt_number(v, "shares", w, c.shares));
    TRY(opt_number(v, "quota", w, c.quota));
    TRY(opt_number(v, "period", w, c.period));
    TRY(opt_number(v, "realtimeRuntime", w, c.realtime_runtime));
    TRY(opt_number(v, "realtimePeriod", w, c.realtime_period));
    TRY(opt_number(v, "idle", w, c.idle));
    TRY(member(v, "cpus", w, [&](const json& s, const std::string& ws) -> Status {
      c.cpus = TRY(get_string(s, ws));
      return {};
    }));
    TRY(member(v, "mems", w, [&](const json& s, const std::string& ws) -> Status {
      c.mems = TRY(get_string(s, ws));
      return {};
    }));
    r.cpu = c;
    return {};
  }));
  TRY(member(j, "pids", where, [&](const json& v, const std::string& w) -> Status {
    TRY(expect_object(v, w));
    if (v.contains("limit") && !v["limit"].is_null())
      r.pids_limit = TRY(get_number<int64_t>(v["limit"], w + ".limit"));
    return {};
  }));
  TRY(member(j, "blockIO", where, [&](const json& v, const std::string& w) -> Status {
    TRY(expect_object(v, w));
    BlockIoResources b;
    TRY(opt_number(v, "weight", w, b.weight));
    TRY(opt_number(v, "leafWeight", w, b.leaf_weight));
    TRY(member(v, "weightDevice", w, [&](const json& a, const std::string& wa) -> Status {
      if (!a.is_array()) return bad(wa, "expected an array, got " + quote(a));
      for (size_t i = 0; i < a.size(); ++i) {
        std::string wi = wa + "[" + std::to_string(i) + "]";
        TRY(expect_object(a[i], wi));
        BlockIoDeviceWeight d;
        d.major = TRY(get_number<int64_t>(a[i].value("major", json()), wi + ".major"));
        d.minor = TRY(get_number<int64_t>(a[i].value("minor", json()), wi + ".minor"));
        TRY(opt_number(a[i], "weight", wi, d.weight));
        TRY(opt_number(a[i], "leafWeight", wi, d.leaf_weight));
        b.weight_device.push_back(d);
      }
      return {};
    }));
    struct {
      const char* key;
      std::vector<BlockIoDeviceRate>* dest;
    } rates[] = {{"throttleReadBpsDevice", &b.throttle_read_bps},
                 {"throttleWriteBpsDevice", &b.throttle_write_bps},
                 {"throttleReadIOPSDevice", &b.throttle_read_iops},
                 {"throttleWriteIOPSDevice", &b.throttle_write_iops}};
    for (auto& rate : rates)
      TRY(member(v, rate.key, w, [&](const json& a, const std::string& wa) -> Status {
        *rate.dest = TRY(parse_rates(a, wa));
        return {};
      }));
    r.block_io = b;
    return {};
  }));
  TRY(member(j, "hugepageLimits", where, [&](const json& v, const std::string& w) -> Status {
    if (!v.is_array()) return bad(w, "expected an array, got " + quote(v));
    for (size_t i = 0; i < v.size(); ++i) {
      std::string wi = w + "[" + std::to_string(i) + "]";
      TRY(expect_object(v[i], wi));
      HugepageLimit h;
      h.page_size = TRY(get_string(v[i].value("pageSize", json()), wi + ".pageSize"));
      h.limit = TRY(get_number<uint64_t>(v[i].value("limit", json()), wi + ".limit"));
      r.hugepage_limits.push_back(h);
    }
    return {};
  }));
  TRY(member(j, "unified", where, [&](const json& v, const std::string& w) -> Status {
    r.unified = TRY(get_string_map(v, w));
    return {};
  }));
  return r;
}

Result<Process> parse_process(const json& j, const std::string& where) {
  TRY(expect_object(j, where));
  Process p;
  TRY(member(j, "terminal", where, [&](const json& v, const std::string& w) -> Status {
    p.terminal = TRY(get_bool(v, w));
    return {};
  }));
  TRY(member(j, "consoleSize", where, [&](const json& v, const std::string& w) -> Status {
    TRY(expect_object(v, w));
    p.console_height = TRY(get_number<unsigned>(v.value("height", json(0)), w + ".height"));
    p.console_width = TRY(get_number<unsigned>(v.value("width", json(0)), w + ".width"));
    return {};
  }));
  TRY(member(j, "user", where, [&](const json& v, const std::string& w) -> Status {
    p.user = TRY(parse_user(v, w));
    return {};
  }));
  if (!j.contains("args") || j["args"].is_null()) return bad(where + ".args", "required field is missing");
  p.args = TRY(get_strings(j["args"], where + ".args"));
  if (p.args.empty()) return bad(where + ".args", "must contain at least the program to run");
  TRY(member(j, "env", where, [&](const json& v, const std::string& w) -> Status {
    p.env = TRY(get_strings(v, w));
    return {};
  }));
  TRY(member(j, "cwd", where, [&](const json& v, const std::string& w) -> Status {
    p.cwd = TRY(get_string(v, w));
    if (p.cwd.empty() || p.cwd[0] != '/') return bad(w, "must be an absolute path, got \"" + p.cwd + "\"");
    return {};
  }));
  TRY(member(j, "capabilities", where, [&](const json& v, const std::string& w) -> Status {
    TRY(expect_object(v, w));
    Capabilities c;
    struct {
      const char* key;
      std::vector<int>* dest;
    } sets[] = {{"bounding", &c.bounding},
                {"effective", &c.effective},
                {"inheritable", &c.inheritable},
                {"permitted", &c.permitted},
                {"ambient", &c.ambient}};
    for (auto& s : sets)
      TRY(member(v, s.key, w, [&](const json& a, const std::string& wa) -> Status {
        *s.dest = TRY(parse_cap_list(a, wa));
        return {};
      }));
    p.capabilities = c;
    return {};
  }));
  TRY(member(j, "rlimits", where, [&](const json& v, const std::string& w) -> Status {
    if (!v.is_array()) return bad(w, "expected an array, got " + quote(v));
    for (size_t i = 0; i < v.size(); ++i) {
      std::string wi = w + "[" + std::to_string(i) + "]";
      TRY(expect_object(v[i], wi));
      Rlimit r;
      r.type = TRY(get_string(v[i].value("type", json()), wi + ".type"));
      bool known = false;
      for (auto& n : kRlimits)
        if (r.type == n.name) {
          r.resource = n.resource;
          known = true;
        }
      if (!known) return bad(wi + ".type", "unknown rlimit \"" + r.type + "\"");
      for (auto& prev : p.rlimits)
        if (prev.type == r.type) return bad(wi + ".type", "rlimit \"" + r.type + "\" is set twice");
      r.hard = TRY(get_number<uint64_t>(v[i].value("hard", json()), wi + ".hard"));
      r.soft = TRY(get_number<uint64_t>(v[i].value("soft", json()), wi + ".soft"));
      if (r.soft > r.hard)
        return bad(wi, "soft limit " + std::to_string(r.soft) + " is above hard limit " + std::to_string(r.hard));
      p.rlimits.push_back(r);
    }
    return {};
  }));
  TRY(member(j, "noNewPrivileges", where, [&](const json& v, const std::string& w) -> Status {
    p.no_new_privileges = TRY(get_bool(v, w));
    return {};
  }));
  TRY(member(j, "oomScoreAdj", where, [&](const json& v, const std::string& w) -> Status {
    int adj = TRY(get_number<int>(v, w));
    if (adj < -1000 || adj > 1000) return bad(w, "must be between -1000 and 1000, got " + std::to_string(adj));
    p.oom_score_adj = adj;
    return {};
  }));
  TRY(member(j, "apparmorProfile", where, [&](const json& v, const std::string& w) -> Status {
    p.apparmor_profile = TRY(get_string(v, w));
    return {};
  }));
  TRY(member(j, "selinuxLabel", where, [&](const json& v, const std::string& w) -> Status {
    p.selinux_label = TRY(get_string(v, w));
    return {};
  }));
  return p;
}

namespace {
Result<Linux> parse_linux(const json& j, const std::string& where) {
  TRY(expect_object(j, where));
  Linux l;
  TRY(member(j, "namespaces", where, [&](const json& v, const std::string& w) -> Status {
    if (!v.is_array()) return bad(w, "expected an array, got " + quote(v));
    for (size_t i = 0; i < v.size(); ++i) {
      std::string wi = w + "[" + std::to_string(i) + "]";
      TRY(expect_object(v[i], wi));
      auto type_name = TRY(get_string(v[i].value("type", json()), wi + ".type"));
      auto type = namespace_type_from_name(type_name);
      if (!type) return bad(wi + ".type", type.error().message);
      Namespace ns{*type, ""};
      TRY(member(v[i], "path", wi, [&](const json& p, const std::string& wp) -> Status {
        ns.path = TRY(get_string(p, wp));
        return {};
      }));
      if (l.find_namespace(*type))
        return bad(wi + ".type", "namespace \"" + type_name + "\" is listed twice");
      l.namespaces.push_back(ns);
    }
    return {};
  }));
  for (auto [key, dest] : {std::pair{"uidMappings", &l.uid_mappings}, std::pair{"gidMappings", &l.gid_mappings}})
    TRY(member(j, key, where, [&](const json& v, const std::string& w) -> Status {
      if (!v.is_array()) return bad(w, "expected an array, got " + quote(v));
      for (size_t i = 0; i < v.size(); ++i)
        dest->push_back(TRY(parse_id_mapping(v[i], w + "[" + std::to_string(i) + "]")));
      return {};
    }));
  TRY(member(j, "devices", where, [&](const json& v, const std::string& w) -> Status {
    if (!v.is_array()) return bad(w, "expected an array, got " + quote(v));
    for (size_t i = 0; i < v.size(); ++i)
      l.devices.push_back(TRY(parse_device(v[i], w + "[" + std::to_string(i) + "]")));
    return {};
  }));
  TRY(member(j, "cgroupsPath", where, [&](const json& v, const std::string& w) -> Status {
    l.cgroups_path = TRY(get_string(v, w));
    return {};
  }));
  TRY(member(j, "resources", where, [&](const json& v, const std::string& w) -> Status {
    l.resources = TRY(parse_resources(v, w));
    return {};
  }));
  TRY(member(j, "sysctl", where, [&](const json& v, const std::string& w) -> Status {
    l.sysctl = TRY(get_string_map(v, w));
    return {};
  }));
  TRY(member(j, "seccomp", where, [&](const json& v, const std::string& w) -> Status {
    l.seccomp = TRY(parse_seccomp(v, w));
    return {};
  }));
  TRY(member(j, "rootfsPropagation", where, [&](const json& v, const std::string& w) -> Status {
    l.rootfs_propagation = TRY(get_string(v, w));
    static const char* kAllowed[] = {"", "private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable"};
    for (auto* a : kAllowed)
      if (l.rootfs_propagation == a) return {};
    return bad(w, "unknown propagation \"" + l.rootfs_propagation + "\"");
  }));
  TRY(member(j, "maskedPaths", where, [&](const json& v, const std::string& w) -> Status {
    l.masked_paths = TRY(get_strings(v, w));
    return {};
  }));
  TRY(member(j, "readonlyPaths", where, [&](const json& v, const std::string& w) -> Status {
    l.readonly_paths = TRY(get_strings(v, w));
    return {};
  }));
  TRY(member(j, "mountLabel", where, [&](const json& v, const std::string& w) -> Status {
    l.mount_label = TRY(get_string(v, w));
    return {};
  }));
  TRY(member(j, "personality", where, [&](const json& v, const std::string& w) -> Status {
    TRY(expect_object(v, w));
    Personality p;
    p.domain = TRY(get_string(v.value("domain", json()), w + ".domain"));
    if (p.domain != "LINUX" && p.domain != "LINUX32")
      return bad(w + ".domain", "unknown personality \"" + p.domain + "\" (expected LINUX or LINUX32)");
    l.personality = p;
    return {};
  }));
  return l;
}
}  // namespace

Result<Spec> parse_spec_json(const json& j) {
  if (!j.is_object()) return bad("config.json", "expected a JSON object at the top level");
  Spec s;
  if (!j.contains("ociVersion")) return bad("ociVersion", "required field is missing");
  s.oci_version = TRY(get_string(j["ociVersion"], "ociVersion"));
  // We implement runtime-spec 1.x; a different major version changes meaning.
  if (s.oci_version.rfind("1.", 0) != 0)
    return bad("ociVersion", "unsupported version \"" + s.oci_version + "\" (this runtime implements 1.x)");
  TRY(member(j, "process", "", [&](const json& v, const std::string&) -> Status {
    s.process = TRY(parse_process(v, "process"));
    return {};
  }));
  if (!j.contains("root") || j["root"].is_null()) return bad("root", "required field is missing");
  TRY(expect_object(j["root"], "root"));
  if (!j["root"].contains("path")) return bad("root.path", "required field is missing");
  s.root_path = TRY(get_string(j["root"]["path"], "root.path"));
  if (s.root_path.empty()) return bad("root.path", "must not be empty");
  TRY(member(j["root"], "readonly", "root", [&](const json& v, const std::string& w) -> Status {
    s.root_readonly = TRY(get_bool(v, w));
    return {};
  }));
  TRY(member(j, "hostname", "", [&](const json& v, const std::string&) -> Status {
    s.hostname = TRY(get_string(v, "hostname"));
    return {};
  }));
  TRY(member(j, "domainname", "", [&](const json& v, const std::string&) -> Status {
    s.domainname = TRY(get_string(v, "domainname"));
    return {};
  }));
  TRY(member(j, "mounts", "", [&](const json& v, const std::string&) -> Status {
    if (!v.is_array()) return bad("mounts", "expected an array, got " + quote(v));
    for (size_t i = 0; i < v.size(); ++i)
      s.mounts.push_back(TRY(parse_mount(v[i], "mounts[" + std::to_string(i) + "]")));
    return {};
  }));
  TRY(member(j, "hooks", "", [&](const json& v, const std::string&) -> Status {
    s.hooks = TRY(parse_hooks(v, "hooks"));
    return {};
  }));
  TRY(member(j, "annotations", "", [&](const json& v, const std::string&) -> Status {
    s.annotations = TRY(get_string_map(v, "annotations"));
    return {};
  }));
  TRY(member(j, "linux", "", [&](const json& v, const std::string&) -> Status {
    s.linux = TRY(parse_linux(v, "linux"));
    return {};
  }));
  return s;
}

Result<Spec> parse_spec(const std::string& json_text) {
  json j = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    // Re-parse with exceptions only to get the position for the message.
    try {
      auto unused = json::parse(json_text);
      (void)unused;
    } catch (const json::parse_error& e) {
      return fail(std::string("config.json: invalid JSON: ") + e.what(), EINVAL);
    }
    return fail("config.json: invalid JSON", EINVAL);
  }
  return parse_spec_json(j);
}

namespace {
struct NsName {
  NamespaceType type;
  const char* oci;
  const char* proc;
  int flag;
};
constexpr NsName kNamespaces[] = {
    {NamespaceType::kPid, "pid", "pid", CLONE_NEWPID},
    {NamespaceType::kNetwork, "network", "net", CLONE_NEWNET},
    {NamespaceType::kMount, "mount", "mnt", CLONE_NEWNS},
    {NamespaceType::kIpc, "ipc", "ipc", CLONE_NEWIPC},
    {NamespaceType::kUts, "uts", "uts", CLONE_NEWUTS},
    {NamespaceType::kUser, "user", "user", CLONE_NEWUSER},
    {NamespaceType::kCgroup, "cgroup", "cgroup", CLONE_NEWCGROUP},
    {NamespaceType::kTime, "time", "time", 0x00000080 /* CLONE_NEWTIME */},
};
}  // namespace

const char* namespace_type_name(NamespaceType t) {
  for (auto& n : kNamespaces)
    if (n.type == t) return n.oci;
  return "?";
}

const char* namespace_proc_name(NamespaceType t) {
  for (auto& n : kNamespaces)
    if (n.type == t) return n.proc;
  return "?";
}

int namespace_clone_flag(NamespaceType t) {
  for (auto& n : kNamespaces)
    if (n.type == t) return n.flag;
  return 0;
}

Result<NamespaceType> namespace_type_from_name(const std::string& name) {
  for (auto& n : kNamespaces)
    if (name == n.oci) return n.type;
  return fail("unknown namespace type \"" + name +
                  "\" (expected pid, network, mount, ipc, uts, user, cgroup or time)",
              EINVAL);
}

}  // namespace md::oci
