#include "cli/common/go_template.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <vector>

namespace md::cli {

using nlohmann::json;

namespace gotpl {

// ---- Go's fmt and strconv, for JSON values ----------------------------------------------

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) {
  return c == '_' || is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         static_cast<unsigned char>(c) >= 0x80;  // UTF-8 letters, as Go's unicode.IsLetter
}

// Decodes one UTF-8 sequence at s[i]; returns its length (1 for an invalid byte, rune -1).
size_t decode_utf8(std::string_view s, size_t i, int32_t& rune) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  auto cont = [&](size_t k) {
    return i + k < s.size() && (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
  };
  if (c < 0x80) return rune = c, 1;
  if ((c & 0xE0) == 0xC0 && c >= 0xC2 && cont(1)) return rune = ((c & 0x1F) << 6) | (s[i + 1] & 0x3F), 2;
  if ((c & 0xF0) == 0xE0 && cont(1) && cont(2)) {
    rune = ((c & 0x0F) << 12) | ((s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F);
    if (rune >= 0x800 && (rune < 0xD800 || rune > 0xDFFF)) return 3;
  }
  if ((c & 0xF8) == 0xF0 && cont(1) && cont(2) && cont(3)) {
    rune = ((c & 0x07) << 18) | ((s[i + 1] & 0x3F) << 12) | ((s[i + 2] & 0x3F) << 6) | (s[i + 3] & 0x3F);
    if (rune >= 0x10000 && rune <= 0x10FFFF) return 4;
  }
  rune = -1;
  return 1;
}

void append_utf8(std::string& out, int32_t r) {
  if (r < 0x80) {
    out += char(r);
  } else if (r < 0x800) {
    out += char(0xC0 | (r >> 6));
    out += char(0x80 | (r & 0x3F));
  } else if (r < 0x10000) {
    out += char(0xE0 | (r >> 12));
    out += char(0x80 | ((r >> 6) & 0x3F));
    out += char(0x80 | (r & 0x3F));
  } else {
    out += char(0xF0 | (r >> 18));
    out += char(0x80 | ((r >> 12) & 0x3F));
    out += char(0x80 | ((r >> 6) & 0x3F));
    out += char(0x80 | (r & 0x3F));
  }
}

std::string hex_escape(unsigned v, int digits, const char* prefix) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%s%0*x", prefix, digits, v);
  return buf;
}

// strconv.Quote / QuoteRune's escaping of one rune inside `quote`.
void quote_rune_into(std::string& out, int32_t r, size_t width, std::string_view raw, char quote) {
  if (r == -1) {  // invalid UTF-8 byte
    out += hex_escape(static_cast<unsigned char>(raw[0]), 2, "\\x");
    return;
  }
  if (r == quote || r == '\\') {
    out += '\\';
    out += char(r);
    return;
  }
  if (r >= 0x20 && r != 0x7F && !(r >= 0x80 && r < 0xA0) && r != 0xAD) {
    out.append(raw.substr(0, width));
    return;
  }
  switch (r) {
    case '\a': out += "\\a"; return;
    case '\b': out += "\\b"; return;
    case '\f': out += "\\f"; return;
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    case '\v': out += "\\v"; return;
  }
  if (r < 0x80 || r == 0x7F) out += hex_escape(unsigned(r), 2, "\\x");
  else if (r < 0x10000) out += hex_escape(unsigned(r), 4, "\\u");
  else out += hex_escape(unsigned(r), 8, "\\U");
}

// Shortest decimal digits of d > 0: d = 0.DIGITS × 10^dp.
void shortest_digits(double d, std::string& digits, int& dp) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string_view s(buf, size_t(r.ptr - buf));
  size_t e = s.find('e');
  digits.clear();
  for (char c : s.substr(0, e))
    if (is_digit(c)) digits += c;
  dp = std::atoi(std::string(s.substr(e + 1)).c_str()) + 1;
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
}

std::string exp_suffix(int exp, bool upper) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%c%c%02d", upper ? 'E' : 'e', exp < 0 ? '-' : '+', std::abs(exp));
  return buf;
}

// strconv.FormatFloat(d, fmt, -1, 64) for fmt 'g' (as fmt's %v: exponent form when the
// exponent is < -4 or >= 6), 'e' and 'f'.
std::string format_float_shortest(double d, char fmt) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  std::string out = std::signbit(d) ? "-" : "";
  std::string digits = "0";
  int dp = 1;
  if (d != 0) shortest_digits(std::fabs(d), digits, dp);
  int nd = int(digits.size());
  int exp = d == 0 ? 0 : dp - 1;
  bool use_e = fmt == 'e' || (fmt == 'g' && (exp < -4 || exp >= 6));
  if (use_e) {
    out += digits[0];
    if (nd > 1) out += "." + digits.substr(1);
    return out + exp_suffix(exp, false);
  }
  if (dp > 0) {
    for (int i = 0; i < dp; ++i) out += i < nd ? digits[size_t(i)] : '0';
  } else {
    out += '0';
  }
  if (nd > dp) {
    out += '.';
    for (int i = dp; i < nd; ++i) out += i < 0 ? '0' : digits[size_t(i)];
  }
  return out;
}

std::string go_type_name(const json& j) {
  switch (j.type()) {
    case json::value_t::string: return "string";
    case json::value_t::boolean: return "bool";
    case json::value_t::number_integer: return "int";
    case json::value_t::number_unsigned: return "int";
    case json::value_t::number_float: return "float64";
    case json::value_t::array: return "[]interface {}";
    case json::value_t::object: return "map[string]interface {}";
    default: return "<nil>";
  }
}

std::string format_int(const json& j) {
  return j.is_number_unsigned() ? std::to_string(j.get<uint64_t>()) : std::to_string(j.get<int64_t>());
}

void format_value_into(std::string& out, const json& v);

void format_value_into(std::string& out, const json& v) {
  switch (v.type()) {
    case json::value_t::null: out += "<nil>"; break;
    case json::value_t::string: out += v.get_ref<const std::string&>(); break;
    case json::value_t::boolean: out += v.get<bool>() ? "true" : "false"; break;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: out += format_int(v); break;
    case json::value_t::number_float: out += format_float_shortest(v.get<double>(), 'g'); break;
    case json::value_t::array: {
      out += '[';
      bool first = true;
      for (auto& e : v) {
        if (!first) out += ' ';
        first = false;
        format_value_into(out, e);
      }
      out += ']';
      break;
    }
    case json::value_t::object: {
      out += "map[";
      bool first = true;
      for (auto& [k, e] : v.items()) {
        if (!first) out += ' ';
        first = false;
        out += k + ":";
        format_value_into(out, e);
      }
      out += ']';
      break;
    }
    default: out += "<nil>"; break;
  }
}

void go_json_into(std::string& out, const json& v) {
  switch (v.type()) {
    case json::value_t::null: out += "null"; break;
    case json::value_t::boolean: out += v.get<bool>() ? "true" : "false"; break;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: out += format_int(v); break;
    case json::value_t::number_float: {
      double d = v.get<double>();
      if (!std::isfinite(d)) {
        out += "null";
        break;
      }
      double a = std::fabs(d);
      bool e = a != 0 && (a < 1e-6 || a >= 1e21);
      std::string s = format_float_shortest(d, e ? 'e' : 'f');
      if (e) {  // e-07 → e-7
        size_t n = s.size();
        if (n >= 4 && s[n - 4] == 'e' && s[n - 3] == '-' && s[n - 2] == '0') s.erase(n - 2, 1);
      }
      out += s;
      break;
    }
    case json::value_t::string: {
      const std::string& s = v.get_ref<const std::string&>();
      out += '"';
      for (size_t i = 0; i < s.size();) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
          switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
              if (c < 0x20) out += hex_escape(c, 4, "\\u");
              else out += char(c);
          }
          ++i;
          continue;
        }
        int32_t r;
        size_t w = decode_utf8(s, i, r);
        if (r == -1) out += "\\ufffd";
        else if (r == 0x2028 || r == 0x2029) out += hex_escape(unsigned(r), 4, "\\u");
        else out.append(s, i, w);
        i += w;
      }
      out += '"';
      break;
    }
    case json::value_t::array: {
      out += '[';
      bool first = true;
      for (auto& e : v) {
        if (!first) out += ',';
        first = false;
        go_json_into(out, e);
      }
      out += ']';
      break;
    }
    case json::value_t::object: {
      out += '{';
      bool first = true;
      for (auto& [k, e] : v.items()) {
        if (!first) out += ',';
        first = false;
        go_json_into(out, json(k));
        out += ':';
        go_json_into(out, e);
      }
      out += '}';
      break;
    }
    default: out += "null"; break;
  }
}

// ---- printf ---------------------------------------------------------------------------

struct Spec {
  bool minus = false, plus = false, sharp = false, space = false, zero = false;
  int width = -1, prec = -1;
  char verb = 'v';
};

std::string pad(const std::string& s, const Spec& sp, bool numeric) {
  // Width counts runes.
  size_t runes = 0;
  for (size_t i = 0; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) ++runes;
  if (sp.width < 0 || runes >= size_t(sp.width)) return s;
  size_t n = size_t(sp.width) - runes;
  if (sp.minus) return s + std::string(n, ' ');
  if (sp.zero && numeric) {
    size_t sign = (!s.empty() && (s[0] == '-' || s[0] == '+' || s[0] == ' ')) ? 1 : 0;
    return s.substr(0, sign) + std::string(n, '0') + s.substr(sign);
  }
  return std::string(n, ' ') + s;
}

std::string bad_verb(const Spec& sp, const json& arg) {
  if (arg.is_null()) return std::string("%!") + sp.verb + "(<nil>)";
  return std::string("%!") + sp.verb + "(" + go_type_name(arg) + "=" + go_format_value(arg) + ")";
}

