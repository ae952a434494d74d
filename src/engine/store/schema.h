// The engine's state database: where it lives and its schema (see docs/state.md).
#pragma once

#include <span>
#include <string>

#include "base/result.h"
#include "engine/store/database.h"

namespace md::store {

// <root>/minidocker.db
std::string state_db_path(const std::string& root);

// The schema, one migration per version; append, never edit a released one.
std::span<const Migration> schema_migrations();

// Creates <root> (0700) if needed, opens <root>/minidocker.db and migrates it to the
// current schema. Each process (and each thread) opens its own.
Result<Database> open_state_db(const std::string& root, Database::Options options = {});

}  // namespace md::store
