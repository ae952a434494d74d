// Nft: one libnftables context, with libnftables.so.1 loaded by dlopen() on first use.
//
// Why dlopen: libnftables pulls in ~10 shared objects (libmnl, libnftnl, libjansson,
// libxtables, libgmp...). Linking it would make the dynamic loader map them on every
// `minidocker` command, most of which never touch the firewall. Only the header's
// prototypes are used, to type the function pointers.
//
// Ownership: an Nft owns its nft_ctx (freed by the destructor); move-only. The
// library itself is loaded once per process and never unloaded (libnftables keeps
// global state, and dlclose() of such libraries is not worth the risk).
//
// Namespace: the context's netlink socket is opened by open(), in the network
// namespace of the calling thread; every later command acts on that namespace,
// whichever thread runs it.
//
// Threads: open() may be called from any thread concurrently. One Nft must not be
// used by two threads at once; use one Nft per thread.
//
// Errors: a failed command returns an Error whose message is nft's own text
// ("nft: Could not process rule: File exists: `add element ip md ports_any { ... }`").
// When that text names a kernel error we know (EEXIST, ENOENT, EBUSY, EPERM,
// EOPNOTSUPP, ENOMEM, EINVAL), errno_value carries it, so callers can branch on
// "already there" / "not there" without parsing text.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

struct nft_ctx;

namespace md::net {

class Nft {
 public:
  // Loads libnftables.so.1 if this process has not yet, and creates a context
  // whose output and errors are buffered (never printed). Fails with the
  // dlopen()/dlsym() text when the library is missing.
  static Result<Nft> open();

  Nft(Nft&& other) noexcept;
  Nft& operator=(Nft&& other) noexcept;
  Nft(const Nft&) = delete;
  Nft& operator=(const Nft&) = delete;
  ~Nft();

  // Runs a script (one or more commands, newline- or `;`-separated) as ONE
  // netlink batch: the kernel applies all of it or none of it. Output is discarded.
  Status run(const std::string& script);

  // Runs a command (usually `list ...`) with JSON output and returns that output.
  Result<std::string> run_json(const std::string& cmd);

  struct Api;  // opaque: the library's functions, resolved once per process

 private:
  Nft(const Api* api, nft_ctx* ctx) : api_(api), ctx_(ctx) {}
  Result<std::string> run_with_flags(const std::string& script, unsigned flags);

  const Api* api_ = nullptr;
  nft_ctx* ctx_ = nullptr;
};

// Turns nft's error buffer (one "Error: ..." line, then the offending command and
// a line of carets, possibly repeated) into one line:
// "nft: <error>: `<command>`; <error>: `<command>`". Exposed for tests.
std::string format_nft_error(std::string_view raw);

// The errno named by nft's error text ("...: File exists" → EEXIST), or 0.
int nft_error_errno(std::string_view raw);

}  // namespace md::net
