#include "net/nft_lib.h"

#include <dlfcn.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <utility>
#include <vector>

#include "base/unique_fd.h"

// libnftables.h defines _GNU_SOURCE unconditionally; g++ already defines it (as 1),
// which would warn about a redefinition. Only the prototypes are used here.
#ifdef _GNU_SOURCE
#undef _GNU_SOURCE
#endif
#include <nftables/libnftables.h>

namespace md::net {

// The functions we use, typed from the header so a prototype change fails to compile.
struct Nft::Api {
  decltype(&::nft_ctx_new) ctx_new;
  decltype(&::nft_ctx_free) ctx_free;
  decltype(&::nft_run_cmd_from_buffer) run_cmd_from_buffer;
  decltype(&::nft_ctx_buffer_output) buffer_output;
  decltype(&::nft_ctx_buffer_error) buffer_error;
  decltype(&::nft_ctx_get_output_buffer) get_output_buffer;
  decltype(&::nft_ctx_get_error_buffer) get_error_buffer;
  decltype(&::nft_ctx_output_set_flags) output_set_flags;
};

namespace {

constexpr const char* kLibrary = "libnftables.so.1";

struct Loaded {
  Nft::Api* api = nullptr;  // null when loading failed
  std::string error;
};

template <class Fn>
bool resolve(void* handle, const char* name, Fn& out, std::string& error) {
  void* sym = ::dlsym(handle, name);
  if (sym == nullptr) {
    error = std::string("load ") + kLibrary + ": missing symbol " + name;
    return false;
  }
  out = reinterpret_cast<Fn>(sym);
  return true;
}

// Each line of nft's error text that starts an error, stripped of its location
// prefix ("<cmdline>:2:3-9: "), paired with the command line printed after it.
struct ErrorLine {
  std::string_view message;
  std::string_view command;
};

std::vector<ErrorLine> split_errors(std::string_view raw) {
  std::vector<ErrorLine> out;
  std::vector<std::string_view> lines;
  while (!raw.empty()) {
    size_t nl = raw.find('\n');
    lines.push_back(raw.substr(0, nl));
    raw = nl == std::string_view::npos ? std::string_view{} : raw.substr(nl + 1);
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    size_t at = lines[i].find("Error: ");
    if (at == std::string_view::npos) continue;
    ErrorLine e{lines[i].substr(at + 7), {}};
    // nft prints the offending command on the next line, then carets under it.
    if (i + 1 < lines.size() && lines[i + 1].find("Error: ") == std::string_view::npos &&
        lines[i + 1].find_first_not_of(" ^~\t") != std::string_view::npos)
      e.command = lines[i + 1];
    out.push_back(e);
  }
  return out;
}

}  // namespace

std::string format_nft_error(std::string_view raw) {
  std::string out = "nft: ";
  auto errors = split_errors(raw);
  if (errors.empty()) {
    // Not nft's usual shape: keep the text, on one line.
    while (!raw.empty() && (raw.back() == '\n' || raw.back() == ' ')) raw.remove_suffix(1);
    if (raw.empty()) return out + "command failed without a message";
    for (char c : raw) out += c == '\n' ? ' ' : c;
    return out;
  }
  for (size_t i = 0; i < errors.size(); ++i) {
    if (i > 0) out += "; ";
    out += errors[i].message;
    if (!errors[i].command.empty()) {
      out += ": `";
      out += errors[i].command;
      out += '`';
    }
  }
  return out;
}

int nft_error_errno(std::string_view raw) {
  // nft reports kernel errors as "Could not process rule: <strerror(errno)>".
  static constexpr std::array kKnown = {EEXIST, ENOENT, EBUSY, EPERM, EOPNOTSUPP, ENOMEM, EINVAL};
  for (const auto& e : split_errors(raw)) {
    for (int err : kKnown) {
      std::string_view text = std::strerror(err);
      // "Could not process rule: File exists", or just "No such file or directory".
      if (e.message == text || (e.message.ends_with(text) && e.message.size() > text.size() &&
                                e.message[e.message.size() - text.size() - 1] == ' '))
        return err;
    }
  }
  return 0;
}

Result<Nft> Nft::open() {
  // Loaded once, on first use; never unloaded.
  static const Loaded loaded = [] {
    Loaded l;
    void* handle = ::dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = ::dlerror();
      l.error = std::string("load ") + kLibrary + ": " + (why ? why : "unknown error") +
                " (is libnftables1 installed?)";
      return l;
    }
    auto* api = new Api{};
    bool ok = resolve(handle, "nft_ctx_new", api->ctx_new, l.error) &&
              resolve(handle, "nft_ctx_free", api->ctx_free, l.error) &&
              resolve(handle, "nft_run_cmd_from_buffer", api->run_cmd_from_buffer, l.error) &&
              resolve(handle, "nft_ctx_buffer_output", api->buffer_output, l.error) &&
              resolve(handle, "nft_ctx_buffer_error", api->buffer_error, l.error) &&
              resolve(handle, "nft_ctx_get_output_buffer", api->get_output_buffer, l.error) &&
              resolve(handle, "nft_ctx_get_error_buffer", api->get_error_buffer, l.error) &&
              resolve(handle, "nft_ctx_output_set_flags", api->output_set_flags, l.error);
    if (!ok) {
      delete api;
      ::dlclose(handle);
      return l;
    }
    l.api = api;  // lives as long as the process, like the library
    return l;
  }();
  if (loaded.api == nullptr) return fail(loaded.error);

