// Expected strings come from Go 1.19's text/template run over the same data (numbers
// decoded as float64 there; here integers stay integers, as in Docker's typed structs).
#include "cli/common/go_template.h"

#include <gtest/gtest.h>

namespace md::cli {
namespace {

using nlohmann::json;

const json kData = json::parse(R"({"s":"hello","n":42,"b":true,"a":["a","b","c"],"m":{"k":"v","n":"1"},
  "e":[],"z":null,"nm":{"x":1},"labels":{"a":"1"},"f":1.5})");

std::string run(const std::string& tpl, const json& data = kData) {
  auto t = GoTemplate::parse(tpl);
  if (!t) return "PARSE ERR: " + t.error().message;
  auto out = t->execute(data);
  if (!out) return "EXEC ERR: " + out.error().message;
  return *out;
}

struct Case {
  const char* tpl;
  const char* want;
};

void check(std::initializer_list<Case> cases, const json& data = kData) {
  for (auto& c : cases) EXPECT_EQ(run(c.tpl, data), c.want) << "template: " << c.tpl;
}

TEST(GoTemplate, FieldsAndValues) {
  check({
      {"{{.s}}", "hello"},
      {"{{.n}} {{.f}} {{.b}}", "42 1.5 true"},
      {"{{.a}}", "[a b c]"},
      {"{{.m}}", "map[k:v n:1]"},
      {"{{.nope}}", "<no value>"},
      {"{{.z}}", "<no value>"},
      {"{{.m.k}}", "v"},
      {"{{.m.nope}}", "<no value>"},
      {"{{.nope.x}}", "<no value>"},
      {"{{$.s}} {{$.m.k}}", "hello v"},
      {"{{(.m).k}}", "v"},
      {"x{{/* comment */}}y", "xy"},
      {"a  {{- .s -}}  b", "ahellob"},
      {"a  {{- /* c */ -}}  b", "ab"},
      {"a\n  {{- .s }}\n  b", "ahello\n  b"},
      {"{{- 3 -}} {{-3}} {{3 -}}", "3-3 3"},
      {"{{1}} {{-2}} {{0x10}} {{010}} {{1_000}} {{'a'}} {{1e3}} {{1.5}} {{true}}",
       "1 -2 16 8 1000 97 1000 1.5 true"},
      {"{{\"a\\tb\\u00e9\\x41\"}} {{`raw\\n`}}", "a\tb\xc3\xa9" "A raw\\n"},
  });
  EXPECT_EQ(run("{{.}}", json::parse(R"({"b":[1,null,{"k":true}],"a":2.5e6})")), "map[a:2.5e+06 b:[1 <nil> map[k:true]]]");
  EXPECT_EQ(run("{{.}}", json()), "<no value>");
  EXPECT_EQ(run("{{.}}", json("x")), "x");
  EXPECT_EQ(run("{{.a}} {{.b}} {{.c}} {{.d}}", json::parse(R"({"a":1000000.0,"b":0.0001,"c":0.00001,"d":123456.0})")),
            "1e+06 0.0001 1e-05 123456");
}

TEST(GoTemplate, Control) {
  check({
      {"{{range .a}}[{{.}}]{{end}}", "[a][b][c]"},
      {"{{range $i, $e := .a}}{{$i}}={{$e}};{{end}}", "0=a;1=b;2=c;"},
      {"{{range $e := .a}}{{$e}}{{end}}", "abc"},
      {"{{range $k, $v := .m}}{{$k}}:{{$v}} {{end}}", "k:v n:1 "},
      {"{{range .e}}x{{else}}empty{{end}}", "empty"},
      {"{{range .nope}}x{{else}}none{{end}}", "none"},
      {"{{range .a}}{{if eq . \"b\"}}{{break}}{{end}}{{.}}{{end}}", "a"},
      {"{{range .a}}{{if eq . \"b\"}}{{continue}}{{end}}{{.}}{{end}}", "ac"},
      {"{{range .a}}{{$.s}}{{end}}", "hellohellohello"},
      {"{{range $i, $e := .a}}{{if $i}},{{end}}{{$e}}{{end}}", "a,b,c"},
      {"{{range .a -}}\n  {{.}}\n{{- end}}", "abc"},
      {"{{if .b}}yes{{else}}no{{end}}", "yes"},
      {"{{if .e}}yes{{else if .s}}s{{else}}no{{end}}", "s"},
      {"{{if not .b}}a{{else if eq .s \"hello\"}}b{{end}}", "b"},
      {"{{if and .b (eq .s \"hello\")}}both{{end}}", "both"},
      {"{{with .m}}{{.k}}{{end}}", "v"},
      {"{{with .nope}}x{{else}}y{{end}}", "y"},
      {"{{with .e}}x{{else with .s}}{{.}}{{end}}", "hello"},
      {"{{with $x := .s}}{{$x}}{{end}}", "hello"},
      {"{{$x := .s}}{{$x}} {{$x = \"other\"}}{{$x}}", "hello other"},
      {"{{if \"\"}}t{{else}}f{{end}}{{if 0}}t{{else}}f{{end}}{{if .z}}t{{else}}f{{end}}", "fff"},
  });
}

TEST(GoTemplate, Functions) {
  check({
      {"{{json .m}} {{json .a}} {{json .s}} {{json .z}} {{json .nope}}", R"({"k":"v","n":"1"} ["a","b","c"] "hello" null null)"},
      {"{{index .m \"k\"}} {{index .a 1}} {{index .s 0}}", "v b 104"},
      {"{{index .labels \"a\"}}|{{index .labels \"zz\"}}|{{index .nm \"zz\"}}", "1||<no value>"},
      {"{{len .a}} {{len .m}} {{len .s}}", "3 2 5"},
      {"{{slice .a 1}} {{slice .s 1 3}}", "[b c] el"},
      {"{{upper .s}} {{lower \"ABC\"}} {{title \"hello wORLD-foo_bar\"}}", "HELLO abc Hello WORLD-Foo_bar"},
      {"{{.s | upper}} {{.s | printf \"%s!\"}} {{.s | len}} {{(index .a 0) | upper}}", "HELLO hello! 5 A"},
      {"{{join .a \", \"}}", "a, b, c"},  // Docker's typed []string; Go's []interface{} would refuse
      {"{{split \"a,b,c\" \",\"}} {{split \"abc\" \"\"}}", "[a b c] [a b c]"},
      {"{{pad \"x\" 2 3}}|{{truncate \"abcdef\" 3}} {{truncate \"ab\" 3}}", "  x   |abc ab"},
      {"{{html \"<a&b>\\\"'\"}} {{urlquery \"a b&c/\xc3\xa9\"}}", "&lt;a&amp;b&gt;&#34;&#39; a+b%26c%2F%C3%A9"},
      {"{{eq .s \"hello\"}} {{eq 1 2 1}} {{ne \"a\" \"b\"}} {{eq .nope \"x\"}}", "true true true false"},
      {"{{lt 1 2}} {{le 2 2}} {{gt \"b\" \"a\"}} {{ge 1 2}} {{lt 1 2.5}} {{eq .n 42}}", "true true true false true true"},
      {"{{and 1 0 2}} {{and 1 2}} {{or 0 \"\" \"x\"}} {{or 0 \"\"}}|{{not 0}} {{not .s}}", "0 2 x |true false"},
      {"{{and .nope .boom}}", "<no value>"},
      {"{{print 1 2 \"a\" \"b\" 3 nil}}", "1 2ab3 <nil>"},
      {"{{println 1 \"a\"}}", "1 a\n"},
      {"{{3 | printf \"%d\"}}", "3"},
  });
}

TEST(GoTemplate, Printf) {
  check({
      {"{{printf \"%s-%q-%v-%5s|%-4s|%t\" .s .s .b \"ab\" \"cd\" .b}}", "hello-\"hello\"-true-   ab|cd  |true"},
      {"{{printf \"%d %x %X %o %b %c %05d %+d %U\" 42 255 255 8 5 65 42 7 65}}", "42 ff FF 10 101 A 00042 +7 U+0041"},
      {"{{printf \"%.2f %e %g %v %v %v\" 3.14159 1234.5678 0.000012 1.5 1e6 100.0}}", "3.14 1.234568e+03 1.2e-05 1.5 1e+06 100"},
      {"{{printf \"%6.2f|%-8v|%08.3f|%x|%q\" 3.14159 \"ab\" -2.5 \"hi\" \"a\\\"b\"}}", "  3.14|ab      |-002.500|6869|\"a\\\"b\""},
      {"{{printf \"%5t|%-5d|%3c\" true 7 66}}", " true|7    |  B"},
      {"{{printf \"%d\"}}", "%!d(MISSING)"},
      {"{{printf \"%d\" 1 2}}", "1%!(EXTRA int=2)"},
      {"{{printf \"%d\" \"x\"}} {{printf \"%s\" 5}}", "%!d(string=x) %!s(int=5)"},
      {"{{printf \"%v %s\" nil nil}} {{printf \"%v\" .nope}}", "<nil> %!s(<nil>) <nil>"},
      {"{{printf \"%v|%s\" .a .m}}", "[a b c]|map[k:v n:1]"},
      {"{{printf \"%%|%T|%T\" \"x\" 1}}", "%|string|int"},
      {"{{printf \"%q\" \"\\x01\xc3\xa9\"}}", "\"\\x01\xc3\xa9\""},
  });
}

TEST(GoTemplate, ExecErrors) {
  check({
      {"{{.z.x}}", "EXEC ERR: template: :1:4: executing \"\" at <.z.x>: nil pointer evaluating interface {}.x"},
      {"{{.s.x}}", "EXEC ERR: template: :1:4: executing \"\" at <.s.x>: can't evaluate field x in type interface {}"},
      {"{{(.a).x}}", "EXEC ERR: template: :1:3: executing \"\" at <.a>: can't evaluate field x in type []interface {}"},
      {"{{$x := 1}}{{$x.y}}", "EXEC ERR: template: :1:15: executing \"\" at <$x.y>: can't evaluate field y in type int"},
      {"line1\n{{.s.q}}", "EXEC ERR: template: :2:4: executing \"\" at <.s.q>: can't evaluate field q in type interface {}"},
      {"{{index .a 5}}", "EXEC ERR: template: :1:2: executing \"\" at <index .a 5>: error calling index: index out of range: 5"},
      {"{{index .m 1}}", "EXEC ERR: template: :1:2: executing \"\" at <index .m 1>: error calling index: value has type int; should be string"},
      {"{{slice .a 2 1}}", "EXEC ERR: template: :1:2: executing \"\" at <slice .a 2 1>: error calling slice: invalid slice index: 2 > 1"},
      {"{{len .z}}", "EXEC ERR: template: :1:2: executing \"\" at <len .z>: error calling len: len of nil pointer"},
      {"{{len 3}}", "EXEC ERR: template: :1:2: executing \"\" at <len 3>: error calling len: len of type int"},
      {"{{len}}", "EXEC ERR: template: :1:2: executing \"\" at <len>: wrong number of args for len: want 1 got 0"},
      {"{{and}}", "EXEC ERR: template: :1:2: executing \"\" at <and>: wrong number of args for and: want at least 1 got 0"},
      {"{{upper 3}}", "EXEC ERR: template: :1:8: executing \"\" at <3>: expected string; found 3"},
      {"{{upper .a}}", "EXEC ERR: template: :1:8: executing \"\" at <.a>: wrong type for value; expected string; got []interface {}"},
      {"{{upper .nope}}", "EXEC ERR: template: :1:8: executing \"\" at <.nope>: invalid value; expected string"},
      {"{{pad \"x\" \"a\" 1}}", "EXEC ERR: template: :1:10: executing \"\" at <\"a\">: expected integer; found \"a\""},
      {"{{eq .s 1}}", "EXEC ERR: template: :1:2: executing \"\" at <eq .s 1>: error calling eq: incompatible types for comparison"},
      {"{{lt .nope 1}}", "EXEC ERR: template: :1:2: executing \"\" at <lt .nope 1>: error calling lt: invalid type for comparison"},
      {"{{eq 1}}", "EXEC ERR: template: :1:2: executing \"\" at <eq 1>: error calling eq: missing argument for comparison"},
      {"{{range 3}}{{end}}", "EXEC ERR: template: :1:8: executing \"\" at <3>: range can't iterate over 3"},
      {"{{range .s}}x{{end}}", "EXEC ERR: template: :1:8: executing \"\" at <.s>: range can't iterate over hello"},
      {"{{.s 1}}", "EXEC ERR: template: :1:2: executing \"\" at <.s>: s is not a method but has arguments"},
      {"{{\"x\" 1}}", "EXEC ERR: template: :1:2: executing \"\" at <\"x\">: can't give argument to non-function \"x\""},
      {"{{nil}}", "EXEC ERR: template: :1:2: executing \"\" at <nil>: nil is not a command"},
  });
}

TEST(GoTemplate, ParseErrors) {
  check({
      {"{{.Name}", "PARSE ERR: template: :1: bad character U+007D '}'"},
      {"{{.Name }", "PARSE ERR: template: :1: unexpected \"}\" in operand"},
      {"{{.Name", "PARSE ERR: template: :1: unclosed action"},
      {"{{if}}x{{end}}", "PARSE ERR: template: :1: missing value for if"},
      {"{{end}}", "PARSE ERR: template: :1: unexpected {{end}}"},
      {"{{else}}", "PARSE ERR: template: :1: unexpected {{else}}"},
      {"{{nofunc .s}}", "PARSE ERR: template: :1: function \"nofunc\" not defined"},
      {"{{.s | nofunc}}", "PARSE ERR: template: :1: function \"nofunc\" not defined"},
      {"{{range .a}}", "PARSE ERR: template: :1: unexpected EOF"},
      {"{{\"abc}}", "PARSE ERR: template: :1: unterminated quoted string"},
      {"{{`abc}}", "PARSE ERR: template: :1: unterminated raw quoted string"},
      {"{{$x}}", "PARSE ERR: template: :1: undefined variable \"$x\""},
      {"{{if true}}{{$x := 1}}{{end}}{{$x}}", "PARSE ERR: template: :1: undefined variable \"$x\""},
      {"{{.x | 3}}", "PARSE ERR: template: :1: non executable command in pipeline stage 2"},
      {"{{1.x}}", "PARSE ERR: template: :1: bad number syntax: \"1.x\""},
      {"{{(.x}}", "PARSE ERR: template: :1: unclosed left paren"},
      {"{{.x)}}", "PARSE ERR: template: :1: unexpected \")\" in command"},
      {"{{.x.}}", "PARSE ERR: template: :1: unexpected <.> in operand"},
      {"{{ \"\\q\" }}", "PARSE ERR: template: :1: invalid syntax"},
      {"{{ 'ab' }}", "PARSE ERR: template: :1: malformed character constant: 'ab'"},
      {"{{/* c */ }}", "PARSE ERR: template: :1: comment ends before closing delimiter"},
      {"{{/* c", "PARSE ERR: template: :1: unclosed comment"},
      {"{{break}}", "PARSE ERR: template: :1: {{break}} outside {{range}}"},
      {"{{range $i, $e, $f := .a}}{{end}}", "PARSE ERR: template: :1: too many declarations in range"},
      {"{{if 1}}{{else}}{{else}}{{end}}", "PARSE ERR: template: :1: expected end; found {{else}}"},
      {"{{with $x := 1, $y := 2}}{{end}}", "PARSE ERR: template: :1: unexpected \",\" in operand"},
      {"{{ 99999999999999999999 }}", "PARSE ERR: template: :1: integer overflow: \"99999999999999999999\""},
      {"{{ 08 }}", "PARSE ERR: template: :1: integer overflow: \"08\""},
      {"x\n{{.s}} {{ }}", "PARSE ERR: template: :2: missing value for command"},
      {"{{.s}}\n{{end}}", "PARSE ERR: template: :2: unexpected {{end}}"},
      {"{{ 18446744073709551615 }}",
       "EXEC ERR: template: :1:3: executing \"\" at <18446744073709551615>: 18446744073709551615 overflows int"},
  });
}

TEST(GoTemplate, DockerOptions) {
  // Docker's table formats turn the two characters \t and \n into tab and newline.
  auto t = GoTemplate::parse("{{.s}}\\t{{.n}}\\n", true);
  ASSERT_TRUE(t);
  EXPECT_EQ(*t->execute(kData), "hello\t42\n");
  EXPECT_EQ(run("{{.s}}\\t"), "hello\\t");  // inspect -f keeps them

  GoTemplate::Options strict;
  strict.missing_key = GoTemplate::MissingKey::kError;
  auto s = GoTemplate::parse("{{.nope}}", strict);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->execute(kData).error().message,
            "template: :1:2: executing \"\" at <.nope>: map has no entry for key \"nope\"");
  EXPECT_EQ(*GoTemplate::parse("{{.z}}", strict)->execute(kData), "<no value>");

