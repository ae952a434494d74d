// SHA-256 (FIPS 180-4) for content digests: image ids, layer diff_ids, blob checks.
//
// Why our own: the image library links only libarchive, which does not expose a hash.
// The compression function uses the x86 SHA extensions when the CPU has them (checked
// once at run time) and portable C++ otherwise; both give the same bytes (tested).
//
// Not thread-safe per object; separate objects may be used from separate threads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace md::image {

enum class Sha256Impl { kAuto, kPortable };

class Sha256 {
 public:
  explicit Sha256(Sha256Impl impl = Sha256Impl::kAuto);

  void update(const void* data, size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }
  // Ends the computation; the object must not be updated afterwards.
  std::array<uint8_t, 32> finish();
  // finish() as 64 lowercase hex digits.
  std::string finish_hex();

 private:
  void compress(const uint8_t* blocks, size_t count);

  uint32_t state_[8];
  uint8_t buffer_[64];
  size_t buffered_ = 0;
  uint64_t total_ = 0;
  bool hardware_ = false;
};

// True when the CPU's SHA extensions are used by Sha256Impl::kAuto.
bool sha256_hardware_available();

// 64 lowercase hex digits of sha256(data).
std::string sha256_hex(std::string_view data);
// "sha256:" + sha256_hex(data): the OCI digest form.
std::string sha256_digest(std::string_view data);
// Hashes a whole file descriptor from its current offset to EOF.
Result<std::string> sha256_hex_of_fd(int fd);

// True for "sha256:" followed by exactly 64 lowercase hex digits.
bool is_sha256_digest(std::string_view digest);
// True for exactly 64 lowercase hex digits.
bool is_sha256_hex(std::string_view hex);

}  // namespace md::image
