// Database: one SQLite connection to the engine's state, shared with other processes.
//
// The file lives at <root>/minidocker.db in WAL mode, so readers never block the one
// writer and a process killed at any point (SIGKILL included) leaves the last committed
// state intact: the write-ahead log is replayed, an uncommitted tail is ignored.
//
// Every write goes through transaction(), which starts with BEGIN IMMEDIATE: the write
// lock is taken up front, so two writers never both read, then both try to upgrade and
// deadlock. A busy database is waited for (busy_timeout), then retried with backoff until
// the deadline; the body must therefore be safe to run again (it only touches the
// database and its own locals).
//
// Errors name the statement that failed and carry sqlite's message
// (`step "INSERT INTO containers …": UNIQUE constraint failed: containers.name`), and an
// errno that says what kind of failure it was (see sqlite_errno()).
//
// Threads and processes: a Database and its Statements belong to one thread at a time.
// Never use a connection across fork(): SQLite's POSIX locks belong to the parent and are
// not inherited, so the child's copy believes it holds locks it does not. The child opens
// its own and leaves the inherited one alone (exec, or _exit without destructors). SQLite
// opens its files O_CLOEXEC, so exec'd children inherit nothing.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/result.h"

namespace md::store {

// Maps an SQLite result code to the errno carried by our Error:
// BUSY/LOCKED → EBUSY, CONSTRAINT_UNIQUE/PRIMARYKEY → EEXIST, other CONSTRAINT → EINVAL,
// FULL → ENOSPC, READONLY → EROFS, PERM/AUTH → EACCES, CANTOPEN → ENOENT, NOMEM → ENOMEM,
// everything else (IOERR, CORRUPT, …) → EIO.
int sqlite_errno(int extended_code);

namespace internal {
// The connection itself, heap-allocated so Statements keep pointing at it when the
// Database object is moved.
struct Connection {
  sqlite3* db = nullptr;
  // Set whenever a call returned SQLITE_BUSY/LOCKED: the transaction retries then.
  bool busy_seen = false;
  // Finished statements kept for reuse, by SQL text. A long-lived connection (the API
  // server's) runs the same few queries for every container of a list; compiling them
  // again each time was about a third of `GET /containers/json`. Statements return here
  // reset and unbound when destroyed; a cached one is handed out again by prepare().
  std::unordered_map<std::string, std::vector<sqlite3_stmt*>> cache;
  size_t cached = 0;
  // Keeps `stmt` for reuse (reset, bindings cleared) or finalizes it when the cache is full.
  void release(sqlite3_stmt* stmt);
  ~Connection();
};
}  // namespace internal

// A prepared statement. Bind parameters (1-based), step() through rows, read columns
// (0-based). A bind error is reported by the next step().
class Statement {
 public:
  Statement() = default;
  Statement(Statement&& o) noexcept;
  Statement& operator=(Statement&& o) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, const std::string& text) { return bind(index, std::string_view(text)); }
  Statement& bind_null(int index);
  // Binds args to parameters 1..N in order.
  template <class... A>
  Statement& bind_all(A&&... args) {
    int i = 0;
    (bind(++i, std::forward<A>(args)), ...);
    return *this;
  }

  // true: a row is ready to read; false: the statement is done.
  Result<bool> step();
  // Steps to completion, ignoring any rows (INSERT/UPDATE/DELETE).
  Status run();
  // Rewinds so the statement can run again; bindings are kept.
  void reset();

  std::int64_t column_int(int col) const;
  std::string column_text(int col) const;
  bool column_is_null(int col) const;

  // The SQL, abbreviated for error messages.
  std::string what() const;

 private:
  friend class Database;
  Statement(internal::Connection* conn, sqlite3_stmt* stmt) : conn_(conn), stmt_(stmt) {}
  internal::Connection* conn_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  int bind_error_ = SQLITE_OK;
};

// One step of the schema: applied in a transaction when PRAGMA user_version < version.
struct Migration {
  int version;
  const char* sql;  // may hold several statements
};

