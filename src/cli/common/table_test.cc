// Expected output: Go's text/tabwriter (10, 1, 3, ' ', 0) and docker 28's `ps` against the
// same rows.
#include "cli/common/table.h"

#include <gtest/gtest.h>

namespace md::cli {
namespace {

using nlohmann::json;

TEST(Table, TabWriterLikeGo) {
  EXPECT_EQ(tabwrite("a\tb\tc\nxx\nlonger-than-ten\tq\n\tempty-first\tz\n"),
            "a         b         c\n"
            "xx\n"
            "longer-than-ten   q\n"
            "                  empty-first   z\n");
  // Column blocks end where a line has fewer cells; the last cell is never padded; a
  // final line without a newline is kept as is.
  EXPECT_EQ(tabwrite("h1\th2\th3\nshort\tx\nvery-long-cell-here\ty\tz\tw\nno-newline\tend"),
            "h1                    h2        h3\n"
            "short                 x\n"
            "very-long-cell-here   y         z         w\n"
            "no-newline            end");
  // Widths count UTF-8 characters, not bytes.
  EXPECT_EQ(tabwrite("\"sh -c 'echo w\xe2\x80\xa6\"\tx\n\"sleep 100\"\ty\n"),
            "\"sh -c 'echo w\xe2\x80\xa6\"   x\n"
            "\"sleep 100\"        y\n");
  EXPECT_EQ(tabwrite(""), "");
  EXPECT_EQ(format_columns({{"NAME", "SIZE"}, {"a-long-name", "1kB"}}), "NAME          SIZE\na-long-name   1kB\n");

  TabWriter w;
  w.write("a\t");
  w.write("b\nccc");
  w.write("c\td\n");
  EXPECT_EQ(w.flush(), "a         b\ncccc      d\n");
  EXPECT_EQ(w.flush(), "");  // empty after a flush
}

std::vector<json> ps_rows() {
  return {
      {{"ID", "0123456789ab"}, {"Image", "busybox"}, {"Command", "\"sleep 100\""}, {"RunningFor", "3 years ago"},
       {"Status", "Up 5 seconds"}, {"Ports", "0.0.0.0:8080->80/tcp"}, {"Names", "web"}, {"Labels", "a=1,com.x-y_z=q"},
       {"State", "running"}},
      {{"ID", "fedcba987654"}, {"Image", "alpine:latest"}, {"Command", "\"sh -c 'echo hello w\xe2\x80\xa6\""},
       {"RunningFor", "3 years ago"}, {"Status", "Exited (0) 2 minutes ago"}, {"Ports", ""},
       {"Names", "a-much-longer-container-name"}, {"Labels", ""}, {"State", "exited"}},
  };
}

TEST(Table, DockerPsDefault) {
  auto out = format_table(
      "table {{.ID}}\\t{{.Image}}\\t{{.Command}}\\t{{.RunningFor}}\\t{{.Status}}\\t{{.Ports}}\\t{{.Names}}", ps_rows(),
      ps_headers());
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(*out,
            "CONTAINER ID   IMAGE           COMMAND                  CREATED       STATUS                     PORTS  "
            "                NAMES\n"
            "0123456789ab   busybox         \"sleep 100\"              3 years ago   Up 5 seconds               "
            "0.0.0.0:8080->80/tcp   web\n"
            "fedcba987654   alpine:latest   \"sh -c 'echo hello w\xe2\x80\xa6\"   3 years ago   Exited (0) 2 minutes ago "
            "                         a-much-longer-container-name\n");
  // A real tab in the format works the same.
  auto tab = format_table("table {{.ID}}\t{{.Status}}\t{{.Ports}}", ps_rows(), ps_headers());
  EXPECT_EQ(*tab,
            "CONTAINER ID   STATUS                     PORTS\n"
            "0123456789ab   Up 5 seconds               0.0.0.0:8080->80/tcp\n"
            "fedcba987654   Exited (0) 2 minutes ago   \n");
}

TEST(Table, DockerFormats) {
  auto rows = ps_rows();
  // Not a table: each row + "\n", trimmed of spaces, no alignment, no header.
  EXPECT_EQ(*format_table("  {{.Names}} {{.Label \"a\"}} ", rows, ps_headers()), "web 1\na-much-longer-container-name \n");
  EXPECT_EQ(*format_table("{{.Names}}\\t{{.Status}}", rows, ps_headers()),
            "web\tUp 5 seconds\na-much-longer-container-name\tExited (0) 2 minutes ago\n");
  // Headers through functions and labels, as docker 28 prints them.
  EXPECT_EQ(*format_table("table {{.Names}}\\t{{.Label \"a\"}}\\t{{.ID}}x{{.Image}}\\t{{json .Names}}", rows, ps_headers()),
            "NAMES                          a         CONTAINER IDxIMAGE           NAMES\n"
            "web                            1         0123456789abxbusybox         \"web\"\n"
            "a-much-longer-container-name             fedcba987654xalpine:latest   \"a-much-longer-container-name\"\n");
  EXPECT_EQ(*format_table("table {{.Label \"com.x-y_z\"}}|{{upper .Names}}|{{.Names | printf \"%s!\"}}|{{len .Names}}",
                          {rows[0]}, ps_headers()),
            "x y z|NAMES|NAMES!|5\nq|WEB|web!|3\n");
  // json: one object per row.
  EXPECT_EQ(*format_table("json", {json{{"b", "2"}, {"a", "1"}}}, ps_headers()), "{\"a\":\"1\",\"b\":\"2\"}\n");
  // A table with no rows still has its header; a plain format prints nothing.
  EXPECT_EQ(*format_table("table {{.ID}}\\t{{.Names}}", {}, ps_headers()), "CONTAINER ID   NAMES\n");
  EXPECT_EQ(*format_table("{{.ID}}", {}, ps_headers()), "");
  // Labels as an object work too.
  EXPECT_EQ(*format_table("{{.Label \"k\"}}", {json{{"Labels", {{"k", "v"}}}}}, ps_headers()), "v\n");
}

TEST(Table, Errors) {
  auto bad = TableFormatter::parse("table {{.ID}", ps_headers());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "template: :1: bad character U+007D '}'");
  auto f = TableFormatter::parse("table {{.Nope}}", ps_headers());
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->is_table());
  auto out = f->render(ps_rows());
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().message, "template: :1:2: executing \"\" at <.Nope>: map has no entry for key \"Nope\"");
}

TEST(Table, Headers) {
  EXPECT_EQ(ps_headers().at("RunningFor"), "CREATED");
  EXPECT_EQ(image_headers().at("ID"), "IMAGE ID");
  EXPECT_EQ(image_headers().at("CreatedSince"), "CREATED");
  EXPECT_EQ(history_headers().at("CreatedBy"), "CREATED BY");
  EXPECT_EQ(volume_headers().at("Name"), "VOLUME NAME");
  EXPECT_EQ(stats_headers().at("MemUsage"), "MEM USAGE / LIMIT");
  auto out = format_table("table {{.Driver}}\\t{{.Name}}", {json{{"Driver", "local"}, {"Name", "data"}}}, volume_headers());
  EXPECT_EQ(*out, "DRIVER    VOLUME NAME\nlocal     data\n");
}

}  // namespace
}  // namespace md::cli
