// FlagSet: Docker-style command-line flags (the rules of Go's pflag, which the docker CLI
// uses), so every flag a Docker user types parses the same way here:
//
//   --name web   --name=web   -e A=1   -eA=1   -e=A=1   -it (= -i -t)   -p8080:80
//   --rm  --rm=false  --rm=true          (a boolean never consumes the next argument)
//   --                                   ends the flags
//
// With `interspersed` (the default for most verbs: `rm a -f`) flags may follow positional
// arguments; without it (run, create, exec) the first positional argument ends the flags,
// so `run busybox ls -l` leaves `-l` to the container's command.
//
// Errors are pflag's wording, for the caller to print followed by
// "See 'minidocker VERB --help'.": `unknown flag: --foo`, `unknown shorthand flag: 'z' in -z`,
// `flag needs an argument: --name`, `flag needs an argument: 'e' in -e`,
// `invalid argument "maybe" for "--rm" flag: strconv.ParseBool: parsing "maybe": invalid syntax`.
// Value checks beyond that (numbers, sizes) belong to the verb.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace md::cli {

enum class FlagKind {
  kBool,   // -d, --rm, --rm=false
  kValue,  // --name x: the last one given wins
  kList,   // -e A -e B: every value, in order
};

struct FlagDef {
  std::string name;     // long name without dashes: "name"
  char shorthand = 0;   // 'n' for -n, 0 for none
  FlagKind kind = FlagKind::kBool;
  std::string help;     // one line
  std::string value_name = "string";  // shown in --help: "--name string"
  std::string default_text;           // shown in --help as (default …), "" = none
  bool hidden = false;                // accepted but not listed
};

class FlagSet {
 public:
  FlagSet(std::string usage, std::vector<FlagDef> defs, bool interspersed = true);

  // Parses `args` (the verb's arguments, without the verb). May be called once.
  Status parse(std::span<const std::string> args);

  // Whether the flag appeared on the command line (even as --rm=false).
  bool given(std::string_view name) const;
  // A boolean flag's value (false when absent). kValue flags: given and non-empty.
  bool boolean(std::string_view name) const;
  // The last value of a kValue flag, or `fallback` when absent.
  std::string value(std::string_view name, std::string_view fallback = "") const;
  // Every value of a kList (or kValue) flag, in order.
  std::vector<std::string> list(std::string_view name) const;
  // Positional arguments (and, without interspersed, everything after the first).
  const std::vector<std::string>& args() const { return args_; }
  // "Usage:  minidocker run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nOptions:\n  -d, --detach …"
  std::string help() const;
  // --help / -h was given.
  bool help_requested() const { return help_requested_; }

 private:
  const FlagDef* find_long(std::string_view name) const;
  const FlagDef* find_short(char c) const;
  Status set(const FlagDef& def, std::string_view value, std::string_view shown_as);

  std::string usage_;
  std::vector<FlagDef> defs_;
  bool interspersed_;
  bool help_requested_ = false;
  std::map<std::string, std::vector<std::string>, std::less<>> values_;
  std::vector<std::string> args_;
};

// Go's strconv.ParseBool: 1 t T TRUE true True / 0 f F FALSE false False.
Result<bool> parse_go_bool(std::string_view s);

}  // namespace md::cli
