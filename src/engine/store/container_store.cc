#include "engine/store/container_store.h"

#include <time.h>

#include <array>
#include <cerrno>

#include "engine/store/ids.h"

namespace md::store {

namespace {

constexpr std::array<const char*, 7> kStateNames = {"created", "restarting", "running", "paused",
                                                     "exited",  "dead",       "removing"};

// Column order shared by SELECT, INSERT and UPDATE (parameters ?1..?19).
constexpr const char kColumns[] =
    "id, name, image, created, state, pid, pid_start_time, monitor_pid, monitor_start_time, "
    "exit_code, started_at, finished_at, reason, config, host_config, labels, restart_count, "
    "health, version";

std::string dump(const nlohmann::json& j) {
  // replace: a stray invalid UTF-8 byte in a user's env var must not make the write throw.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void bind_row(Statement& st, const Container& c, std::int64_t version) {
  nlohmann::json labels = nlohmann::json::object();
  for (const auto& [k, v] : c.labels) labels[k] = v;
  st.bind(1, c.id)
      .bind(2, c.name)
      .bind(3, c.image)
      .bind(4, c.created)
      .bind(5, state_name(c.state))
      .bind(6, static_cast<std::int64_t>(c.pid))
      .bind(7, static_cast<std::int64_t>(c.pid_start_time))
      .bind(8, static_cast<std::int64_t>(c.monitor_pid))
      .bind(9, static_cast<std::int64_t>(c.monitor_start_time))
      .bind(10, c.exit_code)
      .bind(11, c.started_at)
      .bind(12, c.finished_at)
      .bind(13, c.reason)
      .bind(14, dump(c.config))
      .bind(15, dump(c.host_config))
      .bind(16, dump(labels))
      .bind(17, c.restart_count)
      .bind(18, dump(c.health))
      .bind(19, version);
}

Result<nlohmann::json> parse_column(const Statement& st, int col, const char* column,
                                    const std::string& id) {
  auto j = nlohmann::json::parse(st.column_text(col), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    return fail("container " + short_id(id) + ": column " + column + " is not valid JSON", EIO);
  return j;
}

Result<Container> read_row(const Statement& st) {
  Container c;
  c.id = st.column_text(0);
  c.name = st.column_text(1);
  c.image = st.column_text(2);
  c.created = st.column_int(3);
  c.state = TRY_CTX(parse_state(st.column_text(4)), "container " + short_id(c.id));
  c.pid = static_cast<pid_t>(st.column_int(5));
  c.pid_start_time = static_cast<std::uint64_t>(st.column_int(6));
  c.monitor_pid = static_cast<pid_t>(st.column_int(7));
  c.monitor_start_time = static_cast<std::uint64_t>(st.column_int(8));
  c.exit_code = static_cast<int>(st.column_int(9));
  c.started_at = st.column_int(10);
  c.finished_at = st.column_int(11);
  c.reason = st.column_text(12);
  c.config = TRY(parse_column(st, 13, "config", c.id));
  c.host_config = TRY(parse_column(st, 14, "host_config", c.id));
  nlohmann::json labels = TRY(parse_column(st, 15, "labels", c.id));
  if (labels.is_object())
    for (const auto& [k, v] : labels.items())
      c.labels[k] = v.is_string() ? v.get<std::string>() : v.dump();
  c.restart_count = static_cast<int>(st.column_int(16));
  c.health = TRY(parse_column(st, 17, "health", c.id));
  c.version = st.column_int(18);
  return c;
}

std::unexpected<Error> no_such_container(std::string_view ref) {
  return fail("no such container: " + std::string(ref), ENOENT);
}

// Upper bound of the ids starting with a lowercase-hex prefix: every such id is below
// prefix + "g", every other id is not in [prefix, prefix + "g").
std::string prefix_end(std::string_view prefix) { return std::string(prefix) + "g"; }

}  // namespace

const char* state_name(ContainerState s) { return kStateNames[static_cast<size_t>(s)]; }

Result<ContainerState> parse_state(std::string_view name) {
  for (size_t i = 0; i < kStateNames.size(); ++i)
    if (name == kStateNames[i]) return static_cast<ContainerState>(i);
  return fail("unknown container state \"" + std::string(name) + "\"", EINVAL);
}

std::int64_t now_unix_nanos() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

Result<std::optional<std::string>> ContainerStore::name_owner(const std::string& name) {
  Statement st = TRY(db_.prepare("SELECT id FROM containers WHERE name = ?1"));
  st.bind(1, name);
  if (!TRY(st.step())) return std::optional<std::string>();
  return std::optional<std::string>(st.column_text(0));
}

Result<Container> ContainerStore::create(Container wanted) {
  if (!wanted.name.empty()) wanted.name = TRY(normalize_name(wanted.name));
  if (!wanted.id.empty() && !is_full_id(wanted.id))
    return fail("invalid container id \"" + wanted.id + "\": want 64 lowercase hex digits", EINVAL);
  if (wanted.created == 0) wanted.created = now_unix_nanos();

  return db_.transaction([&]() -> Result<Container> {
    Container c = wanted;  // the body may run again after a busy retry: start fresh
    if (c.id.empty()) {
      for (;;) {
        c.id = TRY(generate_id());
        Statement st = TRY(db_.prepare("SELECT 1 FROM containers WHERE id = ?1"));
        st.bind(1, c.id);
        if (!TRY(st.step())) break;
      }
    }
    if (c.name.empty()) {
      // Plain adjective_surname first; after collisions Docker's trick of a digit suffix.
      for (int attempt = 0;; ++attempt) {
        if (attempt == 100) return fail("cannot generate a free container name", EEXIST);
        std::string candidate = generate_name(attempt / 3);
        if (!TRY(name_owner(candidate))) {
          c.name = std::move(candidate);
          break;
        }
      }
    } else if (auto owner = TRY(name_owner(c.name))) {
      return fail("name \"" + c.name + "\" is already in use by container " + short_id(*owner) +
                      "; remove or rename that container to reuse the name",
                  EEXIST);
    }
    Statement ins = TRY(db_.prepare(std::string("INSERT INTO containers (") + kColumns +
                                    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                                    "?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)"));
    bind_row(ins, c, 1);
    if (auto s = ins.run(); !s) {
      if (s.error().errno_value == EEXIST)
        return fail("container id " + short_id(c.id) + " already exists", EEXIST);
      return std::unexpected(std::move(s).error());
    }
    c.version = 1;
    return c;
  });
}

Result<Container> ContainerStore::get_by_id(std::string_view id) {
  Statement st =
      TRY(db_.prepare(std::string("SELECT ") + kColumns + " FROM containers WHERE id = ?1"));
  st.bind(1, id);
  if (!TRY(st.step())) return no_such_container(id);
  return read_row(st);
}

Result<std::string> ContainerStore::resolve(std::string_view ref_in) {
  std::string_view ref = ref_in;
  if (ref.empty()) return fail("empty container name or id", EINVAL);
  return db_.read_transaction([&]() -> Result<std::string> {
    if (is_full_id(ref)) {
      Statement st = TRY(db_.prepare("SELECT id FROM containers WHERE id = ?1"));
      st.bind(1, ref);
      if (TRY(st.step())) return st.column_text(0);
    }
    std::string_view name = ref;
    if (name.size() > 1 && name[0] == '/') name.remove_prefix(1);
    if (auto owner = TRY(name_owner(std::string(name)))) return *owner;
    if (!is_hex(ref)) return no_such_container(ref);

    Statement st = TRY(db_.prepare(
        "SELECT id FROM containers WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT 11"));
    st.bind(1, ref).bind(2, prefix_end(ref));
    std::vector<std::string> ids;
    while (TRY(st.step())) ids.push_back(st.column_text(0));
    if (ids.empty()) return no_such_container(ref);
    if (ids.size() == 1) return ids[0];
    std::string list;
    for (size_t i = 0; i < ids.size() && i < 10; ++i) {
      if (i) list += ", ";
      list += short_id(ids[i]);
    }
    if (ids.size() > 10) list += ", …";
    return fail("multiple containers match prefix \"" + std::string(ref) + "\": " + list +
                    "; use a longer prefix or the name",
                EINVAL);
  });
}

Result<Container> ContainerStore::get(std::string_view ref) {
  return db_.read_transaction([&]() -> Result<Container> {
    std::string id = TRY(resolve(ref));
    return get_by_id(id);
  });
}

Result<std::vector<Container>> ContainerStore::list(const ContainerFilter& f) {
  std::string sql = std::string("SELECT ") + kColumns + " FROM containers WHERE 1";
  // Parameters are bound in the order their placeholders are appended.
  std::vector<std::string> params;
  auto any_of = [&](const std::vector<std::string>& values, auto&& clause) {
    if (values.empty()) return;
    sql += " AND (";
    for (size_t i = 0; i < values.size(); ++i) {
      if (i) sql += " OR ";
      clause(values[i]);
    }
    sql += ")";
  };

  std::vector<std::string> states;
  for (ContainerState s : f.states) states.push_back(state_name(s));
  if (states.empty() && !f.all) states = {"running", "paused", "restarting"};
  any_of(states, [&](const std::string& s) {
    sql += "state = ?";
    params.push_back(s);
  });
  any_of(f.names, [&](const std::string& n) {
    sql += "instr(name, ?) > 0";
    params.push_back(!n.empty() && n[0] == '/' ? n.substr(1) : n);
  });
  any_of(f.ids, [&](const std::string& p) {
    sql += "(id >= ? AND id < ?)";
    params.push_back(p);
    params.push_back(prefix_end(p));
  });
  if (!f.image.empty()) {
    sql += " AND image = ?";
    params.push_back(f.image);
  }
  for (const std::string& label : f.labels) {
    auto eq = label.find('=');
    sql += " AND EXISTS (SELECT 1 FROM json_each(containers.labels) WHERE key = ?";
    params.push_back(label.substr(0, eq));
    if (eq != std::string::npos) {
      sql += " AND value = ?";
      params.push_back(label.substr(eq + 1));
    }
    sql += ")";
  }
  sql += " ORDER BY created DESC, id";

  Statement st = TRY(db_.prepare(sql));
  for (size_t i = 0; i < params.size(); ++i) st.bind(static_cast<int>(i + 1), params[i]);
  std::vector<Container> out;
  while (TRY(st.step())) out.push_back(TRY(read_row(st)));
  return out;
}

Result<Container> ContainerStore::update_row(const Container& current,
                                             const ContainerMutator& mutate) {
  Container next = current;
  TRY(mutate(next));
  if (next.id != current.id || next.created != current.created ||
      next.version != current.version)
    return fail("update container " + short_id(current.id) +
                    ": id, created and version cannot be changed",
                EINVAL);
  if (next.name != current.name) {
    next.name = TRY(normalize_name(next.name));
    auto owner = TRY(name_owner(next.name));
    if (owner && *owner != current.id)
      return fail("name \"" + next.name + "\" is already in use by container " +
                      short_id(*owner) + "; remove or rename that container to reuse the name",
                  EEXIST);
  }
  Statement st = TRY(db_.prepare(
      "UPDATE containers SET name = ?2, image = ?3, created = ?4, state = ?5, pid = ?6, "
      "pid_start_time = ?7, monitor_pid = ?8, monitor_start_time = ?9, exit_code = ?10, "
      "started_at = ?11, finished_at = ?12, reason = ?13, config = ?14, host_config = ?15, "
      "labels = ?16, restart_count = ?17, health = ?18, version = ?19 + 1 "
      "WHERE id = ?1 AND version = ?19"));
  bind_row(st, next, current.version);
  TRY_CTX(st.run(), "update container " + short_id(current.id));
  if (db_.changes() != 1)
    return fail("container " + short_id(current.id) + " was changed by another process", ESTALE);
  next.version = current.version + 1;
  return next;
}

Result<Container> ContainerStore::update_if(std::string_view id, std::int64_t expected_version,
                                            const ContainerMutator& mutate) {
  return db_.transaction([&]() -> Result<Container> {
    Container current = TRY(get_by_id(id));
    if (current.version != expected_version)
      return fail("container " + short_id(id) + " was changed by another process (version " +
                      std::to_string(current.version) + ", expected " +
                      std::to_string(expected_version) + ")",
                  ESTALE);
    return update_row(current, mutate);
  });
}

Result<Container> ContainerStore::update(std::string_view id, const ContainerMutator& mutate) {
  return db_.transaction([&]() -> Result<Container> {
    Container current = TRY(get_by_id(id));
    return update_row(current, mutate);
  });
}

Result<Container> ContainerStore::rename(std::string_view ref, std::string_view new_name) {
  std::string name = TRY(normalize_name(new_name));
  return db_.transaction([&]() -> Result<Container> {
    Container current = TRY(get(ref));
    return update_row(current, [&](Container& c) -> Status {
      c.name = name;
      return {};
    });
  });
}

Status ContainerStore::remove(std::string_view id) {
  return db_.transaction([&]() -> Status {
    Statement st = TRY(db_.prepare("DELETE FROM containers WHERE id = ?1"));
    st.bind(1, id);
    TRY_CTX(st.run(), "remove container " + short_id(id));
    if (db_.changes() == 0) return no_such_container(id);
    return {};
  });
}

}  // namespace md::store
