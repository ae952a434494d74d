// A fake cgroupfs for unit tests that run without root against a temp dir.
//
// A real cgroupfs fills a new directory with interface files on mkdir and lets rmdir remove
// a directory that still holds them; a temp dir does neither. While a FakeFs is installed,
// the cgroup code calls `populate` after each mkdir, deletes the plain files of a directory
// before rmdir, and records every write in `writes`. Not thread-safe: tests only.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "cgroups/cgroup.h"

namespace md::cgroups::internal {

struct FakeFs {
  // Creates the interface files of a new cgroup directory `dir` in hierarchy `h`.
  std::function<void(const Hierarchy& h, const std::string& dir)> populate;
  // Every write, in order: (absolute file path, value).
  std::vector<std::pair<std::string, std::string>> writes;
};

// Installs `fs` (nullptr uninstalls). The caller keeps ownership.
void install_fake_fs(FakeFs* fs);

}  // namespace md::cgroups::internal
