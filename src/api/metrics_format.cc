// Prometheus text format 0.0.4 (metrics_format.h).
#include "api/metrics_format.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace md::api {

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string format_metric_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e18) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.17g", v);
    // The shortest representation that reads back the same.
    for (int p = 1; p <= 17; ++p) {
      char t[64];
      std::snprintf(t, sizeof t, "%.*g", p, v);
      if (std::strtod(t, nullptr) == v) {
        std::snprintf(buf, sizeof buf, "%s", t);
        break;
      }
    }
  }
  return buf;
}

std::string prometheus_text(const std::vector<MetricFamily>& families) {
  std::string out;
  for (auto& f : families) {
    out += "# HELP " + f.name + " " + escape_help(f.help) + "\n";
    out += "# TYPE " + f.name + " " + f.type + "\n";
    for (auto& s : f.samples) {
      out += f.name;
      if (!s.labels.empty()) {
        out += '{';
        bool first = true;
        for (auto& [k, v] : s.labels) {
          if (!first) out += ',';
          first = false;
          out += k + "=\"" + escape_label_value(v) + "\"";
        }
        out += '}';
      }
      out += ' ';
      out += format_metric_value(s.value);
      out += '\n';
    }
  }
  return out;
}

}  // namespace md::api