  // nft_ctx_new() exit()s the whole process when it cannot open its netlink
  // socket (libnftables' netlink_init_error()), e.g. without nf_tables or
  // CAP_NET_ADMIN in a locked-down namespace. Open one ourselves first so that
  // becomes an error instead.
  {
    UniqueFd probe(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER));
    if (!probe) return fail_errno("open nftables netlink socket");
  }

  // nft_ctx_new() initialises library globals on its first call without a lock.
  static std::mutex new_mutex;
  nft_ctx* ctx;
  {
    std::lock_guard lock(new_mutex);
    ctx = loaded.api->ctx_new(NFT_CTX_DEFAULT);
  }
  if (ctx == nullptr) return fail("create nftables context: out of memory", ENOMEM);
  Nft nft(loaded.api, ctx);
  // Buffered output and errors: the library never writes to our stdout/stderr.
  if (loaded.api->buffer_output(ctx) != 0 || loaded.api->buffer_error(ctx) != 0)
    return fail("create nftables context: cannot buffer output");
  return nft;
}

Nft::Nft(Nft&& other) noexcept
    : api_(std::exchange(other.api_, nullptr)), ctx_(std::exchange(other.ctx_, nullptr)) {}

Nft& Nft::operator=(Nft&& other) noexcept {
  if (this != &other) {
    if (ctx_ != nullptr) api_->ctx_free(ctx_);
    api_ = std::exchange(other.api_, nullptr);
    ctx_ = std::exchange(other.ctx_, nullptr);
  }
  return *this;
}

Nft::~Nft() {
  if (ctx_ != nullptr) api_->ctx_free(ctx_);
}

Result<std::string> Nft::run_with_flags(const std::string& script, unsigned flags) {
  if (ctx_ == nullptr) return fail("nft: use of a moved-from context", EINVAL);
  api_->output_set_flags(ctx_, flags);
  int rc = api_->run_cmd_from_buffer(ctx_, script.c_str());
  // Each get_*_buffer() call also rewinds that buffer, so read both every time:
  // otherwise output would pile up across commands.
  std::string output = api_->get_output_buffer(ctx_);
  std::string errors = api_->get_error_buffer(ctx_);
  if (rc != 0) return fail(format_nft_error(errors), nft_error_errno(errors));
  return output;
}

Status Nft::run(const std::string& script) {
  TRY(run_with_flags(script, 0));
  return {};
}

Result<std::string> Nft::run_json(const std::string& cmd) {
  return run_with_flags(cmd, NFT_CTX_OUTPUT_JSON);
}

}  // namespace md::net
