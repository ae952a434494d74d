// hooks: all six kinds, their order, the state on their stdin, and failures.
#include "harness.h"

namespace mdtest {
namespace {

const char* const kKinds[] = {"prestart", "createRuntime", "createContainer", "startContainer", "poststart",
                              "poststop"};

class Hooks : public RuntimeTest {
 protected:
  void SetUp() override {
    RuntimeTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // Bind-mounted at the same path so that hooks running in the container's
    // mount namespace (createContainer, startContainer) write to the same place.
    dir_ = ShareDir(bundle_, "hooks");
  }

  // A hook that stores its stdin (the state) and appends its kind to `order`.
  json MarkerHook(const std::string& kind, int exit_code = 0) {
    std::string script = "cat > " + dir_ + "/" + kind + ".json; echo " + kind + " >> " + dir_ + "/order; echo \"$MD_HOOK $1\" > " +
                         dir_ + "/" + kind + ".env; exit " + std::to_string(exit_code);
    return {{"path", "/bin/sh"},
            {"args", {"sh", "-c", script, "sh", "arg-" + kind}},
            {"env", {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "MD_HOOK=" + kind, "MD_TEST_TAG=" + tag_}}};
  }

  std::vector<std::string> Order() { return SplitLines(ReadFile(dir_ + "/order")); }

  json HookState(const std::string& kind) {
    std::string s = ReadFile(dir_ + "/" + kind + ".json");
    try {
      return json::parse(s);
    } catch (const std::exception& e) {
      ADD_FAILURE() << kind << " hook got no JSON state on stdin: '" << s << "'";
      return json::object();
    }
  }