  GoTemplate::Options with_funcs;
  with_funcs.functions["double"] = [](std::span<const json> args) -> Result<json> {
    if (args.size() != 1 || !args[0].is_number_integer()) return fail("want an int");
    return json(args[0].get<int64_t>() * 2);
  };
  with_funcs.methods["Label"] = [](const json& dot, std::span<const json> args) -> Result<json> {
    return json(dot["labels"].value(args[0].get<std::string>(), ""));
  };
  auto f = GoTemplate::parse("{{double .n}} {{.n | double}} {{.Label \"a\"}}", with_funcs);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(*f->execute(kData), "84 84 1");
  EXPECT_EQ(GoTemplate::parse("{{double .s}}", with_funcs)->execute(kData).error().message,
            "template: :1:2: executing \"\" at <double .s>: error calling double: want an int");

  // Header pass: the formatting functions return their argument; missing keys print "".
  auto h = GoTemplate::parse("{{upper .ID}}|{{json .Names}}|{{.Nope}}|{{printf \"%s!\" .ID}}");
  ASSERT_TRUE(h);
  EXPECT_EQ(*h->execute_header(json{{"ID", "CONTAINER ID"}, {"Names", "NAMES"}}), "CONTAINER ID|NAMES||CONTAINER ID!");

  // Compile once, execute many; copies share the parsed tree.
  GoTemplate copy = *GoTemplate::parse("{{.x}}");
  EXPECT_EQ(*copy.execute(json{{"x", 1}}), "1");
  EXPECT_EQ(*copy.execute(json{{"x", "two"}}), "two");
  EXPECT_EQ(copy.source(), "{{.x}}");
}

TEST(GoTemplate, Helpers) {
  EXPECT_EQ(go_json(json::parse(R"({"b":[1,2.5,"x<>&"],"a":null,"c":1e21,"d":1e-7,"e":100.0})")),
            R"({"a":null,"b":[1,2.5,"x<>&"],"c":1e+21,"d":1e-7,"e":100})");
  EXPECT_EQ(go_json(json("a\"\\\n\t\x01\xe2\x80\xa8")), "\"a\\\"\\\\\\n\\t\\u0001\\u2028\"");
  EXPECT_EQ(go_format_value(json::parse(R"([1,"a",null,{"k":[]}])")), "[1 a <nil> map[k:[]]]");
  EXPECT_EQ(go_quote("a\"b\n\xc3\xa9\x7f"), "\"a\\\"b\\n\xc3\xa9\\x7f\"");
}

}  // namespace
}  // namespace md::cli
