// A tiny runc-style flag parser: "--name value", "--name=value", "-n value", single-dash
// long names ("-bundle", as Go's flag package allows), boolean flags, repeatable flags.
// Parsing stops at the first positional argument (so `exec ID sh -c ...` keeps the
// command's own flags) or at "--".
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/result.h"

namespace md::cli {

struct FlagSpec {
  std::vector<std::string> names;  // without dashes: {"bundle", "b"}
  bool takes_value = false;
  std::string help;
};

class Flags {
 public:
  explicit Flags(std::vector<FlagSpec> specs) : specs_(std::move(specs)) {}
  // Parses args[from..]; positional arguments (and everything after them) land in rest().
  Status parse(const std::vector<std::string>& args, size_t from);
  bool has(const std::string& name) const;
  std::string get(const std::string& name, const std::string& fallback = "") const;
  std::vector<std::string> all(const std::string& name) const;
  const std::vector<std::string>& rest() const { return rest_; }
  std::string usage() const;

 private:
  const FlagSpec* find(const std::string& name) const;
  std::vector<FlagSpec> specs_;
  std::map<std::string, std::vector<std::string>> values_;  // keyed by the first name
  std::vector<std::string> rest_;
};

}  // namespace md::cli
