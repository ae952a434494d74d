// OCI mount options ("ro", "nosuid", "rbind", "rslave", "size=64k") → mount(2) flags.
#pragma once

#include <string>
#include <vector>

namespace md::runtime {

struct ParsedMountOptions {
  unsigned long flags = 0;        // MS_RDONLY, MS_NOSUID, ...
  unsigned long propagation = 0;  // MS_SLAVE|MS_REC, ...
  bool bind = false, recursive = false;
  std::string data;  // everything the kernel gets as filesystem data, comma-joined
};

ParsedMountOptions parse_mount_options(const std::vector<std::string>& options);
// Propagation flags for "rslave", "private", ...; 0 for an unknown word.
unsigned long propagation_flags(const std::string& word);

}  // namespace md::runtime
