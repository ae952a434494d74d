// Several processes on one state database: no lost update, unique names, and a process
// killed with SIGKILL in the middle of a transaction leaves nothing half-written.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <random>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "engine/store/container_store.h"
#include "engine/store/ids.h"
#include "engine/store/schema.h"
#include "engine/store/testing.h"

namespace md::store {
namespace {

using testing::fork_worker;
using testing::wait_worker;

// Children block on the read end until the parent closes the write end: they all start
// at once.
struct Barrier {
  int fds[2] = {-1, -1};
  Barrier() { (void)!::pipe(fds); }
  ~Barrier() { release(); if (fds[0] >= 0) ::close(fds[0]); }
  void wait_in_child() {
    ::close(fds[1]);
    char c;
    while (::read(fds[0], &c, 1) < 0 && errno == EINTR) {
    }
  }
  void release() {
    if (fds[1] >= 0) ::close(fds[1]);
    fds[1] = -1;
  }
};

int child_fail(const char* what, const Error& e) {
  std::fprintf(stderr, "[pid %d] %s: %s\n", ::getpid(), what, e.message.c_str());
  return 1;
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

class StoreConcurrency : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(root_.ok()); }
  testing::TempRoot root_;
};

TEST_F(StoreConcurrency, CompareAndSetFromEightProcessesLosesNoIncrement) {
  constexpr int kProcs = 8, kIncrements = 200;
  std::string id;
  {
    auto db = open_state_db(root_.path());
    ASSERT_TRUE(db) << db.error().message;
    Container c;
    c.name = "counter";
    id = ContainerStore(*db).create(c).value().id;
  }
  int conflicts_pipe[2];
  ASSERT_EQ(::pipe(conflicts_pipe), 0);
  Barrier barrier;
  std::vector<pid_t> kids;
  const std::string root = root_.path();
  for (int p = 0; p < kProcs; ++p) {
    kids.push_back(fork_worker([&]() -> int {
      ::close(conflicts_pipe[0]);
      barrier.wait_in_child();
      auto db = open_state_db(root);
      if (!db) return child_fail("open", db.error());
      ContainerStore store(*db);
      int conflicts = 0;
      for (int i = 0; i < kIncrements; ++i) {
        for (;;) {
          auto cur = store.get_by_id(id);
          if (!cur) return child_fail("get", cur.error());
          auto r = store.update_if(id, cur->version, [](Container& c) -> Status {
            c.restart_count++;
            return {};
          });
          if (r) break;
          if (r.error().errno_value != ESTALE) return child_fail("update_if", r.error());
          ++conflicts;
        }
      }
      (void)!::write(conflicts_pipe[1], &conflicts, sizeof conflicts);
      return 0;
    }));
  }
  ::close(conflicts_pipe[1]);
  barrier.release();
  for (pid_t k : kids) EXPECT_EQ(wait_worker(k), 0);
  std::string counts = read_all(conflicts_pipe[0]);
  ::close(conflicts_pipe[0]);
  int total_conflicts = 0;
  for (size_t off = 0; off + sizeof(int) <= counts.size(); off += sizeof(int)) {
    int n;
    std::memcpy(&n, counts.data() + off, sizeof n);
    total_conflicts += n;
  }
  RecordProperty("stale_retries", total_conflicts);

  auto db = open_state_db(root_.path());
  ASSERT_TRUE(db);
  Container c = ContainerStore(*db).get_by_id(id).value();
  EXPECT_EQ(c.restart_count, kProcs * kIncrements);
  EXPECT_EQ(c.version, 1 + kProcs * kIncrements);
  EXPECT_EQ(db->integrity_check().value(), "ok");
}

TEST_F(StoreConcurrency, ReadModifyWriteUpdateFromSeveralProcessesLosesNothing) {
  constexpr int kProcs = 4, kIncrements = 100;
  std::string id;
  {
    auto db = open_state_db(root_.path());
    ASSERT_TRUE(db);
    Container c;
    c.name = "counter";
    id = ContainerStore(*db).create(c).value().id;
  }
  Barrier barrier;
  std::vector<pid_t> kids;
  const std::string root = root_.path();
  for (int p = 0; p < kProcs; ++p)
    kids.push_back(fork_worker([&]() -> int {
      barrier.wait_in_child();
      auto db = open_state_db(root);
      if (!db) return child_fail("open", db.error());
      ContainerStore store(*db);
      for (int i = 0; i < kIncrements; ++i) {
        auto r = store.update(id, [](Container& c) -> Status {
          c.labels["n"] = std::to_string(c.restart_count + 1);
          c.restart_count++;
          return {};
        });
        if (!r) return child_fail("update", r.error());
      }
      return 0;
    }));
  barrier.release();
  for (pid_t k : kids) EXPECT_EQ(wait_worker(k), 0);
  auto db = open_state_db(root_.path());
  ASSERT_TRUE(db);
  Container c = ContainerStore(*db).get_by_id(id).value();
  EXPECT_EQ(c.restart_count, kProcs * kIncrements);
  EXPECT_EQ(c.labels["n"], std::to_string(kProcs * kIncrements));
}

TEST_F(StoreConcurrency, FiftyProcessesCreateContainersWithDistinctNamesAndIds) {
  constexpr int kProcs = 50;
  // No database yet: the children also race to create the file, switch it to WAL and
  // apply the schema.
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  Barrier barrier;
  std::vector<pid_t> kids;
  const std::string root = root_.path() + "/state";
  for (int p = 0; p < kProcs; ++p)
    kids.push_back(fork_worker([&]() -> int {
      ::close(out[0]);
      barrier.wait_in_child();
      auto db = open_state_db(root);
      if (!db) return child_fail("open", db.error());
      Container c;
      c.image = "sha256:" + std::string(64, 'b');
      c.state = ContainerState::kCreated;
      auto made = ContainerStore(*db).create(c);
      if (!made) return child_fail("create", made.error());
      std::string line = made->id + " " + made->name + "\n";  // < PIPE_BUF: one atomic write
      (void)!::write(out[1], line.data(), line.size());
      return 0;
    }));
  ::close(out[1]);
  barrier.release();
  int failed = 0;
  for (pid_t k : kids) failed += wait_worker(k) != 0;
  EXPECT_EQ(failed, 0);
  std::istringstream lines(read_all(out[0]));
  ::close(out[0]);
  std::set<std::string> ids, names;
  std::string id, name;
  while (lines >> id >> name) {
    ids.insert(id);
    names.insert(name);
    EXPECT_TRUE(is_full_id(id)) << id;
    EXPECT_TRUE(is_valid_name(name)) << name;
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kProcs));
  EXPECT_EQ(names.size(), static_cast<size_t>(kProcs));

