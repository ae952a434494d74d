#include "engine/store/container_store.h"

#include <algorithm>
#include <set>

#include <gtest/gtest.h>

#include "engine/store/ids.h"
#include "engine/store/schema.h"
#include "engine/store/testing.h"

namespace md::store {
namespace {

class StoreContainers : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(root_.ok());
    auto db = open_state_db(root_.path());
    ASSERT_TRUE(db) << db.error().message;
    db_ = std::move(*db);
  }
  Container make(std::string name = "", std::string id = "") {
    Container c;
    c.name = std::move(name);
    c.id = std::move(id);
    c.image = "sha256:" + std::string(64, 'e');
    return c;
  }
  Container create(std::string name = "", std::string id = "") {
    auto c = store_.create(make(std::move(name), std::move(id)));
    EXPECT_TRUE(c) << c.error().message;
    return c.value_or(Container{});
  }
  testing::TempRoot root_;
  Database db_;
  ContainerStore store_{db_};
};

std::string id_with_prefix(std::string prefix, char fill) {
  return prefix + std::string(64 - prefix.size(), fill);
}

std::vector<std::string> names_of(const std::vector<Container>& cs) {
  std::vector<std::string> out;
  for (const auto& c : cs) out.push_back(c.name);
  return out;
}

TEST_F(StoreContainers, CreateThenGetRoundTripsEveryField) {
  Container c = make("web");
  c.state = ContainerState::kRunning;
  c.pid = 4242;
  c.pid_start_time = 123456789012ull;
  c.monitor_pid = 4241;
  c.monitor_start_time = 123456789000ull;
  c.exit_code = 137;
  c.started_at = 1700000000123456789;
  c.finished_at = 1700000001123456789;
  c.reason = "oom";
  c.config = {{"Cmd", {"sh", "-c", "echo hi"}}, {"Env", {"A=1", "B=é"}}, {"Tty", false}};
  c.host_config = {{"Memory", 64 << 20}, {"RestartPolicy", {{"Name", "always"}}}};
  c.labels = {{"app", "web"}, {"tier", "front"}};
  c.restart_count = 3;
  c.health = {{"Status", "healthy"}, {"FailingStreak", 0}};
  auto created = store_.create(c);
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_TRUE(is_full_id(created->id));
  EXPECT_GT(created->created, 0);
  EXPECT_EQ(created->version, 1);

  auto got = store_.get_by_id(created->id);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->name, "web");
  EXPECT_EQ(got->image, c.image);
  EXPECT_EQ(got->created, created->created);
  EXPECT_EQ(got->state, ContainerState::kRunning);
  EXPECT_EQ(got->pid, 4242);
  EXPECT_EQ(got->pid_start_time, 123456789012ull);
  EXPECT_EQ(got->monitor_pid, 4241);
  EXPECT_EQ(got->monitor_start_time, 123456789000ull);
  EXPECT_EQ(got->exit_code, 137);
  EXPECT_EQ(got->started_at, c.started_at);
  EXPECT_EQ(got->finished_at, c.finished_at);
  EXPECT_EQ(got->reason, "oom");
  EXPECT_EQ(got->config, c.config);
  EXPECT_EQ(got->host_config, c.host_config);
  EXPECT_EQ(got->labels, c.labels);
  EXPECT_EQ(got->restart_count, 3);
  EXPECT_EQ(got->health, c.health);
  EXPECT_EQ(got->version, 1);
}

TEST_F(StoreContainers, EveryStateRoundTrips) {
  for (auto s : {ContainerState::kCreated, ContainerState::kRestarting, ContainerState::kRunning,
                 ContainerState::kPaused, ContainerState::kExited, ContainerState::kDead,
                 ContainerState::kRemoving}) {
    EXPECT_EQ(parse_state(state_name(s)).value(), s);
    Container c = make();
    c.state = s;
    auto got = store_.get_by_id(store_.create(c).value().id);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->state, s);
  }
  EXPECT_FALSE(parse_state("stopping"));
}

TEST_F(StoreContainers, GeneratesIdAndNameWhenNotGiven) {
  Container a = create();
  Container b = create();
  EXPECT_TRUE(is_full_id(a.id));
  EXPECT_TRUE(is_valid_name(a.name));
  EXPECT_NE(a.id, b.id);
  EXPECT_NE(a.name, b.name);
  EXPECT_EQ(store_.get(a.name).value().id, a.id);
}

TEST_F(StoreContainers, GeneratedNamesStayUniqueWhenTheSpaceFillsUp) {
  // 48 × 60 plain names: 400 containers collide often, and must still all be distinct.
  std::set<std::string> names;
  for (int i = 0; i < 400; ++i) names.insert(create().name);
  EXPECT_EQ(names.size(), 400u);
}

