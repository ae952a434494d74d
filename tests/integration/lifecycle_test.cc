// Lifecycle and CLI verbs: create/start/state/kill/delete/run/exec/pause/
// resume/ps/list/update/spec/features, observed from outside with `state`.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "harness.h"

namespace mdtest {
namespace {

using namespace std::chrono_literals;

class Lifecycle : public RuntimeTest {};

TEST_F(Lifecycle, CreateStartStopDelete) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"/md-check", "echo", "hello from the container"};
  Result create = Create(bundle_, id);

  auto st = State(id);
  ASSERT_TRUE(st) << "state after create failed";
  EXPECT_EQ((*st)["id"], id);
  EXPECT_EQ((*st)["status"], "created");
  ASSERT_TRUE(st->contains("pid"));
  int pid = (*st)["pid"].get<int>();
  EXPECT_GT(pid, 0);
  EXPECT_EQ(kill(pid, 0), 0) << "container init " << pid << " is not alive after create";
  EXPECT_EQ((*st)["bundle"], bundle_.dir);
  EXPECT_TRUE(st->contains("ociVersion"));
  // The user process has not run yet.
  EXPECT_EQ(ReadFile(create.out_file), "");

  Result start = Rt({"start", id});
  ASSERT_TRUE(start.ok()) << start;
  EXPECT_EQ(WaitStatus(id, "stopped"), "stopped");
  EXPECT_EQ(ReadFile(create.out_file), "hello from the container\n");

  Result del = Rt({"delete", id});
  ASSERT_TRUE(del.ok()) << del;
  Result st2 = Rt({"state", id});
  EXPECT_NE(st2.exit_code, 0) << "state of a deleted container must fail\n" << st2;
  EXPECT_FALSE(StateDirExists(id));
  EXPECT_TRUE(CgroupDirsFor(bundle_.config["linux"]["cgroupsPath"]).empty());
}

TEST_F(Lifecycle, StartedContainerIsRunningUntilKilled) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"/md-check", "hold"};
  Create(bundle_, id);
  ASSERT_TRUE(Rt({"start", id}).ok());
  EXPECT_EQ(Status(id), "running");
  // Starting twice is an error.
  Result again = Rt({"start", id});
  EXPECT_NE(again.exit_code, 0) << again;
  ASSERT_TRUE(Rt({"kill", id, "KILL"}).ok());
  EXPECT_EQ(WaitStatus(id, "stopped"), "stopped");
  ASSERT_TRUE(Rt({"delete", id}).ok());
}

TEST_F(Lifecycle, PidFile) {
  std::string id = NewId();
  std::string pidfile = tmp_ + "/container.pid";
  bundle_.config["process"]["args"] = {"/md-check", "hold"};
  Create(bundle_, id, {"--pid-file", pidfile});
  auto st = State(id);
  ASSERT_TRUE(st);
  EXPECT_EQ(Trim(ReadFile(pidfile)), std::to_string((*st)["pid"].get<int>()));
}

TEST_F(Lifecycle, RunPrintsOutputAndReturnsExitCode) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"/md-check", "echo", "out", "+", "exit", "3"};
  Result r = RunBundle(bundle_, id);
  EXPECT_EQ(r.exit_code, 3) << r;
  EXPECT_EQ(r.out, "out\n");
  // `run` without -d deletes the container when it exits.
  EXPECT_NE(Rt({"state", id}).exit_code, 0);
}

TEST_F(Lifecycle, RunReturnsZero) {
  bundle_.config["process"]["args"] = {"/bin/true"};
  Result r = RunBundle(bundle_);
  EXPECT_EQ(r.exit_code, 0) << r;
}

TEST_F(Lifecycle, RunReportsDeathBySignal) {
  // `run` in the foreground; the container is killed from outside.
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"/md-check", "hold"};
  bundle_.Save();
  Child run = RtSpawn({"run", "--bundle", bundle_.dir, id});
  ASSERT_EQ(WaitStatus(id, "running"), "running");
  ASSERT_TRUE(Rt({"kill", id, "KILL"}).ok());
  Result r = Wait(run);
  EXPECT_EQ(r.exit_code, 128 + SIGKILL) << r;
}

