#include "cli/common/units.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <limits>

namespace md::cli {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

// Go's strconv.Quote for the ASCII we print in messages.
std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Go's strconv.ParseFloat(s, 64) for decimal syntax: [+-](digits[.digits]|.digits)[e[+-]digits],
// plus inf/infinity/nan. Hex floats and underscores are not accepted.
Result<double> parse_go_float(std::string_view s) {
  auto bad = [&] {
    return fail("strconv.ParseFloat: parsing " + quote(s) + ": invalid syntax", EINVAL);
  };
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  std::string_view body = s.substr(i);
  std::string low;
  for (char c : body) low += lower(c);
  if (low == "inf" || low == "infinity" || low == "nan") {
    double v = low == "nan" ? std::numeric_limits<double>::quiet_NaN()
                            : std::numeric_limits<double>::infinity();
    return (s[0] == '-') ? -v : v;
  }
  size_t digits = 0;
  while (i < s.size() && is_digit(s[i])) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_digit(s[i])) ++i, ++digits;
  }
  if (digits == 0) return bad();
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exp_digits = 0;
    while (i < s.size() && is_digit(s[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return bad();
  }
  if (i != s.size()) return bad();
  std::string copy(s);
  errno = 0;
  double v = std::strtod(copy.c_str(), nullptr);
  if (errno == ERANGE && std::isinf(v))
    return fail("strconv.ParseFloat: parsing " + quote(s) + ": value out of range", ERANGE);
  return v;
}

// Go converts an out-of-range float64 to int64 as 0x8000000000000000 on amd64.
int64_t go_float_to_int64(double v) {
  if (std::isnan(v) || v >= 9223372036854775808.0 || v < -9223372036854775808.0)
    return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(v);
}

Result<int64_t> parse_size(std::string_view s, int64_t base) {
  size_t sep = s.find_last_of("0123456789. ");
  if (sep == std::string_view::npos)
    return fail("invalid size: '" + std::string(s) + "'", EINVAL);
  std::string_view num, sfx;
  if (s[sep] != ' ') {
    num = s.substr(0, sep + 1);
    sfx = s.substr(sep + 1);
  } else {
    num = s.substr(0, sep);
    sfx = s.substr(sep + 1);
  }
  double size = TRY(parse_go_float(num));
  if (size < 0) return fail("invalid size: '" + std::string(s) + "'", EINVAL);
  if (sfx.empty()) return go_float_to_int64(size);
  std::string low;
  for (char c : sfx) low += lower(c);
  auto bad_suffix = [&] { return fail("invalid suffix: '" + low + "'", EINVAL); };
  if (low.size() > 3) return bad_suffix();
  if (low[0] == 'b') {
    if (low.size() > 1) return bad_suffix();
    return go_float_to_int64(size);
  }
  static constexpr std::string_view kPrefixes = "kmgtp";
  size_t power = kPrefixes.find(low[0]);
  if (power == std::string_view::npos) return bad_suffix();
  for (size_t p = 0; p <= power; ++p) size *= double(base);
  if (low.size() == 2 && low[1] != 'b') return bad_suffix();
  if (low.size() == 3 && low.substr(1) != "ib") return bad_suffix();
  return go_float_to_int64(size);
}

// Go's fmtFrac/fmtInt for Duration.String().
std::string frac(uint64_t& v, int prec) {
  std::string digits;
  bool print = false;
  for (int i = 0; i < prec; ++i) {
    uint64_t digit = v % 10;
    print = print || digit != 0;
    if (print) digits.insert(digits.begin(), char('0' + digit));
    v /= 10;
  }
  return print ? "." + digits : "";
}

std::string size_with_units(double size, double base, const char* const* units, int n) {
  int i = 0;
  while (size >= base && i < n - 1) {
    size /= base;
    ++i;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4g%s", size, units[i]);
  return buf;
}

// Days since 1970-01-01 → civil date (proleptic Gregorian), and back.
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += (m <= 2);
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

int days_in(int month, int64_t year) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))) return 29;
  return kDays[month - 1];
}