std::string fmt_integer(int64_t v, bool is_unsigned, uint64_t uv, const Spec& sp) {
  char verb = sp.verb == 'v' ? 'd' : sp.verb;
  bool neg = !is_unsigned && v < 0;
  uint64_t mag = is_unsigned ? uv : (neg ? 0 - uint64_t(v) : uint64_t(v));
  std::string digits;
  int base = verb == 'x' || verb == 'X' ? 16 : verb == 'o' || verb == 'O' ? 8 : verb == 'b' ? 2 : 10;
  const char* alphabet = verb == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
  do {
    digits.insert(digits.begin(), alphabet[mag % uint64_t(base)]);
    mag /= uint64_t(base);
  } while (mag);
  if (sp.prec >= 0) {
    if (sp.prec == 0 && digits == "0") digits.clear();
    while (digits.size() < size_t(sp.prec)) digits.insert(digits.begin(), '0');
  }
  std::string prefix;
  if (sp.sharp || verb == 'O') {
    if (verb == 'x') prefix = "0x";
    else if (verb == 'X') prefix = "0X";
    else if (verb == 'o' && (digits.empty() || digits[0] != '0')) prefix = "0";
    else if (verb == 'O') prefix = "0o";
    else if (verb == 'b') prefix = "0b";
  }
  std::string sign = neg ? "-" : sp.plus ? "+" : sp.space ? " " : "";
  Spec p = sp;
  if (sp.prec >= 0) p.zero = false;
  return pad(sign + prefix + digits, p, true);
}

std::string fmt_float(double d, const Spec& sp) {
  char verb = sp.verb == 'v' ? 'g' : sp.verb;
  std::string s;
  if (std::isnan(d) || std::isinf(d)) {
    s = std::isnan(d) ? "NaN" : (d > 0 ? (sp.plus ? "+Inf" : "Inf") : "-Inf");
    Spec p = sp;
    p.zero = false;
    return pad(s, p, false);
  }
  if (sp.prec < 0 && (verb == 'g' || verb == 'G')) {
    s = format_float_shortest(d, 'g');
    if (verb == 'G' || verb == 'E')
      for (auto& c : s)
        if (c == 'e') c = 'E';
    if (sp.sharp && s.find('.') == std::string::npos) {
      size_t e = s.find_first_of("eE");
      s.insert(e == std::string::npos ? s.size() : e, ".");
    }
  } else {
    char fmt[16];
    int prec = sp.prec < 0 ? 6 : sp.prec;
    std::snprintf(fmt, sizeof fmt, "%%%s.%d%c", sp.sharp ? "#" : "", prec, verb == 'F' ? 'f' : verb);
    char buf[512];
    std::snprintf(buf, sizeof buf, fmt, d);
    s = buf;
  }
  if (!s.empty() && s[0] != '-' && s[0] != '+') {
    if (sp.plus) s = "+" + s;
    else if (sp.space) s = " " + s;
  }
  return pad(s, sp, true);
}

std::string fmt_arg(const json& arg, const Spec& sp);

std::string fmt_string(const std::string& s, const Spec& sp) {
  switch (sp.verb) {
    case 'v':
    case 's': {
      std::string t = s;
      if (sp.prec >= 0) {  // precision truncates runes
        size_t i = 0, runes = 0;
        while (i < t.size() && runes < size_t(sp.prec)) {
          int32_t r;
          i += decode_utf8(t, i, r);
          ++runes;
        }
        t.resize(i);
      }
      return pad(t, sp, false);
    }
    case 'q': {
      if (sp.sharp && s.find('`') == std::string::npos) return pad("`" + s + "`", sp, false);
      return pad(go_quote(s), sp, false);
    }
    case 'x':
    case 'X': {
      std::string out;
      const char* alphabet = sp.verb == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
      for (size_t i = 0; i < s.size(); ++i) {
        if (sp.space && i > 0) out += ' ';
        if (sp.sharp && (sp.space || i == 0)) out += sp.verb == 'X' ? "0X" : "0x";
        unsigned char c = static_cast<unsigned char>(s[i]);
        out += alphabet[c >> 4];
        out += alphabet[c & 15];
      }
      return pad(out, sp, false);
    }
    default: return bad_verb(sp, json(s));
  }
}

std::string fmt_arg(const json& arg, const Spec& sp) {
  switch (arg.type()) {
    case json::value_t::null:
      if (sp.verb == 'v') return pad("<nil>", sp, false);
      return bad_verb(sp, arg);
    case json::value_t::boolean:
      if (sp.verb == 'v' || sp.verb == 't') return pad(arg.get<bool>() ? "true" : "false", sp, false);
      return bad_verb(sp, arg);
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: {
      bool u = arg.is_number_unsigned();
      int64_t v = u ? 0 : arg.get<int64_t>();
      uint64_t uv = u ? arg.get<uint64_t>() : 0;
      switch (sp.verb) {
        case 'v':
        case 'd':
        case 'x':
        case 'X':
        case 'o':
        case 'O':
        case 'b': return fmt_integer(v, u, uv, sp);
        case 'c': {
          std::string s;
          append_utf8(s, int32_t(u ? uv : uint64_t(v)));
          return pad(s, sp, false);
        }
        case 'q': {
          std::string s = "'";
          std::string raw;
          append_utf8(raw, int32_t(u ? uv : uint64_t(v)));
          int32_t r;
          size_t w = decode_utf8(raw, 0, r);
          quote_rune_into(s, r, w, raw, '\'');
          return pad(s + "'", sp, false);
        }
        case 'U': {
          char buf[32];
          std::snprintf(buf, sizeof buf, "U+%04llX", static_cast<unsigned long long>(u ? uv : uint64_t(v)));
          return pad(buf, sp, false);
        }
        case 'e':
        case 'E':
        case 'f':
        case 'F':
        case 'g':
        case 'G':  // JSON numbers are float64 in Go: format them as floats
          return fmt_float(u ? double(uv) : double(v), sp);
        default: return bad_verb(sp, arg);
      }
    }
    case json::value_t::number_float:
      switch (sp.verb) {
        case 'v':
        case 'e':
        case 'E':
        case 'f':
        case 'F':
        case 'g':
        case 'G': return fmt_float(arg.get<double>(), sp);
        default: return bad_verb(sp, arg);
      }
    case json::value_t::string: return fmt_string(arg.get_ref<const std::string&>(), sp);
    case json::value_t::array: {
      std::string out = "[";
      bool first = true;
      for (auto& e : arg) {
        if (!first) out += ' ';
        first = false;
        out += fmt_arg(e, sp);
      }
      return out + "]";
    }
    case json::value_t::object: {
      std::string out = "map[";
      bool first = true;
      for (auto& [k, e] : arg.items()) {
        if (!first) out += ' ';
        first = false;
        out += fmt_arg(json(k), sp) + ":" + fmt_arg(e, sp);
      }
      return out + "]";
    }
    default: return bad_verb(sp, arg);
  }
}

std::string go_sprintf(std::string_view f, const std::vector<json>& args) {
  std::string out;
  size_t argi = 0;
  for (size_t i = 0; i < f.size();) {
    if (f[i] != '%') {
      out += f[i++];
      continue;
    }
    ++i;
    Spec sp;
    for (; i < f.size(); ++i) {
      char c = f[i];
      if (c == '-') sp.minus = true, sp.zero = false;
      else if (c == '+') sp.plus = true;
      else if (c == '#') sp.sharp = true;
      else if (c == ' ') sp.space = true;
      else if (c == '0') sp.zero = !sp.minus;
      else break;
    }
    auto number = [&](int& into) {
      if (i < f.size() && f[i] == '*') {
        ++i;
        if (argi < args.size() && args[argi].is_number_integer()) into = int(args[argi++].get<int64_t>());
        else {
          out += "%!(BADWIDTH)";
          ++argi;
        }
        if (into < 0) {
          sp.minus = true;
          into = -into;
        }
        return;
      }
      if (i < f.size() && is_digit(f[i])) {
        into = 0;
        while (i < f.size() && is_digit(f[i])) into = into * 10 + (f[i++] - '0');
      }
    };
    number(sp.width);
    if (i < f.size() && f[i] == '.') {
      ++i;
      sp.prec = 0;
      number(sp.prec);
    }
    if (i >= f.size()) {
      out += "%!(NOVERB)";
      break;
    }
    int32_t r;
    size_t w = decode_utf8(f, i, r);
    std::string verb_text(f.substr(i, w));
    i += w;
    if (verb_text == "%") {
      out += '%';
      continue;
    }
    if (argi >= args.size()) {
      out += "%!" + verb_text + "(MISSING)";
      continue;
    }
    sp.verb = w == 1 ? verb_text[0] : '?';
    const json& arg = args[argi++];
    if (sp.verb == 'T') {
      out += pad(arg.is_null() ? "<nil>" : go_type_name(arg), sp, false);
      continue;
    }
    if (w != 1 || !std::strchr("vsdqtfFeEgGxXobcUO", sp.verb)) {
      out += "%!" + verb_text + "(" + (arg.is_null() ? "<nil>" : go_type_name(arg) + "=" + go_format_value(arg)) + ")";
      continue;
    }
    out += fmt_arg(arg, sp);
  }
  if (argi < args.size()) {
    out += "%!(EXTRA ";
    for (size_t k = argi; k < args.size(); ++k) {
      if (k > argi) out += ", ";
      out += args[k].is_null() ? "<nil>" : go_type_name(args[k]) + "=" + go_format_value(args[k]);
    }
    out += ")";
  }
  return out;
}

// fmt.Sprint: a space between operands when neither is a string.
std::string go_sprint(const std::vector<json>& args) {
  std::string out;
  bool prev_string = false;
  for (size_t i = 0; i < args.size(); ++i) {
    bool is_string = args[i].is_string();
    if (i > 0 && !is_string && !prev_string) out += ' ';
    format_value_into(out, args[i]);
    prev_string = is_string;
  }
  return out;
}

std::string go_sprintln(const std::vector<json>& args) {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i) out += ' ';
    format_value_into(out, args[i]);
  }
  return out + "\n";
}

// ---- lexer ------------------------------------------------------------------------------

enum class Tok {
  kText, kLeftDelim, kRightDelim, kEOF, kError, kSpace, kField, kIdentifier, kVariable, kDot,
  kString, kRawString, kCharConst, kNumber, kBool, kNil, kPipe, kLeftParen, kRightParen,
  kDeclare, kAssign, kChar,
  // keywords
  kBlock, kBreak, kContinue, kDefine, kElse, kEnd, kIf, kRange, kTemplate, kWith,
};

bool is_keyword(Tok t) { return t >= Tok::kBlock; }

struct Token {
  Tok type;
  size_t pos;
  std::string val;
};

