// Layer extraction: the malicious tars of issue 3 (each must fail with an error naming
// the entry, and nothing may appear outside the destination), whiteouts, metadata.
// Root-only checks skip themselves when not root.
#include "engine/image/layer_extract.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <set>

#include "base/file_util.h"
#include "base/scope_guard.h"
#include "engine/image/layer_path.h"
#include "engine/image/sha256.h"
#include "engine/image/tar_builder_for_test.h"

namespace md::image {
namespace {

using testing::Compression;
using ::testing::HasSubstr;
using testing::TarBuilder;
using testing::TempDir;

bool is_root() { return ::geteuid() == 0; }

std::set<std::string> names_in(const std::string& dir) {
  auto list = list_directory(dir);
  return list ? std::set<std::string>(list->begin(), list->end()) : std::set<std::string>{};
}

struct stat lstat_of(const std::string& path) {
  struct stat st = {};
  if (::lstat(path.c_str(), &st) != 0) st.st_mode = 0;
  return st;
}

std::string xattr_of(const std::string& path, const char* name) {
  char buf[256];
  ssize_t n = ::lgetxattr(path.c_str(), name, buf, sizeof buf);
  return n < 0 ? std::string("<none>") : std::string(buf, static_cast<size_t>(n));
}

// ---------------------------------------------------------------------------------------
// Names and symlink targets (pure functions).

TEST(LayerPath, CleansNamesTheWayDockerDoes) {
  EXPECT_EQ(*clean_layer_path("/abs/path"), "abs/path");
  EXPECT_EQ(*clean_layer_path("./a//b/./c/"), "a/b/c");
  EXPECT_EQ(*clean_layer_path("a/../b"), "b");
  EXPECT_EQ(*clean_layer_path("."), "");
  EXPECT_EQ(*clean_layer_path("/"), "");
  EXPECT_EQ(*clean_layer_path("./"), "");
  EXPECT_EQ(*clean_layer_path("..."), "...");
}

TEST(LayerPath, RefusesNamesThatClimbOut) {
  for (const char* name :
       {"..", "../escape", "a/../../escape", "/../etc/passwd", "./a/b/../../../x"}) {
    auto r = clean_layer_path(name);
    ASSERT_FALSE(r) << name;
    EXPECT_EQ(r.error().message, "path escapes the layer");
  }
}

TEST(LayerPath, SymlinkTargetsFollowDockersRule) {
  EXPECT_TRUE(symlink_target_stays_inside("bin/sh", "/bin/busybox"));  // absolute: rooted
  EXPECT_TRUE(symlink_target_stays_inside("evil", "/etc/passwd"));
  EXPECT_TRUE(symlink_target_stays_inside("a/l", "../x"));
  EXPECT_TRUE(symlink_target_stays_inside("a/b/l", "../../x"));
  EXPECT_TRUE(symlink_target_stays_inside("usr/lib/libz.so", "libz.so.1"));
  EXPECT_FALSE(symlink_target_stays_inside("evil", ".."));
  EXPECT_FALSE(symlink_target_stays_inside("evil", "../.."));
  EXPECT_FALSE(symlink_target_stays_inside("a/b/l", "../../../x"));
  EXPECT_FALSE(symlink_target_stays_inside("l", "a/../../x"));
}

TEST(LayerPath, QuoteEscapesControlBytes) {
  EXPECT_EQ(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(quote("x\x1b[2Jy\n"), "\"x\\x1b[2Jy\\x0a\"");
}

// ---------------------------------------------------------------------------------------
// Malicious layers.

class LayerEscape : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    ASSERT_TRUE(make_directories(dest_));
    ASSERT_TRUE(make_directories(sentinel_));
    testing::write_temp_file(secret_, "secret");
  }

  Result<LayerStats> extract(const TarBuilder& tar, const ExtractOptions& options = {}) {
    return extract_layer_memory(tar.build(), dest_, options);
  }

  // Nothing was created next to dest, nothing in the sentinel dir, the secret untouched.
  void expect_nothing_outside() {
    EXPECT_EQ(names_in(tmp_.path()), (std::set<std::string>{"dest", "sentinel"}));
    EXPECT_EQ(names_in(sentinel_), (std::set<std::string>{"secret"}));
    auto content = read_file(secret_);
    ASSERT_TRUE(content);
    EXPECT_EQ(*content, "secret");
    EXPECT_EQ(lstat_of(secret_).st_nlink, 1u);
  }