constexpr int64_t kNanos = 1'000'000'000;
constexpr std::string_view kRFC3339Nano = "2006-01-02T15:04:05.999999999Z07:00";
// Unix seconds of Go's zero time, 0001-01-01T00:00:00Z.
constexpr int64_t kZeroTimeUnix = -62135596800;

// A subset of Go's time.Parse: the layout elements 2006 01 02 15 04 05 .999999999 Z07:00
// and literal bytes, with Go's error messages. `local_offset` (seconds east of UTC) applies
// when the layout has no zone. Returns Unix seconds and nanoseconds.
Result<std::pair<int64_t, int64_t>> go_time_parse(std::string_view layout, std::string_view value,
                                                   int64_t local_offset) {
  const std::string_view avalue = value;
  auto err_parse = [&](std::string_view elem, std::string_view rest) {
    return fail("parsing time " + quote(avalue) + " as " + quote(layout) + ": cannot parse " +
                    quote(rest) + " as " + quote(elem),
                EINVAL);
  };
  auto err_msg = [&](const std::string& msg) {
    return fail("parsing time " + quote(avalue) + msg, EINVAL);
  };
  // getnum: one or two digits (two when fixed).
  auto getnum = [](std::string_view& v, bool fixed, int& out) -> bool {
    if (v.empty() || !is_digit(v[0])) return false;
    if (v.size() < 2 || !is_digit(v[1])) {
      if (fixed) return false;
      out = v[0] - '0';
      v.remove_prefix(1);
      return true;
    }
    out = (v[0] - '0') * 10 + (v[1] - '0');
    v.remove_prefix(2);
    return true;
  };
  int64_t year = 1;
  int month = 1, day = 1, hour = 0, min = 0, sec = 0;
  int64_t nsec = 0;
  bool has_zone = false;
  int64_t zone_offset = 0;
  std::string_view lay = layout;
  static constexpr std::string_view kChunks[] = {"2006", "01", "02", "15", "04", "05",
                                                 ".999999999", "Z07:00"};
  auto parse_frac = [&](size_t n) -> bool {  // value[0] is '.', digits follow up to n
    std::string_view digits = value.substr(1, n - 1);
    if (digits.size() > 9) digits = digits.substr(0, 9);
    int64_t ns = 0;
    for (size_t i = 0; i < 9; ++i) ns = ns * 10 + (i < digits.size() ? digits[i] - '0' : 0);
    nsec = ns;
    value.remove_prefix(n);
    return true;
  };
  while (!lay.empty()) {
    std::string_view chunk;
    for (auto c : kChunks)
      if (lay.starts_with(c)) {
        chunk = c;
        break;
      }
    if (chunk.empty()) {  // literal byte
      if (value.empty() || value[0] != lay[0]) return err_parse(lay.substr(0, 1), value);
      value.remove_prefix(1);
      lay.remove_prefix(1);
      continue;
    }
    lay.remove_prefix(chunk.size());
    std::string_view before = value;
    std::string range_err;
    if (chunk == "2006") {
      if (value.size() < 4 || !is_digit(value[0]) || !is_digit(value[1]) || !is_digit(value[2]) ||
          !is_digit(value[3]))
        return err_parse(chunk, before);
      year = std::atoi(std::string(value.substr(0, 4)).c_str());
      value.remove_prefix(4);
    } else if (chunk == "01") {
      if (!getnum(value, true, month)) return err_parse(chunk, before);
      if (month <= 0 || month > 12) range_err = "month";
    } else if (chunk == "02") {
      if (!getnum(value, true, day)) return err_parse(chunk, before);
    } else if (chunk == "15") {
      if (!getnum(value, false, hour)) return err_parse(chunk, before);
      if (hour < 0 || hour >= 24) range_err = "hour";
    } else if (chunk == "04") {
      if (!getnum(value, true, min)) return err_parse(chunk, before);
      if (min < 0 || min >= 60) range_err = "minute";
    } else if (chunk == "05") {
      if (!getnum(value, true, sec)) return err_parse(chunk, before);
      if (sec < 0 || sec >= 60) {
        range_err = "second";
      } else if (value.size() >= 2 && (value[0] == '.' || value[0] == ',') && is_digit(value[1]) &&
                 !lay.starts_with(".999999999")) {
        size_t n = 2;
        while (n < value.size() && is_digit(value[n])) ++n;
        parse_frac(n);
      }
    } else if (chunk == ".999999999") {
      if (value.size() >= 2 && (value[0] == '.' || value[0] == ',') && is_digit(value[1])) {
        size_t n = 1;
        while (n < value.size() && is_digit(value[n])) ++n;
        parse_frac(n);
      }
    } else {  // Z07:00
      has_zone = true;
      if (!value.empty() && value[0] == 'Z') {
        value.remove_prefix(1);
      } else {
        if (value.size() < 6 || value[3] != ':' || (value[0] != '+' && value[0] != '-') ||
            !is_digit(value[1]) || !is_digit(value[2]) || !is_digit(value[4]) ||
            !is_digit(value[5]))
          return err_parse(chunk, before);
        int hh = (value[1] - '0') * 10 + (value[2] - '0');
        int mm = (value[4] - '0') * 10 + (value[5] - '0');
        if (hh > 24 || mm > 60) range_err = "time zone offset";
        zone_offset = (hh * 3600 + mm * 60) * (value[0] == '-' ? -1 : 1);
        value.remove_prefix(6);
      }
    }
    if (!range_err.empty()) return err_msg(": " + range_err + " out of range");
  }
  if (!value.empty()) return err_msg(": extra text: " + quote(value));
  if (day < 1 || day > days_in(month, year)) return err_msg(": day out of range");
  int64_t secs = days_from_civil(year, unsigned(month), unsigned(day)) * 86400 + hour * 3600 +
                 min * 60 + sec;
  secs -= has_zone ? zone_offset : local_offset;
  return std::pair<int64_t, int64_t>{secs, nsec};
}