class Database {
 public:
  struct Options {
    // How long one attempt waits for another process's write lock (sqlite busy_timeout),
    // and the deadline for all retries of one transaction.
    std::chrono::milliseconds busy_timeout{10000};
  };

  // Opens (creating if needed) the database file and sets WAL, busy_timeout,
  // foreign_keys=ON and synchronous=NORMAL. Safe to race with other processes opening the
  // same new file.
  static Result<Database> open(const std::string& path, Options options);
  static Result<Database> open(const std::string& path) { return open(path, Options{}); }

  Database() = default;
  Database(Database&&) noexcept = default;
  Database& operator=(Database&&) noexcept = default;

  const std::string& path() const { return path_; }
  sqlite3* handle() const { return conn_ ? conn_->db : nullptr; }

  Result<Statement> prepare(std::string_view sql);
  // Runs one or more statements that return no rows we need.
  Status exec(const std::string& sql);
  // The first column of the first row as an integer (e.g. "PRAGMA user_version").
  Result<std::int64_t> query_int(std::string_view sql);
  // Rows changed by the last INSERT/UPDATE/DELETE on this connection.
  std::int64_t changes() const;

  bool in_transaction() const;

  // Runs body() inside BEGIN IMMEDIATE … COMMIT and returns its result. On error the
  // transaction is rolled back. When the database was busy (another process held the
  // write lock past busy_timeout, or sqlite returned BUSY without waiting) the whole
  // transaction is rolled back and retried with backoff until Options::busy_timeout has
  // passed. Called inside a transaction, body runs in a SAVEPOINT instead (rolled back
  // alone on error, never retried: the outer transaction retries).
  // body: a callable returning Result<T> (or Status).
  template <class F>
  auto transaction(F&& body) -> std::invoke_result_t<F&> {
    return run_transaction(body, Kind::kWrite);
  }
  // As transaction(), with a deferred BEGIN: a consistent snapshot for several reads,
  // which does not wait for (or block) writers. Body must not write.
  template <class F>
  auto read_transaction(F&& body) -> std::invoke_result_t<F&> {
    return run_transaction(body, Kind::kRead);
  }

  // Brings the schema to the last migration's version. Migrations must be sorted by
  // version. A database newer than the last migration is refused (an older minidocker
  // must not write a schema it does not know).
  Status migrate(std::span<const Migration> migrations);

  // PRAGMA integrity_check: "ok" or the problems found.
  Result<std::string> integrity_check();

 private:
  enum class Kind { kWrite, kRead };

  Status begin(Kind kind);
  Status commit();
  void rollback();
  Status savepoint();
  Status release_savepoint();
  void rollback_savepoint();
  // Sleeps for the next backoff step; false once the deadline has passed.
  bool backoff(int attempt, std::chrono::steady_clock::time_point deadline);

  template <class F>
  auto run_transaction(F& body, Kind kind) -> std::invoke_result_t<F&> {
    using R = std::invoke_result_t<F&>;
    if (!conn_) return fail("database is not open");
    if (in_transaction()) {
      if (auto s = savepoint(); !s) return std::unexpected(std::move(s).error());
      R r = body();
      if (r) {
        if (auto s = release_savepoint(); !s) return std::unexpected(std::move(s).error());
      } else {
        rollback_savepoint();
      }
      return r;
    }
    auto deadline = std::chrono::steady_clock::now() + options_.busy_timeout;
    for (int attempt = 0;; ++attempt) {
      conn_->busy_seen = false;
      if (auto s = begin(kind); !s) {
        if (conn_->busy_seen && backoff(attempt, deadline)) continue;
        return std::unexpected(std::move(s).error());
      }
      R r = body();
      if (r) {
        auto s = commit();
        if (s) return r;
        r = std::unexpected(std::move(s).error());
      }
      rollback();
      if (conn_->busy_seen && backoff(attempt, deadline)) continue;
      return r;
    }
  }

  std::unique_ptr<internal::Connection> conn_;
  std::string path_;
  Options options_;
};

}  // namespace md::store