TEST_F(Lifecycle, RunDetached) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"/md-check", "hold"};
  bundle_.Save();
  Result r = Rt({"run", "-d", "--bundle", bundle_.dir, id});
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(Status(id), "running");
  ASSERT_TRUE(Rt({"kill", id, "KILL"}).ok());
  EXPECT_EQ(WaitStatus(id, "stopped"), "stopped");
  ASSERT_TRUE(Rt({"delete", id}).ok());
}

class KillByName : public RuntimeTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(KillByName, StopsTheContainer) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"/md-check", "hold"};
  Create(bundle_, id);
  ASSERT_TRUE(Rt({"start", id}).ok());
  Result k = Rt({"kill", id, GetParam()});
  ASSERT_TRUE(k.ok()) << k;
  EXPECT_EQ(WaitStatus(id, "stopped"), "stopped");
}

INSTANTIATE_TEST_SUITE_P(Lifecycle, KillByName, ::testing::Values("KILL", "SIGKILL", "9"));

// The signal arrives as the one named: md-check records what it received.
class KillDelivers : public RuntimeTest,
                     public ::testing::WithParamInterface<std::pair<const char*, const char*>> {};

TEST_P(KillDelivers, NamedSignal) {
  auto [arg, expected] = GetParam();
  std::string id = NewId();
  std::string dir = ShareDir(bundle_, "sig");
  bundle_.config["process"]["args"] = {"/md-check", "wait-signal", dir + "/sig"};
  Create(bundle_, id);
  ASSERT_TRUE(Rt({"start", id}).ok());
  ASSERT_TRUE(WaitForFile(dir + "/sig.ready")) << "md-check wait-signal never became ready";
  std::vector<std::string> args = {"kill", id};
  if (*arg) args.push_back(arg);
  Result k = Rt(args);
  ASSERT_TRUE(k.ok()) << k;
  EXPECT_EQ(WaitStatus(id, "stopped"), "stopped");
  EXPECT_EQ(ReadFile(dir + "/sig"), std::string(expected) + "\n");
}

INSTANTIATE_TEST_SUITE_P(Lifecycle, KillDelivers,
                         ::testing::Values(std::make_pair("", "SIGTERM"), std::make_pair("USR1", "SIGUSR1"),
                                           std::make_pair("SIGHUP", "SIGHUP"), std::make_pair("12", "SIGUSR2")),
                         [](const auto& info) {
                           return std::string(*info.param.first ? info.param.first : "default");
                         });

TEST_F(Lifecycle, KillCreatedContainer) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"/md-check", "hold"};
  Create(bundle_, id);
  Result k = Rt({"kill", id, "KILL"});
  ASSERT_TRUE(k.ok()) << k;
  EXPECT_EQ(WaitStatus(id, "stopped"), "stopped");
  ASSERT_TRUE(Rt({"delete", id}).ok());
}

TEST_F(Lifecycle, DeleteRunningNeedsForce) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"/md-check", "hold"};
  Create(bundle_, id);
  ASSERT_TRUE(Rt({"start", id}).ok());
  Result d = Rt({"delete", id});
  EXPECT_NE(d.exit_code, 0) << "delete of a running container without --force must fail\n" << d;
  EXPECT_EQ(Status(id), "running");
}

TEST_F(Lifecycle, DeleteForceRunning) {
  std::string id = NewId();
  std::string cg = bundle_.config["linux"]["cgroupsPath"];
  bundle_.config["process"]["args"] = {"/md-check", "hold"};
  Create(bundle_, id);
  ASSERT_TRUE(Rt({"start", id}).ok());
  int pid = (*State(id))["pid"].get<int>();
  Result d = Rt({"delete", "--force", id});
  ASSERT_TRUE(d.ok()) << d;
  EXPECT_NE(Rt({"state", id}).exit_code, 0);
  EXPECT_FALSE(StateDirExists(id));
  EXPECT_TRUE(WaitProcessGone(pid)) << "container init " << pid << " survived delete --force";
  EXPECT_TRUE(CgroupDirsFor(cg).empty());
}

