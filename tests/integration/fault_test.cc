// Faults: the runtime killed with SIGKILL in the middle of `create`. Afterwards
// `delete --force` must leave no state directory, cgroup or process behind.
#include <signal.h>
#include <unistd.h>

#include <thread>

#include "harness.h"

namespace mdtest {
namespace {

using namespace std::chrono_literals;

class Fault : public RuntimeTest {};

TEST_F(Fault, CreateKilledDuringHooksIsCleanedByDeleteForce) {
  KNOWN_FAILURE("runc", "runc 1.1.5's delete --force leaves the cgroup of a create killed during its hooks");
  std::string id = NewId();
  std::string cgroup = bundle_.config["linux"]["cgroupsPath"];
  std::string pid_file = tmp_ + "/hook.pid";
  // A createRuntime hook that blocks: the runtime sits waiting for it, with the
  // container's cgroup, namespaces and init already in place.
  bundle_.config["hooks"]["createRuntime"] = {
      {{"path", "/bin/sh"}, {"args", {"sh", "-c", "echo $$ > " + pid_file + "; exec sleep 1000"}}}};
  bundle_.Save();
  Child create = RtSpawn({"create", "--bundle", bundle_.dir, id});
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (ReadFile(pid_file).empty()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the hook never ran";
    std::this_thread::sleep_for(5ms);
  }
  pid_t hook = std::atoi(ReadFile(pid_file).c_str());
  ASSERT_EQ(kill(create.pid, SIGKILL), 0);
  Wait(create);
  kill(hook, SIGKILL);
  ASSERT_TRUE(StateDirExists(id)) << "the killed create left nothing to test";

  Result del = Rt({"delete", "--force", id});
  EXPECT_TRUE(del.ok()) << del;
  ReapOrphans();
  ExpectNothingLeftBehind(id, cgroup);
}

}  // namespace
}  // namespace mdtest
