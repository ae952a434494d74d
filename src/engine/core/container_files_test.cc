#include "engine/core/container_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

namespace md::engine {
namespace {

TEST(ContainerFiles, Base64IsRfc4648WithPadding) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string("\xff\xfe\x00", 3)), "//4A");
}

// The header docker cp decodes: Go's os.FileMode (directory bit 1<<31), RFC 3339 mtime.
TEST(ContainerFiles, PathStatHeaderIsDockersJson) {
  image::PathStat st;
  st.name = "d";
  st.size = 4096;
  st.mode = S_IFDIR | 0755;
  st.mtime.tv_sec = 1700000000;
  st.mtime.tv_nsec = 5;
  std::string want = R"({"linkTarget":"","mode":2147484141,"mtime":"2023-11-14T22:13:20.000000005Z","name":"d","size":4096})";
  EXPECT_EQ(path_stat_header(st), base64_encode(want));
}

}  // namespace
}  // namespace md::engine