TEST_F(Lifecycle, DeleteForceCreated) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"/md-check", "hold"};
  Create(bundle_, id);
  int pid = (*State(id))["pid"].get<int>();
  ASSERT_TRUE(Rt({"delete", "--force", id}).ok());
  EXPECT_FALSE(StateDirExists(id));
  EXPECT_TRUE(WaitProcessGone(pid));
}

TEST_F(Lifecycle, StateOfUnknownContainerFails) {
  Result r = Rt({"state", "mdt-no-such-container"});
  EXPECT_NE(r.exit_code, 0) << r;
  Result d = Rt({"delete", "mdt-no-such-container"});
  EXPECT_NE(d.exit_code, 0) << d;
}

TEST_F(Lifecycle, List) {
  std::string a = NewId(), b = NewId();
  Bundle other = NewBundle();
  bundle_.config["process"]["args"] = {"/md-check", "hold"};
  other.config["process"]["args"] = {"/md-check", "hold"};
  Create(bundle_, a);
  Create(other, b);
  ASSERT_TRUE(Rt({"start", b}).ok());

  Result table = Rt({"list"});
  ASSERT_TRUE(table.ok()) << table;
  EXPECT_NE(table.out.find("ID"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("STATUS"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find(a), std::string::npos) << table.out;
  EXPECT_NE(table.out.find(b), std::string::npos) << table.out;

  Result q = Rt({"list", "-q"});
  ASSERT_TRUE(q.ok()) << q;
  auto ids = SplitLines(q.out);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{a, b}));

  Result js = Rt({"list", "--format", "json"});
  ASSERT_TRUE(js.ok()) << js;
  json arr = json::parse(js.out);
  ASSERT_TRUE(arr.is_array()) << js.out;
  ASSERT_EQ(arr.size(), 2u) << js.out;
  std::map<std::string, json> by_id;
  for (const auto& c : arr) by_id[c["id"]] = c;
  ASSERT_TRUE(by_id.count(a) && by_id.count(b)) << js.out;
  EXPECT_EQ(by_id[a]["status"], "created");
  EXPECT_EQ(by_id[b]["status"], "running");
  EXPECT_EQ(by_id[a]["bundle"], bundle_.dir);
  EXPECT_EQ(by_id[b]["bundle"], other.dir);
  EXPECT_GT(by_id[b]["pid"].get<int>(), 0);
  EXPECT_TRUE(by_id[a].contains("created"));
}

TEST_F(Lifecycle, ListEmptyRoot) {
  Result js = Rt({"list", "--format", "json"});
  ASSERT_TRUE(js.ok()) << js;
  std::string t = Trim(js.out);
  // runc prints "null" for no containers; "[]" is just as good.
  EXPECT_TRUE(t == "[]" || t == "null") << js.out;
}

TEST_F(Lifecycle, PauseResume) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"/md-check", "hold"};
  Create(bundle_, id);
  ASSERT_TRUE(Rt({"start", id}).ok());
  Result p = Rt({"pause", id});
  ASSERT_TRUE(p.ok()) << p;
  EXPECT_EQ(Status(id), "paused");
  int pid = (*State(id))["pid"].get<int>();
  // A frozen task sleeps in the freezer (D or S state, never R).
  std::string st = ProcState(pid);
  EXPECT_TRUE(st == "D" || st == "S") << "process state while paused: " << st;
  Result r = Rt({"resume", id});
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(Status(id), "running");
}

TEST_F(Lifecycle, PsJson) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"/md-check", "hold"};
  Create(bundle_, id);
  ASSERT_TRUE(Rt({"start", id}).ok());
  int pid = (*State(id))["pid"].get<int>();
  Result ps = Rt({"ps", "--format", "json", id});
  ASSERT_TRUE(ps.ok()) << ps;
  json pids = json::parse(ps.out);
  ASSERT_TRUE(pids.is_array()) << ps.out;
  EXPECT_NE(std::find(pids.begin(), pids.end(), json(pid)), pids.end()) << ps.out << " lacks " << pid;
}