std::string rune_desc(std::string_view s, size_t i) {  // Go's %#U
  int32_t r;
  size_t w = decode_utf8(s, i, r);
  if (r < 0) r = 0xFFFD;
  char buf[32];
  std::snprintf(buf, sizeof buf, "U+%04X", unsigned(r));
  std::string out = buf;
  bool printable = r >= 0x20 && r != 0x7F && !(r >= 0x80 && r < 0xA0);
  if (printable) out += " '" + std::string(s.substr(i, w)) + "'";
  return out;
}

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  std::vector<Token> run() {
    for (;;) {
      size_t lp = s_.find("{{", pos_);
      size_t end = lp == std::string_view::npos ? s_.size() : lp;
      size_t start = pos_;
      if (trim_next_) {
        while (start < end && is_space(s_[start])) ++start;
        trim_next_ = false;
      }
      size_t text_end = end;
      if (lp != std::string_view::npos && left_trim(lp + 2))
        while (text_end > start && is_space(s_[text_end - 1])) --text_end;
      if (text_end > start) emit(Tok::kText, start, s_.substr(start, text_end - start));
      if (lp == std::string_view::npos) {
        emit(Tok::kEOF, s_.size(), "");
        break;
      }
      pos_ = lp + 2;
      size_t after = left_trim(pos_) ? 2 : 0;
      if (s_.substr(pos_ + after).starts_with("/*")) {
        pos_ += after + 2;
        size_t x = s_.find("*/", pos_);
        if (x == std::string_view::npos) {
          error(lp, "unclosed comment");
          break;
        }
        pos_ = x + 2;
        auto [delim, trim] = at_right_delim();
        if (!delim) {
          error(lp, "comment ends before closing delimiter");
          break;
        }
        pos_ += (trim ? 2 : 0) + 2;
        trim_next_ = trim;
        continue;
      }
      emit(Tok::kLeftDelim, lp, "{{");
      pos_ += after;
      paren_depth_ = 0;
      if (!inside_action()) break;
    }
    return std::move(out_);
  }

 private:
  bool left_trim(size_t p) const { return p + 1 < s_.size() && s_[p] == '-' && is_space(s_[p + 1]); }

  std::pair<bool, bool> at_right_delim() const {
    if (pos_ + 1 < s_.size() && is_space(s_[pos_]) && s_[pos_ + 1] == '-' &&
        s_.substr(pos_ + 2).starts_with("}}"))
      return {true, true};
    if (s_.substr(pos_).starts_with("}}")) return {true, false};
    return {false, false};
  }

  bool at_terminator() const {
    if (pos_ >= s_.size()) return true;
    char c = s_[pos_];
    if (is_space(c) || std::strchr(".,|:)(", c)) return true;
    return s_.substr(pos_).starts_with("}}");
  }

  void emit(Tok t, size_t pos, std::string_view val) { out_.push_back({t, pos, std::string(val)}); }
  bool error(size_t pos, std::string msg) {
    out_.push_back({Tok::kError, pos, std::move(msg)});
    out_.push_back({Tok::kEOF, s_.size(), ""});
    return false;
  }

  bool inside_action() {
    for (;;) {
      auto [delim, trim] = at_right_delim();
      if (delim) {
        if (paren_depth_ != 0) return error(pos_, "unclosed left paren");
        size_t p = pos_ + (trim ? 2 : 0);
        emit(Tok::kRightDelim, p, "}}");
        pos_ = p + 2;
        trim_next_ = trim;
        return true;
      }
      if (pos_ >= s_.size()) return error(pos_, "unclosed action");
      size_t start = pos_;
      char c = s_[pos_];
      if (is_space(c)) {
        while (pos_ < s_.size() && is_space(s_[pos_])) ++pos_;
        size_t n = pos_ - start;
        if (pos_ < s_.size() && s_[pos_] == '-' && s_.substr(pos_ + 1).starts_with("}}")) {
          --pos_;  // the last space belongs to the " -}}" marker
          if (n == 1) continue;
        }
        emit(Tok::kSpace, start, s_.substr(start, pos_ - start));
        continue;
      }
      ++pos_;
      switch (c) {
        case '=': emit(Tok::kAssign, start, "="); continue;
        case ':':
          if (pos_ >= s_.size() || s_[pos_] != '=') return error(start, "expected :=");
          ++pos_;
          emit(Tok::kDeclare, start, ":=");
          continue;
        case '|': emit(Tok::kPipe, start, "|"); continue;
        case '"':
          for (;;) {
            if (pos_ >= s_.size() || s_[pos_] == '\n') return error(start, "unterminated quoted string");
            char d = s_[pos_++];
            if (d == '\\') {
              if (pos_ >= s_.size() || s_[pos_] == '\n') return error(start, "unterminated quoted string");
              ++pos_;
            } else if (d == '"') {
              break;
            }
          }
          emit(Tok::kString, start, s_.substr(start, pos_ - start));
          continue;
        case '`': {
          size_t x = s_.find('`', pos_);
          if (x == std::string_view::npos) return error(start, "unterminated raw quoted string");
          pos_ = x + 1;
          emit(Tok::kRawString, start, s_.substr(start, pos_ - start));
          continue;
        }
        case '\'':
          for (;;) {
            if (pos_ >= s_.size() || s_[pos_] == '\n') return error(start, "unterminated character constant");
            char d = s_[pos_++];
            if (d == '\\') {
              if (pos_ >= s_.size() || s_[pos_] == '\n') return error(start, "unterminated character constant");
              ++pos_;
            } else if (d == '\'') {
              break;
            }
          }
          emit(Tok::kCharConst, start, s_.substr(start, pos_ - start));
          continue;
        case '$':
        case '.':
          if (c == '.' && pos_ < s_.size() && is_digit(s_[pos_])) break;  // a number
          if (!field_or_variable(start, c == '$' ? Tok::kVariable : Tok::kField)) return false;
          continue;
        case '(':
          emit(Tok::kLeftParen, start, "(");
          ++paren_depth_;
          continue;
        case ')':
          emit(Tok::kRightParen, start, ")");
          if (--paren_depth_ < 0) return error(start, "unexpected right paren " + rune_desc(s_, start));
          continue;
        default: break;
      }
      if (c == '.' || c == '+' || c == '-' || is_digit(c)) {
        pos_ = start;
        if (!number()) return false;
        continue;
      }
      if (is_alnum(c)) {
        pos_ = start;
        if (!identifier()) return false;
        continue;
      }
      if (static_cast<unsigned char>(c) < 0x80 && c >= 0x20 && c != 0x7F) {
        emit(Tok::kChar, start, s_.substr(start, 1));
        continue;
      }
      return error(start, "unrecognized character in action: " + rune_desc(s_, start));
    }
  }

  bool field_or_variable(size_t start, Tok type) {
    if (at_terminator()) {
      emit(type == Tok::kVariable ? Tok::kVariable : Tok::kDot, start, s_.substr(start, 1));
      return true;
    }
    while (pos_ < s_.size() && is_alnum(s_[pos_])) ++pos_;
    if (!at_terminator()) return error(start, "bad character " + rune_desc(s_, pos_));
    emit(type, start, s_.substr(start, pos_ - start));
    return true;
  }

  bool identifier() {
    size_t start = pos_;
    while (pos_ < s_.size() && is_alnum(s_[pos_])) ++pos_;
    if (!at_terminator()) return error(start, "bad character " + rune_desc(s_, pos_));
    std::string_view word = s_.substr(start, pos_ - start);
    static const std::pair<std::string_view, Tok> kKeywords[] = {
        {"block", Tok::kBlock}, {"break", Tok::kBreak}, {"continue", Tok::kContinue},
        {"define", Tok::kDefine}, {"else", Tok::kElse}, {"end", Tok::kEnd}, {"if", Tok::kIf},
        {"range", Tok::kRange}, {"nil", Tok::kNil}, {"template", Tok::kTemplate},
        {"with", Tok::kWith}};
    for (auto& [k, t] : kKeywords)
      if (word == k) {
        emit(t, start, word);
        return true;
      }
    emit(word == "true" || word == "false" ? Tok::kBool : Tok::kIdentifier, start, word);
    return true;
  }

  bool accept(std::string_view valid) {
    if (pos_ < s_.size() && valid.find(s_[pos_]) != std::string_view::npos) {
      ++pos_;
      return true;
    }
    return false;
  }
  void accept_run(std::string_view valid) {
    while (accept(valid)) {
    }
  }

  bool scan_number() {
    accept("+-");
    std::string_view digits = "0123456789_";
    if (accept("0")) {
      if (accept("xX")) digits = "0123456789abcdefABCDEF_";
      else if (accept("oO")) digits = "01234567_";
      else if (accept("bB")) digits = "01_";
    }
    accept_run(digits);
    if (accept(".")) accept_run(digits);
    if (digits.size() == 11 && accept("eE")) {
      accept("+-");
      accept_run("0123456789_");
    }
    if (digits.size() == 23 && accept("pP")) {
      accept("+-");
      accept_run("0123456789_");
    }
    accept("i");
    if (pos_ < s_.size() && is_alnum(s_[pos_])) {
      ++pos_;
      return false;
    }
    return true;
  }

  bool number() {
    size_t start = pos_;
    bool ok = scan_number();
    if (ok && pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) {  // complex: not supported
      scan_number();
      ok = false;
    }
    if (!ok) return error(start, "bad number syntax: " + go_quote(s_.substr(start, pos_ - start)));
    emit(Tok::kNumber, start, s_.substr(start, pos_ - start));
    return true;
  }

  std::string_view s_;
  size_t pos_ = 0;
  int paren_depth_ = 0;
  bool trim_next_ = false;
  std::vector<Token> out_;
};

// ---- AST --------------------------------------------------------------------------------

enum class NK {
  kList, kText, kAction, kIf, kRange, kWith, kBreak, kContinue, kElse, kEnd, kPipe, kCommand,
  kField, kVariable, kIdentifier, kDot, kNil, kBool, kNumber, kString, kChain,
};

struct Node;
using NodePtr = std::unique_ptr<Node>;

