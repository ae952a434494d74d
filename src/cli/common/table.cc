#include "cli/common/table.h"

namespace md::cli {

using nlohmann::json;

namespace {

size_t utf8_width(std::string_view s) {
  size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

// docker's {{.Label "k"}}: the row's Labels, as "k=v,k2=v2" text or an object.
Result<json> row_label(const json& row, std::span<const json> args) {
  if (args.size() != 1 || !args[0].is_string())
    return fail("wrong number of args for Label: want 1 got " + std::to_string(args.size()), EINVAL);
  std::string key = args[0].get<std::string>();
  auto it = row.find("Labels");
  if (it == row.end()) return json("");
  if (it->is_object()) {
    auto l = it->find(key);
    return l != it->end() && l->is_string() ? *l : json("");
  }
  if (!it->is_string()) return json("");
  std::string s = it->get<std::string>();
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    std::string pair = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == key) return json(eq == std::string::npos ? "" : pair.substr(eq + 1));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return json("");
}

Result<json> header_label(const json&, std::span<const json> args) {
  if (args.size() != 1 || !args[0].is_string()) return json("");
  std::string key = args[0].get<std::string>();
  std::string last = key.substr(key.rfind('.') == std::string::npos ? 0 : key.rfind('.') + 1);
  for (auto& c : last)
    if (c == '-' || c == '_') c = ' ';
  return json(last);
}

}  // namespace

// ---- TabWriter --------------------------------------------------------------------------

void TabWriter::write(std::string_view text) {
  for (char c : text) {
    if (c == '\t' || c == '\n') {
      lines_.back().push_back({cell_, utf8_width(cell_)});
      cell_.clear();
      if (c == '\n') lines_.emplace_back();
      continue;
    }
    cell_ += c;
  }
}

void TabWriter::write_lines(std::string& out, size_t line0, size_t line1) {
  for (size_t i = line0; i < line1; ++i) {
    const auto& line = lines_[i];
    for (size_t j = 0; j < line.size(); ++j) {
      const Cell& c = line[j];
      out += c.text;
      if (j < widths_.size() && widths_[j] > c.width) out.append(widths_[j] - c.width, padchar_);
    }
    if (i + 1 == lines_.size()) out += cell_;  // the last line: no newline was written
    else out += '\n';
  }
}

// Go's tabwriter.format: a column block is a run of consecutive lines that have a cell in
// that column (not counting each line's last cell, which is never aligned).
void TabWriter::format(std::string& out, size_t line0, size_t line1) {
  size_t column = widths_.size();
  for (size_t t = line0; t < line1; ++t) {
    if (column + 1 >= lines_[t].size()) continue;
    write_lines(out, line0, t);
    line0 = t;
    size_t width = size_t(minwidth_);
    for (; t < line1; ++t) {
      const auto& line = lines_[t];
      if (column + 1 >= line.size()) break;
      width = std::max(width, line[column].width + size_t(padding_));
    }
    widths_.push_back(width);
    format(out, line0, t);
    widths_.pop_back();
    line0 = t;
  }
  write_lines(out, line0, line1);
}

std::string TabWriter::flush() {
  std::string out;
  if (!cell_.empty()) {
    // Go terminates a partial cell at Flush; it stays the (unaligned) last cell.
    lines_.back().push_back({cell_, utf8_width(cell_)});
    cell_.clear();
  }
  format(out, 0, lines_.size());
  lines_.assign(1, {});
  widths_.clear();
  return out;
}

std::string tabwrite(std::string_view text) {
  TabWriter w;
  w.write(text);
  return w.flush();
}

std::string format_columns(const std::vector<std::vector<std::string>>& rows) {
  TabWriter w;
  for (auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) line += (i ? "\t" : "") + row[i];
    w.write(line + "\n");
  }
  return w.flush();
}

// ---- headers ----------------------------------------------------------------------------

const TableHeaders& ps_headers() {
  static const TableHeaders h = {
      {"ID", "CONTAINER ID"}, {"Image", "IMAGE"},       {"Command", "COMMAND"},   {"CreatedAt", "CREATED AT"},
      {"RunningFor", "CREATED"}, {"Ports", "PORTS"},    {"State", "STATE"},       {"Status", "STATUS"},
      {"Size", "SIZE"},       {"Names", "NAMES"},       {"Labels", "LABELS"},     {"Mounts", "MOUNTS"},
      {"Networks", "NETWORKS"}, {"LocalVolumes", "LOCAL VOLUMES"}, {"Platform", "PLATFORM"}};
  return h;
}