TEST_F(Lifecycle, ExecJoinsTheContainer) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"/md-check", "hold"};
  Create(bundle_, id);
  ASSERT_TRUE(Rt({"start", id}).ok());
  int pid = (*State(id))["pid"].get<int>();

  Result r = Rt({"exec", "--env", "EXTRA=1", "--cwd", "/tmp", id, "/md-check", "ns", "+", "cwd", "+", "env", "EXTRA"});
  ASSERT_TRUE(r.ok()) << r;
  Facts f = ParseFacts(r.out);
  for (const char* ns : {"mnt", "pid", "net", "ipc", "uts"}) {
    EXPECT_EQ(f[std::string("ns.") + ns], Readlink("/proc/" + std::to_string(pid) + "/ns/" + ns)) << ns;
  }
  EXPECT_EQ(f["cwd"], "/tmp");
  EXPECT_EQ(f["env.EXTRA"], "1");

  Result code = Rt({"exec", id, "/md-check", "exit", "7"});
  EXPECT_EQ(code.exit_code, 7) << code;
}

TEST_F(Lifecycle, ExecProcessJson) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"/md-check", "hold"};
  Create(bundle_, id);
  ASSERT_TRUE(Rt({"start", id}).ok());
  json p = bundle_.config["process"];
  p["args"] = {"/md-check", "ids", "+", "cwd"};
  p["user"] = {{"uid", 1000}, {"gid", 1000}};
  p["cwd"] = "/tmp";
  WriteFile(tmp_ + "/process.json", p.dump());
  Result r = Rt({"exec", "--process", tmp_ + "/process.json", id});
  ASSERT_TRUE(r.ok()) << r;
  Facts f = ParseFacts(r.out);
  EXPECT_EQ(f["uid"], "1000");
  EXPECT_EQ(f["gid"], "1000");
  EXPECT_EQ(f["cwd"], "/tmp");
}

TEST_F(Lifecycle, ExecIntoStoppedContainerFails) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"/bin/true"};
  Create(bundle_, id);
  ASSERT_TRUE(Rt({"start", id}).ok());
  ASSERT_EQ(WaitStatus(id, "stopped"), "stopped");
  Result r = Rt({"exec", id, "/bin/true"});
  EXPECT_NE(r.exit_code, 0) << r;
}

TEST_F(Lifecycle, UpdateResources) {
  std::string id = NewId();
  std::string cg = bundle_.config["linux"]["cgroupsPath"];
  bundle_.config["process"]["args"] = {"/md-check", "hold"};
  bundle_.config["linux"]["resources"]["pids"] = {{"limit", 100}};
  Create(bundle_, id);
  ASSERT_TRUE(Rt({"start", id}).ok());
  Result r = Rt({"update", "--pids-limit", "20", id});
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(CgroupValue(cg, "pids", "pids.max"), "20");

  WriteFile(tmp_ + "/resources.json", json({{"pids", {{"limit", 30}}}}).dump());
  Result r2 = Rt({"update", "-r", tmp_ + "/resources.json", id});
  ASSERT_TRUE(r2.ok()) << r2;
  EXPECT_EQ(CgroupValue(cg, "pids", "pids.max"), "30");
}

TEST_F(Lifecycle, SpecWritesAValidConfig) {
  std::string dir = Scratch("spec-bundle");
  Result r = Rt({"spec", "--bundle", dir});
  ASSERT_TRUE(r.ok()) << r;
  json c = json::parse(ReadFile(dir + "/config.json"));
  EXPECT_TRUE(c.contains("ociVersion"));
  EXPECT_EQ(c["ociVersion"].get<std::string>().substr(0, 2), "1.");
  EXPECT_TRUE(c["process"]["args"].is_array());
  EXPECT_EQ(c["root"]["path"], "rootfs");
  EXPECT_TRUE(c["linux"]["namespaces"].is_array());
}

TEST_F(Lifecycle, Features) {
  Result r = Rt({"features"});
  ASSERT_TRUE(r.ok()) << r;
  json f = json::parse(r.out);
  EXPECT_TRUE(f.contains("ociVersionMin")) << r.out;
  EXPECT_TRUE(f.contains("ociVersionMax")) << r.out;
  EXPECT_TRUE(f.contains("linux")) << r.out;
}

}  // namespace
}  // namespace mdtest
