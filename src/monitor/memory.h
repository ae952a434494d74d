// Keeping the monitor's RSS small (docs/monitor.md, "Memory").
#pragma once

namespace md::monitor {

// Gives back what a heavy step (launching the container, a restart) left behind: free heap
// (malloc_trim) and the clean file-backed pages of the binary (read-only private mappings
// without a copy-on-write page: code and rodata). Those stay in the page cache, shared by
// every monitor; what the loop uses faults back in. The ranges are found once in
// /proc/self/smaps and remembered, so later calls are a few madvise() calls.
void shed_memory();

}  // namespace md::monitor
