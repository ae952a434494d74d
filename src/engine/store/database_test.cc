#include "engine/store/database.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "engine/store/schema.h"
#include "engine/store/testing.h"

namespace md::store {
namespace {

using testing::TempRoot;

class StoreDatabase : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(root_.ok()); }
  std::string db_path() const { return root_.path() + "/test.db"; }
  Database open_plain() {
    auto db = Database::open(db_path());
    EXPECT_TRUE(db) << db.error().message;
    return std::move(*db);
  }
  TempRoot root_;
};

std::string pragma_text(Database& db, const char* sql) {
  auto st = db.prepare(sql);
  if (!st || !st->step().value_or(false)) return "?";
  return st->column_text(0);
}

TEST_F(StoreDatabase, OpensInWalModeWithForeignKeysAndNormalSync) {
  Database db = open_plain();
  EXPECT_EQ(pragma_text(db, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(pragma_text(db, "PRAGMA foreign_keys"), "1");
  EXPECT_EQ(pragma_text(db, "PRAGMA synchronous"), "1");  // NORMAL
  EXPECT_GT(db.query_int("PRAGMA busy_timeout").value_or(0), 0);
}

TEST_F(StoreDatabase, OpenFailureNamesThePath) {
  auto db = Database::open(root_.path() + "/missing-dir/x.db");
  ASSERT_FALSE(db);
  EXPECT_NE(db.error().message.find("missing-dir/x.db"), std::string::npos) << db.error().message;
  EXPECT_EQ(db.error().errno_value, ENOENT);
}

TEST_F(StoreDatabase, StateSchemaIsAppliedOnceAndVersioned) {
  auto db = open_state_db(root_.path());
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_EQ(db->path(), root_.path() + "/minidocker.db");
  EXPECT_EQ(db->query_int("PRAGMA user_version").value(),
            schema_migrations().back().version);
  for (const char* table : {"containers", "images", "image_tags", "layers", "image_layers"}) {
    auto st = db->prepare("SELECT count(*) FROM sqlite_schema WHERE type='table' AND name=?1");
    ASSERT_TRUE(st);
    st->bind(1, table);
    ASSERT_TRUE(st->step().value());
    EXPECT_EQ(st->column_int(0), 1) << table;
  }
  // A second open finds the schema current and changes nothing.
  auto again = open_state_db(root_.path());
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->integrity_check().value(), "ok");
}

TEST_F(StoreDatabase, MigrationsRunInOrderAndOnlyOnce) {
  Database db = open_plain();
  const Migration v1[] = {{1, "CREATE TABLE t (a INTEGER) STRICT;"}};
  ASSERT_TRUE(db.migrate(v1));
  ASSERT_TRUE(db.migrate(v1));  // already there: would fail if run again
  const Migration v3[] = {{1, "CREATE TABLE t (a INTEGER) STRICT;"},
                          {2, "ALTER TABLE t ADD COLUMN b TEXT;"},
                          {3, "INSERT INTO t (a, b) VALUES (1, 'x');"}};
  auto s = db.migrate(v3);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(db.query_int("PRAGMA user_version").value(), 3);
  EXPECT_EQ(db.query_int("SELECT count(*) FROM t WHERE b = 'x'").value(), 1);
}

TEST_F(StoreDatabase, FailedMigrationChangesNothing) {
  Database db = open_plain();
  const Migration bad[] = {{1, "CREATE TABLE t (a INTEGER);"}, {2, "THIS IS NOT SQL;"}};
  auto s = db.migrate(bad);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("migrate schema to version 2"), std::string::npos)
      << s.error().message;
  EXPECT_EQ(db.query_int("PRAGMA user_version").value(), 0);
  EXPECT_EQ(db.query_int("SELECT count(*) FROM sqlite_schema WHERE name = 't'").value(), 0);
}

TEST_F(StoreDatabase, RefusesASchemaNewerThanItKnows) {
  {
    auto db = open_state_db(root_.path());
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec("PRAGMA user_version = 999"));
  }
  auto db = open_state_db(root_.path());
  ASSERT_FALSE(db);
  EXPECT_NE(db.error().message.find("schema version 999, newer than this minidocker"),
            std::string::npos)
      << db.error().message;
}

TEST_F(StoreDatabase, ErrorsNameTheStatementAndSqlitesMessage) {
  Database db = open_plain();
  auto st = db.prepare("SELEKT 1");
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("prepare \"SELEKT 1\""), std::string::npos)
      << st.error().message;
  EXPECT_NE(st.error().message.find("syntax error"), std::string::npos) << st.error().message;

  ASSERT_TRUE(db.exec("CREATE TABLE u (k TEXT PRIMARY KEY)"));
  ASSERT_TRUE(db.exec("INSERT INTO u VALUES ('a')"));
  auto ins = db.prepare("INSERT INTO u VALUES (?1)");
  ASSERT_TRUE(ins);
  ins->bind(1, "a");
  auto s = ins->run();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().errno_value, EEXIST);
  EXPECT_NE(s.error().message.find("step \"INSERT INTO u VALUES (?1)\": UNIQUE constraint failed: u.k"),
            std::string::npos)
      << s.error().message;
}

