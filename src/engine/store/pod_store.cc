#include "engine/store/pod_store.h"

#include "engine/store/container_store.h"
#include "engine/store/ids.h"

namespace md::store {

using nlohmann::json;

namespace {

constexpr const char* kPodColumns = "id, name, infra_id, labels, created, config";

Pod pod_from(const Statement& st) {
  Pod p;
  p.id = st.column_text(0);
  p.name = st.column_text(1);
  p.infra_id = st.column_text(2);
  json l = json::parse(st.column_text(3), nullptr, false);
  if (l.is_object())
    for (auto& [k, v] : l.items())
      if (v.is_string()) p.labels[k] = v.get<std::string>();
  p.created = st.column_int(4);
  p.config = json::parse(st.column_text(5), nullptr, false);
  if (!p.config.is_object()) p.config = json::object();
  return p;
}

}  // namespace

Result<Pod> PodStore::create(Pod p) {
  if (p.id.empty()) p.id = TRY(generate_id());
  if (p.created == 0) p.created = now_unix_nanos();
  if (!p.name.empty() && !is_valid_name(p.name))
    return fail("invalid pod name \"" + p.name + "\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", EINVAL);
  if (!p.config.is_object()) p.config = json::object();
  return db_.transaction([&]() -> Result<Pod> {
    auto taken = [&](const std::string& name) -> Result<bool> {
      Statement q = TRY(db_.prepare("SELECT 1 FROM pods WHERE name = ?1"));
      q.bind_all(name);
      return TRY(q.step());
    };
    Pod row = p;
    if (row.name.empty()) {
      for (int attempt = 0;; ++attempt) {
        row.name = generate_name(attempt / 3);
        if (!TRY(taken(row.name))) break;
        if (attempt > 100) return fail("could not generate a free pod name", EEXIST);
      }
    } else if (TRY(taken(row.name))) {
      return fail("pod name \"" + row.name + "\" is in use: pod already exists", EEXIST);
    }
    Statement st = TRY(db_.prepare(
        "INSERT INTO pods (id, name, infra_id, labels, created, config) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    st.bind_all(row.id, row.name, row.infra_id, json(row.labels).dump(), row.created, row.config.dump());
    TRY(st.run());
    return row;
  });
}

Result<Pod> PodStore::get(std::string_view ref) {
  std::string r(ref);
  if (r.empty()) return fail("pod name or ID cannot be empty", EINVAL);
  for (const char* where : {"id = ?1", "name = ?1"}) {
    Statement st = TRY(db_.prepare(std::string("SELECT ") + kPodColumns + " FROM pods WHERE " + where));
    st.bind_all(r);
    if (TRY(st.step())) return pod_from(st);
  }
  if (is_hex(r)) {
    Statement st = TRY(db_.prepare(std::string("SELECT ") + kPodColumns +
                                   " FROM pods WHERE substr(id, 1, length(?1)) = ?1"));
    st.bind_all(r);
    std::vector<Pod> found;
    while (TRY(st.step())) found.push_back(pod_from(st));
    if (found.size() == 1) return found[0];
    if (found.size() > 1)
      return fail("more than one result for pod ID " + r + " (" + std::to_string(found.size()) + " pods match)", EINVAL);
  }
  return fail("no pod with name or ID " + r + " found: no such pod", ENOENT);
}

Result<std::optional<Pod>> PodStore::get_by_infra(std::string_view container_id) {
  if (container_id.empty()) return std::optional<Pod>();
  Statement st = TRY(db_.prepare(std::string("SELECT ") + kPodColumns + " FROM pods WHERE infra_id = ?1"));
  st.bind_all(std::string(container_id));
  if (TRY(st.step())) return std::optional<Pod>(pod_from(st));
  return std::optional<Pod>();
}

Result<std::vector<Pod>> PodStore::list() {
  Statement st = TRY(db_.prepare(std::string("SELECT ") + kPodColumns + " FROM pods ORDER BY created, name"));
  std::vector<Pod> out;
  while (TRY(st.step())) out.push_back(pod_from(st));
  return out;
}

Status PodStore::set_infra(std::string_view id, std::string_view infra_id) {
  return db_.transaction([&]() -> Status {
    Statement st = TRY(db_.prepare("UPDATE pods SET infra_id = ?2 WHERE id = ?1"));
    st.bind_all(std::string(id), std::string(infra_id));
    TRY(st.run());
    if (db_.changes() == 0) return fail("no pod with ID " + std::string(id) + " found: no such pod", ENOENT);
    return {};
  });
}

Status PodStore::remove(std::string_view id) {
  return db_.transaction([&]() -> Status {
    Statement st = TRY(db_.prepare("DELETE FROM pods WHERE id = ?1"));
    st.bind_all(std::string(id));
    TRY(st.run());
    if (db_.changes() == 0) return fail("no pod with ID " + std::string(id) + " found: no such pod", ENOENT);
    return {};
  });
}

}  // namespace md::store
