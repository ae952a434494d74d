// Tree tars: export/commit archives (metadata kept, overlay whiteouts converted) and
// docker cp in both directions, including the symlink tricks of CVE-2018-15664.
#include "engine/image/tree_tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <map>

#include "base/file_util.h"
#include "engine/image/layer_extract.h"
#include "engine/image/tar_builder_for_test.h"

namespace md::image {
namespace {

using testing::TarBuilder;
using testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

bool is_root() { return ::geteuid() == 0; }

struct Member {
  unsigned type = 0;
  int perm = 0;
  int64_t uid = 0, gid = 0, size = 0;
  std::string data, symlink, hardlink;
  std::map<std::string, std::string> xattrs;
  unsigned rmajor = 0, rminor = 0;
};

// The members of a tar, in order.
std::vector<std::pair<std::string, Member>> members(const std::string& tar) {
  std::vector<std::pair<std::string, Member>> out;
  struct archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  archive_read_open_memory(a, tar.data(), tar.size());
  struct archive_entry* e;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    Member m;
    m.type = archive_entry_filetype(e);
    m.perm = archive_entry_perm(e);
    m.uid = archive_entry_uid(e);
    m.gid = archive_entry_gid(e);
    m.size = archive_entry_size(e);
    if (const char* s = archive_entry_symlink(e)) m.symlink = s;
    if (const char* s = archive_entry_hardlink(e)) m.hardlink = s;
    m.rmajor = archive_entry_rdevmajor(e);
    m.rminor = archive_entry_rdevminor(e);
    if (archive_entry_xattr_reset(e) > 0) {
      const char* name;
      const void* value;
      size_t size;
      while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK)
        m.xattrs[name] = std::string(static_cast<const char*>(value), size);
    }
    char buf[4096];
    la_ssize_t n;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0) m.data.append(buf, static_cast<size_t>(n));
    out.emplace_back(archive_entry_pathname(e), m);
  }
  archive_read_free(a);
  return out;
}

std::vector<std::string> names(const std::string& tar) {
  std::vector<std::string> out;
  for (auto& [n, m] : members(tar)) out.push_back(n);
  return out;
}

// Runs `fn(fd)` with the write end of a temp file and returns what was written.
template <class F>
std::string capture(const TempDir& tmp, F&& fn) {
  std::string path = tmp / "capture.tar";
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  fn(fd.get());
  return *read_file(path);
}

