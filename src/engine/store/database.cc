#include "engine/store/database.h"

#include <sys/random.h>

#include <cerrno>
#include <thread>

namespace md::store {

int sqlite_errno(int extended_code) {
  switch (extended_code) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return EEXIST;
    default:
      break;
  }
  switch (extended_code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return EBUSY;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
    case SQLITE_TOOBIG:
      return EINVAL;
    case SQLITE_FULL:
      return ENOSPC;
    case SQLITE_READONLY:
      return EROFS;
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return EACCES;
    case SQLITE_CANTOPEN:
      return ENOENT;
    case SQLITE_NOMEM:
      return ENOMEM;
    default:
      return EIO;
  }
}

namespace {

bool is_busy(int rc) {
  int base = rc & 0xff;
  return base == SQLITE_BUSY || base == SQLITE_LOCKED;
}

// "SELECT id FROM containers WHERE …": whitespace collapsed, cut at 60 characters.
std::string abbreviate(std::string_view sql) {
  std::string out;
  bool space = false;
  for (char c : sql) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
    if (out.size() >= 60) {
      out += "…";
      break;
    }
  }
  return out;
}

std::unexpected<Error> sqlite_fail(internal::Connection* conn, int rc, std::string_view op,
                                   std::string_view sql) {
  if (conn && is_busy(rc)) conn->busy_seen = true;
  std::string msg(op);
  if (!sql.empty()) msg += " \"" + abbreviate(sql) + "\"";
  msg += ": ";
  // sqlite3_errmsg describes the last failed call on this connection; for codes that did
  // not come from a call on it (bind errors reported late), use the generic text.
  if (conn && conn->db && sqlite3_extended_errcode(conn->db) == rc)
    msg += sqlite3_errmsg(conn->db);
  else
    msg += sqlite3_errstr(rc);
  return fail(std::move(msg), sqlite_errno(rc));
}

}  // namespace

void internal::Connection::release(sqlite3_stmt* stmt) {
  constexpr size_t kMaxCached = 256;
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  if (cached >= kMaxCached) {
    sqlite3_finalize(stmt);
    return;
  }
  cache[sqlite3_sql(stmt)].push_back(stmt);
  ++cached;
}

internal::Connection::~Connection() {
  for (auto& [sql, stmts] : cache)
    for (auto* st : stmts) sqlite3_finalize(st);
  if (db) sqlite3_close_v2(db);
}

// ---- Statement -------------------------------------------------------------------------

Statement::Statement(Statement&& o) noexcept
    : conn_(std::exchange(o.conn_, nullptr)),
      stmt_(std::exchange(o.stmt_, nullptr)),
      bind_error_(o.bind_error_) {}

Statement& Statement::operator=(Statement&& o) noexcept {
  if (this != &o) {
    if (stmt_) conn_->release(stmt_);
    conn_ = std::exchange(o.conn_, nullptr);
    stmt_ = std::exchange(o.stmt_, nullptr);
    bind_error_ = o.bind_error_;
  }
  return *this;
}

Statement::~Statement() {
  if (stmt_) conn_->release(stmt_);
}

Statement& Statement::bind(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) bind_error_ = rc;
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  int rc = sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT,
                               SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) bind_error_ = rc;
  return *this;
}

Statement& Statement::bind_null(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) bind_error_ = rc;
  return *this;
}

Result<bool> Statement::step() {
  if (!stmt_) return fail("step on an empty statement");
  if (bind_error_ != SQLITE_OK) return sqlite_fail(conn_, bind_error_, "bind", sqlite3_sql(stmt_));
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  auto err = sqlite_fail(conn_, rc, "step", sqlite3_sql(stmt_));
  sqlite3_reset(stmt_);
  return err;
}

Status Statement::run() {
  while (TRY(step())) {
  }
  return {};
}

void Statement::reset() {
  if (stmt_) sqlite3_reset(stmt_);
}

