#include "engine/store/pod_store.h"

#include <gtest/gtest.h>

#include "engine/store/ids.h"
#include "engine/store/schema.h"
#include "engine/store/testing.h"

namespace md::store {
namespace {

class StorePods : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(root_.ok());
    auto db = open_state_db(root_.path());
    ASSERT_TRUE(db) << db.error().message;
    db_ = std::move(*db);
  }
  testing::TempRoot root_;
  Database db_;
};

TEST_F(StorePods, CreateGetListRemove) {
  PodStore ps(db_);
  Pod p;
  p.name = "web";
  p.labels = {{"env", "test"}};
  p.config = {{"Hostname", "web"}, {"PortBindings", {{"80/tcp", {{{"HostIp", ""}, {"HostPort", "8080"}}}}}}};
  auto made = ps.create(p);
  ASSERT_TRUE(made) << made.error().message;
  EXPECT_TRUE(is_full_id(made->id));
  EXPECT_GT(made->created, 0);
  EXPECT_EQ(made->infra_id, "");

  auto by_name = ps.get("web");
  ASSERT_TRUE(by_name) << by_name.error().message;
  EXPECT_EQ(by_name->id, made->id);
  EXPECT_EQ(by_name->labels.at("env"), "test");
  EXPECT_EQ(by_name->config["PortBindings"]["80/tcp"][0]["HostPort"], "8080");
  EXPECT_EQ(ps.get(made->id)->name, "web");
  EXPECT_EQ(ps.get(made->id.substr(0, 5))->name, "web");

  auto dup = ps.create(p);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().errno_value, EEXIST);

  Pod anon;
  auto generated = ps.create(anon);
  ASSERT_TRUE(generated) << generated.error().message;
  EXPECT_TRUE(is_valid_name(generated->name));
  EXPECT_NE(generated->name, "web");

  auto all = ps.list();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "web");  // oldest first

  auto missing = ps.get("nosuch");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().errno_value, ENOENT);
  EXPECT_EQ(missing.error().message, "no pod with name or ID nosuch found: no such pod");

  ASSERT_TRUE(ps.remove(made->id));
  EXPECT_FALSE(ps.get("web"));
  EXPECT_EQ(ps.remove(made->id).error().errno_value, ENOENT);
  EXPECT_EQ(ps.list()->size(), 1u);
}

TEST_F(StorePods, InfraLookup) {
  PodStore ps(db_);
  Pod p;
  p.name = "db";
  auto made = ps.create(p);
  ASSERT_TRUE(made);
  std::string infra(64, 'a');
  EXPECT_FALSE(ps.get_by_infra(infra)->has_value());
  EXPECT_FALSE(ps.get_by_infra("")->has_value());
  ASSERT_TRUE(ps.set_infra(made->id, infra));
  auto found = ps.get_by_infra(infra);
  ASSERT_TRUE(found);
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->name, "db");
  EXPECT_EQ(ps.get("db")->infra_id, infra);
  EXPECT_EQ(ps.set_infra(std::string(64, 'f'), infra).error().errno_value, ENOENT);
}

TEST_F(StorePods, RejectsBadNamesAndIds) {
  PodStore ps(db_);
  Pod p;
  p.name = "bad name!";
  auto r = ps.create(p);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().errno_value, EINVAL);
  Pod q;
  q.id = "short";
  q.name = "ok";
  EXPECT_FALSE(ps.create(q));  // the schema's CHECK (length(id) = 64)
  EXPECT_FALSE(ps.get("ok"));
}

TEST_F(StorePods, SchemaIsVersionThree) {
  EXPECT_EQ(db_.query_int("PRAGMA user_version").value(), 3);
  EXPECT_TRUE(db_.exec("SELECT id, name, infra_id, labels, created, config FROM pods"));
}

}  // namespace
}  // namespace md::store
