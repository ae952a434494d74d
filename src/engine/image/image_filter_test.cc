#include "engine/image/image_filter.h"

#include <gtest/gtest.h>

namespace md::image {
namespace {

store::Image image(std::vector<std::string> tags, int64_t created, std::string config = "{}") {
  store::Image img;
  img.id = "sha256:" + std::string(64, 'a');
  img.tags = std::move(tags);
  img.created = created;
  img.config = std::move(config);
  return img;
}

TEST(ImageFilter, ReferencePatterns) {
  EXPECT_TRUE(reference_matches("busybox", "busybox:latest"));
  EXPECT_TRUE(reference_matches("busy*", "busybox:1.36"));
  EXPECT_TRUE(reference_matches("*:1.36", "busybox:1.36"));
  EXPECT_TRUE(reference_matches("busybox:latest", "busybox:latest"));
  EXPECT_FALSE(reference_matches("busybox:1", "busybox:latest"));
  // "*" does not cross "/", as Go's path.Match.
  EXPECT_FALSE(reference_matches("*", "team/app:v1"));
  EXPECT_TRUE(reference_matches("team/*", "team/app:v1"));
  // A registry port is not a tag.
  EXPECT_TRUE(reference_matches("localhost:5000/app", "localhost:5000/app:v1"));
}

TEST(ImageFilter, TimesAndDurations) {
  const int64_t now = 1'700'000'000'000'000'000;
  EXPECT_EQ(*parse_filter_time("1700000000", now), now);
  EXPECT_EQ(*parse_filter_time("1700000000.5", now), now + 500'000'000);
  EXPECT_EQ(*parse_filter_time("10m", now), now - 600'000'000'000);
  EXPECT_EQ(*parse_filter_time("1h30m", now), now - 5'400'000'000'000);
  EXPECT_EQ(*parse_filter_time("2023-11-14T22:13:20Z", now), now);
  EXPECT_EQ(*parse_filter_time("2023-11-14", now), now - (22 * 3600 + 13 * 60 + 20) * 1'000'000'000LL);
  EXPECT_FALSE(parse_filter_time("", now));
  EXPECT_FALSE(parse_filter_time("soon", now));
  EXPECT_FALSE(parse_filter_time("10x", now));
}

TEST(ImageFilter, MatchesDanglingLabelsTimesAndShowsMatchingTags) {
  ImageListFilter none;
  auto tagged = image({"busybox:latest", "mine:1"}, 100, R"({"config":{"Labels":{"team":"a","x":""}}})");
  auto dangling = image({}, 200);
  EXPECT_EQ(*filter_image(none, tagged), tagged.tags);
  EXPECT_TRUE(filter_image(none, dangling)->empty());

  ImageListFilter d;
  d.dangling = true;
  EXPECT_FALSE(filter_image(d, tagged));
  EXPECT_TRUE(filter_image(d, dangling));

  ImageListFilter l;
  l.labels = {"team=a", "x"};
  EXPECT_TRUE(filter_image(l, tagged));
  l.labels = {"team=b"};
  EXPECT_FALSE(filter_image(l, tagged));

  ImageListFilter t;
  t.before_ns = 200;
  EXPECT_TRUE(filter_image(t, tagged));
  EXPECT_FALSE(filter_image(t, dangling));
  t = {};
  t.since_ns = 100;
  EXPECT_FALSE(filter_image(t, tagged));
  t = {};
  t.until_ns = 100;
  EXPECT_TRUE(filter_image(t, tagged));
  EXPECT_FALSE(filter_image(t, dangling));

  ImageListFilter r;
  r.references = {"mine"};
  EXPECT_EQ(*filter_image(r, tagged), std::vector<std::string>{"mine:1"});
  EXPECT_FALSE(filter_image(r, dangling));  // an untagged image never matches a reference
}

}  // namespace
}  // namespace md::image
