// The runtime's own command-line contract beyond the verbs' basics: exec's identity
// flags, detached exec with --pid-file, errors written to --log as runc does (JSON
// lines that containerd and Podman read back), and --explain.
#include <unistd.h>

#include "harness.h"

namespace mdtest {
namespace {

class Cli : public RuntimeTest {};

TEST_F(Cli, ExecUserAndNoNewPrivs) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"/md-check", "hold"};
  bundle_.config["process"]["noNewPrivileges"] = false;
  Create(bundle_, id);
  ASSERT_TRUE(Rt({"start", id}).ok());
  Result r = Rt({"exec", "--user", "1000:1000", "--no-new-privs", id, "/md-check", "ids", "+", "nnp"});
  ASSERT_TRUE(r.ok()) << r;
  Facts f = ParseFacts(r.out);
  EXPECT_EQ(f["uid"], "1000") << r.out;
  EXPECT_EQ(f["gid"], "1000") << r.out;
  EXPECT_EQ(f["nnp"], "1") << r.out;
  Result plain = Rt({"exec", id, "/md-check", "nnp"});
  ASSERT_TRUE(plain.ok()) << plain;
  EXPECT_EQ(ParseFacts(plain.out)["nnp"], "0") << plain.out;
}

TEST_F(Cli, DetachedExecWritesPidFile) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"/md-check", "hold"};
  Create(bundle_, id);
  ASSERT_TRUE(Rt({"start", id}).ok());
  std::string pid_file = tmp_ + "/exec.pid";
  Result r = Rt({"exec", "-d", "--pid-file", pid_file, id, "/bin/sleep", "1000"});
  ASSERT_TRUE(r.ok()) << r;
  int pid = std::atoi(ReadFile(pid_file).c_str());
  ASSERT_GT(pid, 0);
  EXPECT_EQ(kill(pid, 0), 0) << "the detached exec process is not running";
  Result ps = Rt({"ps", "--format", "json", id});
  ASSERT_TRUE(ps.ok()) << ps;
  bool found = false;
  for (auto& p : json::parse(ps.out)) found |= p.get<int>() == pid;
  EXPECT_TRUE(found) << "pid " << pid << " not in the container's cgroup: " << ps.out;
}

TEST_F(Cli, ErrorsGoToTheJsonLog) {
  std::string log = tmp_ + "/runtime.log";
  // Rt() puts --root first; the other global flags follow it, before the verb.
  Result r = Rt({"--log", log, "--log-format", "json", "state", "no-such-container"});
  EXPECT_NE(r.exit_code, 0);
  std::string text = ReadFile(log);
  ASSERT_FALSE(text.empty()) << "nothing written to --log";
  json line = json::parse(text.substr(0, text.find('\n')));
  EXPECT_EQ(line["level"], "error") << text;
  if (!RuntimeIs("runc"))  // runc 1.1.5 says only "container does not exist"
    EXPECT_NE(line["msg"].get<std::string>().find("no-such-container"), std::string::npos) << text;
  EXPECT_TRUE(line.contains("time")) << text;
}

TEST_F(Cli, ExplainShowsTheKernelSteps) {
  if (GetConfig().runtime.find("minidocker") == std::string::npos) GTEST_SKIP() << "--explain is minidocker's own";
  bundle_.config["process"]["args"] = {"/bin/true"};
  bundle_.Save();
  Result r = Rt({"--explain", "run", "--bundle", bundle_.dir, NewId()});
  ASSERT_TRUE(r.ok()) << r;
  for (const char* step : {"clone(CLONE_NEWPID", "unshare(CLONE_NEWNS", "cgroup mkdir", "mount proc on /proc",
                           "pivot_root", "capabilities: dropped", "execve /bin/true"})
    EXPECT_NE(r.err.find(step), std::string::npos) << "missing step \"" << step << "\" in:\n" << r.err;
  EXPECT_NE(r.err.find(" ms  "), std::string::npos) << "no durations in:\n" << r.err;
}

}  // namespace
}  // namespace mdtest
