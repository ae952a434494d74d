// Tar-split: a layer unpacked with a recorder is rebuilt byte for byte (its sha256 is the
// diff_id) from the files on disk, for tars made by different writers.
#include "engine/image/tar_split.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <random>

#include "base/file_util.h"
#include "engine/image/layer_extract.h"
#include "engine/image/sha256.h"
#include "engine/image/tar_builder_for_test.h"

namespace md::image {
namespace {

using testing::Compression;
using testing::TarBuilder;
using testing::TempDir;

std::string random_bytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

struct Rebuilt {
  LayerStats stats;
  bool reproducible = false;
  std::string digest;  // of the rebuilt tar
  std::string bytes;
};

// Unpacks `blob` with a recorder, then rebuilds the tar from the unpacked files.
Rebuilt unpack_and_rebuild(const TempDir& tmp, const std::string& blob, bool from_fd = false) {
  Rebuilt out;
  std::string dir = tmp / "layer";
  EXPECT_TRUE(make_directories(dir));
  auto rec = TarSplitRecorder::create(tmp / "split");
  EXPECT_TRUE(rec) << rec.error().message;
  ExtractOptions opts;
  opts.tar_split = rec->get();
  Result<LayerStats> stats = fail("not run");
  if (from_fd) {
    UniqueFd fd(::open(testing::write_temp_file(tmp / "blob", blob).c_str(), O_RDONLY | O_CLOEXEC));
    stats = extract_layer(fd.get(), dir, opts);
  } else {
    stats = extract_layer_memory(blob, dir, opts);
  }
  EXPECT_TRUE(stats) << stats.error().message;
  if (!stats) return out;
  out.stats = *stats;
  auto fin = (*rec)->finish(stats->bytes);
  EXPECT_TRUE(fin) << fin.error().message;
  out.reproducible = (*rec)->reproducible();
  UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  auto digest = rebuild_tar(tmp / "split", dfd.get(), [&](const void* p, size_t n) -> Status {
    out.bytes.append(static_cast<const char*>(p), n);
    return {};
  });
  if (out.reproducible) {
    EXPECT_TRUE(digest) << digest.error().message;
    if (digest) out.digest = *digest;
  }
  return out;
}

TEST(LayerTarSplit, RebuildsPaxTarByteForByte) {
  TempDir tmp;
  std::string long_name = "dir/" + std::string(150, 'n') + "/file";
  std::string blob = TarBuilder()
                         .dir("dir")
                         .file("dir/a", "hello\n")
                         .file("dir/empty", "")
                         .file(long_name, "long name via pax\n")
                         .file("dir/big", random_bytes(3 << 20, 1), 0755)
                         .symlink("dir/link", "a")
                         .hardlink("dir/hard", "dir/a")
                         .file("dir/.wh.gone", "")
                         .file("xattr", "x", 0644, 0, 0, {{"user.k", "v"}})
                         .build();
  Rebuilt r = unpack_and_rebuild(tmp, blob);
  EXPECT_TRUE(r.reproducible);
  EXPECT_EQ(r.digest, sha256_digest(blob));
  EXPECT_EQ(r.bytes, blob);
  auto summary = read_tar_split_summary(tmp / "split");
  ASSERT_TRUE(summary) << summary.error().message;
  EXPECT_EQ(summary->tar_size, blob.size());
  EXPECT_EQ(summary->files, 4u);  // a, long, big, xattr (empty files are kept verbatim)
  EXPECT_EQ(summary->content_bytes, r.stats.bytes);
}

TEST(LayerTarSplit, RebuildsTheUncompressedTarOfACompressedLayer) {
  TempDir tmp;
  TarBuilder b;
  b.dir("d").file("d/one", random_bytes(100000, 2)).file("d/two", "two");
  Rebuilt r = unpack_and_rebuild(tmp, b.build(Compression::kGzip));
  EXPECT_TRUE(r.reproducible);
  EXPECT_EQ(r.digest, r.stats.diff_id);
  EXPECT_EQ(r.bytes, b.build());
}

// A file bigger than what the recorder keeps unclassified.
TEST(LayerTarSplit, HugeFileIsReferencedNotCopied) {
  TempDir tmp;
  std::string blob = TarBuilder().file("huge", random_bytes(20 << 20, 3)).file("after", "x").build();
  Rebuilt r = unpack_and_rebuild(tmp, blob);
  EXPECT_TRUE(r.reproducible);
  EXPECT_EQ(r.digest, sha256_digest(blob));
  struct stat st;
  ASSERT_EQ(::stat((tmp / "split").c_str(), &st), 0);
  EXPECT_LT(st.st_size, 64 << 10);
}

// Read in blocks from a file, and with 20 MB of content that is kept verbatim (a whiteout
// marker carrying data: the extractor writes no file for it) before a file referenced.
TEST(LayerTarSplit, BigVerbatimContentIsStreamedFromAFile) {
  TempDir tmp;
  std::string blob = TarBuilder()
                         .file("a/.wh.big", random_bytes(20 << 20, 4))
                         .file("a/huge", random_bytes(12 << 20, 5))
                         .file("a/small", "x")
                         .build();
  Rebuilt r = unpack_and_rebuild(tmp, blob, /*from_fd=*/true);
  EXPECT_TRUE(r.reproducible);
  EXPECT_EQ(r.digest, sha256_digest(blob));
  auto summary = read_tar_split_summary(tmp / "split");
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->files, 2u);
}

// GNU tar's own format: ././@LongLink names, sparse files (kept verbatim).
TEST(LayerTarSplit, RebuildsGnuTarWithLongNamesAndSparseFiles) {
  if (::access("/usr/bin/tar", X_OK) != 0) GTEST_SKIP() << "no GNU tar";
  TempDir tmp;
  std::string src = tmp / "src";
  std::string deep = src + "/" + std::string(120, 'd');
  ASSERT_TRUE(make_directories(deep));
  ASSERT_TRUE(write_file_atomic(deep + "/f", "content"));
  int fd = ::open((src + "/sparse").c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, "x", 1, 10 << 20), 1);
  ::close(fd);
  std::string cmd = "tar --format=gnu --sparse -C " + src + " -cf " + (tmp / "g.tar") + " .";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::string blob = *read_file(tmp / "g.tar");
  Rebuilt r = unpack_and_rebuild(tmp, blob);
  EXPECT_TRUE(r.reproducible);
  EXPECT_EQ(r.digest, sha256_digest(blob));
}