struct Node {
  NK kind;
  size_t pos = 0;
  std::string text;                // Text: content; Identifier: name; String/Number: source
  std::vector<std::string> ident;  // Field: names; Variable: "$x" then names; Chain: names
  json value;                      // Bool/String/Number: the constant
  std::string const_error;         // Number: Go's exec-time idealConstant error
  bool int_ok = false;             // Number: usable as an int argument
  int64_t int_value = 0;
  std::vector<NodePtr> nodes;      // List: items; Pipe: commands; Command: args
  std::vector<std::string> decl;   // Pipe: declared/assigned variables
  bool is_assign = false;
  NodePtr pipe, list, else_list, operand;  // Action/If/Range/With; Chain's operand
};

NodePtr make(NK kind, size_t pos) {
  auto n = std::make_unique<Node>();
  n->kind = kind;
  n->pos = pos;
  return n;
}

std::string node_string(const Node& n);

std::string arg_string(const Node& a) {
  return a.kind == NK::kPipe ? "(" + node_string(a) + ")" : node_string(a);
}

std::string list_string(const Node* l) {
  std::string out;
  if (l)
    for (auto& n : l->nodes) out += node_string(*n);
  return out;
}

std::string node_string(const Node& n) {
  switch (n.kind) {
    case NK::kText: return n.text;
    case NK::kField: {
      std::string s;
      for (auto& i : n.ident) s += "." + i;
      return s;
    }
    case NK::kVariable: {
      std::string s = n.ident.empty() ? "" : n.ident[0];
      for (size_t i = 1; i < n.ident.size(); ++i) s += "." + n.ident[i];
      return s;
    }
    case NK::kChain: {
      std::string s = n.operand ? arg_string(*n.operand) : "";
      for (auto& i : n.ident) s += "." + i;
      return s;
    }
    case NK::kIdentifier:
    case NK::kString:
    case NK::kNumber: return n.text;
    case NK::kDot: return ".";
    case NK::kNil: return "nil";
    case NK::kBool: return n.value.get<bool>() ? "true" : "false";
    case NK::kCommand: {
      std::string s;
      for (size_t i = 0; i < n.nodes.size(); ++i) s += (i ? " " : "") + arg_string(*n.nodes[i]);
      return s;
    }
    case NK::kPipe: {
      std::string s;
      for (size_t i = 0; i < n.decl.size(); ++i) s += (i ? ", " : "") + n.decl[i];
      if (!n.decl.empty()) s += " := ";
      for (size_t i = 0; i < n.nodes.size(); ++i) s += (i ? " | " : "") + node_string(*n.nodes[i]);
      return s;
    }
    case NK::kAction: return "{{" + node_string(*n.pipe) + "}}";
    case NK::kIf:
    case NK::kRange:
    case NK::kWith: {
      const char* name = n.kind == NK::kIf ? "if" : n.kind == NK::kRange ? "range" : "with";
      std::string s = std::string("{{") + name + " " + node_string(*n.pipe) + "}}" + list_string(n.list.get());
      if (n.else_list) s += "{{else}}" + list_string(n.else_list.get());
      return s + "{{end}}";
    }
    case NK::kBreak: return "{{break}}";
    case NK::kContinue: return "{{continue}}";
    case NK::kElse: return "{{else}}";
    case NK::kEnd: return "{{end}}";
    case NK::kList: return list_string(&n);
  }
  return "";
}

// Go's strconv.Unquote for "…", `…` and '…'.
bool go_unquote(std::string_view q, std::string& out, int32_t* rune_out = nullptr) {
  out.clear();
  if (q.size() < 2) return false;
  char quote = q[0];
  if (q.back() != quote) return false;
  std::string_view body = q.substr(1, q.size() - 2);
  if (quote == '`') {
    for (char c : body)
      if (c != '\r') out += c;
    return true;
  }
  size_t runes = 0;
  for (size_t i = 0; i < body.size();) {
    char c = body[i];
    if (c == quote && quote == '\'') return false;
    if (c == '\n') return false;
    if (c != '\\') {
      int32_t r;
      size_t w = decode_utf8(body, i, r);
      out.append(body.substr(i, w));
      if (rune_out) *rune_out = r < 0 ? 0xFFFD : r;
      i += w;
      ++runes;
      continue;
    }
    if (++i >= body.size()) return false;
    char e = body[i++];
    int32_t r = -1;
    switch (e) {
      case 'a': r = '\a'; break;
      case 'b': r = '\b'; break;
      case 'f': r = '\f'; break;
      case 'n': r = '\n'; break;
      case 'r': r = '\r'; break;
      case 't': r = '\t'; break;
      case 'v': r = '\v'; break;
      case '\\': r = '\\'; break;
      case '\'':
      case '"':
        if (e != quote) return false;
        r = e;
        break;
      case 'x':
      case 'u':
      case 'U': {
        size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        if (i + n > body.size()) return false;
        uint32_t v = 0;
        for (size_t k = 0; k < n; ++k) {
          char h = body[i + k];
          int d = is_digit(h) ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10 : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
          if (d < 0) return false;
          v = v * 16 + uint32_t(d);
        }
        i += n;
        if (e == 'x') {
          if (quote == '\'') {
            r = int32_t(v);
            break;
          }
          out += char(v);
          if (rune_out) *rune_out = int32_t(v);
          ++runes;
          continue;
        }
        if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return false;
        r = int32_t(v);
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          if (i + 2 > body.size()) return false;
          uint32_t v = uint32_t(e - '0');
          for (size_t k = 0; k < 2; ++k) {
            char o = body[i + k];
            if (o < '0' || o > '7') return false;
            v = v * 8 + uint32_t(o - '0');
          }
          if (v > 255) return false;
          i += 2;
          if (quote == '\'') {
            r = int32_t(v);
            break;
          }
          out += char(v);
          if (rune_out) *rune_out = int32_t(v);
          ++runes;
          continue;
        }
        return false;
    }
    append_utf8(out, r);
    if (rune_out) *rune_out = r;
    ++runes;
  }
  if (quote == '\'' && runes != 1) return false;
  return true;
}

