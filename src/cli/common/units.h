// Units the docker CLI parses and prints, with Docker's (go-units, Go time) exact behaviour:
//
//   parse_ram_bytes("64m") == 67108864        (-m, --memory-swap, --shm-size, tmpfs-size)
//   parse_cpus("1.5") == 1500000000           (--cpus → NanoCpus)
//   parse_go_duration("1m30s") == 90e9 ns     (--health-interval, --stop-timeout…)
//   human_size(1234567) == "1.235MB"          (docker images/ps -s SIZE)
//   bytes_size(1572864) == "1.5MiB"           (docker stats)
//   human_duration(5s) == "5 seconds"         ("Up 5 seconds", "Exited (0) 2 minutes ago")
//   format_rfc3339_nano(ns) == "2026-11-23T19:14:15.473689359Z"   (inspect's timestamps)
//   parse_time_filter("10m", now)             (logs --since/--until, events --since)
//
// Errors carry Docker's wording so the caller can print them after
// `invalid argument "abc" for "-m, --memory" flag: ` (see run_flags.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace md::cli {

// go-units RAMInBytes: a number (Go float syntax: "1.5", ".5", "1e3") with an optional
// binary suffix b k m g t p (any case), optionally followed by "b"/"ib" ("64mb", "1KiB"),
// optionally after one space ("1 m"). Fractions truncate ("0.5k" = 512).
// Errors: `invalid size: 'abc'`, `invalid size: '-5'`, `invalid suffix: 'x'`,
// `strconv.ParseFloat: parsing "1.2.3": invalid syntax`.
Result<int64_t> parse_ram_bytes(std::string_view s);
// go-units FromHumanSize: the same syntax with decimal multipliers ("1k" = 1000).
Result<int64_t> parse_human_size(std::string_view s);

// docker's --cpus (opts.NanoCPUs): a rational ("1.5", "1/2", "1e-3", "+1", "-0.5")
// times 1e9. Errors: `failed to parse 1.x as a rational number`, `value is too precise`.
Result<int64_t> parse_cpus(std::string_view s);

// Go's time.ParseDuration → nanoseconds: "300ms", "-1.5h", "2h45m", "1us"/"1µs", "0".
// Errors: `time: invalid duration "x"`, `time: missing unit in duration "10"`,
// `time: unknown unit "x" in duration "10x"`.
Result<int64_t> parse_go_duration(std::string_view s);
// Go's time.Duration.String(): "1m30s", "1.5s", "500ms", "0s", "2h0m0s".
std::string format_go_duration(int64_t ns);

// go-units HumanSize: decimal units, 4 significant digits: "0B", "999B", "4.1kB", "1.235MB".
std::string human_size(double bytes);
// go-units BytesSize: binary units: "1KiB", "1.5MiB", "64MiB".
std::string bytes_size(double bytes);
// go-units HumanDuration: "Less than a second", "1 second", "5 seconds", "About a minute",
// "3 minutes", "About an hour", "2 hours", "2 days", "3 weeks", "5 months", "2 years".
std::string human_duration(int64_t ns);

// Go's time.Format(time.RFC3339Nano) in UTC: "2026-11-23T19:14:15.473689359Z",
// "2026-11-23T19:14:15.5Z", "2026-11-23T19:14:15Z" (trailing zeros trimmed).
// 0 means "never" and prints Go's zero time, "0001-01-01T00:00:00Z", as docker inspect does.
std::string format_rfc3339_nano(int64_t unix_ns);
// Go's Time.String() in the local time zone: "2023-11-14 22:13:20 +0000 UTC",
// "2023-11-14 23:13:20.5 +0100 CET" (docker ps's CreatedAt; pass whole seconds for it).
std::string format_local_time(int64_t unix_ns);
// docker events' timestamp (jsonmessage.RFC3339NanoFixed, local time zone):
// "2023-11-14T22:13:20.000000000Z", "2023-11-14T23:13:20.500000000+01:00".
std::string format_event_time(int64_t unix_ns);

// Go's time.Parse(time.RFC3339Nano, s) → Unix ns. Accepts "Z" or "+hh:mm"/"-hh:mm" and an
// optional fraction; "0001-01-01T00:00:00Z" gives 0. Errors are Go's:
// `parsing time "x" as "2006-01-02T15:04:05.999999999Z07:00": cannot parse "x" as "2006"`.
Result<int64_t> parse_rfc3339_nano(std::string_view s);

// Docker's GetTimestamp (logs --since/--until, events --since/--until) → Unix ns:
//   "10m", "1h30m", "-5s"      a Go duration before `now_ns` (not "0")
//   "1700000000", "1700000000.5"   Unix seconds[.fraction]
//   "2024-01-02", "2024-01-02T15:04", "2024-01-02T15:04:05Z", "…+02:00", "…05.123"
//                               RFC 3339 and its shortenings; without zone = local time
// Errors: `failed to parse value as time or duration: "abc"` or Go's time.Parse error
// when the value looked like a date (contains '-').
Result<int64_t> parse_time_filter(std::string_view value, int64_t now_ns);

}  // namespace md::cli
