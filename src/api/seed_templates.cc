// Templates directory → the seeds' create objects (seed_templates.h).
#include "api/seed_templates.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "base/file_util.h"
#include "cli/common/seed_config.h"

namespace md::api {

namespace fs = std::filesystem;
using nlohmann::json;

double go_duration_seconds(const std::string& d) {
  double total = 0;
  size_t i = 0;
  while (i < d.size()) {
    char* end = nullptr;
    double n = std::strtod(d.c_str() + i, &end);
    if (end == d.c_str() + i) return total;
    i = size_t(end - d.c_str());
    std::string unit;
    while (i < d.size() && std::isalpha(static_cast<unsigned char>(d[i]))) unit += d[i++];
    if (unit == "h") total += n * 3600;
    else if (unit == "m") total += n * 60;
    else if (unit == "s" || unit.empty()) total += n;
    else if (unit == "ms") total += n / 1e3;
    else if (unit == "us" || unit == "µs") total += n / 1e6;
    else if (unit == "ns") total += n / 1e9;
  }
  return total;
}

namespace {

std::string templates_dir(const std::string& root) {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("MINIDOCKER_TEMPLATES"); env && *env) dirs.push_back(env);
  if (!root.empty()) dirs.push_back(root + "/templates");
  dirs.push_back("/usr/share/minidocker/templates");
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    dirs.push_back((self.parent_path() / ".." / "examples" / "templates").string());
    dirs.push_back((self.parent_path() / ".." / ".." / "examples" / "templates").string());
  }
  for (auto& d : dirs)
    if (fs::is_directory(d, ec)) return fs::weakly_canonical(d, ec).string();
  return "";
}

std::string description_of(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_object()) return j.value("description", "");
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    if (line.rfind("description:", 0) == 0) {
      std::string v = line.substr(12);
      v.erase(0, v.find_first_not_of(" \t\"'"));
      while (!v.empty() && (v.back() == '"' || v.back() == '\'' || v.back() == ' ')) v.pop_back();
      return v;
    }
    if (out.empty() && line.rfind("# ", 0) == 0) out = line.substr(2);
  }
  return out;
}

// Relative bind sources are relative to the template's directory (as `run --config`).
std::string absolute_volume(const std::string& v, const std::string& base) {
  auto colon = v.find(':');
  std::string src = v.substr(0, colon);
  bool relative = src.rfind("./", 0) == 0 || src.rfind("../", 0) == 0 || (src.find('/') != std::string::npos && src[0] != '/');
  if (!relative) return v;
  return (fs::path(base) / src).lexically_normal().string() + (colon == std::string::npos ? "" : v.substr(colon));
}

json to_seed_object(const cli::SeedTemplate& t, const std::string& base) {
  json o = json::object();
  if (!t.name.empty()) o["name"] = t.name;
  o["image"] = t.image.empty() ? "busybox" : t.image;
  if (!t.command.empty()) {
    auto argv = cli::seed_command_argv(t.command);
    if (argv) o["command"] = *argv;
    else o["command"] = t.command;
  }
  if (t.mem_limit_mb > 0) o["mem_limit"] = t.mem_limit_mb * 1024 * 1024;
  if (t.cpu_limit_percent > 0) o["cpu_limit"] = t.cpu_limit_percent / 100.0;
  if (!t.ports.empty()) o["ports"] = t.ports;
  if (!t.volumes.empty()) {
    json vols = json::array();
    for (auto& v : t.volumes) vols.push_back(absolute_volume(v, base));
    o["volumes"] = vols;
  }
  if (!t.env_vars.empty()) {
    json env = json::object();
    for (auto& [k, v] : t.env_vars) env[k] = v;
    o["env_vars"] = env;
  }
  if (!t.restart_policy.empty()) o["restart_policy"] = t.restart_policy;
  if (t.has_health && !t.health.disabled) {
    json h = {{"command", t.health.command}};
    if (!t.health.interval.empty()) h["interval"] = go_duration_seconds(t.health.interval);
    if (!t.health.timeout.empty()) h["timeout"] = go_duration_seconds(t.health.timeout);
    if (!t.health.start_period.empty()) h["start_period"] = go_duration_seconds(t.health.start_period);
    if (t.health.retries > 0) h["retries"] = t.health.retries;
    o["health_check"] = h;
  }
  return o;
}

}  // namespace

std::vector<SeedTemplateEntry> load_seed_templates(const std::string& root) {
  std::vector<SeedTemplateEntry> out;
  std::string dir = templates_dir(root);
  if (dir.empty()) return out;
  std::error_code ec;
  for (auto& ent : fs::directory_iterator(dir, ec)) {
    auto ext = ent.path().extension().string();
    if (ext != ".yaml" && ext != ".yml" && ext != ".json") continue;
    SeedTemplateEntry t;
    t.name = ent.path().stem().string();
    auto text = read_file(ent.path().string());
    if (!text) continue;
    t.description = description_of(*text);
    cli::SeedParseOptions po;
    po.source = ent.path().filename().string();
    auto parsed = cli::parse_seed_template(*text, po);
    if (parsed) t.config = to_seed_object(*parsed, dir);
    else t.error = parsed.error().message;
    out.push_back(std::move(t));
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return out;
}

}  // namespace md::api
