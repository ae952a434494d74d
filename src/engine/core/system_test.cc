#include "engine/core/system.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>

#include "base/file_util.h"

namespace md::engine {
namespace {

TEST(SystemPrune, LabelFiltersAreDockersMatchLabels) {
  PruneFilter f;
  std::map<std::string, std::string> labels = {{"env", "test"}, {"keep", ""}};
  EXPECT_TRUE(prune_labels_match(f, labels));
  f.labels = {"env"};
  EXPECT_TRUE(prune_labels_match(f, labels));
  f.labels = {"env=test"};
  EXPECT_TRUE(prune_labels_match(f, labels));
  f.labels = {"env=prod"};
  EXPECT_FALSE(prune_labels_match(f, labels));
  f.labels = {"env", "other"};
  EXPECT_FALSE(prune_labels_match(f, labels));
  f.labels.clear();
  f.not_labels = {"keep"};
  EXPECT_FALSE(prune_labels_match(f, labels));
  f.not_labels = {"env=prod"};
  EXPECT_TRUE(prune_labels_match(f, labels));
}

TEST(SystemDf, TreeBytesCountsFilesAndSymlinksHardlinksOnce) {
  char tmpl[] = "/tmp/md-tree-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  ASSERT_TRUE(make_directories(dir + "/a/b"));
  std::ofstream(dir + "/x") << std::string(100, 'x');
  std::ofstream(dir + "/a/b/y") << std::string(23, 'y');
  ASSERT_EQ(::symlink("/etc/passwd", (dir + "/a/link").c_str()), 0);
  ASSERT_EQ(::link((dir + "/x").c_str(), (dir + "/a/hard").c_str()), 0);
  EXPECT_EQ(tree_bytes(dir), 100 + 23 + 11);  // the symlink's own size ("/etc/passwd")
  EXPECT_EQ(tree_bytes(dir + "/missing"), 0);
  (void)remove_tree(dir);
}

}  // namespace
}  // namespace md::engine
