#include "cli/common/flag_parser.h"

#include <algorithm>

namespace md::cli {

Result<bool> parse_go_bool(std::string_view s) {
  if (s == "1" || s == "t" || s == "T" || s == "TRUE" || s == "true" || s == "True") return true;
  if (s == "0" || s == "f" || s == "F" || s == "FALSE" || s == "false" || s == "False") return false;
  return fail("strconv.ParseBool: parsing \"" + std::string(s) + "\": invalid syntax", EINVAL);
}

FlagSet::FlagSet(std::string usage, std::vector<FlagDef> defs, bool interspersed)
    : usage_(std::move(usage)), defs_(std::move(defs)), interspersed_(interspersed) {}

const FlagDef* FlagSet::find_long(std::string_view name) const {
  for (auto& d : defs_)
    if (d.name == name) return &d;
  return nullptr;
}

const FlagDef* FlagSet::find_short(char c) const {
  for (auto& d : defs_)
    if (d.shorthand == c) return &d;
  return nullptr;
}

Status FlagSet::set(const FlagDef& def, std::string_view value, std::string_view shown_as) {
  if (def.kind == FlagKind::kBool) {
    auto b = parse_go_bool(value);
    // pflag names the flag the same way whichever form was typed: "-d, --detach".
    (void)shown_as;
    std::string shown = def.shorthand ? std::string("-") + def.shorthand + ", --" + def.name : "--" + def.name;
    if (!b)
      return fail("invalid argument \"" + std::string(value) + "\" for \"" + shown + "\" flag: " +
                      b.error().message,
                  EINVAL);
    values_[def.name] = {*b ? "true" : "false"};
    return {};
  }
  values_[def.name].emplace_back(value);
  return {};
}

Status FlagSet::parse(std::span<const std::string> args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      args_.insert(args_.end(), args.begin() + i + 1, args.end());
      return {};
    }
    if (a.size() < 2 || a[0] != '-') {
      args_.push_back(a);
      if (!interspersed_) {
        args_.insert(args_.end(), args.begin() + i + 1, args.end());
        return {};
      }
      continue;
    }
    if (a[1] == '-') {  // --name[=value]
      std::string_view body = std::string_view(a).substr(2);
      size_t eq = body.find('=');
      std::string_view name = body.substr(0, eq);
      if (name == "help") {
        help_requested_ = true;
        continue;
      }
      const FlagDef* def = find_long(name);
      if (!def) return fail("unknown flag: --" + std::string(name), EINVAL);
      std::string shown = "--" + std::string(name);
      if (eq != std::string_view::npos) {
        TRY(set(*def, body.substr(eq + 1), shown));
      } else if (def->kind == FlagKind::kBool) {
        TRY(set(*def, "true", shown));
      } else {
        if (i + 1 >= args.size()) return fail("flag needs an argument: " + shown, EINVAL);
        TRY(set(*def, args[++i], shown));
      }
      continue;
    }
    // -abc, -p8080:80, -e=X
    for (size_t j = 1; j < a.size(); ++j) {
      char c = a[j];
      if (c == 'h' && !find_short('h')) {
        help_requested_ = true;
        continue;
      }
      const FlagDef* def = find_short(c);
      if (!def)
        return fail(std::string("unknown shorthand flag: '") + c + "' in " + a, EINVAL);
      std::string shown = "-" + std::string(1, c);
      if (def->kind == FlagKind::kBool) {
        if (j + 1 < a.size() && a[j + 1] == '=') {
          TRY(set(*def, std::string_view(a).substr(j + 2), shown));
          break;
        }
        TRY(set(*def, "true", shown));
        continue;
      }
      std::string_view rest = std::string_view(a).substr(j + 1);
      if (!rest.empty()) {
        if (rest[0] == '=') rest.remove_prefix(1);
        TRY(set(*def, rest, shown));
      } else {
        if (i + 1 >= args.size())
          return fail(std::string("flag needs an argument: '") + c + "' in -" + c, EINVAL);
        TRY(set(*def, args[++i], shown));
      }
      break;
    }
  }
  return {};
}

bool FlagSet::given(std::string_view name) const { return values_.find(name) != values_.end(); }

bool FlagSet::boolean(std::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) return false;
  const FlagDef* def = find_long(name);
  if (def && def->kind == FlagKind::kBool) return it->second.back() == "true";
  return !it->second.back().empty();
}

std::string FlagSet::value(std::string_view name, std::string_view fallback) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) return std::string(fallback);
  return it->second.back();
}

std::vector<std::string> FlagSet::list(std::string_view name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

std::string FlagSet::help() const {
  std::string out = "\nUsage:  " + usage_ + "\n";
  std::vector<std::pair<std::string, std::string>> rows;
  size_t width = 0;
  for (auto& d : defs_) {
    if (d.hidden) continue;
    std::string left = d.shorthand ? std::string("  -") + d.shorthand + ", --" : "      --";
    left += d.name;
    if (d.kind == FlagKind::kValue) left += " " + d.value_name;
    if (d.kind == FlagKind::kList) left += " " + (d.value_name == "string" ? "list" : d.value_name);
    std::string right = d.help;
    if (!d.default_text.empty()) right += " (default " + d.default_text + ")";
    width = std::max(width, left.size());
    rows.emplace_back(std::move(left), std::move(right));
  }
  if (!rows.empty()) {
    out += "\nOptions:\n";
    for (auto& [l, r] : rows) out += l + std::string(width + 3 - l.size(), ' ') + r + "\n";
  }
  return out;
}

}  // namespace md::cli