  auto db = open_state_db(root);
  ASSERT_TRUE(db) << db.error().message;
  auto all = ContainerStore(*db).list({.all = true}).value();
  EXPECT_EQ(all.size(), static_cast<size_t>(kProcs));
  for (const Container& c : all) {
    EXPECT_TRUE(ids.count(c.id)) << c.id;
    EXPECT_TRUE(names.count(c.name)) << c.name;
  }
  EXPECT_EQ(db->integrity_check().value(), "ok");
}

class StoreCrash : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(root_.ok()); }
  testing::TempRoot root_;
};

off_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

TEST_F(StoreCrash, SigkillInsideATransactionLeavesTheLastCommittedState) {
  auto db = open_state_db(root_.path());
  ASSERT_TRUE(db) << db.error().message;
  ContainerStore store(*db);
  Container stable;
  stable.name = "stable";
  stable.labels = {{"k", "v"}};
  stable = store.create(stable).value();

  const std::string wal = state_db_path(root_.path()) + "-wal";
  const off_t wal_before = std::max<off_t>(file_size(wal), 0);
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const std::string root = root_.path();
  const std::string stable_id = stable.id;
  pid_t child = fork_worker([&]() -> int {
    ::close(ready[0]);
    auto cdb = open_state_db(root);
    if (!cdb) return child_fail("open", cdb.error());
    // A tiny page cache makes SQLite spill dirty pages into the WAL before COMMIT, so the
    // kill finds uncommitted frames on disk, not just in memory.
    if (auto s = cdb->exec("PRAGMA cache_size = 5"); !s) return child_fail("pragma", s.error());
    ContainerStore cs(*cdb);
    if (auto s = cdb->exec("BEGIN IMMEDIATE"); !s) return child_fail("begin", s.error());
    auto u = cs.update(stable_id, [](Container& c) -> Status {
      c.restart_count = 99;
      c.state = ContainerState::kRunning;
      c.labels["k"] = "half";
      return {};
    });
    if (!u) return child_fail("update", u.error());
    for (int i = 0; i < 20; ++i) {
      Container big;
      big.name = "half" + std::to_string(i);
      big.config = {{"blob", std::string(64 * 1024, 'x')}};
      if (auto r = cs.create(big); !r) return child_fail("create", r.error());
    }
    (void)!::write(ready[1], "x", 1);
    for (;;) ::pause();  // killed here, the transaction still open
  });
  ::close(ready[1]);
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1) << "child failed before the kill";
  ::close(ready[0]);
  EXPECT_GT(file_size(wal) - wal_before, 20 * 64 * 1024)
      << "expected uncommitted frames in the WAL";
  // Readers are not blocked by the open write transaction and do not see it.
  EXPECT_EQ(store.list({.all = true}).value().size(), 1u);
  ::kill(child, SIGKILL);
  ASSERT_EQ(wait_worker(child), 128 + SIGKILL);

  // A fresh connection (as the next CLI call would open) finds the committed state only.
  auto after = open_state_db(root_.path());
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(after->integrity_check().value(), "ok");
  ContainerStore cs(*after);
  auto all = cs.list({.all = true}).value();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].id, stable.id);
  EXPECT_EQ(all[0].restart_count, 0);
  EXPECT_EQ(all[0].state, ContainerState::kCreated);
  EXPECT_EQ(all[0].labels.at("k"), "v");
  EXPECT_EQ(all[0].version, 1);
  // The dead writer's lock is gone: writing works at once.
  auto w = Database::open(state_db_path(root_.path()), {.busy_timeout = std::chrono::milliseconds(500)});
  ASSERT_TRUE(w);
  Container next;
  next.name = "half0";
  auto made = ContainerStore(*w).create(next);
  EXPECT_TRUE(made) << made.error().message;
  // And the first connection, open all along, carries on too.
  EXPECT_TRUE(store.update(stable.id, [](Container& x) -> Status {
    x.restart_count = 1;
    return {};
  }));
}

