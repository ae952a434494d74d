// The hosts file: parsing and reloading.
#include "dns/hosts_table.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "base/file_util.h"

namespace md::dns {
namespace {

std::vector<std::string> Texts(const std::vector<IpAddress>* ips) {
  std::vector<std::string> out;
  if (ips)
    for (const IpAddress& ip : *ips) out.push_back(to_string(ip));
  return out;
}

TEST(HostsTable, ParsesNamesAliasesAndComments) {
  std::vector<std::string> problems;
  auto t = HostsTable::parse(
      "# written by minidocker\n"
      "\n"
      "10.89.0.2 web 4f1c2a9b3e7d\tWeb-Alias # trailing comment\n"
      "   10.89.0.3   db.\r\n"
      "fd00::3 db\n",
      &problems);
  EXPECT_TRUE(problems.empty()) << problems[0];
  EXPECT_EQ(Texts(t.addresses("web")), std::vector<std::string>{"10.89.0.2"});
  EXPECT_EQ(Texts(t.addresses("4f1c2a9b3e7d")), std::vector<std::string>{"10.89.0.2"});
  EXPECT_EQ(Texts(t.addresses("web-alias")), std::vector<std::string>{"10.89.0.2"}) << "stored lowercase";
  EXPECT_EQ(Texts(t.addresses("db")), (std::vector<std::string>{"10.89.0.3", "fd00::3"}));
  EXPECT_EQ(t.addresses("Web"), nullptr) << "lookups take lowercase names";
  EXPECT_EQ(t.addresses("nosuch"), nullptr);
  EXPECT_EQ(t.name_count(), 4u);
  ASSERT_NE(t.name_for(*parse_ip("10.89.0.2")), nullptr);
  EXPECT_EQ(*t.name_for(*parse_ip("10.89.0.2")), "web") << "the first name on the line";
  EXPECT_EQ(t.name_for(*parse_ip("10.89.0.9")), nullptr);
}

TEST(HostsTable, SharedAliasAnswersWithEveryAddressOnce) {
  auto t = HostsTable::parse(
      "10.89.0.2 web-1 web\n"
      "10.89.0.3 web-2 web\n"
      "10.89.0.2 web\n");
  EXPECT_EQ(Texts(t.addresses("web")), (std::vector<std::string>{"10.89.0.2", "10.89.0.3"}));
  EXPECT_EQ(*t.name_for(*parse_ip("10.89.0.2")), "web-1");
}

TEST(HostsTable, SkipsBadEntriesAndSaysWhy) {
  std::vector<std::string> problems;
  auto t = HostsTable::parse(
      "web 10.89.0.2\n"
      "10.89.0.3 good bad_name! also.good -bad-label- ..\n"
      "10.89.0.4\n"
      "10.89.0.5 " + std::string(64, 'x') + "\n",
      &problems);
  EXPECT_NE(t.addresses("good"), nullptr);
  EXPECT_NE(t.addresses("also.good"), nullptr);
  EXPECT_NE(t.addresses("-bad-label-"), nullptr) << "hyphens are accepted anywhere (container names allow them)";
  EXPECT_EQ(t.addresses("web"), nullptr);
  ASSERT_EQ(problems.size(), 5u);
  EXPECT_EQ(problems[0], "line 1: `web` is not an IP address");
  EXPECT_EQ(problems[1], "line 2: `bad_name!` is not a valid host name");
  EXPECT_EQ(problems[2], "line 2: `..` is not a valid host name");
  EXPECT_EQ(problems[3], "line 3: address 10.89.0.4 has no names");
  EXPECT_EQ(problems[4], "line 4: `" + std::string(64, 'x') + "` is not a valid host name");
}

TEST(HostsTable, ValidHostNames) {
  EXPECT_TRUE(valid_host_name("web"));
  EXPECT_TRUE(valid_host_name("my_app-1.internal"));
  EXPECT_FALSE(valid_host_name(""));
  EXPECT_FALSE(valid_host_name("a..b"));
  EXPECT_FALSE(valid_host_name(".a"));
  EXPECT_FALSE(valid_host_name("a."));
  EXPECT_FALSE(valid_host_name("a b"));
  EXPECT_FALSE(valid_host_name(std::string(254, 'a')));
}

class HostsFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/md-dns-hosts-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/hosts";
  }
  void TearDown() override { (void)remove_tree(dir_); }
  std::string dir_, path_;
};

TEST_F(HostsFileTest, MissingFileIsEmptyThenLoadsAndReloadsOnReplace) {
  HostsFile f(path_);
  auto r = f.refresh();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(*r);
  EXPECT_EQ(f.table().name_count(), 0u);
  EXPECT_FALSE(*f.refresh()) << "still missing: nothing to do";

  ASSERT_TRUE(write_file_atomic(path_, "10.89.0.2 web\n"));
  EXPECT_TRUE(*f.refresh());
  EXPECT_EQ(Texts(f.table().addresses("web")), std::vector<std::string>{"10.89.0.2"});
  EXPECT_FALSE(*f.refresh()) << "unchanged";

  // Same size, replaced by rename: the new inode is what tells it apart.
  ASSERT_TRUE(write_file_atomic(path_, "10.89.0.3 web\n"));
  EXPECT_TRUE(*f.refresh());
  EXPECT_EQ(Texts(f.table().addresses("web")), std::vector<std::string>{"10.89.0.3"});

  ASSERT_EQ(::unlink(path_.c_str()), 0);
  EXPECT_TRUE(*f.refresh());
  EXPECT_EQ(f.table().addresses("web"), nullptr) << "removed file: no names";
}

TEST_F(HostsFileTest, UnreadableKeepsPreviousTable) {
  ASSERT_TRUE(write_file_atomic(path_, "10.89.0.2 web\n"));
  HostsFile f(path_);
  ASSERT_TRUE(f.refresh());
  ASSERT_EQ(::unlink(path_.c_str()), 0);
  ASSERT_TRUE(make_directories(path_));  // a directory where the file was
  auto r = f.refresh();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "read hosts file " + path_ + ": not a regular file");
  EXPECT_NE(f.table().addresses("web"), nullptr);
}

TEST_F(HostsFileTest, ReportsParseProblems) {
  ASSERT_TRUE(write_file_atomic(path_, "nonsense\n10.89.0.2 web\n"));
  HostsFile f(path_);
  std::vector<std::string> problems;
  ASSERT_TRUE(f.refresh(&problems));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0], "line 1: `nonsense` is not an IP address");
}

}  // namespace
}  // namespace md::dns
