#include "cli/runtime/flags.h"

#include <gtest/gtest.h>

namespace md::cli {
namespace {

Flags make() {
  return Flags({{{"bundle", "b"}, true, ""}, {{"detach", "d"}, false, ""}, {{"env", "e"}, true, ""}});
}

TEST(Flags, GoStyleForms) {
  Flags f = make();
  ASSERT_TRUE(f.parse({"run", "-bundle", "/b", "--detach", "-e", "A=1", "--env=B=2", "id", "-x"}, 1));
  EXPECT_EQ(f.get("bundle"), "/b");
  EXPECT_TRUE(f.has("d"));
  EXPECT_EQ(f.all("env"), (std::vector<std::string>{"A=1", "B=2"}));
  // Parsing stops at the first positional argument.
  EXPECT_EQ(f.rest(), (std::vector<std::string>{"id", "-x"}));
}

TEST(Flags, BooleanFalseAndDoubleDash) {
  Flags f = make();
  ASSERT_TRUE(f.parse({"x", "--detach=false", "--", "-d"}, 1));
  EXPECT_FALSE(f.has("detach"));
  EXPECT_EQ(f.rest(), std::vector<std::string>{"-d"});
}

TEST(Flags, UnknownAndMissingValueAreErrors) {
  Flags f = make();
  auto st = f.parse({"x", "--nope"}, 1);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("--nope"), std::string::npos);
  Flags g = make();
  ASSERT_FALSE(g.parse({"x", "--bundle"}, 1));
}

}  // namespace
}  // namespace md::cli