  void expect_fails(const TarBuilder& tar, const std::string& message,
                    const ExtractOptions& options = {}) {
    auto r = extract(tar, options);
    ASSERT_FALSE(r) << "extraction should have failed with: " << message;
    EXPECT_THAT(r.error().message, HasSubstr(message));
    expect_nothing_outside();
  }

  static ExtractOptions in_layer() {
    ExtractOptions o;
    o.symlink_parents = SymlinkParents::kResolveInLayer;
    return o;
  }

  TempDir tmp_;
  std::string dest_ = tmp_ / "dest";
  std::string sentinel_ = tmp_ / "sentinel";
  std::string secret_ = sentinel_ + "/secret";
};

TEST_F(LayerEscape, DotDotName) {
  expect_fails(TarBuilder().file("../escape", "x"),
               "layer entry \"../escape\": path escapes the layer");
  expect_fails(TarBuilder().file("../sentinel/secret", "x"),
               "layer entry \"../sentinel/secret\": path escapes");
  expect_fails(TarBuilder().file("../../etc/passwd", "x"),
               "layer entry \"../../etc/passwd\": path escapes the layer");
}

TEST_F(LayerEscape, DotDotInTheMiddle) {
  expect_fails(TarBuilder().dir("a/").file("a/../../escape", "x"),
               "layer entry \"a/../../escape\": path escapes the layer");
}

TEST_F(LayerEscape, AbsoluteNameLandsInsideTheLayer) {
  std::string abs_secret = secret_;  // "/tmp/md-image-test-XXXX/sentinel/secret"
  auto r = extract(TarBuilder().file("/abs/path", "a").file(abs_secret, "overwritten?"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*read_file(dest_ + "/abs/path"), "a");
  EXPECT_EQ(*read_file(dest_ + abs_secret), "overwritten?");
  expect_nothing_outside();
}

TEST_F(LayerEscape, FileThroughAbsoluteSymlink) {
  expect_fails(TarBuilder().symlink("evil", sentinel_).file("evil/file", "x"),
               "layer entry \"evil/file\": path goes through symlink \"evil\"");
  EXPECT_EQ(lstat_of(dest_ + "/evil").st_mode & S_IFMT, S_IFLNK);  // the link itself is harmless
}

TEST_F(LayerEscape, FileThroughAbsoluteSymlinkResolvedInLayer) {
  // Followed as the container would: "/tmp/…/sentinel" means <dest>/tmp/…/sentinel.
  // Here that does not exist, so the link dangles: refused.
  expect_fails(TarBuilder().symlink("evil", sentinel_).file("evil/file", "x"),
               "layer entry \"evil/file\": path goes through dangling symlink \"evil\"",
               in_layer());
  // With the target present in the layer, the file lands there.
  ASSERT_TRUE(remove_tree(dest_) && make_directories(dest_));
  auto r = extract(TarBuilder().dir("inside").symlink("evil", "/inside").file("evil/file", "x"),
                   in_layer());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*read_file(dest_ + "/inside/file"), "x");
  expect_nothing_outside();
}

TEST_F(LayerEscape, SymlinkClimbingOut) {
  expect_fails(TarBuilder().symlink("evil", "../..").file("evil/x", "x"),
               "layer entry \"evil\": symlink target \"../..\" escapes the layer");
  expect_fails(TarBuilder().dir("a").symlink("a/evil", "../../sentinel").file("a/evil/x", "x"),
               "layer entry \"a/evil\": symlink target \"../../sentinel\" escapes the layer");
}

TEST_F(LayerEscape, FileThroughRelativeSymlinkInside) {
  // "a/b/up -> ../.." stays inside (it is the layer root), but a path through it is refused...
  expect_fails(TarBuilder().dir("a/b").symlink("a/b/up", "../..").file("a/b/up/x", "x"),
               "layer entry \"a/b/up/x\": path goes through symlink \"a/b/up\"");
  // ...or, resolved in the layer, lands at the layer root.
  ASSERT_TRUE(remove_tree(dest_) && make_directories(dest_));
  auto r =
      extract(TarBuilder().dir("a/b").symlink("a/b/up", "../..").file("a/b/up/x", "x"), in_layer());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*read_file(dest_ + "/x"), "x");
  expect_nothing_outside();
}

TEST_F(LayerEscape, HardlinkToHostFile) {
  expect_fails(TarBuilder().hardlink("passwd", "/etc/passwd"),
               "layer entry \"passwd\": hardlink target \"/etc/passwd\" is not in the layer");
  expect_fails(TarBuilder().hardlink("s", secret_),
               "hardlink target \"" + secret_ + "\" is not in the layer");
}

