#include "monitor/memory.h"

#include <malloc.h>
#include <sys/mman.h>

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "base/file_util.h"

namespace md::monitor {

namespace {

struct Range {
  uintptr_t start, len;
};
Range g_ranges[64];
size_t g_nranges = 0;
bool g_scanned = false;

// Read-only private file mappings with no anonymous (COW) page: never data or RELRO.
void scan() {
  auto smaps = read_file("/proc/self/smaps");
  if (!smaps) return;
  g_scanned = true;
  uintptr_t start = 0, end = 0;
  bool candidate = false;
  size_t pos = 0;
  const std::string& t = *smaps;
  while (pos < t.size()) {
    size_t eol = t.find('\n', pos);
    if (eol == std::string::npos) eol = t.size();
    std::string_view line(t.data() + pos, eol - pos);
    pos = eol + 1;
    if (!line.empty() && std::isxdigit(static_cast<unsigned char>(line[0])) && line.find('-') < 17) {
      // "start-end perms offset dev inode path"
      char perms[8] = {};
      unsigned long inode = 0;
      unsigned long s = 0, e = 0;
      std::string l(line);
      if (std::sscanf(l.c_str(), "%lx-%lx %4s %*s %*s %lu", &s, &e, perms, &inode) == 4) {
        start = s;
        end = e;
        candidate = inode != 0 && perms[1] == '-' && perms[3] == 'p';
      } else {
        candidate = false;
      }
    } else if (candidate && line.rfind("Anonymous:", 0) == 0) {
      if (std::strtoul(std::string(line.substr(10)).c_str(), nullptr, 10) == 0)
        if (g_nranges < 64) g_ranges[g_nranges++] = {start, end - start};
      candidate = false;
    }
  }
}

}  // namespace

void shed_memory() {
  ::malloc_trim(0);
  if (!g_scanned) {
    scan();
    ::malloc_trim(0);  // the smaps text
  }
  // Last: whatever ran above faulted its code in again.
  for (size_t i = 0; i < g_nranges; i++)
    ::madvise(reinterpret_cast<void*>(g_ranges[i].start), g_ranges[i].len, MADV_DONTNEED);
}

}  // namespace md::monitor