TEST(LayerTarSplit, AFileWrittenTwiceIsNotReproducible) {
  TempDir tmp;
  std::string blob = TarBuilder().file("same", "first").file("same", "second").build();
  Rebuilt r = unpack_and_rebuild(tmp, blob);
  EXPECT_FALSE(r.reproducible);
}

TEST(LayerTarSplit, ADirectoryReplacedByAFileIsNotReproducible) {
  TempDir tmp;
  std::string blob = TarBuilder().dir("d").file("d/x", "data").file("d", "now a file").build();
  Rebuilt r = unpack_and_rebuild(tmp, blob);
  EXPECT_FALSE(r.reproducible);
}

TEST(LayerTarSplit, AChangedFileIsReportedOnRebuild) {
  TempDir tmp;
  std::string blob = TarBuilder().file("f", "original").build();
  Rebuilt r = unpack_and_rebuild(tmp, blob);
  ASSERT_TRUE(r.reproducible);
  ASSERT_TRUE(write_file_atomic(tmp / "layer/f", "changed!!"));
  UniqueFd dfd(::open((tmp / "layer").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  auto d = rebuild_tar(tmp / "split", dfd.get(), [](const void*, size_t) -> Status { return {}; });
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("changed since it was unpacked"), std::string::npos)
      << d.error().message;
}

TEST(LayerTarSplit, ADamagedSplitIsAnError) {
  TempDir tmp;
  ASSERT_TRUE(write_file_atomic(tmp / "split", "not gzip at all"));
  auto s = read_tar_split_summary(tmp / "split");
  ASSERT_FALSE(s);
}

}  // namespace
}  // namespace md::image
