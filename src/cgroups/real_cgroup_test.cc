// Against the real cgroupfs of this machine. Needs root (skipped otherwise). Cleans up its
// cgroups even when an assertion fails.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>

#include "base/file_util.h"
#include "base/scope_guard.h"
#include "cgroups/cgroup.h"

namespace md::cgroups {
namespace {

using ::testing::Contains;

// Forks a child that waits for a byte on a pipe, then runs `after_go` and exits with its
// result (or sleeps forever when there is none).
struct Child {
  pid_t pid = -1;
  int go = -1;
  template <class F>
  static Child start(F after_go) {
    int fds[2];
    if (::pipe(fds) != 0) return {};
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[1]);
      char c;
      if (::read(fds[0], &c, 1) != 1) ::_exit(100);
      ::_exit(after_go());
    }
    ::close(fds[0]);
    return {pid, fds[1]};
  }
  void release() {
    if (go >= 0) {
      (void)!::write(go, "x", 1);
      ::close(go);
      go = -1;
    }
  }
  int wait() {
    if (go >= 0) ::close(go), go = -1;
    int status = 0;
    if (pid > 0 && ::waitpid(pid, &status, 0) == pid) pid = -1;
    return status;
  }
};

std::string dir_of(const Cgroup& cg, std::string_view name) {
  for (const auto& [n, d] : cg.mount_sources()) {
    std::string_view rest = n;  // "cpu,cpuacct": either name matches
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      if (rest.substr(0, comma) == name) return d;
      rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
    }
  }
  return "";
}

std::string read_trimmed(const std::string& path) {
  auto s = read_file(path);
  if (!s) return "<" + s.error().message + ">";
  while (!s->empty() && s->back() == '\n') s->pop_back();
  return *s;
}

TEST(RealCgroup, LifecycleOnThisHost) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  auto hs = host_hierarchies();
  if (!hs) GTEST_SKIP() << hs.error().message;
  const std::string parent = "/minidocker-test-" + std::to_string(::getpid());
  const std::string path = parent + "/c1";
  std::optional<Cgroup> cg;
  Child child;
  ScopeGuard cleanup([&] {
    if (child.pid > 0) {
      ::kill(child.pid, SIGKILL);
      if (cg) (void)cg->thaw();
      child.wait();
    }
    for (const auto& h : **hs) {
      ::rmdir((h.mount_point + path).c_str());
      ::rmdir((h.mount_point + parent).c_str());
    }
  });

  oci::Resources r;
  r.memory.emplace();
  r.memory->limit = 64 << 20;
  r.pids_limit = 32;
  auto created = Cgroup::create(path, &r);
  ASSERT_TRUE(created) << created.error().message;
  cg.emplace(std::move(*created));
  const bool memory_v2 = dir_of(*cg, "memory").empty();
  if (!memory_v2) {
    EXPECT_EQ(read_trimmed(dir_of(*cg, "memory") + "/memory.limit_in_bytes"),
              std::to_string(64 << 20));
    EXPECT_EQ(read_trimmed(dir_of(*cg, "pids") + "/pids.max"), "32");
  }

  child = Child::start([] {
    for (;;) ::pause();
    return 0;
  });
  ASSERT_GT(child.pid, 0);
  ASSERT_TRUE(cg->add_process(child.pid));
  auto pids = cg->pids();
  ASSERT_TRUE(pids) << pids.error().message;
  EXPECT_THAT(*pids, Contains(child.pid));
  auto stats = cg->stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->pids_current, 1u);
  EXPECT_EQ(stats->pids_limit, 32u);

  auto frozen = cg->freeze();
  ASSERT_TRUE(frozen) << frozen.error().message;
  EXPECT_TRUE(*cg->is_frozen());
  ASSERT_TRUE(cg->thaw());
  EXPECT_FALSE(*cg->is_frozen());

  auto killed = cg->kill_all(SIGKILL);
  ASSERT_TRUE(killed) << killed.error().message;
  int status = child.wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;

  auto destroyed = cg->destroy();
  ASSERT_TRUE(destroyed) << destroyed.error().message;
  for (const auto& h : **hs) {
    EXPECT_FALSE(path_exists(h.mount_point + path)) << h.mount_point;
    EXPECT_FALSE(path_exists(h.mount_point + parent)) << h.mount_point;
  }
}

// The pure-v2 code path on the real cgroup2 mount (on a hybrid host: unified/ alone):
// eBPF device filter, cgroup.freeze and cgroup.kill.
TEST(RealCgroup, V2DeviceFilterFreezeAndKill) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  auto hs = host_hierarchies();
  if (!hs) GTEST_SKIP() << hs.error().message;
  std::vector<Hierarchy> v2;
  for (const auto& h : **hs)
    if (h.v2) v2.push_back(h);
  if (v2.empty()) GTEST_SKIP() << "no cgroup2 mount";
  const Hierarchy& h = v2[0];
  const std::string parent = "/minidocker-test-" + std::to_string(::getpid()) + "-v2";
  const std::string path = parent + "/c1";
  const std::string root_subtree = read_trimmed(h.mount_point + "/cgroup.subtree_control");
  std::optional<Cgroup> cg;
  Child child;
  ScopeGuard cleanup([&] {
    if (child.pid > 0) {
      ::kill(child.pid, SIGKILL);
      child.wait();
    }
    ::rmdir((h.mount_point + path).c_str());
    ::rmdir((h.mount_point + parent).c_str());
    // create() enabled controllers in the root; put the host back as it was.
    for (const auto& c : h.controllers)
      if (root_subtree.find(c) == std::string::npos)
        (void)write_existing_file(h.mount_point + "/cgroup.subtree_control", "-" + c);
  });

  oci::Resources r;
  r.devices = {{false, 'a', std::nullopt, std::nullopt, "rwm"}, {true, 'c', 1, 5, "rw"}};
  auto created = Cgroup::create(path, &r, v2);
  ASSERT_TRUE(created) << created.error().message;
  cg.emplace(std::move(*created));
  EXPECT_GE(cg->v2_fd(), 0);

  // /dev/zero (1:5) is allowed, /dev/null (1:3) is not.
  child = Child::start([] {
    int zero = ::open("/dev/zero", O_RDONLY);
    int null = ::open("/dev/null", O_RDONLY);
    return zero >= 0 && null < 0 && errno == EPERM ? 0 : 1;
  });
  ASSERT_GT(child.pid, 0);
  ASSERT_TRUE(cg->add_process(child.pid));
  child.release();
  int status = child.wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;

  // Replacing the filter (update) must not stack programs: allow /dev/null now.
  r.devices.push_back({true, 'c', 1, 3, "rw"});
  auto updated = cg->apply(r);
  ASSERT_TRUE(updated) << updated.error().message;
  child = Child::start([] { return ::open("/dev/null", O_RDONLY) >= 0 ? 0 : 1; });
  ASSERT_TRUE(cg->add_process(child.pid));
  child.release();
  status = child.wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;

  child = Child::start([] {
    for (;;) ::pause();
    return 0;
  });
  ASSERT_TRUE(cg->add_process(child.pid));
  auto frozen = cg->freeze();
  ASSERT_TRUE(frozen) << frozen.error().message;
  EXPECT_TRUE(*cg->is_frozen());
  ASSERT_TRUE(cg->thaw());
  ASSERT_TRUE(cg->kill_all(SIGKILL));
  status = child.wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;

  auto destroyed = cg->destroy();
  ASSERT_TRUE(destroyed) << destroyed.error().message;
  EXPECT_FALSE(path_exists(h.mount_point + parent));
}

}  // namespace
}  // namespace md::cgroups