UniqueFd open_dir(const std::string& path) {
  return UniqueFd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

// ---------------------------------------------------------------------------------------
// write_tree_tar

TEST(TreeTar, ArchivesATreeWithItsMetadata) {
  TempDir tmp;
  std::string root = tmp / "root";
  ASSERT_TRUE(make_directories(root + "/etc"));
  ASSERT_TRUE(write_file_atomic(root + "/etc/passwd", "root:x:0:0\n", 0640));
  ASSERT_TRUE(write_file_atomic(root + "/tool", "#!/bin/sh\n", 0755));
  ASSERT_EQ(::chmod((root + "/tool").c_str(), 04755), 0);
  ASSERT_EQ(::symlink("/etc/passwd", (root + "/link").c_str()), 0);
  ASSERT_EQ(::link((root + "/tool").c_str(), (root + "/tool2").c_str()), 0);
  ASSERT_EQ(::mkfifo((root + "/fifo").c_str(), 0600), 0);
  ASSERT_EQ(::setxattr((root + "/etc/passwd").c_str(), "user.note", "hi", 2, 0), 0);
  if (is_root()) {
    ASSERT_EQ(::mknod((root + "/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
    ASSERT_EQ(::chown((root + "/etc/passwd").c_str(), 123, 456), 0);
  }
  auto dir = open_dir(root);
  std::string tar = capture(tmp, [&](int fd) { ASSERT_TRUE(write_tree_tar(dir.get(), fd)); });

  auto m = members(tar);
  std::map<std::string, Member> by_name(m.begin(), m.end());
  std::vector<std::string> order = names(tar);
  std::vector<std::string> expected = {"etc/", "etc/passwd", "fifo", "link"};
  if (is_root()) expected.push_back("null");
  expected.push_back("tool");
  expected.push_back("tool2");
  EXPECT_EQ(order, expected);  // sorted, directories with '/', no root entry
  EXPECT_EQ(by_name["etc/passwd"].data, "root:x:0:0\n");
  EXPECT_EQ(by_name["etc/passwd"].perm, 0640);
  EXPECT_EQ(by_name["etc/passwd"].xattrs["user.note"], "hi");
  EXPECT_EQ(by_name["tool"].perm, 04755);
  EXPECT_EQ(by_name["tool2"].hardlink, "tool");
  EXPECT_EQ(by_name["link"].symlink, "/etc/passwd");
  EXPECT_EQ(by_name["fifo"].type, static_cast<unsigned>(AE_IFIFO));
  if (is_root()) {
    EXPECT_EQ(by_name["etc/passwd"].uid, 123);
    EXPECT_EQ(by_name["etc/passwd"].gid, 456);
    EXPECT_EQ(by_name["null"].type, static_cast<unsigned>(AE_IFCHR));
    EXPECT_EQ(by_name["null"].rmajor, 1u);
    EXPECT_EQ(by_name["null"].rminor, 3u);
  }

  // And it unpacks to the same tree.
  std::string back = tmp / "back";
  ASSERT_TRUE(make_directories(back));
  auto stats = extract_layer_memory(tar, back);
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(*read_file(back + "/etc/passwd"), "root:x:0:0\n");
  struct stat a, b;
  ASSERT_EQ(::lstat((back + "/tool").c_str(), &a), 0);
  ASSERT_EQ(::lstat((back + "/tool2").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
}

TEST(TreeTar, OverlayWhiteoutsBecomeOciMarkers) {
  if (!is_root()) GTEST_SKIP() << "needs root (trusted.* xattr)";
  TempDir tmp;
  std::string upper = tmp / "upper";
  ASSERT_TRUE(make_directories(upper + "/etc/opaque"));
  ASSERT_TRUE(write_file_atomic(upper + "/etc/opaque/kept", "new"));
  ASSERT_EQ(::mknod((upper + "/etc/deleted").c_str(), S_IFCHR, makedev(0, 0)), 0);
  ASSERT_EQ(::setxattr((upper + "/etc/opaque").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
  ASSERT_EQ(::setxattr((upper + "/etc").c_str(), "trusted.overlay.origin", "x", 1, 0), 0);
  auto dir = open_dir(upper);
  TreeTarOptions opts;
  opts.overlay_whiteouts = true;
  std::string tar = capture(tmp, [&](int fd) { ASSERT_TRUE(write_tree_tar(dir.get(), fd, opts)); });
  EXPECT_THAT(names(tar), ElementsAre("etc/", "etc/.wh.deleted", "etc/opaque/",
                                      "etc/opaque/.wh..wh..opq", "etc/opaque/kept"));
  for (auto& [n, m] : members(tar)) {
    EXPECT_TRUE(m.xattrs.empty()) << n << " carries overlay xattrs";
    if (n == "etc/.wh.deleted") {
      EXPECT_EQ(m.type, static_cast<unsigned>(AE_IFREG));
    }
  }
}

// ---------------------------------------------------------------------------------------
// docker cp out of a container

class ArchiveCopy : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_ / "rootfs";
    ASSERT_TRUE(make_directories(root_ + "/etc/sub"));
    ASSERT_TRUE(write_file_atomic(root_ + "/etc/passwd", "container passwd\n"));
    ASSERT_TRUE(write_file_atomic(root_ + "/etc/sub/f", "f\n"));
    ASSERT_EQ(::symlink("/etc", (root_ + "/etclink").c_str()), 0);
    rootfd_ = open_dir(root_);
  }
  std::string copy_out_names(const std::string& path, PathStat* stat = nullptr) {
    return capture(tmp_, [&](int fd) {
      auto s = copy_out(rootfd_.get(), path, fd);
      ASSERT_TRUE(s) << s.error().message;
      if (stat) *stat = *s;
    });
  }
  TempDir tmp_;
  std::string root_;
  UniqueFd rootfd_;
};

TEST_F(ArchiveCopy, OutNamesFollowDockersRules) {
  PathStat st;
  std::string tar = copy_out_names("/etc", &st);
  EXPECT_THAT(names(tar), ElementsAre("etc/", "etc/passwd", "etc/sub/", "etc/sub/f"));
  EXPECT_EQ(st.name, "etc");
  EXPECT_TRUE(S_ISDIR(st.mode));
  EXPECT_EQ(go_file_mode(st.mode), (1u << 31) | 0755u);

  EXPECT_THAT(names(copy_out_names("/etc/.")), ElementsAre("./", "./passwd", "./sub/", "./sub/f"));
  std::vector<std::string> whole = names(copy_out_names("/"));
  EXPECT_EQ(whole[0], "/");
  EXPECT_THAT(whole, ::testing::Contains("/etc/passwd"));
  EXPECT_THAT(names(copy_out_names("etc/passwd")), ElementsAre("passwd"));
  EXPECT_EQ(members(copy_out_names("/etc/passwd"))[0].second.data, "container passwd\n");

  // A symlink is archived as itself, unless the path ends in "/".
  tar = copy_out_names("/etclink", &st);
  auto m = members(tar);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].first, "etclink");
  EXPECT_EQ(m[0].second.symlink, "/etc");
  EXPECT_EQ(st.link_target, "/etc");
  EXPECT_TRUE(S_ISLNK(st.mode));
  EXPECT_THAT(names(copy_out_names("/etclink/")),
              ElementsAre("etclink/", "etclink/passwd", "etclink/sub/", "etclink/sub/f"));
}

TEST_F(ArchiveCopy, OutOfAMissingPathSaysSo) {
  std::string out = capture(tmp_, [&](int fd) {
    auto s = copy_out(rootfd_.get(), "/etc/nope", fd);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().errno_value, ENOENT);
    EXPECT_THAT(s.error().message, HasSubstr("/etc/nope"));
  });
  EXPECT_TRUE(out.empty());
}

// CVE-2018-15664: the container points names at the host's root. They must resolve in
// the container's root.
TEST_F(ArchiveCopy, OutThroughMaliciousSymlinksStaysInside) {
  ASSERT_EQ(::symlink("/", (root_ + "/evil").c_str()), 0);
  ASSERT_EQ(::symlink("../../../../../../..", (root_ + "/up").c_str()), 0);
  ASSERT_EQ(::symlink("/etc/passwd", (root_ + "/etc/sub/pw").c_str()), 0);
  for (std::string path : {"/evil/etc/passwd", "/up/etc/passwd", "/../../etc/passwd",
                           "/etc/sub/pw/"}) {
    if (path == "/etc/sub/pw/") continue;  // a file with a trailing slash: not a directory
    std::string tar = copy_out_names(path);
    auto m = members(tar);
    ASSERT_EQ(m.size(), 1u) << path;
    EXPECT_EQ(m[0].second.data, "container passwd\n") << path << " read a host file";
  }
  PathStat st;
  copy_out_names("/etc/sub/pw", &st);
  EXPECT_EQ(st.link_target, "/etc/passwd");
  // The root's ".." is the root: a directory link to it lists the container's files.
  std::string tar = copy_out_names("/evil/");
  for (const std::string& n : names(tar)) EXPECT_THAT(n, ::testing::StartsWith("evil/"));
  EXPECT_THAT(names(tar), ::testing::Contains("evil/etc/passwd"));
  EXPECT_THAT(names(tar), ::testing::Not(::testing::Contains("evil/proc/")));
}

// ---------------------------------------------------------------------------------------
// docker cp into a container

TEST_F(ArchiveCopy, InExtractsBelowTheDestination) {
  std::string tar = TarBuilder().dir("new").file("new/file", "data").file(".wh.plain", "").build();
  UniqueFd in(::open(testing::write_temp_file(tmp_ / "in.tar", tar).c_str(), O_RDONLY | O_CLOEXEC));
  auto s = copy_in(rootfd_.get(), "/etc/sub", in.get());
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(*read_file(root_ + "/etc/sub/new/file"), "data");
  EXPECT_TRUE(path_exists(root_ + "/etc/sub/.wh.plain"));  // not a whiteout here
}

TEST_F(ArchiveCopy, InThroughADestinationSymlinkLandsWhereItPoints) {
  std::string tar = TarBuilder().dir(".").file("x", "via link").build();
  UniqueFd in(::open(testing::write_temp_file(tmp_ / "in.tar", tar).c_str(), O_RDONLY | O_CLOEXEC));
  auto s = copy_in(rootfd_.get(), "/etclink", in.get());
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(*read_file(root_ + "/etc/x"), "via link");
  struct stat st;
  ASSERT_EQ(::lstat((root_ + "/etclink").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode)) << "the link itself was replaced";
}

TEST_F(ArchiveCopy, InRefusesDotDotEscapes) {
  for (std::string name : {"../escaped", "a/../../escaped", "/../escaped"}) {
    std::string tar = TarBuilder().file(name, "x").build();
    UniqueFd in(::open(testing::write_temp_file(tmp_ / "in.tar", tar).c_str(), O_RDONLY | O_CLOEXEC));
    auto s = copy_in(rootfd_.get(), "/etc", in.get());
    ASSERT_FALSE(s) << name;
    EXPECT_THAT(s.error().message, HasSubstr("escapes")) << name;
    EXPECT_FALSE(path_exists(root_ + "/escaped"));
    EXPECT_FALSE(path_exists(tmp_ / "escaped"));
  }
}

TEST_F(ArchiveCopy, InFollowsSymlinksOnlyInsideTheRoot) {
  // The container made "evil -> /" and "up -> ../../.."; the tar writes through them.
  ASSERT_EQ(::symlink("/", (root_ + "/evil").c_str()), 0);
  ASSERT_EQ(::symlink("../../../../..", (root_ + "/etc/up").c_str()), 0);
  std::string outside = tmp_ / "outside-marker";
  std::string tar = TarBuilder()
                        .file("evil/" + outside.substr(1), "nope")
                        .file("etc/up/" + outside.substr(1), "nope")
                        .build();
  UniqueFd in(::open(testing::write_temp_file(tmp_ / "in.tar", tar).c_str(), O_RDONLY | O_CLOEXEC));
  auto s = copy_in(rootfd_.get(), "/", in.get());
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_FALSE(path_exists(outside)) << "wrote outside the container root";
  EXPECT_EQ(*read_file(root_ + outside), "nope");  // landed inside, where the link points
}

TEST_F(ArchiveCopy, InKeepsDirectoriesAndFilesApart) {
  std::string tar = TarBuilder().file("sub", "a file over a directory").build();
  UniqueFd in(::open(testing::write_temp_file(tmp_ / "in.tar", tar).c_str(), O_RDONLY | O_CLOEXEC));
  auto s = copy_in(rootfd_.get(), "/etc", in.get());
  ASSERT_FALSE(s);
  EXPECT_THAT(s.error().message, HasSubstr("cannot overwrite directory"));
  EXPECT_TRUE(is_directory(root_ + "/etc/sub"));
}

TEST_F(ArchiveCopy, InToAFileOrMissingDestinationIsRefused) {
  std::string tar = TarBuilder().file("x", "x").build();
  UniqueFd in(::open(testing::write_temp_file(tmp_ / "in.tar", tar).c_str(), O_RDONLY | O_CLOEXEC));
  auto s = copy_in(rootfd_.get(), "/etc/passwd", in.get());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().errno_value, ENOTDIR);
  s = copy_in(rootfd_.get(), "/nope", in.get());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().errno_value, ENOENT);
}

TEST_F(ArchiveCopy, InCanOwnEverythingByTheContainersRoot) {
  if (!is_root()) GTEST_SKIP() << "needs root (chown)";
  std::string tar = TarBuilder().file("owned", "x", 0644, 1000, 1000).build();
  UniqueFd in(::open(testing::write_temp_file(tmp_ / "in.tar", tar).c_str(), O_RDONLY | O_CLOEXEC));
  CopyInOptions opts;
  opts.owner_uid = 100000;
  opts.owner_gid = 100000;
  ASSERT_TRUE(copy_in(rootfd_.get(), "/", in.get(), opts));
  struct stat st;
  ASSERT_EQ(::lstat((root_ + "/owned").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 100000u);
  EXPECT_EQ(st.st_gid, 100000u);
}

}  // namespace
}  // namespace md::image