TEST_F(StoreContainers, NameInUseNamesTheOwner) {
  Container web = create("web");
  auto dup = store_.create(make("web"));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().errno_value, EEXIST);
  EXPECT_NE(dup.error().message.find("name \"web\" is already in use by container " +
                                     short_id(web.id)),
            std::string::npos)
      << dup.error().message;
  // Docker's API form with a leading slash is the same name.
  EXPECT_FALSE(store_.create(make("/web")));
  EXPECT_EQ(store_.list({.all = true}).value().size(), 1u);
}

TEST_F(StoreContainers, RejectsBadNamesAndIds) {
  auto bad = store_.create(make("no spaces"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().errno_value, EINVAL);
  auto bad_id = store_.create(make("ok", "abc"));
  ASSERT_FALSE(bad_id);
  EXPECT_EQ(bad_id.error().errno_value, EINVAL);
  std::string id = generate_id().value();
  create("first", id);
  auto dup_id = store_.create(make("second", id));
  ASSERT_FALSE(dup_id);
  EXPECT_EQ(dup_id.error().errno_value, EEXIST);
}

TEST_F(StoreContainers, GetByIdNameOrUniquePrefix) {
  Container c = create("api", id_with_prefix("abc123", '0'));
  create("other", id_with_prefix("abd", '1'));
  EXPECT_EQ(store_.get(c.id).value().name, "api");
  EXPECT_EQ(store_.get("api").value().id, c.id);
  EXPECT_EQ(store_.get("/api").value().id, c.id);
  EXPECT_EQ(store_.get("abc").value().id, c.id);
  EXPECT_EQ(store_.get(short_id(c.id)).value().id, c.id);
  EXPECT_EQ(store_.resolve("abc1").value(), c.id);
}

TEST_F(StoreContainers, AmbiguousPrefixListsTheCandidates) {
  Container a = create("one", id_with_prefix("ab12", '0'));
  Container b = create("two", id_with_prefix("ab34", '0'));
  auto r = store_.get("ab");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().errno_value, EINVAL);
  EXPECT_EQ(r.error().message, "multiple containers match prefix \"ab\": " + short_id(a.id) +
                                   ", " + short_id(b.id) + "; use a longer prefix or the name");
  EXPECT_EQ(store_.get("ab1").value().id, a.id);
}

TEST_F(StoreContainers, NotFoundIsDockersMessage) {
  create("web");
  const std::string refs[] = {"nothere", "fff", std::string(64, 'f')};
  for (const std::string& ref : refs) {
    auto r = store_.get(ref);
    ASSERT_FALSE(r) << ref;
    EXPECT_EQ(r.error().errno_value, ENOENT);
    EXPECT_EQ(r.error().message, "no such container: " + ref);
  }
  EXPECT_FALSE(store_.get(""));
}

TEST_F(StoreContainers, ANameWinsOverAnIdPrefix) {
  Container target = create("beef", id_with_prefix("0123", '0'));
  create("x1", id_with_prefix("beef", '1'));
  EXPECT_EQ(store_.get("beef").value().id, target.id);
}

TEST_F(StoreContainers, ListShowsRunningByDefaultAndEverythingWithAll) {
  auto with = [&](const char* name, ContainerState s, std::int64_t created,
                  std::map<std::string, std::string> labels = {}) {
    Container c = make(name);
    c.state = s;
    c.created = created;
    c.labels = std::move(labels);
    ASSERT_TRUE(store_.create(c));
  };
  with("web1", ContainerState::kRunning, 100, {{"app", "web"}, {"env", "prod"}});
  with("web2", ContainerState::kExited, 200, {{"app", "web"}, {"env", "dev"}});
  with("db", ContainerState::kPaused, 300, {{"app", "db"}});
  with("job", ContainerState::kCreated, 400);
  with("flappy", ContainerState::kRestarting, 500);

  EXPECT_EQ(names_of(store_.list().value()),
            (std::vector<std::string>{"flappy", "db", "web1"}));  // newest first
  EXPECT_EQ(names_of(store_.list({.all = true}).value()),
            (std::vector<std::string>{"flappy", "job", "db", "web2", "web1"}));
  EXPECT_EQ(names_of(store_.list({.states = {ContainerState::kExited, ContainerState::kCreated}})
                         .value()),
            (std::vector<std::string>{"job", "web2"}));
  EXPECT_EQ(names_of(store_.list({.all = true, .labels = {"app=web"}}).value()),
            (std::vector<std::string>{"web2", "web1"}));
  EXPECT_EQ(names_of(store_.list({.all = true, .labels = {"app=web", "env=prod"}}).value()),
            (std::vector<std::string>{"web1"}));
  EXPECT_EQ(names_of(store_.list({.all = true, .labels = {"app"}}).value()),
            (std::vector<std::string>{"db", "web2", "web1"}));
  EXPECT_EQ(names_of(store_.list({.all = true, .names = {"web"}}).value()),
            (std::vector<std::string>{"web2", "web1"}));
  EXPECT_EQ(names_of(store_.list({.all = true, .names = {"db", "job"}}).value()),
            (std::vector<std::string>{"job", "db"}));
  EXPECT_EQ(names_of(store_.list({.names = {"web"}}).value()), (std::vector<std::string>{"web1"}));
  EXPECT_TRUE(store_.list({.all = true, .labels = {"app=nope"}}).value().empty());
}