const TableHeaders& image_headers() {
  static const TableHeaders h = {
      {"ID", "IMAGE ID"},        {"Repository", "REPOSITORY"}, {"Tag", "TAG"},           {"Digest", "DIGEST"},
      {"CreatedSince", "CREATED"}, {"CreatedAt", "CREATED AT"}, {"Size", "SIZE"},        {"Containers", "CONTAINERS"},
      {"VirtualSize", "SIZE"},   {"SharedSize", "SHARED SIZE"}, {"UniqueSize", "UNIQUE SIZE"}};
  return h;
}

const TableHeaders& history_headers() {
  static const TableHeaders h = {{"ID", "IMAGE"},       {"CreatedSince", "CREATED"}, {"CreatedAt", "CREATED AT"},
                                 {"CreatedBy", "CREATED BY"}, {"Size", "SIZE"},     {"Comment", "COMMENT"}};
  return h;
}

const TableHeaders& volume_headers() {
  static const TableHeaders h = {{"Name", "VOLUME NAME"}, {"Driver", "DRIVER"}, {"Scope", "SCOPE"},
                                 {"Mountpoint", "MOUNTPOINT"}, {"Labels", "LABELS"}, {"Links", "LINKS"},
                                 {"Size", "SIZE"}};
  return h;
}

const TableHeaders& stats_headers() {
  static const TableHeaders h = {{"Container", "CONTAINER"}, {"ID", "CONTAINER ID"}, {"Name", "NAME"},
                                 {"CPUPerc", "CPU %"},       {"MemUsage", "MEM USAGE / LIMIT"},
                                 {"MemPerc", "MEM %"},       {"NetIO", "NET I/O"},  {"BlockIO", "BLOCK I/O"},
                                 {"PIDs", "PIDS"}};
  return h;
}

// ---- formats ----------------------------------------------------------------------------

Result<TableFormatter> TableFormatter::parse(std::string_view format, TableHeaders headers) {
  TableFormatter t;
  std::string f(format);
  if (f.starts_with("table")) {
    t.table_ = true;
    f = f.substr(5);
  }
  size_t b = f.find_first_not_of(' ');
  size_t e = f.find_last_not_of(' ');
  f = b == std::string::npos ? "" : f.substr(b, e - b + 1);
  if (!t.table_ && f == "json") f = "{{json .}}";
  GoTemplate::Options o;
  o.docker_escapes = true;
  o.missing_key = GoTemplate::MissingKey::kError;
  o.methods["Label"] = row_label;
  t.tpl_ = TRY(GoTemplate::parse(f, std::move(o)));
  t.headers_ = std::move(headers);
  return t;
}

Result<std::string> TableFormatter::render(const std::vector<json>& rows) const {
  std::string body;
  for (auto& row : rows) {
    body += TRY(tpl_.execute(row));
    body += '\n';
  }
  if (!table_) return body;
  json h = json::object();
  for (auto& [field, title] : headers_) h[field] = title;
  std::string header = TRY(tpl_.execute_header(h, {{"Label", header_label}}));
  TabWriter w;
  w.write(header + "\n");
  w.write(body);
  return w.flush();
}

Result<std::string> format_table(std::string_view format, const std::vector<json>& rows, const TableHeaders& headers) {
  auto t = TRY(TableFormatter::parse(format, headers));
  return t.render(rows);
}

bool natural_less(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    bool da = isdigit(static_cast<unsigned char>(a[i])), db = isdigit(static_cast<unsigned char>(b[j]));
    if (!(da && db)) {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i, ++j;
      continue;
    }
    size_t si = i, sj = j;
    while (si < a.size() && a[si] == '0') ++si;
    while (sj < b.size() && b[sj] == '0') ++sj;
    size_t ei = si, ej = sj;
    while (ei < a.size() && isdigit(static_cast<unsigned char>(a[ei]))) ++ei;
    while (ej < b.size() && isdigit(static_cast<unsigned char>(b[ej]))) ++ej;
    if (ei - si != ej - sj) return ei - si < ej - sj;
    if (int c = a.compare(si, ei - si, b, sj, ej - sj); c != 0) return c < 0;
    if (ei - i != ej - j) return ei - i < ej - j;
    i = ei, j = ej;
  }
  return a.size() - i < b.size() - j;
}

}  // namespace md::cli