TEST_F(StoreCrash, SigkillAtRandomMomentsNeverLeavesAHalfWrittenRow) {
  // Each transaction of the writer bumps `counter` to n and creates container "c<n>" with
  // n in its config and labels; the invariants below hold after any committed transaction
  // and fail for any partial one.
  std::string counter_id;
  {
    auto db = open_state_db(root_.path());
    ASSERT_TRUE(db);
    Container c;
    c.name = "counter";
    counter_id = ContainerStore(*db).create(c).value().id;
  }
  const std::string root = root_.path();
  std::mt19937 rng(12345);
  int total = 0;
  for (int round = 0; round < 8; ++round) {
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    pid_t child = fork_worker([&]() -> int {
      ::close(ready[0]);
      auto db = open_state_db(root);
      if (!db) return child_fail("open", db.error());
      (void)db->exec("PRAGMA cache_size = 5");
      ContainerStore cs(*db);
      bool told = false;
      for (;;) {
        auto r = db->transaction([&]() -> Status {
          Container cur = TRY(cs.get_by_id(counter_id));
          int n = cur.restart_count + 1;
          Container row;
          row.name = "c" + std::to_string(n);
          row.labels = {{"n", std::to_string(n)}};
          row.config = {{"n", n}, {"blob", std::string(8192 + n, 'y')}};
          TRY(cs.create(row));
          TRY(cs.update_if(counter_id, cur.version, [n](Container& c) -> Status {
            c.restart_count = n;
            c.labels["n"] = std::to_string(n);
            c.config["n"] = n;
            return {};
          }));
          return {};
        });
        if (!r) return child_fail("transaction", r.error());
        if (!told) (void)!::write(ready[1], "x", 1);
        told = true;
      }
    });
    ::close(ready[1]);
    char c;
    ASSERT_EQ(::read(ready[0], &c, 1), 1);
    ::close(ready[0]);
    ::usleep(std::uniform_int_distribution<int>(2000, 40000)(rng));
    ::kill(child, SIGKILL);
    ASSERT_EQ(wait_worker(child), 128 + SIGKILL);

    auto db = open_state_db(root_.path());
    ASSERT_TRUE(db) << db.error().message;
    ASSERT_EQ(db->integrity_check().value(), "ok") << "round " << round;
    ContainerStore cs(*db);
    Container counter = cs.get_by_id(counter_id).value();
    int n = counter.restart_count;
    EXPECT_GE(n, total) << "round " << round;
    EXPECT_EQ(counter.labels["n"], n ? std::to_string(n) : "") << "round " << round;
    if (n) {
      EXPECT_EQ(counter.config["n"], n);
    }
    auto rows = cs.list({.all = true, .labels = {"n"}}).value();
    EXPECT_EQ(rows.size(), static_cast<size_t>(n + (n ? 1 : 0)));  // c1..cn plus counter
    for (const Container& row : rows) {
      if (row.id == counter_id) continue;
      int k = std::stoi(row.labels.at("n"));
      EXPECT_EQ(row.name, "c" + std::to_string(k));
      EXPECT_EQ(row.config["n"], k);
      EXPECT_EQ(row.config["blob"].get<std::string>().size(), static_cast<size_t>(8192 + k));
    }
    total = n;
  }
  RecordProperty("transactions_committed", total);
  EXPECT_GT(total, 0);
}

}  // namespace
}  // namespace md::store
