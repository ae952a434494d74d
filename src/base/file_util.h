// Small file helpers with errors that name the path. All fds are O_CLOEXEC.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace md {

Result<std::string> read_file(const std::string& path);
Result<std::string> read_file_at(int dirfd, const std::string& name);
// Writes `data` to an existing file (no O_CREAT, no truncation games): cgroup/proc files.
Status write_existing_file(const std::string& path, std::string_view data);
Status write_existing_file_at(int dirfd, const std::string& name, std::string_view data);
// Creates or replaces `path` atomically (write to a temp file, fsync-free rename).
Status write_file_atomic(const std::string& path, std::string_view data, int mode = 0644);
Result<UniqueFd> open_fd(const std::string& path, int flags, int mode = 0);
bool path_exists(const std::string& path);
bool is_directory(const std::string& path);
// mkdir -p; existing directories are fine.
Status make_directories(const std::string& path, int mode = 0755);
// rm -rf that never crosses into another mount (refuses to descend into mount points).
Status remove_tree(const std::string& path);
Result<std::vector<std::string>> list_directory(const std::string& path);
// Joins "a" and "b" with exactly one slash.
std::string join_path(std::string_view a, std::string_view b);
// Makes `path` absolute relative to the current directory (no symlink resolution).
std::string absolute_path(const std::string& path);

}  // namespace md
