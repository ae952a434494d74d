#include "engine/store/image_store.h"

#include <gtest/gtest.h>

#include "engine/store/container_store.h"
#include "engine/store/schema.h"
#include "engine/store/testing.h"

namespace md::store {
namespace {

std::string image_id(char fill, std::string prefix = "") {
  return "sha256:" + prefix + std::string(64 - prefix.size(), fill);
}

TEST(StoreImageRefs, NormalizeTag) {
  EXPECT_EQ(normalize_tag("busybox").value(), "busybox:latest");
  EXPECT_EQ(normalize_tag("busybox:1.36").value(), "busybox:1.36");
  EXPECT_EQ(normalize_tag("docker.io/library/busybox").value(), "busybox:latest");
  EXPECT_EQ(normalize_tag("library/alpine:3").value(), "alpine:3");
  EXPECT_EQ(normalize_tag("docker.io/me/app:v1").value(), "me/app:v1");
  EXPECT_EQ(normalize_tag("localhost:5000/app").value(), "localhost:5000/app:latest");
  EXPECT_EQ(normalize_tag("Registry.Example.com/team/app:V2").value(),
            "Registry.Example.com/team/app:V2");
  for (const char* bad : {"", "Busybox", "busy box", "busybox:", "busybox@sha256:abcd", "a//b",
                          "app:-x", "/app"}) {
    auto r = normalize_tag(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().errno_value, EINVAL) << bad;
    }
  }
}

class StoreImages : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(root_.ok());
    auto db = open_state_db(root_.path());
    ASSERT_TRUE(db) << db.error().message;
    db_ = std::move(*db);
  }
  Image add(std::string id, std::vector<std::string> tags, std::vector<std::string> layers,
            std::int64_t created = 0) {
    Image img;
    img.id = std::move(id);
    img.tags = std::move(tags);
    img.layers = std::move(layers);
    img.size = 1000;
    img.created = created;
    img.config = R"({"config":{"Cmd":["sh"]}})";
    auto r = images_.add(img);
    EXPECT_TRUE(r) << r.error().message;
    return r.value_or(Image{});
  }
  std::int64_t refcount(const std::string& digest) {
    auto layers = images_.list_layers().value();
    for (auto& [d, n] : layers)
      if (d == digest) return n;
    return -1;
  }
  testing::TempRoot root_;
  Database db_;
  ImageStore images_{db_};
};

TEST_F(StoreImages, AddThenGetByIdTagOrPrefix) {
  Image img = add(image_id('0', "3f2a"), {"busybox", "busybox:1.36"}, {"sha256:l1", "sha256:l2"},
                  1234);
  EXPECT_EQ(img.tags, (std::vector<std::string>{"busybox:1.36", "busybox:latest"}));
  EXPECT_EQ(img.layers, (std::vector<std::string>{"sha256:l1", "sha256:l2"}));
  EXPECT_EQ(img.size, 1000);
  EXPECT_EQ(img.created, 1234);
  EXPECT_GT(img.added, 0);
  EXPECT_EQ(img.config, R"({"config":{"Cmd":["sh"]}})");

  for (std::string ref : {img.id, img.id.substr(7), std::string("busybox"),
                          std::string("busybox:latest"), std::string("docker.io/library/busybox:1.36"),
                          std::string("3f2a"), std::string("sha256:3f2a0")}) {
    auto got = images_.get(ref);
    ASSERT_TRUE(got) << ref << ": " << got.error().message;
    EXPECT_EQ(got->id, img.id) << ref;
  }
  auto missing = images_.get("alpine");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().errno_value, ENOENT);
  EXPECT_EQ(missing.error().message, "no such image: alpine:latest");
  EXPECT_FALSE(images_.get("3f2b"));
}

TEST_F(StoreImages, AmbiguousPrefixListsTheCandidates) {
  add(image_id('0', "ab1"), {"one"}, {});
  add(image_id('0', "ab2"), {"two"}, {});
  auto r = images_.get("ab");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().errno_value, EINVAL);
  EXPECT_EQ(r.error().message, "multiple images match prefix \"ab\": ab1000000000, ab2000000000");
}

TEST_F(StoreImages, RejectsAnIdThatIsNotASha256) {
  Image img;
  img.id = "abc";
  auto r = images_.add(img);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().errno_value, EINVAL);
  img.id = image_id('a');
  img.tags = {"Bad Tag"};
  EXPECT_FALSE(images_.add(img));
  EXPECT_TRUE(images_.list().value().empty());
}