TEST_F(LayerEscape, HardlinkClimbingOut) {
  expect_fails(TarBuilder().hardlink("h", "../outside"),
               "layer entry \"h\": hardlink target \"../outside\": path escapes the layer");
  expect_fails(TarBuilder().hardlink("h", "../sentinel/secret"), "path escapes the layer");
}

TEST_F(LayerEscape, HardlinkThroughSymlink) {
  expect_fails(TarBuilder().symlink("l", sentinel_).hardlink("h", "l/secret"),
               "layer entry \"h\": hardlink target \"l/secret\": path goes through symlink \"l\"");
  ASSERT_TRUE(remove_tree(dest_) && make_directories(dest_));
  expect_fails(TarBuilder().symlink("l", sentinel_).hardlink("h", "l/secret"),
               "is not in the layer", in_layer());
}

TEST_F(LayerEscape, LaterFileReplacesSymlinkInsteadOfWritingThroughIt) {
  auto r = extract(TarBuilder()
                       .symlink("evil", secret_)
                       .file("evil", "replaced")
                       .symlink("d", sentinel_)
                       .dir("d")
                       .file("d/x", "x"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(lstat_of(dest_ + "/evil").st_mode & S_IFMT, S_IFREG);
  EXPECT_EQ(*read_file(dest_ + "/evil"), "replaced");
  EXPECT_EQ(lstat_of(dest_ + "/d").st_mode & S_IFMT, S_IFDIR);
  EXPECT_EQ(*read_file(dest_ + "/d/x"), "x");
  expect_nothing_outside();
}

TEST_F(LayerEscape, WhiteoutsAppliedFlatStayInside) {
  ASSERT_TRUE(extract(TarBuilder().symlink("s", sentinel_).symlink("t", secret_)));
  ExtractOptions flat = in_layer();
  flat.whiteouts = WhiteoutMode::kApplyFlat;
  // Through the symlink (resolved in the layer: nothing there), and of the links themselves.
  auto r = extract(
      TarBuilder().file("s/.wh.secret", "").file("s/.wh..wh..opq", "").file(".wh.t", ""), flat);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(lstat_of(dest_ + "/t").st_mode, 0u);
  EXPECT_EQ(lstat_of(dest_ + "/s").st_mode & S_IFMT, S_IFLNK);
  expect_nothing_outside();
}

TEST_F(LayerEscape, FileAsParentDirectory) {
  expect_fails(TarBuilder().file("a", "x").file("a/b", "y"),
               "layer entry \"a/b\": \"a\" is not a directory");
}

TEST_F(LayerEscape, ControlBytesInNamesAreEscaped) {
  expect_fails(TarBuilder().file("../\x1b[31mred", "x"),
               "layer entry \"../\\x1b[31mred\": path escapes");
}

// ---------------------------------------------------------------------------------------
// Ordinary layers.

class LayerExtract : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(make_directories(dest_)); }
  Result<LayerStats> extract(const std::string& tar, const ExtractOptions& options = {}) {
    return extract_layer_memory(tar, dest_, options);
  }
  TempDir tmp_;
  std::string dest_ = tmp_ / "dest";
};

