// GoTemplate: the part of Go's text/template that `docker inspect -f`, `ps --format`,
// `images --format`, `events --format` … use, evaluated over nlohmann::json.
//
//   auto t = GoTemplate::parse("{{.Name}} {{range .Mounts}}{{.Source}} {{end}}");
//   if (!t) → "template parsing error: " + t.error().message   (exit 125 / 1)
//   auto out = t->execute(container_json);   // compile once, execute per row
//
// Language (Go's grammar and semantics, Go's error messages):
//   {{.A.B}} {{.}} {{$}} {{$x.A}} {{(index .M "k").B}}   fields, dot, variables, chains
//   {{$x := pipeline}} {{$x = pipeline}}                   declare / assign
//   {{a | f b}}                                            pipelines (value → last argument)
//   {{if p}}…{{else if q}}…{{else}}…{{end}}  {{with p}}…{{else with q}}…{{end}}
//   {{range p}}…{{else}}…{{end}} {{range $i, $e := p}} {{break}} {{continue}}
//   {{/* comment */}}  {{- trim -}}  "str" `raw` 'c' 42 0x1F 1.5e3 true false nil
//   Go builtins: and or not len index slice eq ne lt le gt ge print printf println html
//   urlquery; Docker's: json split join title lower upper pad truncate.
//   printf: %v %s %d %q %t %f %e %g %x %X %o %b %c %U %% with flags, width, precision;
//   mismatches print like Go ("%!d(string=x)", "%!d(MISSING)", "%!(EXTRA int=2)").
// Values print like Go's fmt: numbers as given (ints without ".0", floats like %v:
// 1.5, 1e+06), true/false, arrays "[a b]", objects "map[k:v]" (keys sorted), null "<nil>"
// inside composites. A missing key or null at the top prints "<no value>" (Go's default).
// `index` of a missing key in an object of strings gives "" (Docker's typed Labels maps).
// Comparisons accept ints and floats together; other mixed kinds are errors like Go's.
// Not supported: define/template/block, call, js, range over integers or functions,
// complex numbers, methods on values (but see Options::methods).
//
// Errors are Go's strings: parse "template: :1: unexpected \"}\" in operand",
// execution "template: :1:2: executing \"\" at <.Nope>: map has no entry for key \"Nope\"".
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace md::cli {

class GoTemplate {
 public:
  enum class MissingKey {
    kNoValue,  // Go's default: a missing key is an invalid value, printed "<no value>"
    kError,    // Go's missingkey=error: "map has no entry for key \"X\""
  };
  // An extra template function; `args` are the evaluated arguments (null for a missing
  // value). Its error is reported as "error calling NAME: <message>".
  using Function = std::function<Result<nlohmann::json>(std::span<const nlohmann::json> args)>;
  // `{{.Label "k"}}`: called when a field name is not a key of the object it is applied to
  // (Go's methods). `dot` is that object.
  using Method = std::function<Result<nlohmann::json>(const nlohmann::json& dot,
                                                       std::span<const nlohmann::json> args)>;

  struct Options {
    // Docker's table formats (ps/images/… --format): the two-character sequences \t and \n
    // in the source become a tab and a newline before parsing. `inspect -f` does not.
    bool docker_escapes = false;
    MissingKey missing_key = MissingKey::kNoValue;
    std::map<std::string, Function> functions;  // added to (or replacing) the builtins
    std::map<std::string, Method> methods;
  };

  static Result<GoTemplate> parse(std::string_view text);
  static Result<GoTemplate> parse(std::string_view text, Options options);
  // parse(text, true): Docker's table formats (docker_escapes).
  static Result<GoTemplate> parse(std::string_view text, bool docker_escapes);

  Result<std::string> execute(const nlohmann::json& data) const;
  // Docker's header pass for table formats: runs the template over `headers` (field →
  // header text) with json/split/join/title/lower/upper/pad/truncate returning their first
  // argument unchanged (Docker's HeaderFunctions), missing keys printing "", and
  // `header_methods` instead of Options::methods.
  Result<std::string> execute_header(const nlohmann::json& headers,
                                     const std::map<std::string, Method>& header_methods = {}) const;

  const std::string& source() const;

  struct Tree;  // the parsed template (go_template.cc)

 private:
  std::shared_ptr<const Tree> tree_;
};

// Go's fmt %v of a JSON value: "1", "1.5", "1e+06", "true", "[a b]", "map[k:v]", "<nil>".
std::string go_format_value(const nlohmann::json& v);
// Go's encoding/json (no HTML escaping, as Docker's `json` template function), compact,
// object keys sorted: {"a":[1,2.5,"x"],"b":null}.
std::string go_json(const nlohmann::json& v);
// Go's strconv.Quote: "\"a\\n\"".
std::string go_quote(std::string_view s);

}  // namespace md::cli
