#include "engine/image/sha256.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <random>

namespace md::image {
namespace {

std::string hash_with(Sha256Impl impl, std::string_view data) {
  Sha256 h(impl);
  h.update(data);
  return h.finish_hex();
}

// FIPS 180-4 examples (NIST CSRC "SHA256.pdf", "SHA2_Additional.pdf").
TEST(Sha256, FipsVectors) {
  struct Vector {
    std::string input;
    const char* hex;
  } vectors[] = {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmn"
       "opqrs"
       "mnopqrstnopqrstu",
       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
      {std::string(1000000, 'a'),
       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
      {std::string(1, '\xbd'), "68325720aabd7c82f30f554b313d0570c95accbb7dc4b5aae11204c08ffe732b"},
      {std::string("\xc9\x8c\x8e\x55", 4),
       "7abc22c0ae5af26ce93dbb94433a0e0b2e119d014f8e7f65bd56c61ccccd9504"},
      {std::string(55, '\0'), "02779466cdec163811d078815c633f21901413081449002f24aa3e80f0b88ef7"},
      {std::string(56, '\0'), "d4817aa5497628e7c77e6b606107042bbba3130888c5f47a375e6179be789fbb"},
      {std::string(57, '\0'), "65a16cb7861335d5ace3c60718b5052e44660726da4cd13bb745381b235a1785"},
      {std::string(64, '\0'), "f5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a92759fb4b"},
      {std::string(1000, '\0'), "541b3e9daa09b20bf85fa273e5cbd3e80185aa4ec298e765db87742b70138a53"},
      {std::string(1000, 'A'), "c2e686823489ced2017f6059b8b239318b6364f6dcd835d0a519105a1eadd6e4"},
      {std::string(1005, 'U'), "f4d62ddec0f3dd90ea1380fa16a5ff8dc4c54b21740650f24afc4120903552b0"},
  };
  for (const auto& v : vectors) {
    EXPECT_EQ(hash_with(Sha256Impl::kPortable, v.input), v.hex) << "length " << v.input.size();
    EXPECT_EQ(hash_with(Sha256Impl::kAuto, v.input), v.hex) << "length " << v.input.size();
  }
}

// Splitting the input anywhere gives the same digest as one update.
TEST(Sha256, IncrementalUpdatesMatchOneShot) {
  std::mt19937 rng(42);
  std::string data(3000, '\0');
  for (auto& c : data) c = static_cast<char>(rng());
  const std::string whole = sha256_hex(data);
  for (size_t chunk : {1u, 3u, 63u, 64u, 65u, 127u, 1000u}) {
    Sha256 h;
    for (size_t off = 0; off < data.size(); off += chunk)
      h.update(std::string_view(data).substr(off, chunk));
    EXPECT_EQ(h.finish_hex(), whole) << "chunk " << chunk;
  }
}

// The SHA-NI path (when this CPU has it) agrees with the portable one on every length.
TEST(Sha256, HardwareAndPortableAgree) {
  if (!sha256_hardware_available()) GTEST_SKIP() << "no SHA extensions on this CPU";
  std::mt19937 rng(7);
  std::string data(4096 + 130, '\0');
  for (auto& c : data) c = static_cast<char>(rng());
  for (size_t len = 0; len <= data.size(); len += (len < 300 ? 1 : 61)) {
    std::string_view part(data.data(), len);
    ASSERT_EQ(hash_with(Sha256Impl::kAuto, part), hash_with(Sha256Impl::kPortable, part)) << len;
  }
}

TEST(Sha256, DigestHelpers) {
  EXPECT_EQ(sha256_digest("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_TRUE(is_sha256_digest(sha256_digest("x")));
  EXPECT_FALSE(is_sha256_digest("sha256:ABC"));
  EXPECT_FALSE(is_sha256_digest("sha512:" + sha256_hex("x")));
  EXPECT_FALSE(is_sha256_hex(sha256_hex("x").substr(1)));
  EXPECT_FALSE(is_sha256_hex(std::string(63, 'a') + "G"));
}

TEST(Sha256, OfFd) {
  char path[] = "/tmp/md-sha256-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::unlink(path);
  ASSERT_EQ(::write(fd, "abc", 3), 3);
  ASSERT_EQ(::lseek(fd, 0, SEEK_SET), 0);
  auto r = sha256_hex_of_fd(fd);
  ::close(fd);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace md::image