TEST_F(LayerExtract, FilesDirectoriesLinksAndMetadata) {
  std::string tar = TarBuilder()
                        .mtime(1600000000)
                        .dir("./")
                        .dir("etc", 0755)
                        .file("etc/hosts", "127.0.0.1 localhost\n", 0644, 1234, 5678)
                        .file("bin/su", "#!/bin/sh\n", 04755)
                        .symlink("bin/sh", "/bin/busybox")
                        .hardlink("etc/hosts.bak", "etc/hosts")
                        .dir("ro", 0555)
                        .file("ro/inside", "x", 0400)
                        .file("x", "xattrs", 0644, 0, 0,
                              {{"user.md.test", "v"}, {"trusted.overlay.redirect", "/x"}})
                        .fifo("run/fifo", 0620)
                        .build();
  auto r = extract(tar);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->files, 4u);
  EXPECT_EQ(r->directories, 3u);
  EXPECT_EQ(r->symlinks, 1u);
  EXPECT_EQ(r->hardlinks, 1u);
  EXPECT_EQ(r->fifos, 1u);
  EXPECT_EQ(r->bytes, 20u + 10u + 1u + 6u);
  EXPECT_EQ(r->compression, "none");
  EXPECT_EQ(r->diff_id, sha256_digest(tar));
  EXPECT_EQ(r->digest, r->diff_id);

  EXPECT_EQ(*read_file(dest_ + "/etc/hosts"), "127.0.0.1 localhost\n");
  struct stat hosts = lstat_of(dest_ + "/etc/hosts");
  EXPECT_EQ(hosts.st_mode & 07777, 0644u);
  EXPECT_EQ(hosts.st_mtim.tv_sec, 1600000000);
  EXPECT_EQ(hosts.st_nlink, 2u);
  EXPECT_EQ(lstat_of(dest_ + "/etc/hosts.bak").st_ino, hosts.st_ino);
  if (is_root()) {
    EXPECT_EQ(hosts.st_uid, 1234u);
    EXPECT_EQ(hosts.st_gid, 5678u);
  }
  EXPECT_EQ(lstat_of(dest_ + "/bin/su").st_mode & 07777, 04755u);
  char target[64] = {};
  ASSERT_GT(::readlink((dest_ + "/bin/sh").c_str(), target, sizeof target - 1), 0);
  EXPECT_STREQ(target, "/bin/busybox");
  EXPECT_EQ(lstat_of(dest_ + "/ro").st_mode & 07777, 0555u);  // applied after its content
  EXPECT_EQ(lstat_of(dest_ + "/ro").st_mtim.tv_sec, 1600000000);
  EXPECT_EQ(lstat_of(dest_ + "/etc").st_mtim.tv_sec, 1600000000);
  EXPECT_EQ(lstat_of(dest_ + "/run/fifo").st_mode, S_IFIFO | 0620u);
  EXPECT_EQ(xattr_of(dest_ + "/x", "user.md.test"), "v");
  EXPECT_EQ(xattr_of(dest_ + "/x", "trusted.overlay.redirect"), "<none>");  // never from a tar
  EXPECT_GE(r->skipped_xattrs, 1u);
  ::chmod((dest_ + "/ro").c_str(), 0755);
}

TEST_F(LayerExtract, LaterEntriesReplaceEarlierOnes) {
  auto r = extract(TarBuilder()
                       .file("a", "file")
                       .dir("a")  // file → directory
                       .file("a/x", "x")
                       .dir("b")
                       .file("b/y", "y")
                       .file("b", "now a file")  // directory → file
                       .file("c", "1")
                       .file("c", "2")
                       .dir("d", 0700)
                       .dir("d", 0711)  // directory over directory: merged, last metadata wins
                       .build());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*read_file(dest_ + "/a/x"), "x");
  EXPECT_EQ(*read_file(dest_ + "/b"), "now a file");
  EXPECT_EQ(*read_file(dest_ + "/c"), "2");
  EXPECT_EQ(lstat_of(dest_ + "/d").st_mode & 07777, 0711u);
}

// Regression: replacing a directory below a cached parent once closed the parent's fd
// while it was still in use.
TEST_F(LayerExtract, ReplacingADirectoryBelowTheCachedParent) {
  auto r = extract(TarBuilder()
                       .dir("a")
                       .dir("a/b")
                       .file("a/b/c", "c")
                       .file("a/x", "x")
                       .file("a/b", "file")
                       .file("a/y", "y")
                       .build());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*read_file(dest_ + "/a/b"), "file");
  EXPECT_EQ(*read_file(dest_ + "/a/y"), "y");
  ExtractOptions flat;
  flat.whiteouts = WhiteoutMode::kApplyFlat;
  ASSERT_TRUE(extract(TarBuilder().dir("a/d").file("a/d/f", "f").build(), flat));
  r = extract(TarBuilder().file("a/z", "z").file("a/.wh.d", "").file("a/w", "w").build(), flat);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(names_in(dest_ + "/a"), (std::set<std::string>{"b", "w", "x", "y", "z"}));
}

TEST_F(LayerExtract, CompressedLayers) {
  TarBuilder b;
  b.dir("d").file("d/f", std::string(100000, 'z'));
  for (auto [compression, name] :
       {std::pair{Compression::kGzip, "gzip"}, std::pair{Compression::kZstd, "zstd"}}) {
    ASSERT_TRUE(remove_tree(dest_) && make_directories(dest_));
    std::string blob = b.build(compression);
    auto r = extract(blob);
    ASSERT_TRUE(r) << name << ": " << r.error().message;
    EXPECT_EQ(r->compression, name);
    EXPECT_EQ(r->digest, sha256_digest(blob));
    EXPECT_EQ(r->diff_id, sha256_digest(b.build()));
    EXPECT_EQ(read_file(dest_ + "/d/f")->size(), 100000u);
  }
}