// strconv.ParseInt/ParseUint(text, 0, 64): sign (ParseInt), base prefixes, underscores.
bool parse_go_int(std::string_view s, bool allow_sign, __int128& out) {
  bool neg = false;
  if (allow_sign && !s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return false;
  int base = 10;
  bool prefixed = false;
  if (s.size() > 1 && s[0] == '0') {
    char p = char(s[1] | 0x20);
    if (p == 'x') base = 16, s.remove_prefix(2), prefixed = true;
    else if (p == 'o') base = 8, s.remove_prefix(2), prefixed = true;
    else if (p == 'b') base = 2, s.remove_prefix(2), prefixed = true;
    else base = 8, s.remove_prefix(1), prefixed = true;
  }
  if (s.empty() && !(prefixed && base == 8)) return false;
  __int128 v = 0;
  char prev = prefixed ? '_' : '0';  // an underscore may follow a base prefix
  bool any = false;
  for (char c : s) {
    if (c == '_') {
      if (prev == '_' && !(prefixed && !any)) return false;
      prev = '_';
      continue;
    }
    int d = is_digit(c) ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : 99;
    if (d >= base) return false;
    v = v * base + d;
    if (v > (__int128(1) << 64)) return false;
    prev = '0';
    any = true;
  }
  if (prev == '_') return false;
  out = neg ? -v : v;
  return true;
}

struct FuncSet {
  const std::map<std::string, GoTemplate::Function>* user = nullptr;
  bool has(const std::string& name) const;
};

const char* const kBuiltins[] = {"and",  "or",    "not",   "len",   "index", "slice", "eq",
                                 "ne",   "lt",    "le",    "gt",    "ge",    "print", "printf",
                                 "println", "html", "urlquery", "json", "split", "join", "title",
                                 "lower", "upper", "pad", "truncate"};

bool FuncSet::has(const std::string& name) const {
  if (user && user->count(name)) return true;
  for (auto b : kBuiltins)
    if (name == b) return true;
  return false;
}

// ---- parser -----------------------------------------------------------------------------

class Parser {
 public:
  Parser(std::vector<Token> toks, std::string_view src, FuncSet funcs)
      : toks_(std::move(toks)), src_(src), funcs_(funcs) {}

  Result<NodePtr> parse() {
    auto root = make(NK::kList, peek().pos);
    while (peek().type != Tok::kEOF) {
      auto n = TRY(text_or_action());
      if (n->kind == NK::kEnd || n->kind == NK::kElse) return errorf("unexpected " + node_string(*n));
      root->nodes.push_back(std::move(n));
    }
    return root;
  }

 private:
  const Token& next() {
    const Token& t = toks_[std::min(i_, toks_.size() - 1)];
    if (i_ < toks_.size()) ++i_;
    seen_ = std::max(seen_, i_);
    return t;
  }
  const Token& peek() {
    seen_ = std::max(seen_, i_ + 1);
    return toks_[std::min(i_, toks_.size() - 1)];
  }
  void backup(size_t n = 1) { i_ -= n; }
  const Token& next_non_space() {
    for (;;) {
      const Token& t = next();
      if (t.type != Tok::kSpace) return t;
    }
  }
  const Token& peek_non_space() {
    const Token& t = next_non_space();
    backup();
    return t;
  }

  int line_of(size_t pos) const {
    return 1 + int(std::count(src_.begin(), src_.begin() + std::min(pos, src_.size()), '\n'));
  }

  std::unexpected<Error> errorf(const std::string& msg) {
    size_t idx = std::min(seen_ == 0 ? 0 : seen_ - 1, toks_.size() - 1);
    return fail("template: :" + std::to_string(line_of(toks_[idx].pos)) + ": " + msg, EINVAL);
  }

  static std::string token_string(const Token& t) {
    if (t.type == Tok::kEOF) return "EOF";
    if (t.type == Tok::kError) return t.val;
    if (is_keyword(t.type) || t.type == Tok::kNil || t.type == Tok::kDot) return "<" + t.val + ">";
    if (t.val.size() > 10) return go_quote(t.val.substr(0, 10)) + "...";
    return go_quote(t.val);
  }

  std::unexpected<Error> unexpected(const Token& t, const std::string& context) {
    if (t.type == Tok::kError) {
      std::string extra;
      if (action_line_ != 0 && action_line_ != line_of(t.pos)) {
        extra = " in action started at :" + std::to_string(action_line_);
        if (t.val.ends_with(" action")) extra = extra.substr(std::string(" in action").size());
      }
      return errorf(t.val + extra);
    }
    return errorf("unexpected " + token_string(t) + " in " + context);
  }

  Result<NodePtr> text_or_action() {
    const Token& t = next_non_space();
    switch (t.type) {
      case Tok::kText: {
        auto n = make(NK::kText, t.pos);
        n->text = t.val;
        return n;
      }
      case Tok::kLeftDelim: {
        action_line_ = line_of(t.pos);
        auto r = action();
        action_line_ = 0;
        return r;
      }
      default: return unexpected(t, "input");
    }
  }

  Result<NodePtr> action() {
    const Token& t = next_non_space();
    switch (t.type) {
      case Tok::kBlock:
      case Tok::kTemplate:
      case Tok::kDefine: return errorf("{{" + t.val + "}} is not supported");
      case Tok::kBreak:
      case Tok::kContinue: {
        bool brk = t.type == Tok::kBreak;
        size_t pos = t.pos;
        TRY(expect(Tok::kRightDelim, t.val));
        if (range_depth_ == 0) return errorf(std::string("{{") + (brk ? "break" : "continue") + "}} outside {{range}}");
        return make(brk ? NK::kBreak : NK::kContinue, pos);
      }
      case Tok::kElse: {
        const Token& p = peek_non_space();
        if (p.type == Tok::kIf || p.type == Tok::kWith) return make(NK::kElse, p.pos);
        return make(NK::kElse, TRY(expect(Tok::kRightDelim, "else")));
      }
      case Tok::kEnd: return make(NK::kEnd, TRY(expect(Tok::kRightDelim, "end")));
      case Tok::kIf: return control(NK::kIf, "if");
      case Tok::kRange: return control(NK::kRange, "range");
      case Tok::kWith: return control(NK::kWith, "with");
      default: break;
    }
    backup();
    size_t pos = peek().pos;
    auto n = make(NK::kAction, pos);
    n->pipe = TRY(pipeline("command", Tok::kRightDelim));
    return n;
  }

  Result<size_t> expect(Tok type, const std::string& context) {
    const Token& t = next_non_space();
    if (t.type != type) return unexpected(t, context);
    return t.pos;
  }

  Result<NodePtr> control(NK kind, const char* context) {
    size_t mark = vars_.size();
    auto n = make(kind, 0);
    n->pipe = TRY(pipeline(context, Tok::kRightDelim));
    n->pos = n->pipe->pos;
    if (kind == NK::kRange) ++range_depth_;
    auto [list, next_node] = TRY(item_list());
    if (kind == NK::kRange) --range_depth_;
    n->list = std::move(list);
    if (next_node->kind == NK::kElse) {
      Tok chained = kind == NK::kIf ? Tok::kIf : kind == NK::kWith ? Tok::kWith : Tok::kEOF;
      if (chained != Tok::kEOF && peek().type == chained) {
        next();
        n->else_list = make(NK::kList, next_node->pos);
        n->else_list->nodes.push_back(TRY(control(kind, context)));
      } else {
        auto [else_list, end] = TRY(item_list());
        if (end->kind != NK::kEnd) return errorf("expected end; found " + node_string(*end));
        n->else_list = std::move(else_list);
      }
    }
    vars_.resize(mark);
    return n;
  }

  Result<std::pair<NodePtr, NodePtr>> item_list() {
    auto list = make(NK::kList, peek_non_space().pos);
    while (peek_non_space().type != Tok::kEOF) {
      auto n = TRY(text_or_action());
      if (n->kind == NK::kEnd || n->kind == NK::kElse) return std::pair{std::move(list), std::move(n)};
      list->nodes.push_back(std::move(n));
    }
    return errorf("unexpected EOF");
  }

  Result<NodePtr> pipeline(const std::string& context, Tok end) {
    auto pipe = make(NK::kPipe, peek_non_space().pos);
  decls:
    if (peek_non_space().type == Tok::kVariable) {
      size_t save = i_;
      const Token& v = next_non_space();
      const Token& nx = peek_non_space();
      if (nx.type == Tok::kAssign || nx.type == Tok::kDeclare) {
        pipe->is_assign = nx.type == Tok::kAssign;
        next_non_space();
        pipe->decl.push_back(v.val);
        if (!pipe->is_assign) vars_.push_back(v.val);
        else if (!var_defined(v.val)) return errorf("undefined variable " + go_quote(v.val));
      } else if (nx.type == Tok::kChar && nx.val == ",") {
        next_non_space();
        pipe->decl.push_back(v.val);
        vars_.push_back(v.val);
        if (context == "range" && pipe->decl.size() < 2) {
          Tok p = peek_non_space().type;
          if (p == Tok::kVariable || p == Tok::kRightDelim || p == Tok::kRightParen) goto decls;
          return errorf("range can only initialize variables");
        }
        return errorf("too many declarations in " + context);
      } else {
        i_ = save;  // "$x foo": the variable is an operand
      }
    }
    for (;;) {
      const Token& t = next_non_space();
      if (t.type == end) {
        if (pipe->nodes.empty()) return errorf("missing value for " + context);
        for (size_t k = 1; k < pipe->nodes.size(); ++k) {
          NK first = pipe->nodes[k]->nodes[0]->kind;
          if (first == NK::kBool || first == NK::kDot || first == NK::kNil || first == NK::kNumber || first == NK::kString)
            return errorf("non executable command in pipeline stage " + std::to_string(k + 1));
        }
        return pipe;
      }
      switch (t.type) {
        case Tok::kBool:
        case Tok::kCharConst:
        case Tok::kDot:
        case Tok::kField:
        case Tok::kIdentifier:
        case Tok::kNumber:
        case Tok::kNil:
        case Tok::kRawString:
        case Tok::kString:
        case Tok::kVariable:
        case Tok::kLeftParen:
          backup();
          pipe->nodes.push_back(TRY(command()));
          break;
        default: return unexpected(t, context);
      }
    }
  }

  Result<NodePtr> command() {
    auto cmd = make(NK::kCommand, peek_non_space().pos);
    for (;;) {
      peek_non_space();
      auto operand = TRY(this->operand());
      if (operand) cmd->nodes.push_back(std::move(operand));
      const Token& t = next();
      if (t.type == Tok::kSpace) continue;
      if (t.type == Tok::kRightDelim || t.type == Tok::kRightParen) {
        backup();
      } else if (t.type != Tok::kPipe) {
        return unexpected(t, "operand");
      }
      break;
    }
    if (cmd->nodes.empty()) return errorf("empty command");
    return cmd;
  }

  Result<NodePtr> operand() {
    auto node = TRY(term());
    if (!node) return node;
    if (peek().type == Tok::kField) {
      auto chain = make(NK::kChain, peek().pos);
      while (peek().type == Tok::kField) chain->ident.push_back(next().val.substr(1));
      switch (node->kind) {
        case NK::kField:
        case NK::kVariable:
          node->ident.insert(node->ident.end(), chain->ident.begin(), chain->ident.end());
          node->pos = chain->pos;
          return node;
        case NK::kBool:
        case NK::kString:
        case NK::kNumber:
        case NK::kNil:
        case NK::kDot:
          return errorf("unexpected . after term " + go_quote(node_string(*node)));
        default:
          chain->operand = std::move(node);
          return chain;
      }
    }
    return node;
  }

  bool var_defined(const std::string& name) const {
    return std::find(vars_.begin(), vars_.end(), name) != vars_.end();
  }

  Result<NodePtr> term() {
    const Token& t = next_non_space();
    switch (t.type) {
      case Tok::kIdentifier: {
        if (!funcs_.has(t.val)) return errorf("function " + go_quote(t.val) + " not defined");
        auto n = make(NK::kIdentifier, t.pos);
        n->text = t.val;
        return n;
      }
      case Tok::kDot: return make(NK::kDot, t.pos);
      case Tok::kNil: return make(NK::kNil, t.pos);
      case Tok::kVariable: {
        auto n = make(NK::kVariable, t.pos);
        size_t dot = t.val.find('.');
        n->ident.push_back(t.val.substr(0, dot));
        if (!var_defined(n->ident[0])) return errorf("undefined variable " + go_quote(n->ident[0]));
        return n;
      }
      case Tok::kField: {
        auto n = make(NK::kField, t.pos);
        n->ident.push_back(t.val.substr(1));
        return n;
      }
      case Tok::kBool: {
        auto n = make(NK::kBool, t.pos);
        n->value = t.val == "true";
        return n;
      }
      case Tok::kCharConst:
      case Tok::kNumber: return number(t);
      case Tok::kLeftParen: return pipeline("parenthesized pipeline", Tok::kRightParen);
      case Tok::kString:
      case Tok::kRawString: {
        std::string s;
        if (!go_unquote(t.val, s)) return errorf("invalid syntax");
        auto n = make(NK::kString, t.pos);
        n->text = t.val;
        n->value = s;
        return n;
      }
      default: backup(); return NodePtr{};
    }
  }

  Result<NodePtr> number(const Token& t) {
    auto n = make(NK::kNumber, t.pos);
    n->text = t.val;
    const std::string& text = t.val;
    if (t.type == Tok::kCharConst) {
      std::string s;
      int32_t r = 0;
      if (!go_unquote(text, s, &r)) {
        if (text.size() >= 2 && go_unquote("'" + text.substr(1, text.size() - 2).substr(0, 1) + "'", s))
          return errorf("malformed character constant: " + text);
        return errorf("invalid syntax");
      }
      n->value = int64_t(r);
      n->int_ok = true;
      n->int_value = r;
      return n;
    }
    if (!text.empty() && text.back() == 'i') return errorf("complex numbers are not supported: " + go_quote(text));
    __int128 v;
    bool is_int = parse_go_int(text, true, v) && v >= std::numeric_limits<int64_t>::min() &&
                  v <= std::numeric_limits<int64_t>::max();
    bool is_uint = !is_int && parse_go_int(text, false, v) && v >= 0 && v <= std::numeric_limits<uint64_t>::max();
    bool has_float_chars = text.find_first_of(".eEpP") != std::string::npos &&
                           !(text.size() > 1 && text[0] == '0' && (text[1] | 0x20) == 'x') &&
                           !(text.size() > 2 && (text[0] == '-' || text[0] == '+') && text[1] == '0' && (text[2] | 0x20) == 'x');
    if (is_int) {
      n->int_ok = true;
      n->int_value = int64_t(v);
      n->value = int64_t(v);
      if (has_float_chars) n->value = double(int64_t(v));
      return n;
    }
    if (is_uint) {
      n->const_error = text + " overflows int";
      n->value = uint64_t(v);
      return n;
    }
    // A float: decimal syntax (hex floats are not supported).
    std::string clean;
    for (char c : text)
      if (c != '_') clean += c;
    char* endp = nullptr;
    errno = 0;
    double d = std::strtod(clean.c_str(), &endp);
    bool ok = endp && *endp == '\0' && !clean.empty() && !(clean.size() > 1 && (clean[1] | 0x20) == 'x');
    if (!ok) return errorf("illegal number syntax: " + go_quote(text));
    if (text.find_first_of(".eEpP") == std::string::npos) return errorf("integer overflow: " + go_quote(text));
    n->value = d;
    if (std::trunc(d) == d && std::fabs(d) < 9.2e18) {
      n->int_ok = true;
      n->int_value = int64_t(d);
    }
    return n;
  }

  std::vector<Token> toks_;
  std::string_view src_;
  FuncSet funcs_;
  size_t i_ = 0, seen_ = 0;
  int action_line_ = 0;
  int range_depth_ = 0;
  std::vector<std::string> vars_{"$"};
};

}  // namespace gotpl

