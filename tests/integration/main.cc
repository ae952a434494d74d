// main() of integration_tests: prints what is under test and makes sure the
// busybox rootfs exists before any test runs.
#include <gtest/gtest.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "harness.h"

#ifndef MD_ROOTFS_SCRIPT
#define MD_ROOTFS_SCRIPT "scripts/build-busybox-rootfs.sh"
#endif

namespace {

class IntegrationEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    const auto& cfg = mdtest::GetConfig();
    fprintf(stderr, "[integration] runtime: %s\n[integration] rootfs:  %s\n[integration] md-check: %s\n",
            cfg.runtime.c_str(), cfg.rootfs.c_str(), cfg.md_check.c_str());
    if (geteuid() != 0) return;  // every test skips itself
    if (access((cfg.rootfs + "/bin/busybox").c_str(), X_OK) == 0) return;
    // Not built yet (e.g. the binary is run outside CTest): build it now.
    pid_t pid = fork();
    if (pid == 0) {
      execl("/bin/sh", "sh", MD_ROOTFS_SCRIPT, cfg.rootfs.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "[integration] %s %s failed\n", MD_ROOTFS_SCRIPT, cfg.rootfs.c_str());
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new IntegrationEnvironment);
  return RUN_ALL_TESTS();
}
