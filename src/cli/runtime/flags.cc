#include "cli/runtime/flags.h"

namespace md::cli {

const FlagSpec* Flags::find(const std::string& name) const {
  for (const auto& s : specs_)
    for (const auto& n : s.names)
      if (n == name) return &s;
  return nullptr;
}

Status Flags::parse(const std::vector<std::string>& args, size_t from) {
  for (size_t i = from; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      rest_.insert(rest_.end(), args.begin() + static_cast<long>(i) + 1, args.end());
      return {};
    }
    if (a.size() < 2 || a[0] != '-') {
      rest_.insert(rest_.end(), args.begin() + static_cast<long>(i), args.end());
      return {};
    }
    std::string body = a.substr(a[1] == '-' ? 2 : 1);
    std::string value;
    bool has_inline = false;
    if (auto eq = body.find('='); eq != std::string::npos) {
      value = body.substr(eq + 1);
      body = body.substr(0, eq);
      has_inline = true;
    }
    const FlagSpec* spec = find(body);
    if (!spec) return fail("unknown flag \"" + a + "\"", EINVAL);
    if (spec->takes_value) {
      if (!has_inline) {
        if (i + 1 >= args.size()) return fail("flag \"" + a + "\" needs a value", EINVAL);
        value = args[++i];
      }
    } else if (has_inline) {
      if (value != "true" && value != "false") return fail("flag \"" + a + "\" is boolean (true or false)", EINVAL);
      if (value == "false") continue;
    } else {
      value = "true";
    }
    values_[spec->names[0]].push_back(value);
  }
  return {};
}

bool Flags::has(const std::string& name) const {
  const FlagSpec* s = find(name);
  return s && values_.count(s->names[0]);
}

std::string Flags::get(const std::string& name, const std::string& fallback) const {
  const FlagSpec* s = find(name);
  if (!s) return fallback;
  auto it = values_.find(s->names[0]);
  return it == values_.end() ? fallback : it->second.back();
}

std::vector<std::string> Flags::all(const std::string& name) const {
  const FlagSpec* s = find(name);
  if (!s) return {};
  auto it = values_.find(s->names[0]);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

std::string Flags::usage() const {
  std::string out;
  for (const auto& s : specs_) {
    std::string names;
    for (const auto& n : s.names) names += (names.empty() ? "" : ", ") + std::string(n.size() == 1 ? "-" : "--") + n;
    if (s.takes_value) names += " value";
    out += "   " + names;
    if (names.size() < 32) out += std::string(32 - names.size(), ' ');
    else out += "  ";
    out += s.help + "\n";
  }
  return out;
}

}  // namespace md::cli