using namespace gotpl;

struct GoTemplate::Tree {
  std::string source;   // as given
  std::string text;     // after Docker's escapes
  NodePtr root;
  Options options;
};

namespace gotpl {

// ---- execution --------------------------------------------------------------------------

struct Val {
  bool valid = false;  // false: Go's invalid reflect.Value ("<no value>")
  json j;
  bool boxed = false;  // came out of a map or slice: Go reports its type as interface {}
};

Val valid(json j, bool boxed = false) { return Val{true, std::move(j), boxed}; }

bool truth(const Val& v) {
  if (!v.valid) return false;
  const json& j = v.j;
  switch (j.type()) {
    case json::value_t::null: return false;
    case json::value_t::boolean: return j.get<bool>();
    case json::value_t::number_integer: return j.get<int64_t>() != 0;
    case json::value_t::number_unsigned: return j.get<uint64_t>() != 0;
    case json::value_t::number_float: return j.get<double>() != 0;
    case json::value_t::string: return !j.get_ref<const std::string&>().empty();  // json::empty() is false for ""
    case json::value_t::array:
    case json::value_t::object: return !j.empty();
    default: return false;
  }
}

enum class Flow { kNormal, kBreak, kContinue };

struct Arg {
  Val v;
  const Node* node;  // the argument's node; nullptr for the pipeline's value
};

class Exec {
 public:
  Exec(const GoTemplate::Tree& t, bool header, const std::map<std::string, GoTemplate::Method>& methods)
      : t_(t), header_(header), methods_(methods) {}

  Result<std::string> run(const json& data) {
    Val dot = data.is_null() ? Val{} : valid(data);
    vars_.push_back({"$", dot});
    Flow flow = Flow::kNormal;
    TRY(walk(dot, *t_.root, flow));
    return std::move(out_);
  }

 private:
  std::unexpected<Error> errorf(const std::string& msg) {
    if (!at_) return fail("template: : " + msg, EINVAL);
    std::string_view text = t_.text;
    size_t pos = std::min(at_->pos, text.size());
    std::string_view before = text.substr(0, pos);
    size_t nl = before.rfind('\n');
    size_t col = nl == std::string_view::npos ? pos : pos - (nl + 1);
    int line = 1 + int(std::count(before.begin(), before.end(), '\n'));
    return fail("template: :" + std::to_string(line) + ":" + std::to_string(col) + ": executing \"\" at <" +
                    node_string(*at_) + ">: " + msg,
                EINVAL);
  }

  Status walk(const Val& dot, const Node& n, Flow& flow) {
    at_ = &n;
    switch (n.kind) {
      case NK::kList:
        for (auto& c : n.nodes) {
          TRY(walk(dot, *c, flow));
          if (flow != Flow::kNormal) return {};
        }
        return {};
      case NK::kText: out_ += n.text; return {};
      case NK::kAction: {
        Val v = TRY(eval_pipeline(dot, *n.pipe));
        if (n.pipe->decl.empty()) print(v);
        return {};
      }
      case NK::kIf:
      case NK::kWith: {
        size_t mark = vars_.size();
        Val v = TRY(eval_pipeline(dot, *n.pipe));
        Status st;
        if (truth(v)) st = walk(n.kind == NK::kWith ? v : dot, *n.list, flow);
        else if (n.else_list) st = walk(dot, *n.else_list, flow);
        vars_.resize(mark);
        return st;
      }
      case NK::kRange: return walk_range(dot, n, flow);
      case NK::kBreak: flow = Flow::kBreak; return {};
      case NK::kContinue: flow = Flow::kContinue; return {};
      default: return errorf("unknown node");
    }
  }

  Status walk_range(const Val& dot, const Node& r, Flow& flow) {
    size_t outer = vars_.size();
    Val v = TRY(eval_pipeline(dot, *r.pipe));
    size_t mark = vars_.size();
    auto one = [&](const json& index, const json& elem) -> Status {
      Val e = valid(elem, true);
      if (!r.pipe->decl.empty()) {
        if (r.pipe->is_assign) {
          set_var(r.pipe->decl[0], r.pipe->decl.size() > 1 ? valid(index) : e);
          if (r.pipe->decl.size() > 1) set_var(r.pipe->decl[1], e);
        } else {
          vars_[mark - 1].second = e;
          if (r.pipe->decl.size() > 1) vars_[mark - 2].second = valid(index);
        }
      }
      Flow f = Flow::kNormal;
      Status st = walk(e, *r.list, f);
      vars_.resize(mark);
      if (f == Flow::kBreak) flow = Flow::kBreak;
      return st;
    };
    bool iterated = false;
    if (v.valid && v.j.is_array()) {
      for (size_t i = 0; i < v.j.size(); ++i) {
        iterated = true;
        TRY(one(json(int64_t(i)), v.j[i]));
        if (flow == Flow::kBreak) break;
      }
    } else if (v.valid && v.j.is_object()) {
      for (auto& [k, e] : v.j.items()) {
        iterated = true;
        TRY(one(json(k), e));
        if (flow == Flow::kBreak) break;
      }
    } else if (v.valid && !v.j.is_null()) {
      at_ = r.pipe.get();
      return errorf("range can't iterate over " + go_format_value(v.j));
    }
    flow = Flow::kNormal;
    if (!iterated && r.else_list) {
      Flow f = Flow::kNormal;
      TRY(walk(dot, *r.else_list, f));
    }
    vars_.resize(outer);
    return {};
  }

  void print(const Val& v) {
    if (!v.valid) {
      out_ += "<no value>";
      return;
    }
    format_value_into(out_, v.j);
  }

  void set_var(const std::string& name, Val v) {
    for (auto it = vars_.rbegin(); it != vars_.rend(); ++it)
      if (it->first == name) {
        it->second = std::move(v);
        return;
      }
  }

  Result<Val> var(const std::string& name) {
    for (auto it = vars_.rbegin(); it != vars_.rend(); ++it)
      if (it->first == name) return it->second;
    return errorf("undefined variable: " + name);
  }

  Result<Val> eval_pipeline(const Val& dot, const Node& pipe) {
    at_ = &pipe;
    std::optional<Val> value;
    for (auto& cmd : pipe.nodes) {
      Val v = TRY(eval_command(dot, *cmd, value));
      if (v.valid && v.j.is_null()) v = Val{};  // Go unwraps a nil interface{} to no value
      v.boxed = false;
      value = std::move(v);
    }
    for (auto& d : pipe.decl) {
      if (pipe.is_assign) set_var(d, *value);
      else vars_.push_back({d, *value});
    }
    return *value;
  }

  Status not_a_function(const std::vector<NodePtr>& args, const std::optional<Val>& final) {
    if (args.size() > 1 || final) return errorf("can't give argument to non-function " + arg_string(*args[0]));
    return {};
  }

  Result<Val> eval_command(const Val& dot, const Node& cmd, const std::optional<Val>& final) {
    const Node& first = *cmd.nodes[0];
    switch (first.kind) {
      case NK::kField: return eval_field_node(dot, first, cmd.nodes, final);
      case NK::kChain: return eval_chain(dot, first, cmd.nodes, final);
      case NK::kIdentifier: return eval_function(dot, first, cmd, final);
      case NK::kPipe:
        TRY(not_a_function(cmd.nodes, final));
        return eval_pipeline(dot, first);
      case NK::kVariable: return eval_variable(dot, first, cmd.nodes, final);
      default: break;
    }
    at_ = &first;
    TRY(not_a_function(cmd.nodes, final));
    switch (first.kind) {
      case NK::kBool: return valid(first.value);
      case NK::kDot: return dot;
      case NK::kNil: return errorf("nil is not a command");
      case NK::kNumber: return constant(first);
      case NK::kString: return valid(first.value);
      default: return errorf("can't evaluate command " + go_quote(node_string(first)));
    }
  }

  Result<Val> constant(const Node& n) {
    at_ = &n;
    if (!n.const_error.empty()) return errorf(n.const_error);
    return valid(n.value);
  }

  Result<Val> eval_field_node(const Val& dot, const Node& field, const std::vector<NodePtr>& args,
                              const std::optional<Val>& final) {
    at_ = &field;
    return eval_field_chain(dot, dot, field, field.ident, 0, args, final);
  }

  Result<Val> eval_variable(const Val& dot, const Node& v, const std::vector<NodePtr>& args,
                            const std::optional<Val>& final) {
    at_ = &v;
    Val value = TRY(var(v.ident[0]));
    if (v.ident.size() == 1) {
      TRY(not_a_function(args, final));
      return value;
    }
    value.boxed = false;
    return eval_field_chain(dot, value, v, v.ident, 1, args, final);
  }

