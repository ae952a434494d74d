// Result<T>: the one error convention of minidocker (parent-side code).
//
// Every fallible function returns Result<T> (or Status == Result<void>). An Error
// carries the errno that caused it (0 when none) and a message a user can act on:
// lowercase, naming the operation and the value ("open config.json: no such file").
// Errors never throw; TRY() propagates them. Code that runs in a cloned child
// before exec must not use this type (it allocates): see child_io.h.
#pragma once

#include <cerrno>
#include <cstring>
#include <expected>
#include <string>
#include <utility>

namespace md {

struct Error {
  int errno_value = 0;
  std::string message;
};

template <class T>
using Result = std::expected<T, Error>;
using Status = Result<void>;

inline std::unexpected<Error> fail(std::string message, int errno_value = 0) {
  return std::unexpected(Error{errno_value, std::move(message)});
}

// Appends ": <strerror(err)>" to `what`; `err` defaults to the current errno.
inline std::unexpected<Error> fail_errno(std::string what, int err = errno) {
  what += ": ";
  what += std::strerror(err);
  return std::unexpected(Error{err, std::move(what)});
}

// Prefixes context to an error on its way up: "create container x: <inner>".
inline Error with_context(Error e, const std::string& context) {
  e.message = context + ": " + e.message;
  return e;
}

}  // namespace md

// TRY(expr): evaluates a Result; on error returns it from the enclosing function,
// otherwise yields the value (GNU statement expression, as SerenityOS does).
#define TRY(expr)                                                 \
  ({                                                              \
    auto&& md_try_result_ = (expr);                               \
    if (!md_try_result_) [[unlikely]]                             \
      return std::unexpected(std::move(md_try_result_).error());  \
    std::move(md_try_result_).value();                            \
  })

// TRY_CTX(expr, context): as TRY, prefixing the error message with context.
#define TRY_CTX(expr, context)                                                      \
  ({                                                                                \
    auto&& md_try_result_ = (expr);                                                 \
    if (!md_try_result_) [[unlikely]]                                               \
      return std::unexpected(::md::with_context(std::move(md_try_result_).error(),  \
                                                (context)));                        \
    std::move(md_try_result_).value();                                              \
  })