int64_t local_offset_at(int64_t unix_seconds) {
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  if (!localtime_r(&t, &tm)) return 0;
  return tm.tm_gmtoff;
}

}  // namespace

Result<int64_t> parse_ram_bytes(std::string_view s) { return parse_size(s, 1024); }
Result<int64_t> parse_human_size(std::string_view s) { return parse_size(s, 1000); }

Result<int64_t> parse_cpus(std::string_view s) {
  auto bad = [&] {
    return fail("failed to parse " + std::string(s) + " as a rational number", EINVAL);
  };
  // Exact arithmetic in __int128: value = sign * mant * 10^exp / den.
  bool neg = false;
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  __int128 mant = 0;
  int64_t exp10 = 0;
  size_t digits = 0;
  bool overflow = false;
  auto push_digit = [&](char c, bool after_point) {
    if (mant > (__int128(1) << 100)) {  // keep precision bounded; extra digits must be zero
      if (c != '0') overflow = true;
      if (!after_point) ++exp10;
    } else {
      mant = mant * 10 + (c - '0');
      if (after_point) --exp10;
    }
    ++digits;
  };
  while (i < s.size() && is_digit(s[i])) push_digit(s[i++], false);
  size_t slash = s.find('/');
  if (slash != std::string_view::npos) {
    // "a/b": integers only, b > 0.
    if (i != slash || digits == 0) return bad();
    __int128 den = 0;
    size_t j = slash + 1, den_digits = 0;
    for (; j < s.size() && is_digit(s[j]); ++j, ++den_digits) {
      den = den * 10 + (s[j] - '0');
      if (den > (__int128(1) << 100)) return bad();
    }
    if (j != s.size() || den_digits == 0 || den == 0 || overflow) return bad();
    __int128 nano = mant * kNanos;
    if (nano % den != 0) return fail("value is too precise", EINVAL);
    nano /= den;
    return static_cast<int64_t>(neg ? -nano : nano);
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_digit(s[i])) push_digit(s[i++], true);
  }
  if (digits == 0) return bad();
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool eneg = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) eneg = s[i++] == '-';
    int64_t e = 0;
    size_t edigits = 0;
    for (; i < s.size() && is_digit(s[i]); ++i, ++edigits) {
      e = e * 10 + (s[i] - '0');
      if (e > 100000) return bad();
    }
    if (edigits == 0) return bad();
    exp10 += eneg ? -e : e;
  }
  if (i != s.size() || overflow) return bad();
  exp10 += 9;  // × 1e9
  while (exp10 < 0 && mant != 0 && mant % 10 == 0) {
    mant /= 10;
    ++exp10;
  }
  if (mant == 0) return int64_t{0};
  if (exp10 < 0) return fail("value is too precise", EINVAL);
  while (exp10 > 0) {
    if (mant > (__int128(1) << 100)) break;  // far beyond int64 anyway
    mant *= 10;
    --exp10;
  }
  // big.Int.Int64() keeps the low 64 bits.
  return static_cast<int64_t>(static_cast<uint64_t>(neg ? -mant : mant));
}