TEST_F(StoreImages, AddingAKnownImageOnlyAddsTags) {
  add(image_id('a'), {"app:1"}, {"sha256:l1"});
  Image again = add(image_id('a'), {"app:latest"}, {"sha256:l1"});
  EXPECT_EQ(again.tags, (std::vector<std::string>{"app:1", "app:latest"}));
  EXPECT_EQ(refcount("sha256:l1"), 1);
  EXPECT_EQ(images_.list().value().size(), 1u);
}

TEST_F(StoreImages, ATagMovesToTheNewImage) {
  add(image_id('a'), {"app"}, {});
  add(image_id('b'), {"app"}, {});
  EXPECT_EQ(images_.get("app").value().id, image_id('b'));
  EXPECT_TRUE(images_.get(image_id('a')).value().tags.empty());  // dangling now

  ASSERT_TRUE(images_.tag(image_id('a'), "app:old"));
  ASSERT_TRUE(images_.tag("app:old", "mirror.local/app"));
  EXPECT_EQ(images_.get("mirror.local/app").value().id, image_id('a'));
  ASSERT_TRUE(images_.tag("app", "app:old"));  // moves
  EXPECT_EQ(images_.get("app:old").value().id, image_id('b'));
  EXPECT_FALSE(images_.tag("nothere", "x"));
}

TEST_F(StoreImages, Untag) {
  add(image_id('a'), {"app", "app:1"}, {});
  ASSERT_TRUE(images_.untag("app"));
  EXPECT_EQ(images_.get(image_id('a')).value().tags, (std::vector<std::string>{"app:1"}));
  auto again = images_.untag("app:latest");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().errno_value, ENOENT);
}

TEST_F(StoreImages, ListIsNewestFirst) {
  add(image_id('a'), {"old"}, {}, 100);
  add(image_id('b'), {"new"}, {}, 300);
  add(image_id('c'), {"mid"}, {}, 200);
  auto all = images_.list().value();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].tags, std::vector<std::string>{"new:latest"});
  EXPECT_EQ(all[1].tags, std::vector<std::string>{"mid:latest"});
  EXPECT_EQ(all[2].tags, std::vector<std::string>{"old:latest"});
}

TEST_F(StoreImages, SharedLayersAreRefcounted) {
  add(image_id('a'), {"base"}, {"sha256:base", "sha256:a"});
  add(image_id('b'), {"child"}, {"sha256:base", "sha256:b"});
  EXPECT_EQ(refcount("sha256:base"), 2);
  EXPECT_EQ(refcount("sha256:a"), 1);

  auto r = images_.remove("base", false);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->deleted, image_id('a'));
  EXPECT_EQ(r->untagged, std::vector<std::string>{"base:latest"});
  EXPECT_EQ(r->unused_layers, std::vector<std::string>{"sha256:a"});
  EXPECT_EQ(refcount("sha256:base"), 1);
  EXPECT_EQ(refcount("sha256:a"), -1);  // row gone

  r = images_.remove("child", false);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->unused_layers, (std::vector<std::string>{"sha256:b", "sha256:base"}));
  EXPECT_TRUE(images_.list_layers().value().empty());
  EXPECT_FALSE(images_.get("child"));
  EXPECT_EQ(db_.integrity_check().value(), "ok");
}

TEST_F(StoreImages, RemoveIsRefusedWhileAContainerUsesItUnlessForced) {
  add(image_id('a'), {"app"}, {"sha256:l"});
  ContainerStore containers(db_);
  Container c;
  c.name = "user";
  c.image = image_id('a');
  c.state = ContainerState::kExited;
  Container made = containers.create(c).value();

  auto r = images_.remove("app", false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().errno_value, EBUSY);
  EXPECT_EQ(r.error().message, "unable to delete aaaaaaaaaaaa (must be forced): image is being "
                               "used by container " + made.id.substr(0, 12));
  EXPECT_TRUE(images_.get("app"));

  auto forced = images_.remove("app", true);
  ASSERT_TRUE(forced) << forced.error().message;
  EXPECT_FALSE(images_.get("app"));
  EXPECT_EQ(containers.get("user").value().image, image_id('a'));  // the container keeps it
}

}  // namespace
}  // namespace md::store
