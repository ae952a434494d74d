#include "runtime/mount_options.h"

#include <gtest/gtest.h>
#include <sys/mount.h>

namespace md::runtime {
namespace {

TEST(MountOptions, FlagsPropagationAndData) {
  auto p = parse_mount_options({"ro", "nosuid", "nodev", "rbind", "rslave", "size=64k", "mode=755"});
  EXPECT_EQ(p.flags, static_cast<unsigned long>(MS_RDONLY | MS_NOSUID | MS_NODEV));
  EXPECT_TRUE(p.bind);
  EXPECT_TRUE(p.recursive);
  EXPECT_EQ(p.propagation, static_cast<unsigned long>(MS_SLAVE | MS_REC));
  EXPECT_EQ(p.data, "size=64k,mode=755");
}

TEST(MountOptions, LaterWordsClearEarlierOnes) {
  auto p = parse_mount_options({"ro", "rw", "noexec", "exec"});
  EXPECT_EQ(p.flags, 0ul);
}

TEST(MountOptions, EveryFeaturesWordIsAFlagNotFilesystemData) {
  // `features` promises these; none may leak into the data string the filesystem sees.
  auto p = parse_mount_options({"iversion", "lazytime", "nosymfollow", "silent", "remount", "defaults"});
  EXPECT_EQ(p.data, "");
  EXPECT_EQ(p.flags, static_cast<unsigned long>(MS_I_VERSION | MS_LAZYTIME | MS_NOSYMFOLLOW | MS_SILENT));
}

TEST(MountOptions, PropagationWords) {
  EXPECT_EQ(propagation_flags("private"), static_cast<unsigned long>(MS_PRIVATE));
  EXPECT_EQ(propagation_flags("rshared"), static_cast<unsigned long>(MS_SHARED | MS_REC));
  EXPECT_EQ(propagation_flags("bogus"), 0ul);
}

}  // namespace
}  // namespace md::runtime