Result<int64_t> parse_go_duration(std::string_view orig) {
  auto invalid = [&] { return fail("time: invalid duration " + quote(orig), EINVAL); };
  std::string_view s = orig;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return int64_t{0};
  if (s.empty()) return invalid();
  constexpr uint64_t kMax = uint64_t(1) << 63;
  uint64_t d = 0;
  while (!s.empty()) {
    if (!(s[0] == '.' || is_digit(s[0]))) return invalid();
    uint64_t v = 0;
    size_t n = 0;
    for (; n < s.size() && is_digit(s[n]); ++n) {
      if (v > kMax / 10) return invalid();
      v = v * 10 + uint64_t(s[n] - '0');
      if (v > kMax) return invalid();
    }
    bool pre = n > 0;
    s.remove_prefix(n);
    bool post = false;
    uint64_t f = 0;
    double scale = 1;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      size_t m = 0;
      bool overflow = false;
      for (; m < s.size() && is_digit(s[m]); ++m) {
        if (overflow) continue;
        if (f > (kMax - 1) / 10) {
          overflow = true;
          continue;
        }
        uint64_t y = f * 10 + uint64_t(s[m] - '0');
        if (y > kMax) {
          overflow = true;
          continue;
        }
        f = y;
        scale *= 10;
      }
      post = m > 0;
      s.remove_prefix(m);
    }
    if (!pre && !post) return invalid();
    size_t u = 0;
    while (u < s.size() && s[u] != '.' && !is_digit(s[u])) ++u;
    if (u == 0) return fail("time: missing unit in duration " + quote(orig), EINVAL);
    std::string_view unit_name = s.substr(0, u);
    s.remove_prefix(u);
    uint64_t unit;
    if (unit_name == "ns") unit = 1;
    else if (unit_name == "us" || unit_name == "\xc2\xb5s" || unit_name == "\xce\xbcs") unit = 1000;
    else if (unit_name == "ms") unit = 1'000'000;
    else if (unit_name == "s") unit = kNanos;
    else if (unit_name == "m") unit = 60 * kNanos;
    else if (unit_name == "h") unit = 3600 * kNanos;
    else
      return fail("time: unknown unit " + quote(unit_name) + " in duration " + quote(orig), EINVAL);
    if (v > kMax / unit) return invalid();
    v *= unit;
    if (f > 0) {
      v += uint64_t(double(f) * (double(unit) / scale));
      if (v > kMax) return invalid();
    }
    d += v;
    if (d > kMax) return invalid();
  }
  if (neg) return static_cast<int64_t>(0 - d);
  if (d > kMax - 1) return invalid();
  return static_cast<int64_t>(d);
}

