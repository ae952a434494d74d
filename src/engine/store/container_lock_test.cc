#include "engine/store/container_lock.h"

#include <sys/stat.h>

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "engine/store/testing.h"

namespace md::store {
namespace {

using namespace std::chrono_literals;
using testing::fork_worker;
using testing::wait_worker;

class StoreLock : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(root_.ok()); }
  testing::TempRoot root_;
  const std::string id_ = std::string(60, 'a') + "0001";
};

TEST_F(StoreLock, ExclusiveLockExcludesOthersUntilReleased) {
  auto a = ContainerLock::acquire(root_.path(), id_);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_TRUE(a->held());
  EXPECT_EQ(a->path(), root_.path() + "/locks/" + id_ + ".lock");

  auto b = ContainerLock::acquire(root_.path(), id_, 0ms);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().errno_value, EWOULDBLOCK);
  EXPECT_NE(b.error().message.find("container aaaaaaaaaaaa is busy: another minidocker command "
                                   "holds its lock"),
            std::string::npos)
      << b.error().message;

  a->release();
  EXPECT_TRUE(ContainerLock::acquire(root_.path(), id_, 0ms));
}

TEST_F(StoreLock, TimeoutIsHonoured) {
  auto a = ContainerLock::acquire(root_.path(), id_);
  ASSERT_TRUE(a);
  auto start = std::chrono::steady_clock::now();
  auto b = ContainerLock::acquire(root_.path(), id_, 100ms);
  EXPECT_FALSE(b);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);
}

TEST_F(StoreLock, OtherContainersAreIndependent) {
  auto a = ContainerLock::acquire(root_.path(), id_);
  ASSERT_TRUE(a);
  EXPECT_TRUE(ContainerLock::acquire(root_.path(), std::string(64, 'b'), 0ms));
}

TEST_F(StoreLock, SharedLocksCoexistButExcludeExclusive) {
  auto r1 = ContainerLock::acquire(root_.path(), id_, 0ms, LockMode::kShared);
  auto r2 = ContainerLock::acquire(root_.path(), id_, 0ms, LockMode::kShared);
  ASSERT_TRUE(r1);
  ASSERT_TRUE(r2);
  EXPECT_FALSE(ContainerLock::acquire(root_.path(), id_, 0ms, LockMode::kExclusive));
}

TEST_F(StoreLock, WaitsForAnotherProcessToRelease) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  std::string root = root_.path(), id = id_;
  pid_t child = fork_worker([&] {
    auto l = ContainerLock::acquire(root, id, 0ms);
    if (!l) return 1;
    (void)!::write(ready[1], "x", 1);
    ::usleep(200 * 1000);
    return 0;  // exit releases the lock
  });
  ::close(ready[1]);
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  EXPECT_FALSE(ContainerLock::acquire(root_.path(), id_, 0ms));
  auto l = ContainerLock::acquire(root_.path(), id_, 5s);
  EXPECT_TRUE(l) << l.error().message;
  EXPECT_EQ(wait_worker(child), 0);
}

TEST_F(StoreLock, AHolderKilledWithSigkillReleasesIt) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  std::string root = root_.path(), id = id_;
  pid_t child = fork_worker([&] {
    auto l = ContainerLock::acquire(root, id, 0ms);
    if (!l) return 1;
    (void)!::write(ready[1], "x", 1);
    for (;;) ::pause();
  });
  ::close(ready[1]);
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  EXPECT_FALSE(ContainerLock::acquire(root_.path(), id_, 0ms));
  ::kill(child, SIGKILL);
  EXPECT_EQ(wait_worker(child), 128 + SIGKILL);
  EXPECT_TRUE(ContainerLock::acquire(root_.path(), id_, 0ms));
}

TEST_F(StoreLock, AWaiterOnARemovedLockFileTakesTheNewOne) {
  auto holder = ContainerLock::acquire(root_.path(), id_);
  ASSERT_TRUE(holder);
  std::atomic<bool> got{false};
  Result<ContainerLock> waiter = fail("not run");
  std::thread t([&] {
    waiter = ContainerLock::acquire(root_.path(), id_, 5s);
    got = true;
  });
  std::this_thread::sleep_for(50ms);  // the waiter has the old file open and polls it
  EXPECT_FALSE(got.load());
  ASSERT_TRUE(holder->remove_file());  // `rm` removes the lock file, then releases
  holder->release();
  t.join();
  ASSERT_TRUE(waiter) << waiter.error().message;
  // The waiter's lock is on the file that is at the path now, so it still excludes.
  struct stat on_disk {};
  ASSERT_EQ(::stat(waiter->path().c_str(), &on_disk), 0);
  EXPECT_FALSE(ContainerLock::acquire(root_.path(), id_, 0ms));
}

TEST_F(StoreLock, RefusesSomethingThatIsNotAnId) {
  for (const char* bad : {"", "web", "../../etc/passwd", "ABCDEF"}) {
    auto l = ContainerLock::acquire(root_.path(), bad, 0ms);
    ASSERT_FALSE(l) << bad;
    EXPECT_EQ(l.error().errno_value, EINVAL);
  }
}

}  // namespace
}  // namespace md::store
