// Container ids and names, as Docker makes them.
//
// An id is 64 lowercase hex digits (32 bytes from getrandom), shown as its first 12.
// A name is [a-zA-Z0-9][a-zA-Z0-9_.-]+; a generated one is adjective_surname from small
// built-in lists ("quirky_lovelace"). Uniqueness of names is the ContainerStore's job:
// it draws again inside its write transaction until a name is free.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace md::store {

inline constexpr size_t kIdLength = 64;
inline constexpr size_t kShortIdLength = 12;

// 64 random hex digits. Like Docker, never one whose 12-digit short form is all decimal
// digits (it would read as a number in scripts and filters).
Result<std::string> generate_id();
// The first 12 characters (the whole string when shorter).
std::string short_id(std::string_view id);
bool is_hex(std::string_view s);
bool is_full_id(std::string_view s);  // 64 lowercase hex digits

// A random adjective_surname (not checked against existing names). `attempt` > 0 appends
// a digit, as Docker does after a collision, so retries spread over a larger space.
std::string generate_name(int attempt = 0);
// Docker's rule: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (so at least 2 characters).
bool is_valid_name(std::string_view name);
// Checks a user-given name; a leading "/" (Docker's API form) is dropped.
Result<std::string> normalize_name(std::string_view name);

}  // namespace md::store