std::string format_go_duration(int64_t ns) {
  bool neg = ns < 0;
  uint64_t u = neg ? 0 - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  std::string out;
  if (u < uint64_t(kNanos)) {
    if (u == 0) return "0s";
    std::string unit;
    int prec;
    if (u < 1000) {
      prec = 0;
      unit = "ns";
    } else if (u < 1'000'000) {
      prec = 3;
      unit = "\xc2\xb5s";
    } else {
      prec = 6;
      unit = "ms";
    }
    std::string f = frac(u, prec);
    out = std::to_string(u) + f + unit;
  } else {
    std::string f = frac(u, 9);
    out = std::to_string(u % 60) + f + "s";
    u /= 60;
    if (u > 0) {
      out = std::to_string(u % 60) + "m" + out;
      u /= 60;
      if (u > 0) out = std::to_string(u) + "h" + out;
    }
  }
  return neg ? "-" + out : out;
}

std::string human_size(double bytes) {
  static const char* const kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
  return size_with_units(bytes, 1000.0, kUnits, 9);
}

std::string bytes_size(double bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
  return size_with_units(bytes, 1024.0, kUnits, 9);
}

std::string human_duration(int64_t ns) {
  double secs_f = double(ns) / 1e9;
  int64_t seconds = static_cast<int64_t>(secs_f);
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return std::to_string(seconds) + " seconds";
  int64_t minutes = static_cast<int64_t>(secs_f / 60);
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return std::to_string(minutes) + " minutes";
  int64_t hours = static_cast<int64_t>(std::round(secs_f / 3600));
  if (hours == 1) return "About an hour";
  if (hours < 48) return std::to_string(hours) + " hours";
  if (hours < 24 * 7 * 2) return std::to_string(hours / 24) + " days";
  if (hours < 24 * 30 * 2) return std::to_string(hours / 24 / 7) + " weeks";
  if (hours < 24 * 365 * 2) return std::to_string(hours / 24 / 30) + " months";
  return std::to_string(static_cast<int64_t>(secs_f / 3600) / 24 / 365) + " years";
}

std::string format_rfc3339_nano(int64_t unix_ns) {
  if (unix_ns == 0) return "0001-01-01T00:00:00Z";
  int64_t secs = unix_ns / kNanos, nanos = unix_ns % kNanos;
  if (nanos < 0) {
    nanos += kNanos;
    --secs;
  }
  int64_t days = secs / 86400, rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02d", static_cast<long long>(y), m,
                d, int(rem / 3600), int(rem / 60 % 60), int(rem % 60));
  std::string out = buf;
  if (nanos != 0) {
    std::snprintf(buf, sizeof buf, ".%09lld", static_cast<long long>(nanos));
    std::string f = buf;
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  return out + "Z";
}

namespace {

struct LocalTime {
  struct tm tm {};
  int64_t nanos = 0;
};

LocalTime local_time(int64_t unix_ns) {
  int64_t secs = unix_ns / kNanos, nanos = unix_ns % kNanos;
  if (nanos < 0) {
    nanos += kNanos;
    --secs;
  }
  LocalTime lt;
  time_t t = static_cast<time_t>(secs);
  localtime_r(&t, &lt.tm);
  lt.nanos = nanos;
  return lt;
}

std::string zone_offset(long gmtoff, bool colon) {
  char buf[16];
  long a = gmtoff < 0 ? -gmtoff : gmtoff;
  std::snprintf(buf, sizeof buf, colon ? "%c%02ld:%02ld" : "%c%02ld%02ld", gmtoff < 0 ? '-' : '+', a / 3600, a / 60 % 60);
  return buf;
}

}  // namespace

std::string format_local_time(int64_t unix_ns) {
  LocalTime lt = local_time(unix_ns);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", lt.tm.tm_year + 1900, lt.tm.tm_mon + 1,
                lt.tm.tm_mday, lt.tm.tm_hour, lt.tm.tm_min, lt.tm.tm_sec);
  std::string out = buf;
  if (lt.nanos != 0) {
    std::snprintf(buf, sizeof buf, ".%09lld", static_cast<long long>(lt.nanos));
    std::string f = buf;
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  out += " " + zone_offset(lt.tm.tm_gmtoff, false);
  std::string abbrev = lt.tm.tm_zone ? lt.tm.tm_zone : "";
  if (abbrev.empty()) abbrev = zone_offset(lt.tm.tm_gmtoff, false);
  return out + " " + abbrev;
}