TEST_F(LayerExtract, FromAFileDescriptor) {
  std::string blob = TarBuilder().file("hello", "world").build(Compression::kGzip);
  std::string path = testing::write_temp_file(tmp_ / "layer.tgz", blob);
  auto r = extract_layer_file(path, dest_);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*read_file(dest_ + "/hello"), "world");
  EXPECT_EQ(r->digest, sha256_digest(blob));
}

TEST_F(LayerExtract, BadInput) {
  auto r = extract("this is not a tar archive, not even close; it is just some text. " +
                   std::string(600, '.'));
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("read layer"));
  r = extract("");
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("empty"));
  std::string tar = TarBuilder().file("big", std::string(5000, 'b')).build();
  r = extract(tar.substr(0, 2048));  // truncated in the middle of the data
  ASSERT_FALSE(r);
  r = extract_layer_memory(tar, tmp_ / "missing");
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("open layer destination"));
}

TEST_F(LayerExtract, EmptyTarIsAnEmptyLayer) {
  auto r = extract(std::string(1024, '\0'));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->entries, 0u);
  EXPECT_EQ(r->diff_id, "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef");
}

TEST_F(LayerExtract, DeviceNodesAsRoot) {
  if (!is_root()) GTEST_SKIP() << "needs root";
  auto r = extract(TarBuilder().chardev("dev/null", 1, 3, 0666).build());
  ASSERT_TRUE(r) << r.error().message;
  struct stat st = lstat_of(dest_ + "/dev/null");
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
  EXPECT_EQ(st.st_mode & 07777, 0666u);
  EXPECT_EQ(r->devices, 1u);
}

// ---------------------------------------------------------------------------------------
// Whiteouts.

std::string lower_layer() {
  return TarBuilder()
      .dir("a")
      .file("a/b", "hidden by the upper layer")
      .file("a/keep", "kept")
      .dir("c")
      .file("c/old", "hidden by the opaque dir")
      .dir("c/sub")
      .file("c/sub/deep", "hidden too")
      .file("gone", "whited out")
      .build();
}

std::string upper_layer() {
  return TarBuilder()
      .dir("a")
      .file("a/.wh.b", "")
      .dir("c")
      .file("c/new", "added")  // before the marker: still kept
      .file("c/.wh..wh..opq", "")
      .dir("c/sub2")
      .file("c/sub2/f", "added too")
      .file(".wh.gone", "")
      .file("same", "same layer wins")
      .file(".wh.same", "")
      .file(".wh..wh.plnk", "")  // AUFS metadata: ignored
      .build();
}

TEST_F(LayerExtract, WhiteoutsBecomeOverlayfsWhiteouts) {
  if (!is_root()) GTEST_SKIP() << "needs root (trusted.* xattrs)";
  auto r = extract(upper_layer());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->whiteouts, 2u);
  EXPECT_EQ(r->opaque_dirs, 1u);
  EXPECT_TRUE(r->skipped_whiteouts.empty());
  EXPECT_TRUE(r->skipped_opaque_dirs.empty());
  EXPECT_EQ(r->skipped_entries, 1u);
  for (const char* path : {"/a/b", "/gone"}) {
    struct stat st = lstat_of(dest_ + path);
    EXPECT_TRUE(S_ISCHR(st.st_mode)) << path;
    EXPECT_EQ(st.st_rdev, makedev(0, 0)) << path;
  }
  EXPECT_EQ(xattr_of(dest_ + "/c", "trusted.overlay.opaque"), "y");
  EXPECT_EQ(*read_file(dest_ + "/same"), "same layer wins");
  EXPECT_EQ(names_in(dest_), (std::set<std::string>{"a", "c", "gone", "same"}));  // no .wh.* left
  EXPECT_EQ(names_in(dest_ + "/c"), (std::set<std::string>{"new", "sub2"}));
}

