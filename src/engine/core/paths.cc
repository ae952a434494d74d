#include "engine/core/paths.h"

#include <cstdlib>

#include "base/file_util.h"

namespace md::engine {

namespace {
std::string strip_trailing_slashes(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}
}  // namespace

Paths Paths::resolve(std::string root, std::string run_root) {
  Paths p;
  if (root.empty()) {
    const char* env = std::getenv("MINIDOCKER_ROOT");
    root = env && *env ? env : kDefaultRoot;
  }
  p.root = strip_trailing_slashes(absolute_path(root));
  if (run_root.empty()) {
    const char* env = std::getenv("MINIDOCKER_RUNROOT");
    if (env && *env)
      run_root = env;
    else
      run_root = p.root == kDefaultRoot ? kDefaultRunRoot : p.root + "/run";
  }
  p.run_root = strip_trailing_slashes(absolute_path(run_root));
  return p;
}

std::string Paths::layer(std::string_view diff_id) const {
  if (diff_id.starts_with("sha256:")) diff_id.remove_prefix(7);
  return layers() + "/" + std::string(diff_id);
}

}  // namespace md::engine