  Result<Val> eval_chain(const Val& dot, const Node& chain, const std::vector<NodePtr>& args,
                         const std::optional<Val>& final) {
    at_ = &chain;
    if (chain.operand->kind == NK::kNil) return errorf("indirection through explicit nil in " + node_string(chain));
    Val pipe = TRY(eval_arg(dot, *chain.operand));
    pipe.boxed = false;
    return eval_field_chain(dot, pipe, chain, chain.ident, 0, args, final);
  }

  Result<Val> eval_field_chain(const Val& dot, Val receiver, const Node& node, const std::vector<std::string>& ident,
                               size_t from, const std::vector<NodePtr>& args, const std::optional<Val>& final) {
    static const std::vector<NodePtr> kNoArgs;
    for (size_t i = from; i + 1 < ident.size(); ++i)
      receiver = TRY(eval_field(dot, ident[i], node, kNoArgs, std::nullopt, receiver));
    return eval_field(dot, ident.back(), node, args, final, receiver);
  }

  Result<Val> eval_field(const Val& dot, const std::string& name, const Node& node,
                         const std::vector<NodePtr>& args, const std::optional<Val>& final, const Val& receiver) {
    (void)node;
    bool has_args = args.size() > 1 || final;
    if (!receiver.valid) {
      if (t_.options.missing_key == GoTemplate::MissingKey::kError && !header_)
        return errorf("nil data; no entry for key " + go_quote(name));
      return Val{};
    }
    const json& r = receiver.j;
    if (r.is_object()) {
      auto it = r.find(name);
      if (it != r.end()) {
        if (has_args) return errorf(name + " is not a method but has arguments");
        return valid(*it, true);
      }
      auto m = methods_.find(name);
      if (m != methods_.end()) {
        std::vector<json> margs;
        for (size_t i = 1; i < args.size(); ++i) {
          Val a = TRY(eval_arg(dot, *args[i]));
          margs.push_back(a.valid ? a.j : json());
        }
        if (final) margs.push_back(final->valid ? final->j : json());
        at_ = &node;
        auto res = m->second(r, margs);
        if (!res) return errorf("error calling " + name + ": " + res.error().message);
        return valid(std::move(*res));
      }
      if (has_args) return errorf(name + " is not a method but has arguments");
      if (header_) return valid("");
      if (t_.options.missing_key == GoTemplate::MissingKey::kError)
        return errorf("map has no entry for key " + go_quote(name));
      return Val{};
    }
    if (r.is_null()) return errorf("nil pointer evaluating interface {}." + name);
    return errorf("can't evaluate field " + name + " in type " + (receiver.boxed ? "interface {}" : go_type_name(r)));
  }

  Result<Val> eval_arg(const Val& dot, const Node& n) {
    at_ = &n;
    static const std::vector<NodePtr> kNone;
    switch (n.kind) {
      case NK::kDot: return dot;
      case NK::kNil: return valid(json());
      case NK::kField: return eval_field_chain(dot, dot, n, n.ident, 0, kNone, std::nullopt);
      case NK::kVariable: {
        Val value = TRY(var(n.ident[0]));
        if (n.ident.size() == 1) return value;
        value.boxed = false;
        return eval_field_chain(dot, value, n, n.ident, 1, kNone, std::nullopt);
      }
      case NK::kPipe: return eval_pipeline(dot, n);
      case NK::kIdentifier: return eval_function_args(dot, n, n, {}, std::nullopt);
      case NK::kChain: return eval_chain(dot, n, kNone, std::nullopt);
      case NK::kBool:
      case NK::kString: return valid(n.value);
      case NK::kNumber: return constant(n);
      default: return errorf("can't handle " + node_string(n) + " for arg");
    }
  }

  Result<Val> eval_function(const Val& dot, const Node& ident, const Node& cmd, const std::optional<Val>& final) {
    std::vector<const Node*> arg_nodes;
    for (size_t i = 1; i < cmd.nodes.size(); ++i) arg_nodes.push_back(cmd.nodes[i].get());
    return eval_function_args(dot, ident, cmd, arg_nodes, final);
  }

  // Argument helpers with Go's messages.
  Result<std::string> want_string(const Arg& a) {
    if (a.node) at_ = a.node;
    if (a.node && (a.node->kind == NK::kNumber || a.node->kind == NK::kBool || a.node->kind == NK::kNil))
      return errorf("expected string; found " + node_string(*a.node));
    if (!a.v.valid) return errorf("invalid value; expected string");
    if (!a.v.j.is_string()) return errorf("wrong type for value; expected string; got " + go_type_name(a.v.j));
    return a.v.j.get<std::string>();
  }

  Result<int64_t> want_int(const Arg& a) {
    if (a.node) at_ = a.node;
    if (a.node && (a.node->kind == NK::kString || a.node->kind == NK::kBool || a.node->kind == NK::kNil ||
                   (a.node->kind == NK::kNumber && !a.node->int_ok)))
      return errorf("expected integer; found " + node_string(*a.node));
    if (a.node && a.node->kind == NK::kNumber) return a.node->int_value;
    if (!a.v.valid) return errorf("invalid value; expected int");
    const json& j = a.v.j;
    if (j.is_number_integer()) return j.get<int64_t>();
    if (j.is_number_float() && std::trunc(j.get<double>()) == j.get<double>()) return int64_t(j.get<double>());
    return errorf("wrong type for value; expected int; got " + go_type_name(j));
  }

  static json plain(const Val& v) { return v.valid ? v.j : json(); }

