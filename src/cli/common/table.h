// Docker's tabular output: Go's text/tabwriter as the docker CLI configures it
// (tabwriter.NewWriter(out, 10, 1, 3, ' ', 0): a column is as wide as its widest cell plus
// 3 spaces, at least 10; the last cell of a line is not padded; widths are counted in UTF-8
// characters), and the `--format` handling of ps, images, history, volume ls, stats:
//
//   "table {{.ID}}\t{{.Names}}"  a header row (each field's header, e.g. "CONTAINER ID"),
//                                then one row per item, all aligned on the tabs
//   "{{.ID}}: {{.Names}}"        each item's text + "\n", no alignment
//   "json"                       each item as {{json .}}
// The format is trimmed of spaces and its two-character "\t" / "\n" become tab / newline,
// as docker does. `{{.Label "com.example.x"}}` reads a label from the row's "Labels"
// (docker's "k=v,k2=v2" text, or an object); its header is the key's last dot-separated
// part with '-' and '_' as spaces ("x"). A field the row lacks is an error, as docker's.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "cli/common/go_template.h"

namespace md::cli {

// Go's tabwriter: cells end at '\t', lines at '\n'. Text is buffered until flush().
class TabWriter {
 public:
  explicit TabWriter(int minwidth = 10, int padding = 3, char padchar = ' ')
      : minwidth_(minwidth), padding_(padding), padchar_(padchar) {}
  void write(std::string_view text);
  // Formats everything written so far and returns it; the writer is empty afterwards.
  std::string flush();

 private:
  struct Cell {
    std::string text;
    size_t width = 0;  // UTF-8 characters
  };
  void format(std::string& out, size_t line0, size_t line1);
  void write_lines(std::string& out, size_t line0, size_t line1);

  int minwidth_, padding_;
  char padchar_;
  std::vector<std::vector<Cell>> lines_{{}};
  std::string cell_;  // the cell being written
  std::vector<size_t> widths_;
};

// Aligns `text` as docker's tables are.
std::string tabwrite(std::string_view text);

// Go's sortorder.NaturalLess, which Docker sorts names with: digit runs compare as numbers
// ("v2" < "v10"); with equal values, fewer leading zeros first.
bool natural_less(const std::string& a, const std::string& b);
// Rows of cells → aligned text, one line per row (each ending in "\n").
std::string format_columns(const std::vector<std::vector<std::string>>& rows);

// A row field → its table header: {"ID", "CONTAINER ID"}, {"Names", "NAMES"}, …
using TableHeaders = std::map<std::string, std::string>;

// Docker's headers for each listing.
const TableHeaders& ps_headers();       // ID Image Command CreatedAt RunningFor Ports State Status Size Names Labels Mounts Networks LocalVolumes Platform
const TableHeaders& image_headers();    // ID Repository Tag Digest CreatedSince CreatedAt Size Containers VirtualSize SharedSize UniqueSize
const TableHeaders& history_headers();  // ID CreatedSince CreatedAt CreatedBy Size Comment
const TableHeaders& volume_headers();   // Name Driver Scope Mountpoint Labels Links Size
const TableHeaders& stats_headers();    // Container ID Name CPUPerc MemUsage MemPerc NetIO BlockIO PIDs

// A parsed --format, reusable for many rows (stats redraws every second).
class TableFormatter {
 public:
  // Parse errors are Go's ("template: :1: unexpected \"}\" in operand"); docker prints
  // them after "template parsing error: ".
  static Result<TableFormatter> parse(std::string_view format, TableHeaders headers);
  bool is_table() const { return table_; }
  // The whole output: header (table formats) and rows, aligned, each line ending in "\n".
  // Execution errors are Go's ("template: :1:2: executing \"\" at <.Nope>: …"); docker
  // prints them after "failed to execute template: ".
  Result<std::string> render(const std::vector<nlohmann::json>& rows) const;

 private:
  GoTemplate tpl_;
  TableHeaders headers_;
  bool table_ = false;
};

// parse + render.
Result<std::string> format_table(std::string_view format, const std::vector<nlohmann::json>& rows,
                                 const TableHeaders& headers);

}  // namespace md::cli
