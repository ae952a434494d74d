#include "runtime/state_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "base/file_util.h"
#include "runtime/container.h"

namespace md::runtime {
namespace {

TEST(StateStore, ValidatesIds) {
  EXPECT_TRUE(StateStore::validate_id("abc-1.2_x+y"));
  EXPECT_FALSE(StateStore::validate_id(""));
  EXPECT_FALSE(StateStore::validate_id(".."));
  EXPECT_FALSE(StateStore::validate_id("../x"));
  EXPECT_FALSE(StateStore::validate_id("a/b"));
  EXPECT_FALSE(StateStore::validate_id("a b"));
}

TEST(StateStore, DuplicateIdIsRefusedAndRecordsRoundTrip) {
  char tmpl[] = "/tmp/md-unit-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string root = std::string(tmpl) + "/state";
  StateStore store(root);
  ASSERT_TRUE(store.create_dir("c1"));
  auto again = store.create_dir("c1");
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("already exists"), std::string::npos);
  ContainerRecord r;
  r.id = "c1";
  r.pid = 4242;
  r.bundle = "/b";
  r.cgroup_path = "/minidocker/c1";
  r.annotations = {{"k", "v"}};
  r.config = {{"ociVersion", "1.0.2"}};
  ASSERT_TRUE(store.save(r));
  auto loaded = store.load("c1");
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->pid, 4242);
  EXPECT_EQ(loaded->cgroup_path, "/minidocker/c1");
  EXPECT_EQ(loaded->annotations["k"], "v");
  EXPECT_EQ(loaded->config["ociVersion"], "1.0.2");
  auto ids = store.list_ids();
  ASSERT_TRUE(ids);
  EXPECT_EQ(*ids, std::vector<std::string>{"c1"});
  // A pid that does not exist (or was recycled) means the container is stopped.
  EXPECT_EQ(current_status(store, *loaded), ContainerStatus::kStopped);
  auto missing = store.load("nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().errno_value, ENOENT);
  ASSERT_TRUE(remove_tree(tmpl));
}

TEST(Signals, NamesAndNumbers) {
  EXPECT_EQ(*parse_signal("KILL"), 9);
  EXPECT_EQ(*parse_signal("SIGKILL"), 9);
  EXPECT_EQ(*parse_signal("term"), 15);
  EXPECT_EQ(*parse_signal("9"), 9);
  EXPECT_EQ(*parse_signal("RTMIN+1"), SIGRTMIN + 1);
  EXPECT_FALSE(parse_signal("SIGFOO"));
  EXPECT_FALSE(parse_signal("0"));
  EXPECT_FALSE(parse_signal("99"));
}

}  // namespace
}  // namespace md::runtime
