// Prometheus text exposition format 0.0.4 (what GET /metrics answers): metric families
// with HELP and TYPE lines, label values escaped. Pure, unit-tested (metrics_test.cc).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace md::api {

inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

struct MetricSample {
  std::vector<std::pair<std::string, std::string>> labels;  // in this order
  double value = 0;
};

struct MetricFamily {
  std::string name;  // [a-zA-Z_:][a-zA-Z0-9_:]*
  std::string help;
  std::string type;  // counter | gauge
  std::vector<MetricSample> samples;
};

// Label values: backslash, double quote and newline escaped (\\, \", \n).
std::string escape_label_value(std::string_view v);
// HELP text: backslash and newline escaped.
std::string escape_help(std::string_view v);
// Whole numbers without an exponent or fraction ("1073741824"), others shortest round
// trip ("0.25"), and Prometheus' NaN, +Inf, -Inf.
std::string format_metric_value(double v);
// Every family: "# HELP", "# TYPE", then one line per sample; families without samples
// still get their HELP and TYPE lines.
std::string prometheus_text(const std::vector<MetricFamily>& families);

}  // namespace md::api
