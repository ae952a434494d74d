// The Prometheus text formatter behind /metrics (metrics_format.h).
#include "api/metrics_format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace md::api {
namespace {

TEST(MetricsFormat, HelpTypeAndSamplesInOrder) {
  MetricFamily f{"minidocker_container_pids", "Processes.", "gauge", {}};
  f.samples.push_back({{{"id", "abc"}, {"name", "web"}}, 3});
  f.samples.push_back({{{"id", "def"}, {"name", "db"}}, 0});
  EXPECT_EQ(prometheus_text({f}),
            "# HELP minidocker_container_pids Processes.\n"
            "# TYPE minidocker_container_pids gauge\n"
            "minidocker_container_pids{id=\"abc\",name=\"web\"} 3\n"
            "minidocker_container_pids{id=\"def\",name=\"db\"} 0\n");
}

TEST(MetricsFormat, FamilyWithoutSamplesKeepsHelpAndType) {
  MetricFamily f{"minidocker_container_health_status", "1 healthy", "gauge", {}};
  EXPECT_EQ(prometheus_text({f}),
            "# HELP minidocker_container_health_status 1 healthy\n# TYPE minidocker_container_health_status gauge\n");
}

TEST(MetricsFormat, SampleWithoutLabels) {
  MetricFamily f{"up", "h", "gauge", {{{}, 1}}};
  EXPECT_NE(prometheus_text({f}).find("\nup 1\n"), std::string::npos);
}

TEST(MetricsFormat, LabelValuesAreEscaped) {
  EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(escape_label_value("busybox:1.36"), "busybox:1.36");
  MetricFamily f{"m", "h", "gauge", {{{{"image", "we\"ird\\"}}, 1}}};
  EXPECT_NE(prometheus_text({f}).find("m{image=\"we\\\"ird\\\\\"} 1\n"), std::string::npos);
}

TEST(MetricsFormat, HelpEscapesBackslashAndNewlineOnly) {
  EXPECT_EQ(escape_help("a\\b\nc\"d"), "a\\\\b\\nc\"d");
}

TEST(MetricsFormat, Values) {
  EXPECT_EQ(format_metric_value(0), "0");
  EXPECT_EQ(format_metric_value(1073741824), "1073741824");
  EXPECT_EQ(format_metric_value(12345678901234.0), "12345678901234");
  EXPECT_EQ(format_metric_value(0.25), "0.25");
  EXPECT_EQ(format_metric_value(1.5e-9), "1.5e-09");
  EXPECT_EQ(format_metric_value(-2), "-2");
  EXPECT_EQ(format_metric_value(std::nan("")), "NaN");
  EXPECT_EQ(format_metric_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_metric_value(-std::numeric_limits<double>::infinity()), "-Inf");
  double v = 0.1 + 0.2;
  EXPECT_EQ(std::strtod(format_metric_value(v).c_str(), nullptr), v);
}

}  // namespace
}  // namespace md::api