  Result<Val> eval_function_args(const Val& dot, const Node& ident, const Node& cmd, const std::vector<const Node*>& arg_nodes,
                                 const std::optional<Val>& final) {
    at_ = &ident;
    const std::string& name = ident.text;
    size_t nargs = arg_nodes.size() + (final ? 1 : 0);
    auto want_count = [&](size_t n) -> Status {
      if (nargs != n) {
        at_ = &ident;
        return errorf("wrong number of args for " + name + ": want " + std::to_string(n) + " got " + std::to_string(nargs));
      }
      return {};
    };
    auto want_at_least = [&](size_t n) -> Status {
      if (nargs < n) {
        at_ = &ident;
        return errorf("wrong number of args for " + name + ": want at least " + std::to_string(n) + " got " + std::to_string(nargs));
      }
      return {};
    };

    // and/or short-circuit and return the deciding value.
    if ((name == "and" || name == "or") && !(t_.options.functions.count(name))) {
      TRY(want_at_least(1));
      Val v;
      for (auto* n : arg_nodes) {
        v = TRY(eval_arg(dot, *n));
        if (truth(v) == (name == "or")) return v;
      }
      if (final) v = *final;
      return v;
    }

    std::vector<Arg> args;
    for (auto* n : arg_nodes) args.push_back({TRY(eval_arg(dot, *n)), n});
    if (final) args.push_back({*final, nullptr});
    at_ = &cmd;
    auto call_error = [&](const std::string& msg) {
      at_ = &cmd;
      return errorf("error calling " + name + ": " + msg);
    };

    static const char* const kHeaderIdentity[] = {"json", "split", "join", "title", "lower", "upper", "pad", "truncate"};
    if (header_)
      for (auto h : kHeaderIdentity)
        if (name == h) {
          TRY(want_at_least(1));
          return args[0].v;
        }

    if (auto f = t_.options.functions.find(name); f != t_.options.functions.end()) {
      std::vector<json> plain_args;
      for (auto& a : args) plain_args.push_back(plain(a.v));
      auto r = f->second(plain_args);
      if (!r) return call_error(r.error().message);
      return valid(std::move(*r));
    }

    if (name == "not") {
      TRY(want_count(1));
      return valid(!truth(args[0].v));
    }
    if (name == "len") {
      TRY(want_count(1));
      const Val& v = args[0].v;
      if (!v.valid || v.j.is_null()) return call_error("len of nil pointer");
      if (v.j.is_string() || v.j.is_array() || v.j.is_object())
        return valid(int64_t(v.j.is_string() ? v.j.get_ref<const std::string&>().size() : v.j.size()));
      return call_error("len of type " + go_type_name(v.j));
    }
    if (name == "index" || name == "slice") {
      TRY(want_at_least(1));
      const Val& item = args[0].v;
      if (!item.valid || item.j.is_null()) return call_error(name + " of untyped nil");
      auto index_arg = [&](const Val& ix, size_t cap) -> Result<int64_t> {
        if (!ix.valid || ix.j.is_null()) return fail("cannot index slice/array with nil");
        if (!ix.j.is_number_integer()) return fail("cannot index slice/array with type " + go_type_name(ix.j));
        int64_t x = ix.j.get<int64_t>();
        if (x < 0 || uint64_t(x) > cap) return fail("index out of range: " + std::to_string(x));
        return x;
      };
      if (name == "slice") {
        if (args.size() > 4) return call_error("too many slice indexes: " + std::to_string(args.size() - 1));
        const json& j = item.j;
        if (!j.is_string() && !j.is_array()) return call_error("can't slice item of type " + go_type_name(j));
        if (j.is_string() && args.size() == 4) return call_error("cannot 3-index slice a string");
        size_t len = j.is_string() ? j.get_ref<const std::string&>().size() : j.size();
        int64_t idx[3] = {0, int64_t(len), int64_t(len)};
        for (size_t k = 1; k < args.size(); ++k) {
          auto x = index_arg(args[k].v, len);
          if (!x) return call_error(x.error().message);
          idx[k - 1] = *x;
        }
        if (idx[0] > idx[1]) return call_error("invalid slice index: " + std::to_string(idx[0]) + " > " + std::to_string(idx[1]));
        if (args.size() == 4 && idx[1] > idx[2])
          return call_error("invalid slice index: " + std::to_string(idx[1]) + " > " + std::to_string(idx[2]));
        if (j.is_string()) return valid(j.get_ref<const std::string&>().substr(size_t(idx[0]), size_t(idx[1] - idx[0])));
        json out = json::array();
        for (int64_t k = idx[0]; k < idx[1]; ++k) out.push_back(j[size_t(k)]);
        return valid(out);
      }
      json cur = item.j;
      bool missing_zero = false;
      for (size_t k = 1; k < args.size(); ++k) {
        const Val& ix = args[k].v;
        if (cur.is_null()) return call_error("index of nil pointer");
        if (cur.is_array() || cur.is_string()) {
          size_t len = cur.is_string() ? cur.get_ref<const std::string&>().size() : cur.size();
          auto x = index_arg(ix, len);
          if (!x) return call_error(x.error().message);
          if (size_t(*x) >= len) return call_error("index out of range: " + std::to_string(*x));
          if (cur.is_string()) cur = int64_t(static_cast<unsigned char>(cur.get_ref<const std::string&>()[size_t(*x)]));
          else cur = json(cur[size_t(*x)]);
        } else if (cur.is_object()) {
          if (!ix.valid || ix.j.is_null()) return call_error("value is nil; should be string");
          if (!ix.j.is_string()) return call_error("value has type " + go_type_name(ix.j) + "; should be string");
          auto it = cur.find(ix.j.get<std::string>());
          if (it != cur.end()) {
            cur = json(*it);
          } else {
            // The zero value of the map's element type: "" for a map of strings (Docker's
            // Labels, Options…), nil otherwise.
            bool strings = !cur.empty() && std::all_of(cur.begin(), cur.end(), [](const json& e) { return e.is_string(); });
            cur = strings ? json("") : json();
            missing_zero = !strings;
          }
        } else {
          return call_error("can't index item of type " + go_type_name(cur));
        }
      }
      (void)missing_zero;
      return valid(std::move(cur), true);
    }
    if (name == "eq" || name == "ne" || name == "lt" || name == "le" || name == "gt" || name == "ge") {
      if (name == "eq") {
        TRY(want_at_least(1));
      } else {
        TRY(want_count(2));
      }
      enum Kind { kInvalid, kBool, kNumber, kString, kOther };
      auto kind = [](const Val& v) {
        if (!v.valid || v.j.is_null()) return kInvalid;
        if (v.j.is_boolean()) return kBool;
        if (v.j.is_number()) return kNumber;
        if (v.j.is_string()) return kString;
        return kOther;
      };
      auto num = [](const json& j) -> long double {
        if (j.is_number_unsigned()) return (long double)j.get<uint64_t>();
        if (j.is_number_integer()) return (long double)j.get<int64_t>();
        return (long double)j.get<double>();
      };
      auto equal = [&](const Val& a, const Val& b) -> Result<bool> {
        Kind ka = kind(a), kb = kind(b);
        if (ka != kb) {
          if (ka != kInvalid && kb != kInvalid) return fail("incompatible types for comparison");
          return false;
        }
        switch (ka) {
          case kInvalid: return true;
          case kBool: return a.j.get<bool>() == b.j.get<bool>();
          case kNumber: return num(a.j) == num(b.j);
          case kString: return a.j.get_ref<const std::string&>() == b.j.get_ref<const std::string&>();
          default: return fail("non-comparable type " + go_format_value(a.j) + ": " + go_type_name(a.j));
        }
      };
      auto less = [&](const Val& a, const Val& b) -> Result<bool> {
        Kind ka = kind(a), kb = kind(b);
        if (ka == kInvalid || ka == kBool || ka == kOther || kb == kInvalid || kb == kBool || kb == kOther)
          return fail("invalid type for comparison");
        if (ka != kb) return fail("incompatible types for comparison");
        if (ka == kNumber) return num(a.j) < num(b.j);
        return a.j.get_ref<const std::string&>() < b.j.get_ref<const std::string&>();
      };
      Result<bool> r;
      if (name == "eq") {
        if (args.size() < 2) return call_error("missing argument for comparison");
        r = false;
        for (size_t k = 1; k < args.size(); ++k) {
          auto e = equal(args[0].v, args[k].v);
          if (!e) return call_error(e.error().message);
          if (*e) {
            r = true;
            break;
          }
        }
      } else if (name == "ne") {
        auto e = equal(args[0].v, args[1].v);
        if (!e) return call_error(e.error().message);
        r = !*e;
      } else {
        auto lt = less(args[0].v, args[1].v);
        if (!lt) return call_error(lt.error().message);
        bool le = *lt;
        if (!le && (name == "le" || name == "gt")) {
          auto e = equal(args[0].v, args[1].v);
          if (!e) return call_error(e.error().message);
          le = *e;
        }
        r = name == "lt" ? *lt : name == "le" ? le : name == "gt" ? !le : !*lt;
      }
      return valid(*r);
    }
    if (name == "print" || name == "println" || name == "printf" || name == "html" || name == "urlquery") {
      std::vector<json> plain_args;
      if (name == "printf") {
        TRY(want_at_least(1));
        std::string f = TRY(want_string(args[0]));
        at_ = &cmd;
        for (size_t k = 1; k < args.size(); ++k) plain_args.push_back(plain(args[k].v));
        return valid(go_sprintf(f, plain_args));
      }
      for (auto& a : args) plain_args.push_back(plain(a.v));
      if (name == "print") return valid(go_sprint(plain_args));
      if (name == "println") return valid(go_sprintln(plain_args));
      std::string s = plain_args.size() == 1 && plain_args[0].is_string() ? plain_args[0].get<std::string>() : go_sprint(plain_args);
      std::string out;
      if (name == "html") {
        for (char c : s) {
          switch (c) {
            case '"': out += "&#34;"; break;
            case '\'': out += "&#39;"; break;
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '\0': out += "\xef\xbf\xbd"; break;
            default: out += c;
          }
        }
      } else {
        for (unsigned char c : s) {
          if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += char(c);
          else if (c == ' ') out += '+';
          else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "%%%02X", c);
            out += buf;
          }
        }
      }
      return valid(out);
    }
    if (name == "json") {
      TRY(want_count(1));
      return valid(go_json(plain(args[0].v)));
    }
    if (name == "split") {
      TRY(want_count(2));
      std::string s = TRY(want_string(args[0]));
      std::string sep = TRY(want_string(args[1]));
      json out = json::array();
      if (sep.empty()) {
        for (size_t i = 0; i < s.size();) {
          int32_t r;
          size_t w = decode_utf8(s, i, r);
          out.push_back(s.substr(i, w));
          i += w;
        }
      } else {
        size_t start = 0;
        for (;;) {
          size_t p = s.find(sep, start);
          out.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
          if (p == std::string::npos) break;
          start = p + sep.size();
        }
      }
      return valid(out);
    }
    if (name == "join") {
      TRY(want_count(2));
      const Arg& a = args[0];
      if (a.node) at_ = a.node;
      if (!a.v.valid || a.v.j.is_null()) return errorf("invalid value; expected []string");
      if (!a.v.j.is_array()) return errorf("wrong type for value; expected []string; got " + go_type_name(a.v.j));
      std::string sep = TRY(want_string(args[1]));
      std::string out;
      bool first = true;
      for (auto& e : a.v.j) {
        if (!first) out += sep;
        first = false;
        format_value_into(out, e);
      }
      return valid(out);
    }
    if (name == "title" || name == "lower" || name == "upper") {
      TRY(want_count(1));
      std::string s = TRY(want_string(args[0]));
      if (name == "lower") {
        for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
      } else if (name == "upper") {
        for (auto& c : s) c = char(std::toupper(static_cast<unsigned char>(c)));
      } else {
        bool sep = true;
        for (auto& c : s) {
          unsigned char u = static_cast<unsigned char>(c);
          if (sep) c = char(std::toupper(u));
          sep = u < 0x80 && !std::isalnum(u) && u != '_';
        }
      }
      return valid(s);
    }
    if (name == "pad") {
      TRY(want_count(3));
      std::string s = TRY(want_string(args[0]));
      int64_t before = TRY(want_int(args[1]));
      int64_t after = TRY(want_int(args[2]));
      if (before < 0 || after < 0) return call_error("negative Repeat count");
      return valid(std::string(size_t(before), ' ') + s + std::string(size_t(after), ' '));
    }
    if (name == "truncate") {
      TRY(want_count(2));
      std::string s = TRY(want_string(args[0]));
      int64_t n = TRY(want_int(args[1]));
      if (int64_t(s.size()) < n) return valid(s);
      if (n < 0) return call_error("slice bounds out of range");
      return valid(s.substr(0, size_t(n)));
    }
    return errorf("function " + go_quote(name) + " not defined");
  }

  const GoTemplate::Tree& t_;
  bool header_;
  const std::map<std::string, GoTemplate::Method>& methods_;
  std::string out_;
  std::vector<std::pair<std::string, Val>> vars_;
  const Node* at_ = nullptr;
};

}  // namespace gotpl

// ---- public -----------------------------------------------------------------------------

std::string go_format_value(const json& v) {
  std::string out;
  format_value_into(out, v);
  return out;
}

std::string go_json(const json& v) {
  std::string out;
  go_json_into(out, v);
  return out;
}

std::string go_quote(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    int32_t r;
    size_t w = decode_utf8(s, i, r);
    quote_rune_into(out, r, w, s.substr(i), '"');
    i += w;
  }
  return out + "\"";
}

Result<GoTemplate> GoTemplate::parse(std::string_view text) { return parse(text, Options{}); }

Result<GoTemplate> GoTemplate::parse(std::string_view text, bool docker_escapes) {
  Options o;
  o.docker_escapes = docker_escapes;
  return parse(text, std::move(o));
}

Result<GoTemplate> GoTemplate::parse(std::string_view text, Options options) {
  auto tree = std::make_shared<Tree>();
  tree->source = std::string(text);
  if (options.docker_escapes) {
    std::string t;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\\' && i + 1 < text.size() && (text[i + 1] == 't' || text[i + 1] == 'n')) {
        t += text[i + 1] == 't' ? '\t' : '\n';
        ++i;
      } else {
        t += text[i];
      }
    }
    tree->text = std::move(t);
  } else {
    tree->text = tree->source;
  }
  tree->options = std::move(options);
  Lexer lexer(tree->text);
  Parser parser(lexer.run(), tree->text, FuncSet{&tree->options.functions});
  tree->root = TRY(parser.parse());
  GoTemplate t;
  t.tree_ = std::move(tree);
  return t;
}

Result<std::string> GoTemplate::execute(const json& data) const {
  Exec e(*tree_, false, tree_->options.methods);
  return e.run(data);
}

Result<std::string> GoTemplate::execute_header(const json& headers,
                                               const std::map<std::string, Method>& header_methods) const {
  Exec e(*tree_, true, header_methods);
  return e.run(headers);
}

const std::string& GoTemplate::source() const { return tree_->source; }

}  // namespace md::cli