TEST_F(StoreDatabase, TransactionRollsBackWhenTheBodyFails) {
  Database db = open_plain();
  ASSERT_TRUE(db.exec("CREATE TABLE t (a INTEGER)"));
  Status s = db.transaction([&]() -> Status {
    TRY(db.exec("INSERT INTO t VALUES (1)"));
    return fail("stop here", EINVAL);
  });
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, "stop here");
  EXPECT_FALSE(db.in_transaction());
  EXPECT_EQ(db.query_int("SELECT count(*) FROM t").value(), 0);

  auto r = db.transaction([&]() -> Result<int> {
    TRY(db.exec("INSERT INTO t VALUES (2)"));
    return 42;
  });
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 42);
  EXPECT_EQ(db.query_int("SELECT count(*) FROM t").value(), 1);
}

TEST_F(StoreDatabase, NestedTransactionIsASavepoint) {
  Database db = open_plain();
  ASSERT_TRUE(db.exec("CREATE TABLE t (a INTEGER)"));
  Status s = db.transaction([&]() -> Status {
    TRY(db.exec("INSERT INTO t VALUES (1)"));
    Status inner = db.transaction([&]() -> Status {
      TRY(db.exec("INSERT INTO t VALUES (2)"));
      return fail("inner fails");
    });
    EXPECT_FALSE(inner);
    EXPECT_TRUE(db.in_transaction());
    TRY(db.transaction([&]() -> Status { return db.exec("INSERT INTO t VALUES (3)"); }));
    return {};
  });
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(db.query_int("SELECT count(*) FROM t WHERE a IN (1, 3)").value(), 2);
  EXPECT_EQ(db.query_int("SELECT count(*) FROM t WHERE a = 2").value(), 0);
}

TEST_F(StoreDatabase, WriterWaitsForAnotherConnectionsTransaction) {
  Database a = open_plain();
  ASSERT_TRUE(a.exec("CREATE TABLE t (a INTEGER)"));
  ASSERT_TRUE(a.exec("BEGIN IMMEDIATE"));
  ASSERT_TRUE(a.exec("INSERT INTO t VALUES (1)"));
  std::atomic<bool> committed{false};
  std::thread holder([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    committed = true;
    (void)a.exec("COMMIT");
  });
  Database b = open_plain();  // its own connection, used only by this thread
  Status s = b.transaction([&]() -> Status { return b.exec("INSERT INTO t VALUES (2)"); });
  EXPECT_TRUE(committed.load());
  holder.join();
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(b.query_int("SELECT count(*) FROM t").value(), 2);
}

TEST_F(StoreDatabase, BusyPastTheTimeoutIsAClearError) {
  Database a = open_plain();
  ASSERT_TRUE(a.exec("CREATE TABLE t (a INTEGER)"));
  ASSERT_TRUE(a.exec("BEGIN IMMEDIATE"));
  auto b = Database::open(db_path(), {.busy_timeout = std::chrono::milliseconds(100)});
  ASSERT_TRUE(b);
  auto start = std::chrono::steady_clock::now();
  Status s = b->transaction([&]() -> Status { return b->exec("INSERT INTO t VALUES (2)"); });
  auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().errno_value, EBUSY);
  EXPECT_NE(s.error().message.find("BEGIN IMMEDIATE"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("database is locked"), std::string::npos) << s.error().message;
  EXPECT_GE(waited, std::chrono::milliseconds(100));
  // Reads still work while another connection writes (WAL).
  EXPECT_EQ(b->query_int("SELECT count(*) FROM t").value(), 0);
  ASSERT_TRUE(a.exec("ROLLBACK"));
}

TEST_F(StoreDatabase, ReadTransactionSeesOneSnapshot) {
  Database a = open_plain();
  ASSERT_TRUE(a.exec("CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1);"));
  Database b = open_plain();
  auto r = a.read_transaction([&]() -> Result<std::int64_t> {
    std::int64_t before = TRY(a.query_int("SELECT count(*) FROM t"));
    TRY(b.exec("INSERT INTO t VALUES (2)"));  // another connection commits meanwhile
    std::int64_t after = TRY(a.query_int("SELECT count(*) FROM t"));
    return before * 10 + after;
  });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, 11);
  EXPECT_EQ(a.query_int("SELECT count(*) FROM t").value(), 2);
}

}  // namespace
}  // namespace md::store
