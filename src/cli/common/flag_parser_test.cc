#include "cli/common/flag_parser.h"

#include <gtest/gtest.h>

namespace md::cli {
namespace {

FlagSet run_flags(bool interspersed = false) {
  return FlagSet("minidocker run [OPTIONS] IMAGE [COMMAND] [ARG...]",
                 {{"detach", 'd', FlagKind::kBool, "Run in background"},
                  {"interactive", 'i', FlagKind::kBool, "Keep STDIN open"},
                  {"tty", 't', FlagKind::kBool, "Allocate a pseudo-TTY"},
                  {"rm", 0, FlagKind::kBool, "Remove on exit"},
                  {"name", 0, FlagKind::kValue, "Name"},
                  {"env", 'e', FlagKind::kList, "Env"},
                  {"publish", 'p', FlagKind::kList, "Ports"}},
                 interspersed);
}

std::vector<std::string> v(std::initializer_list<const char*> l) { return {l.begin(), l.end()}; }

TEST(FlagParser, DockerForms) {
  auto f = run_flags();
  auto args = v({"-it", "--rm=false", "--name=web", "-eA=1", "-e", "B=2", "-e=C=3", "-p8080:80",
                 "busybox", "ls", "-l"});
  ASSERT_TRUE(f.parse(args));
  EXPECT_TRUE(f.boolean("interactive"));
  EXPECT_TRUE(f.boolean("tty"));
  EXPECT_TRUE(f.given("rm"));
  EXPECT_FALSE(f.boolean("rm"));
  EXPECT_EQ(f.value("name"), "web");
  EXPECT_EQ(f.list("env"), v({"A=1", "B=2", "C=3"}));
  EXPECT_EQ(f.list("publish"), v({"8080:80"}));
  EXPECT_EQ(f.args(), v({"busybox", "ls", "-l"}));
}

TEST(FlagParser, InterspersedAndTerminator) {
  auto f = run_flags(true);
  ASSERT_TRUE(f.parse(v({"a", "-d", "b", "--", "-x"})));
  EXPECT_TRUE(f.boolean("detach"));
  EXPECT_EQ(f.args(), v({"a", "b", "-x"}));
}

TEST(FlagParser, Errors) {
  {
    auto f = run_flags();
    auto s = f.parse(v({"--foo"}));
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().message, "unknown flag: --foo");
  }
  {
    auto f = run_flags();
    auto s = f.parse(v({"-z"}));
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().message, "unknown shorthand flag: 'z' in -z");
  }
  {
    auto f = run_flags();
    auto s = f.parse(v({"--name"}));
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().message, "flag needs an argument: --name");
  }
  {
    auto f = run_flags();
    auto s = f.parse(v({"-e"}));
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().message, "flag needs an argument: 'e' in -e");
  }
  {
    auto f = run_flags();
    auto s = f.parse(v({"--rm=maybe"}));
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message.find("invalid argument \"maybe\" for \"--rm\" flag"), std::string::npos);
  }
}

TEST(FlagParser, Help) {
  auto f = run_flags();
  ASSERT_TRUE(f.parse(v({"--help"})));
  EXPECT_TRUE(f.help_requested());
  EXPECT_NE(f.help().find("  -d, --detach"), std::string::npos);
  EXPECT_NE(f.help().find("      --name string"), std::string::npos);
}

}  // namespace
}  // namespace md::cli