std::int64_t Statement::column_int(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string Statement::column_text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  if (!p) return {};
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

bool Statement::column_is_null(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

std::string Statement::what() const { return stmt_ ? abbreviate(sqlite3_sql(stmt_)) : ""; }

// ---- Database --------------------------------------------------------------------------

Result<Database> Database::open(const std::string& path, Options options) {
  Database d;
  d.path_ = path;
  d.options_ = options;
  d.conn_ = std::make_unique<internal::Connection>();
  int rc = sqlite3_open_v2(path.c_str(), &d.conn_->db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    // sqlite allocates a handle even on failure, to carry the message.
    auto err = sqlite_fail(d.conn_.get(), rc, "open database " + path, "");
    return err;
  }
  sqlite3_extended_result_codes(d.conn_->db, 1);
  sqlite3_busy_timeout(d.conn_->db, static_cast<int>(options.busy_timeout.count()));

  // Switching a new file to WAL needs an exclusive lock, and sqlite may report BUSY
  // without calling the busy handler when another process is doing the same: retry.
  auto deadline = std::chrono::steady_clock::now() + options.busy_timeout;
  for (int attempt = 0;; ++attempt) {
    d.conn_->busy_seen = false;
    auto stmt = d.prepare("PRAGMA journal_mode=WAL");
    Result<bool> row = stmt ? stmt->step() : Result<bool>(std::unexpected(stmt.error()));
    if (row && *row) {
      std::string mode = stmt->column_text(0);
      if (mode != "wal")
        return fail("open database " + path + ": cannot use write-ahead logging (journal mode is " +
                        mode + ")",
                    EINVAL);
      break;
    }
    if (d.conn_->busy_seen && d.backoff(attempt, deadline)) continue;
    if (!row) return std::unexpected(with_context(row.error(), "open database " + path));
    return fail("open database " + path + ": PRAGMA journal_mode returned no row", EIO);
  }
  // synchronous=NORMAL: in WAL mode a commit is durable against a process crash (it is in
  // the OS page cache) and the file is never corrupted; only a power loss may forget the
  // last commits. foreign_keys is per connection and off by default.
  TRY_CTX(d.exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                 "PRAGMA journal_size_limit=16777216;"),
          "open database " + path);
  // Most connections are short-lived CLI calls. By default the last connection to close
  // checkpoints the log into the main file (with an fsync) and deletes it, and the next
  // process recreates it: ~1.5 ms per command here. Keep the log instead; SQLite still
  // checkpoints automatically every ~1000 pages during commits, and journal_size_limit
  // trims the file afterwards. Neither changes what survives a crash.
  int one = 1;
  sqlite3_file_control(d.conn_->db, "main", SQLITE_FCNTL_PERSIST_WAL, &one);
  sqlite3_db_config(d.conn_->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  return d;
}

Result<Statement> Database::prepare(std::string_view sql) {
  if (!conn_) return fail("database is not open");
  if (auto it = conn_->cache.find(std::string(sql)); it != conn_->cache.end() && !it->second.empty()) {
    sqlite3_stmt* stmt = it->second.back();
    it->second.pop_back();
    --conn_->cached;
    return Statement(conn_.get(), stmt);
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(conn_->db, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return sqlite_fail(conn_.get(), rc, "prepare", sql);
  return Statement(conn_.get(), stmt);
}

Status Database::exec(const std::string& sql) {
  if (!conn_) return fail("database is not open");
  int rc = sqlite3_exec(conn_->db, sql.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return sqlite_fail(conn_.get(), rc, "exec", sql);
  return {};
}

Result<std::int64_t> Database::query_int(std::string_view sql) {
  Statement st = TRY(prepare(sql));
  if (!TRY(st.step())) return fail("query \"" + st.what() + "\": no row", EIO);
  return st.column_int(0);
}

std::int64_t Database::changes() const { return conn_ ? sqlite3_changes64(conn_->db) : 0; }

bool Database::in_transaction() const { return conn_ && sqlite3_get_autocommit(conn_->db) == 0; }

Status Database::begin(Kind kind) {
  return exec(kind == Kind::kWrite ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
}

Status Database::commit() { return exec("COMMIT"); }

void Database::rollback() {
  // Fails harmlessly when sqlite already rolled back (e.g. after SQLITE_FULL).
  if (in_transaction()) sqlite3_exec(conn_->db, "ROLLBACK", nullptr, nullptr, nullptr);
}

Status Database::savepoint() { return exec("SAVEPOINT md_nested"); }

Status Database::release_savepoint() { return exec("RELEASE md_nested"); }

void Database::rollback_savepoint() {
  sqlite3_exec(conn_->db, "ROLLBACK TO md_nested; RELEASE md_nested", nullptr, nullptr, nullptr);
}

bool Database::backoff(int attempt, std::chrono::steady_clock::time_point deadline) {
  auto now = std::chrono::steady_clock::now();
  if (now >= deadline) return false;
  // 1, 2, 4, … 64 ms, then 100 ms, each with up to 50% random jitter so processes that
  // collided once do not collide again in lockstep.
  long base_us = attempt < 7 ? 1000L << attempt : 100000L;
  unsigned int r = 0;
  if (::getrandom(&r, sizeof r, GRND_NONBLOCK) != sizeof r) r = static_cast<unsigned>(attempt) * 7919u;
  auto wait = std::chrono::microseconds(base_us + static_cast<long>(r % static_cast<unsigned>(base_us / 2 + 1)));
  auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - now);
  std::this_thread::sleep_for(std::min(wait, left));
  return true;
}

Status Database::migrate(std::span<const Migration> migrations) {
  if (migrations.empty()) return {};
  const int latest = migrations.back().version;
  // Fast path, no write lock: most opens find the schema current.
  std::int64_t current = TRY_CTX(query_int("PRAGMA user_version"), "read schema version");
  if (current == latest) return {};
  auto too_new = [&](std::int64_t v) {
    return fail("database " + path_ + " has schema version " + std::to_string(v) +
                    ", newer than this minidocker knows (" + std::to_string(latest) + ")",
                EPROTO);
  };
  if (current > latest) return too_new(current);
  return transaction([&]() -> Status {
    // Another process may have migrated while we waited for the write lock.
    std::int64_t v = TRY_CTX(query_int("PRAGMA user_version"), "read schema version");
    if (v > latest) return too_new(v);
    for (const Migration& m : migrations) {
      if (m.version <= v) continue;
      TRY_CTX(exec(m.sql), "migrate schema to version " + std::to_string(m.version));
      TRY(exec("PRAGMA user_version = " + std::to_string(m.version)));
    }
    return {};
  });
}

Result<std::string> Database::integrity_check() {
  Statement st = TRY(prepare("PRAGMA integrity_check"));
  std::string out;
  while (TRY(st.step())) {
    if (!out.empty()) out += "\n";
    out += st.column_text(0);
  }
  return out;
}

}  // namespace md::store
