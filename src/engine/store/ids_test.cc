#include "engine/store/ids.h"

#include <set>

#include <gtest/gtest.h>

namespace md::store {
namespace {

TEST(IdGenerate, SixtyFourLowercaseHexDigits) {
  auto id = generate_id();
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->size(), 64u);
  EXPECT_TRUE(is_full_id(*id));
  EXPECT_TRUE(is_valid_name(*id));  // usable wherever a name is
}

TEST(IdGenerate, DistinctAndShortFormNeverAllDigits) {
  std::set<std::string> ids, shorts;
  for (int i = 0; i < 2000; ++i) {
    std::string id = generate_id().value();
    ids.insert(id);
    shorts.insert(short_id(id));
    EXPECT_NE(short_id(id).find_first_not_of("0123456789"), std::string::npos) << id;
  }
  EXPECT_EQ(ids.size(), 2000u);
  EXPECT_EQ(shorts.size(), 2000u);
}

TEST(IdGenerate, ShortIdIsTwelveCharacters) {
  EXPECT_EQ(short_id("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
            "0123456789ab");
  EXPECT_EQ(short_id("abc"), "abc");
}

TEST(IdGenerate, HexChecks) {
  EXPECT_TRUE(is_hex("0af9"));
  EXPECT_FALSE(is_hex(""));
  EXPECT_FALSE(is_hex("0AF9"));  // ids are lowercase
  EXPECT_FALSE(is_hex("xyz"));
  EXPECT_FALSE(is_full_id("abc"));
  EXPECT_FALSE(is_full_id(std::string(63, 'a') + "g"));
  EXPECT_TRUE(is_full_id(std::string(64, 'a')));
}

TEST(NameGenerate, AdjectiveUnderscoreSurname) {
  for (int i = 0; i < 200; ++i) {
    std::string n = generate_name();
    EXPECT_TRUE(is_valid_name(n)) << n;
    auto us = n.find('_');
    ASSERT_NE(us, std::string::npos) << n;
    EXPECT_EQ(n.find('_', us + 1), std::string::npos) << n;
    EXPECT_EQ(n.find_first_of("0123456789"), std::string::npos) << n;
    EXPECT_NE(n, "boring_wozniak");
  }
}

TEST(NameGenerate, VariesAndRetriesAddADigit) {
  std::set<std::string> names;
  for (int i = 0; i < 200; ++i) names.insert(generate_name());
  EXPECT_GT(names.size(), 100u);  // 48 × 60 combinations
  std::string retry = generate_name(1);
  EXPECT_TRUE(is_valid_name(retry));
  EXPECT_NE(std::string("0123456789").find(retry.back()), std::string::npos) << retry;
}

TEST(NameGenerate, DockersNameRule) {
  EXPECT_TRUE(is_valid_name("web"));
  EXPECT_TRUE(is_valid_name("a1"));
  EXPECT_TRUE(is_valid_name("My_app.v2-x"));
  EXPECT_FALSE(is_valid_name("a"));       // at least two characters
  EXPECT_FALSE(is_valid_name("_web"));    // must start alphanumeric
  EXPECT_FALSE(is_valid_name("-web"));
  EXPECT_FALSE(is_valid_name("we b"));
  EXPECT_FALSE(is_valid_name("web/1"));
  EXPECT_FALSE(is_valid_name(""));
  EXPECT_EQ(normalize_name("/web").value(), "web");
  auto bad = normalize_name("bad name");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().errno_value, EINVAL);
  EXPECT_EQ(bad.error().message,
            "invalid container name \"bad name\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
}

}  // namespace
}  // namespace md::store
