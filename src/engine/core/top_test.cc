#include "engine/core/top.h"

#include <gtest/gtest.h>

namespace md::engine {
namespace {

const char* kPsEf =
    "UID          PID    PPID  C STIME TTY          TIME CMD\n"
    "root           1       0  0 17:21 ?        00:00:01 /sbin/init\n"
    "root        4242    4200  0 17:22 ?        00:00:00 sleep 100\n"
    "root        4250    4242  0 17:22 ?        00:00:00 sh -c echo  two   spaces\n";

TEST(Top, KeepsHeaderAndTheContainersRows) {
  auto r = parse_ps_output(kPsEf, {4242, 4250});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->titles, (std::vector<std::string>{"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"}));
  ASSERT_EQ(r->processes.size(), 2u);
  EXPECT_EQ(r->processes[0][1], "4242");
  // The last column takes the rest of the line (words joined by one space, as Docker).
  EXPECT_EQ(r->processes[0].back(), "sleep 100");
  EXPECT_EQ(r->processes[1].back(), "sh -c echo two spaces");
  EXPECT_EQ(r->processes[1].size(), r->titles.size());
}

TEST(Top, ErrorsAreDockers) {
  EXPECT_EQ(parse_ps_output("USER COMMAND\nroot x\n", {1}).error().message, "Couldn't find PID field in ps output");
  EXPECT_NE(parse_ps_output("PID CMD\nabc x\n", {1}).error().message.find("Unexpected pid 'abc'"), std::string::npos);
  EXPECT_FALSE(validate_ps_args(" -o user=PID"));
  EXPECT_EQ(validate_ps_args(" -o user=PID").error().message, "specifying \"user=PID\" is not allowed");
  EXPECT_TRUE(validate_ps_args(" -o pid=PID"));
  EXPECT_TRUE(validate_ps_args("aux"));
}

TEST(Top, ThreadRowsUseTheLwp) {
  auto r = parse_ps_output("UID PID LWP CMD\nroot - 77 x\nroot 5 5 y\n", {77});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->processes.size(), 1u);
  EXPECT_EQ(r->processes[0].back(), "x");
}

}  // namespace
}  // namespace md::engine