TEST_F(StoreContainers, ListFiltersByIdPrefixAndImage) {
  Container a = create("a1", id_with_prefix("aa", '0'));
  create("b1", id_with_prefix("bb", '0'));
  Container c = make("c1");
  c.image = "sha256:" + std::string(64, 'c');
  ASSERT_TRUE(store_.create(c));
  EXPECT_EQ(names_of(store_.list({.all = true, .ids = {"aa"}}).value()),
            (std::vector<std::string>{"a1"}));
  EXPECT_EQ(names_of(store_.list({.all = true, .image = c.image}).value()),
            (std::vector<std::string>{"c1"}));
  (void)a;
}

TEST_F(StoreContainers, UpdateIfIsACompareAndSet) {
  Container c = create("web");
  auto set_running = [](Container& x) -> Status {
    x.state = ContainerState::kRunning;
    x.pid = 77;
    return {};
  };
  auto v2 = store_.update_if(c.id, 1, set_running);
  ASSERT_TRUE(v2) << v2.error().message;
  EXPECT_EQ(v2->version, 2);
  EXPECT_EQ(v2->pid, 77);

  // A second writer that read version 1 loses, and nothing of its change is written.
  auto stale = store_.update_if(c.id, 1, [](Container& x) -> Status {
    x.state = ContainerState::kExited;
    return {};
  });
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().errno_value, ESTALE);
  EXPECT_NE(stale.error().message.find("was changed by another process (version 2, expected 1)"),
            std::string::npos)
      << stale.error().message;
  auto now = store_.get_by_id(c.id).value();
  EXPECT_EQ(now.state, ContainerState::kRunning);
  EXPECT_EQ(now.version, 2);

  auto missing = store_.update_if(std::string(64, 'f'), 1, set_running);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().errno_value, ENOENT);
}

TEST_F(StoreContainers, AFailingMutationWritesNothing) {
  Container c = create("web");
  auto r = store_.update(c.id, [](Container& x) -> Status {
    x.pid = 5;
    return fail("cannot start container web: it is being removed", EINVAL);
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "cannot start container web: it is being removed");
  EXPECT_EQ(store_.get_by_id(c.id).value().pid, 0);
  EXPECT_EQ(store_.get_by_id(c.id).value().version, 1);
}

TEST_F(StoreContainers, UpdateCannotChangeTheIdentity) {
  Container c = create("web");
  auto r = store_.update(c.id, [](Container& x) -> Status {
    x.id = std::string(64, 'a');
    return {};
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().errno_value, EINVAL);
  auto v = store_.update(c.id, [](Container& x) -> Status {
    x.version = 100;
    return {};
  });
  ASSERT_FALSE(v);
}

TEST_F(StoreContainers, UpdateBumpsTheVersionEachTime) {
  Container c = create("web");
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(store_.update(c.id, [](Container& x) -> Status {
      x.restart_count++;
      return {};
    }));
  Container now = store_.get_by_id(c.id).value();
  EXPECT_EQ(now.restart_count, 5);
  EXPECT_EQ(now.version, 6);
}

TEST_F(StoreContainers, RenameChecksTheNewName) {
  Container web = create("web");
  Container db = create("db");
  auto r = store_.rename("web", "frontend");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->id, web.id);
  EXPECT_EQ(r->version, 2);
  EXPECT_EQ(store_.get("frontend").value().id, web.id);
  EXPECT_FALSE(store_.get("web"));

  auto taken = store_.rename("frontend", "db");
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().errno_value, EEXIST);
  EXPECT_NE(taken.error().message.find("already in use by container " + short_id(db.id)),
            std::string::npos);
  EXPECT_FALSE(store_.rename("frontend", "x"));  // invalid
  EXPECT_FALSE(store_.rename("nothere", "abc"));
  // Renaming through update() is checked the same way.
  auto via_update = store_.update(web.id, [](Container& x) -> Status {
    x.name = "db";
    return {};
  });
  ASSERT_FALSE(via_update);
  EXPECT_EQ(via_update.error().errno_value, EEXIST);
}

TEST_F(StoreContainers, RemoveDeletesTheRowAndFreesTheName) {
  Container c = create("web");
  ASSERT_TRUE(store_.remove(c.id));
  EXPECT_FALSE(store_.get_by_id(c.id));
  auto again = store_.remove(c.id);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().errno_value, ENOENT);
  EXPECT_TRUE(store_.create(make("web")));
}

TEST_F(StoreContainers, TheDatabaseRefusesAnUnknownState) {
  Container c = create("web");
  auto st = db_.prepare("UPDATE containers SET state = 'stopping' WHERE id = ?1");
  ASSERT_TRUE(st);
  st->bind(1, c.id);
  auto s = st->run();
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("CHECK constraint failed"), std::string::npos)
      << s.error().message;
}

}  // namespace
}  // namespace md::store
