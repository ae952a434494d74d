#include "engine/core/engine.h"

#include <unistd.h>

#include "base/file_util.h"
#include "engine/store/schema.h"

namespace md::engine {

namespace {
std::string find_monitor(const std::string& self) {
  std::string dir = self.substr(0, self.rfind('/'));
  for (std::string cand : {dir + "/minidocker-monitor", dir + "/../libexec/minidocker/minidocker-monitor"})
    if (::access(cand.c_str(), X_OK) == 0) return cand;
  return "minidocker-monitor";  // resolved through $PATH by execvp
}

std::string self_exe() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "minidocker";
  buf[n] = 0;
  return buf;
}
}  // namespace

Engine::Engine(Paths p, store::Database db)
    : paths_(std::move(p)), db_(std::move(db)), containers_(db_), images_(db_), networks_(db_) {}

Result<std::unique_ptr<Engine>> Engine::open(const EngineOptions& o) {
  Paths p = Paths::resolve(o.root, o.run_root);
  TRY_CTX(make_directories(p.root, 0711), "create root " + p.root);
  TRY_CTX(make_directories(p.run_root, 0700), "create run root " + p.run_root);
  auto db = TRY_CTX(store::open_state_db(p.root), "open state database in " + p.root);
  std::unique_ptr<Engine> e(new Engine(std::move(p), std::move(db)));
  e->self_path_ = o.self_path.empty() ? self_exe() : o.self_path;
  e->monitor_path_ = o.monitor_path.empty() ? find_monitor(e->self_path_) : o.monitor_path;
  return e;
}

void Engine::emit_container(const store::Container& c, const std::string& action,
                            std::map<std::string, std::string> extra) {
  Event e;
  e.action = action;
  e.id = c.id;
  std::string image = c.config.value("Image", c.image);
  e.from = image;
  e.attributes = c.labels;
  e.attributes["name"] = c.name;
  e.attributes["image"] = image;
  for (auto& [k, v] : extra) e.attributes[k] = v;
  emit(e);
}

}  // namespace md::engine