std::string format_event_time(int64_t unix_ns) {
  LocalTime lt = local_time(unix_ns);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09lld", lt.tm.tm_year + 1900, lt.tm.tm_mon + 1,
                lt.tm.tm_mday, lt.tm.tm_hour, lt.tm.tm_min, lt.tm.tm_sec, static_cast<long long>(lt.nanos));
  return std::string(buf) + (lt.tm.tm_gmtoff == 0 ? "Z" : zone_offset(lt.tm.tm_gmtoff, true));
}

Result<int64_t> parse_rfc3339_nano(std::string_view s) {
  auto [secs, nsec] = TRY(go_time_parse(kRFC3339Nano, s, 0));
  if (secs == kZeroTimeUnix && nsec == 0) return int64_t{0};
  return secs * kNanos + nsec;
}

Result<int64_t> parse_time_filter(std::string_view value, int64_t now_ns) {
  if (value != "0") {
    if (auto d = parse_go_duration(value)) return now_ns - *d;
  }
  bool in_location = value.find_first_of("zZ+") == std::string_view::npos &&
                     std::count(value.begin(), value.end(), '-') != 3;
  std::string_view layout;
  if (value.find('.') != std::string_view::npos) {
    layout = in_location ? "2006-01-02T15:04:05.999999999" : kRFC3339Nano;
  } else if (value.find('T') != std::string_view::npos) {
    auto colons = std::count(value.begin(), value.end(), ':');
    if (!in_location && value.find_first_of("zZ") == std::string_view::npos && colons > 0)
      --colons;
    if (in_location)
      layout = colons == 0 ? "2006-01-02T15" : colons == 1 ? "2006-01-02T15:04" : "2006-01-02T15:04:05";
    else
      layout = colons == 0   ? "2006-01-02T15Z07:00"
               : colons == 1 ? "2006-01-02T15:04Z07:00"
                             : "2006-01-02T15:04:05Z07:00";
  } else {
    layout = in_location ? "2006-01-02" : "2006-01-02Z07:00";
  }
  int64_t offset = in_location ? local_offset_at(now_ns / kNanos) : 0;
  auto parsed = go_time_parse(layout, value, offset);
  if (parsed) return parsed->first * kNanos + parsed->second;
  if (value.find('-') != std::string_view::npos) return std::unexpected(parsed.error());
  // Unix timestamp: seconds[.fraction].
  auto unix_fail = [&] {
    return fail("failed to parse value as time or duration: " + quote(value), EINVAL);
  };
  std::string_view sec_part = value, frac_part;
  size_t dot = value.find('.');
  if (dot != std::string_view::npos) {
    sec_part = value.substr(0, dot);
    frac_part = value.substr(dot + 1);
  }
  auto parse_int = [](std::string_view t, int64_t& out) {
    if (t.empty()) return false;
    size_t i = (t[0] == '+' || t[0] == '-') ? 1 : 0;
    if (i == t.size()) return false;
    __int128 v = 0;
    for (size_t j = i; j < t.size(); ++j) {
      if (!is_digit(t[j])) return false;
      v = v * 10 + (t[j] - '0');
      if (v > std::numeric_limits<int64_t>::max()) return false;
    }
    out = static_cast<int64_t>(t[0] == '-' ? -v : v);
    return true;
  };
  int64_t secs = 0, nanos = 0;
  if (!parse_int(sec_part, secs)) return unix_fail();
  if (dot != std::string_view::npos) {
    if (frac_part.empty() || frac_part[0] == '+' || frac_part[0] == '-' ||
        !parse_int(frac_part, nanos))
      return unix_fail();
    // Docker scales the fraction to nanoseconds: ".5" = 500000000.
    std::string_view ns_digits = frac_part.substr(0, std::min<size_t>(frac_part.size(), 9));
    parse_int(ns_digits, nanos);
    for (size_t i = ns_digits.size(); i < 9; ++i) nanos *= 10;
  }
  return secs * kNanos + nanos;
}

}  // namespace md::cli