  std::string dir_;
};

TEST_F(Hooks, AllSixRunInOrderWithState) {
  std::string id = NewId();
  for (const char* k : kKinds) bundle_.config["hooks"][k] = json::array({MarkerHook(k)});
  bundle_.config["process"]["args"] = {"/bin/sh", "-c", "echo process >> " + dir_ + "/order"};
  Create(bundle_, id);
  auto after_create = Order();
  after_create.resize(std::min<size_t>(after_create.size(), 3));  // see PoststartNotRunByCreate
  EXPECT_EQ(after_create, (std::vector<std::string>{"prestart", "createRuntime", "createContainer"}));

  Result start = Rt({"start", id});
  ASSERT_TRUE(start.ok()) << start;
  // poststart runs before `start` returns.
  auto after_start = Order();
  EXPECT_NE(std::find(after_start.begin(), after_start.end(), "poststart"), after_start.end())
      << "poststart had not run when start returned";
  ASSERT_EQ(WaitStatus(id, "stopped"), "stopped");
  ASSERT_TRUE(Rt({"delete", id}).ok());

  auto order = Order();
  ASSERT_EQ(order.size(), 7u) << ReadFile(dir_ + "/order");
  auto pos = [&](const std::string& k) { return std::find(order.begin(), order.end(), k) - order.begin(); };
  EXPECT_LT(pos("createContainer"), pos("startContainer"));
  EXPECT_LT(pos("startContainer"), pos("process"));
  EXPECT_LT(pos("createContainer"), pos("poststart"));
  EXPECT_EQ(order.back(), "poststop");

  for (const char* k : kKinds) {
    json st = HookState(k);
    EXPECT_EQ(st.value("id", ""), id) << k << ": " << st.dump();
    EXPECT_EQ(st.value("bundle", ""), bundle_.dir) << k << ": " << st.dump();
    EXPECT_TRUE(st.contains("ociVersion")) << k << ": " << st.dump();
    EXPECT_TRUE(st.contains("status")) << k << ": " << st.dump();
    if (std::string(k) != "poststop") {
      EXPECT_GT(st.value("pid", 0), 0) << k << ": " << st.dump();
    }
    // args[1:] and env are passed as configured.
    EXPECT_EQ(Trim(ReadFile(dir_ + "/" + k + ".env")), std::string(k) + " arg-" + k);
  }
  EXPECT_EQ(HookState("poststop").value("status", ""), "stopped");
}

TEST_F(Hooks, PoststartNotRunByCreate) {
  KNOWN_FAILURE("runc", "runc 1.1.5 runs poststart hooks during `create` (before the process is started)");
  std::string id = NewId();
  for (const char* k : {"createRuntime", "startContainer", "poststart"}) {
    bundle_.config["hooks"][k] = json::array({MarkerHook(k)});
  }
  bundle_.config["process"]["args"] = {"/bin/true"};
  Create(bundle_, id);
  EXPECT_EQ(Order(), std::vector<std::string>{"createRuntime"});
  ASSERT_TRUE(Rt({"start", id}).ok());
  auto order = Order();
  EXPECT_EQ(std::count(order.begin(), order.end(), "poststart"), 1) << ReadFile(dir_ + "/order");
}

TEST_F(Hooks, SeveralHooksOfOneKindRunInOrder) {
  json a = MarkerHook("createRuntime"), b = MarkerHook("createRuntime");
  a["args"][2] = "echo first >> " + dir_ + "/order";
  b["args"][2] = "echo second >> " + dir_ + "/order";
  bundle_.config["hooks"]["createRuntime"] = {a, b};
  bundle_.config["process"]["args"] = {"/bin/true"};
  Result r = RunBundle(bundle_);
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(Order(), (std::vector<std::string>{"first", "second"}));
}

class FailingHook : public Hooks, public ::testing::WithParamInterface<const char*> {};

TEST_P(FailingHook, FailsCreateAndLeavesNothing) {
  std::string kind = GetParam();
  std::string id = NewId();
  std::string cg = bundle_.config["linux"]["cgroupsPath"];
  bundle_.config["hooks"][kind] = json::array({MarkerHook(kind, 3)});
  bundle_.config["process"]["args"] = {"/bin/sh", "-c", "echo process >> " + dir_ + "/order"};
  bundle_.Save();
  Result r = Rt({"create", "--bundle", bundle_.dir, id});
  EXPECT_NE(r.exit_code, 0) << "create must fail when a " << kind << " hook fails\n" << r;
  EXPECT_EQ(Order(), std::vector<std::string>{kind});
  EXPECT_NE(Rt({"state", id}).exit_code, 0);
  ExpectNothingLeftBehind(id, cg);
}

INSTANTIATE_TEST_SUITE_P(Hooks, FailingHook, ::testing::Values("prestart", "createRuntime", "createContainer"));

TEST_F(Hooks, FailingStartContainerHookPreventsTheProcess) {
  std::string id = NewId();
  bundle_.config["hooks"]["startContainer"] = json::array({MarkerHook("startContainer", 3)});
  bundle_.config["process"]["args"] = {"/bin/sh", "-c", "echo process >> " + dir_ + "/order"};
  Create(bundle_, id);
  Rt({"start", id});  // may report the failure or not; the process must not run
  std::string st = WaitStatus(id, "stopped");
  EXPECT_TRUE(st == "stopped" || st.empty()) << st;
  EXPECT_EQ(Order(), std::vector<std::string>{"startContainer"});
}

TEST_F(Hooks, FailingPoststopHookStillDeletes) {
  std::string id = NewId();
  bundle_.config["hooks"]["poststop"] = json::array({MarkerHook("poststop", 3)});
  bundle_.config["process"]["args"] = {"/bin/true"};
  Create(bundle_, id);
  ASSERT_TRUE(Rt({"start", id}).ok());
  ASSERT_EQ(WaitStatus(id, "stopped"), "stopped");
  Rt({"delete", id});  // a warning, not necessarily an error
  EXPECT_EQ(Order(), std::vector<std::string>{"poststop"});
  EXPECT_NE(Rt({"state", id}).exit_code, 0);
  EXPECT_FALSE(StateDirExists(id));
}

TEST_F(Hooks, HookTimeout) {
  std::string id = NewId();
  json h = MarkerHook("createRuntime");
  h["args"][2] = "exec sleep 1000";
  h["timeout"] = 1;
  bundle_.config["hooks"]["createRuntime"] = json::array({h});
  std::string cg = bundle_.config["linux"]["cgroupsPath"];
  bundle_.Save();
  Result r = Rt({"create", "--bundle", bundle_.dir, id});
  EXPECT_NE(r.exit_code, 0) << r;
  ExpectNothingLeftBehind(id, cg);
}

// startContainer hooks run inside the container, from its init: the timeout applies there too.
TEST_F(Hooks, StartContainerHookTimeout) {
  std::string id = NewId();
  bundle_.config["hooks"]["startContainer"] = {{{"path", "/bin/sleep"}, {"args", {"sleep", "1000"}}, {"timeout", 1}}};
  bundle_.config["process"]["args"] = {"/md-check", "echo", "should-not-run"};
  Result c = Create(bundle_, id);
  Result s = Rt({"start", id});
  // runc's `start` returns before its init runs the hooks, so only we can report it.
  if (!RuntimeIs("runc")) EXPECT_NE(s.exit_code, 0) << s;
  EXPECT_EQ(WaitStatus(id, "stopped"), "stopped");
  EXPECT_EQ(ReadFile(c.out_file).find("should-not-run"), std::string::npos) << "the process ran despite the failed hook";
}

}  // namespace
}  // namespace mdtest