TEST_F(LayerExtract, OpaqueWithUserXattrs) {
  ExtractOptions o;
  o.overlay_xattr = OverlayXattr::kUser;
  auto r = extract(TarBuilder().file("c/.wh..wh..opq", "").build(), o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(xattr_of(dest_ + "/c", "user.overlay.opaque"), "y");
  EXPECT_EQ(r->opaque_dirs, 1u);
}

// The converted layers really work as overlayfs lowerdirs.
TEST_F(LayerExtract, ConvertedLayersMountAsOverlay) {
  if (!is_root()) GTEST_SKIP() << "needs root";
  std::string lower = tmp_ / "lower", upper = tmp_ / "upper", mnt = tmp_ / "mnt";
  for (const auto& d : {lower, upper, mnt}) ASSERT_TRUE(make_directories(d));
  ASSERT_TRUE(extract_layer_memory(lower_layer(), lower));
  ASSERT_TRUE(extract_layer_memory(upper_layer(), upper));
  std::string options = "lowerdir=" + upper + ":" + lower;
  if (::mount("overlay", mnt.c_str(), "overlay", 0, options.c_str()) != 0)
    GTEST_SKIP() << "cannot mount overlay here: " << std::strerror(errno);
  ScopeGuard unmount([&] { ::umount2(mnt.c_str(), MNT_DETACH); });
  EXPECT_EQ(names_in(mnt), (std::set<std::string>{"a", "c", "same"}));
  EXPECT_EQ(names_in(mnt + "/a"), (std::set<std::string>{"keep"}));
  EXPECT_EQ(names_in(mnt + "/c"), (std::set<std::string>{"new", "sub2"}));
  EXPECT_EQ(*read_file(mnt + "/c/sub2/f"), "added too");
}

TEST_F(LayerExtract, ApplyFlatDeletesWhatWhiteoutsHide) {
  std::string lower = testing::write_temp_file(tmp_ / "lower.tar", lower_layer());
  std::string upper = testing::write_temp_file(tmp_ / "upper.tar", upper_layer());
  for (const auto& path : {lower, upper}) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    auto r = apply_layer_flat(fd.get(), dest_);
    ASSERT_TRUE(r) << r.error().message;
  }
  EXPECT_EQ(names_in(dest_), (std::set<std::string>{"a", "c", "same"}));
  EXPECT_EQ(names_in(dest_ + "/a"), (std::set<std::string>{"keep"}));
  EXPECT_EQ(names_in(dest_ + "/c"), (std::set<std::string>{"new", "sub2"}));
  EXPECT_EQ(*read_file(dest_ + "/same"), "same layer wins");
}

// As an unprivileged user: files belong to the caller, device nodes and trusted.*
// xattrs are skipped and counted, the layer is still unpacked.
TEST_F(LayerExtract, AsAnUnprivilegedUser) {
  if (!is_root()) GTEST_SKIP() << "needs root to switch to an unprivileged user";
  ASSERT_EQ(::chmod(tmp_.path().c_str(), 0755), 0);
  ASSERT_EQ(::chown(dest_.c_str(), 65534, 65534), 0);
  std::string tar = TarBuilder()
                        .file("f", "x", 0644, 1234, 1234)
                        .chardev("dev/null", 1, 3)
                        .file("a/.wh.b", "")
                        .file("c/.wh..wh..opq", "")
                        .build();
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0) ::_exit(1);
    auto r = extract_layer_memory(tar, dest_);
    std::string out = r ? std::to_string(r->skipped_devices) + " " + std::to_string(r->whiteouts) +
                              " " + std::to_string(r->skipped_whiteouts.size()) + " " +
                              (r->skipped_opaque_dirs.empty() ? "-" : r->skipped_opaque_dirs[0])
                        : "error " + r.error().message;
    (void)!::write(fds[1], out.data(), out.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  char buf[512] = {};
  ssize_t n = ::read(fds[0], buf, sizeof buf - 1);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_GT(n, 0);
  unsigned skipped_devices = 0, whiteouts = 0, skipped_whiteouts = 0;
  char opaque[64] = {};
  ASSERT_EQ(
      std::sscanf(buf, "%u %u %u %63s", &skipped_devices, &whiteouts, &skipped_whiteouts, opaque),
      4)
      << buf;
  EXPECT_EQ(skipped_devices, 1u);
  EXPECT_EQ(whiteouts + skipped_whiteouts, 1u);  // 0:0 devices need no privilege since Linux 5.8
  EXPECT_STREQ(opaque, "c");
  EXPECT_EQ(lstat_of(dest_ + "/f").st_uid, 65534u);
  EXPECT_EQ(lstat_of(dest_ + "/dev/null").st_mode, 0u);
}

}  // namespace
}  // namespace md::image
