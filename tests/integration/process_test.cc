// config.json `process` fields and the uts fields, checked from inside with md-check.
#include <set>

#include "harness.h"

namespace mdtest {
namespace {

class Process : public RuntimeTest {};

TEST_F(Process, ArgsArePassedVerbatim) {
  bundle_.config["process"]["args"] = {"/md-check", "echo", "a b", "", "c\"d", "$HOME"};
  Result r = RunBundle(bundle_);
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out, "a b  c\"d $HOME\n");
}

TEST_F(Process, ArgsResolvedThroughPath) {
  bundle_.config["process"]["args"] = {"echo", "via PATH"};
  Result r = RunBundle(bundle_);
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out, "via PATH\n");
}

TEST_F(Process, Env) {
  bundle_.config["process"]["env"] = {"PATH=/bin:/usr/bin", "A=1", "B=two words", "C=x=y", "EMPTY=",
                                      "MD_TEST_TAG=" + tag_};
  Facts f = Check({"env"});
  EXPECT_EQ(f["env.PATH"], "/bin:/usr/bin");
  EXPECT_EQ(f["env.A"], "1");
  EXPECT_EQ(f["env.B"], "two words");
  EXPECT_EQ(f["env.C"], "x=y");
  EXPECT_EQ(f["env.EMPTY"], "");
  // Exactly the configured variables; runtimes may add HOME (runc does).
  std::set<std::string> keys;
  for (const auto& [k, v] : f.lines) {
    if (k.rfind("env.", 0) == 0 && k != "env.count") keys.insert(k.substr(4));
  }
  keys.erase("HOME");
  EXPECT_EQ(keys, (std::set<std::string>{"PATH", "A", "B", "C", "EMPTY", "MD_TEST_TAG"})) << f.raw;
}

TEST_F(Process, Cwd) {
  bundle_.config["process"]["cwd"] = "/tmp";
  Facts f = Check({"cwd"});
  EXPECT_EQ(f["cwd"], "/tmp");
  EXPECT_EQ(f["cwd.reachable"], "1");
}

TEST_F(Process, CwdForNonRootUser) {
  bundle_.config["process"]["cwd"] = "/home/user";
  bundle_.config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
  Facts f = Check({"cwd"});
  EXPECT_EQ(f["cwd"], "/home/user");
}

TEST_F(Process, UserIds) {
  bundle_.config["process"]["user"] = {{"uid", 1000}, {"gid", 1001}, {"additionalGids", {5, 2000, 1001}}};
  Facts f = Check({"ids"});
  for (const char* k : {"uid", "euid", "suid"}) EXPECT_EQ(f[k], "1000") << k;
  for (const char* k : {"gid", "egid", "sgid"}) EXPECT_EQ(f[k], "1001") << k;
  EXPECT_EQ(f["groups"], "5,1001,2000");
}

TEST_F(Process, RootHasNoSupplementaryGroupsByDefault) {
  Facts f = Check({"ids"});
  EXPECT_EQ(f["uid"], "0");
  EXPECT_EQ(f["gid"], "0");
  EXPECT_EQ(f["groups"], "");
}

TEST_F(Process, Umask) {
  bundle_.config["process"]["user"]["umask"] = 027;  // octal 027 = decimal 23
  Facts f = Check({"ids"});
  EXPECT_EQ(f["umask"], "0027");
}

TEST_F(Process, DefaultUmask) {
  // The spec leaves an unset umask to the runtime; 0022 is what runc and crun use.
  Facts f = Check({"ids"});
  EXPECT_EQ(f["umask"], "0022");
}

// After execve the kernel recomputes the permitted/effective sets from the
// configured ones (capabilities(7)); the expectations follow those rules.
TEST_F(Process, CapabilitiesAllFiveSetsAsRoot) {
  std::vector<std::string> bnd = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETPCAP", "CAP_AUDIT_WRITE",
                                  "CAP_NET_RAW"};
  std::vector<std::string> prm = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"};
  std::vector<std::string> eff = {"CAP_CHOWN", "CAP_KILL"};
  std::vector<std::string> inh = {"CAP_KILL", "CAP_NET_BIND_SERVICE"};
  std::vector<std::string> amb = {"CAP_KILL"};
  bundle_.config["process"]["capabilities"] = {
      {"bounding", bnd}, {"permitted", prm}, {"effective", eff}, {"inheritable", inh}, {"ambient", amb}};
  bundle_.config["process"]["noNewPrivileges"] = true;
  Facts f = Check({"caps"});
  EXPECT_EQ(f["CapBnd"], CapHex(CapMask(bnd))) << f["CapBnd.names"];
  EXPECT_EQ(f["CapInh"], CapHex(CapMask(inh))) << f["CapInh.names"];
  EXPECT_EQ(f["CapAmb"], CapHex(CapMask(amb))) << f["CapAmb.names"];
  // Root: P'(permitted) = inheritable | bounding, limited to the old permitted
  // set by no_new_privs; P'(effective) = P'(permitted).
  EXPECT_EQ(f["CapPrm"], CapHex(CapMask(prm))) << f["CapPrm.names"];
  EXPECT_EQ(f["CapEff"], CapHex(CapMask(prm))) << f["CapEff.names"];
}

TEST_F(Process, CapabilitiesAllFiveSetsAsUser) {
  std::vector<std::string> bnd = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETPCAP"};
  std::vector<std::string> prm = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  std::vector<std::string> eff = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  std::vector<std::string> inh = {"CAP_KILL", "CAP_NET_BIND_SERVICE"};
  std::vector<std::string> amb = {"CAP_NET_BIND_SERVICE"};
  bundle_.config["process"]["capabilities"] = {
      {"bounding", bnd}, {"permitted", prm}, {"effective", eff}, {"inheritable", inh}, {"ambient", amb}};
  bundle_.config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
  Facts f = Check({"caps"});
  EXPECT_EQ(f["CapBnd"], CapHex(CapMask(bnd))) << f["CapBnd.names"];
  EXPECT_EQ(f["CapInh"], CapHex(CapMask(inh))) << f["CapInh.names"];
  EXPECT_EQ(f["CapAmb"], CapHex(CapMask(amb))) << f["CapAmb.names"];
  // Non-root without file capabilities: permitted = effective = ambient.
  EXPECT_EQ(f["CapPrm"], CapHex(CapMask(amb))) << f["CapPrm.names"];
  EXPECT_EQ(f["CapEff"], CapHex(CapMask(amb))) << f["CapEff.names"];
}

TEST_F(Process, NoCapabilities) {
  bundle_.config["process"]["capabilities"] = json::object();
  Facts f = Check({"caps"});
  for (const char* k : {"CapBnd", "CapPrm", "CapEff", "CapInh", "CapAmb"}) {
    EXPECT_EQ(f[k], "0000000000000000") << k << ": " << f[std::string(k) + ".names"];
  }
}

TEST_F(Process, CapabilitiesAreEnforced) {
  // Without CAP_CHOWN root cannot chown a file it does not own... nor its own
  // to another user.
  bundle_.config["root"]["readonly"] = false;
  bundle_.config["process"]["args"] = {"/bin/sh", "-c", "touch /tmp/f && chown 1000 /tmp/f"};
  Result r = RunBundle(bundle_);
  EXPECT_NE(r.exit_code, 0) << r;
  auto& caps = bundle_.config["process"]["capabilities"];
  for (const char* set : {"bounding", "permitted", "effective"}) caps[set].push_back("CAP_CHOWN");
  Result ok = RunBundle(bundle_);
  EXPECT_EQ(ok.exit_code, 0) << ok;
}

TEST_F(Process, Rlimits) {
  bundle_.config["process"]["rlimits"] = {
      {{"type", "RLIMIT_NOFILE"}, {"soft", 512}, {"hard", 1000}},
      {{"type", "RLIMIT_CORE"}, {"soft", 4096}, {"hard", 8192}},
      {{"type", "RLIMIT_NPROC"}, {"soft", 300}, {"hard", 400}},
  };
  Facts f = Check({"rlimit", "NOFILE", "CORE", "NPROC"});
  EXPECT_EQ(f["RLIMIT_NOFILE.soft"], "512");
  EXPECT_EQ(f["RLIMIT_NOFILE.hard"], "1000");
  EXPECT_EQ(f["RLIMIT_CORE.soft"], "4096");
  EXPECT_EQ(f["RLIMIT_CORE.hard"], "8192");
  EXPECT_EQ(f["RLIMIT_NPROC.soft"], "300");
  EXPECT_EQ(f["RLIMIT_NPROC.hard"], "400");
}

TEST_F(Process, NoNewPrivileges) {
  bundle_.config["process"]["noNewPrivileges"] = true;
  EXPECT_EQ(Check({"nnp"})["nnp"], "1");
  bundle_.config["process"]["noNewPrivileges"] = false;
  EXPECT_EQ(Check({"nnp"})["nnp"], "0");
}

TEST_F(Process, OomScoreAdj) {
  // Raising is always allowed; lowering below the runtime's own value needs
  // CAP_SYS_RESOURCE, which this host's bounding set lacks.
  bundle_.config["process"]["oomScoreAdj"] = 500;
  EXPECT_EQ(Check({"oom"})["oom_score_adj"], "500");
  bundle_.config["process"]["oomScoreAdj"] = 1000;
  EXPECT_EQ(Check({"oom"})["oom_score_adj"], "1000");
}

TEST_F(Process, Hostname) {
  bundle_.config["hostname"] = "md-host";
  Facts f = Check({"hostname"});
  EXPECT_EQ(f["hostname"], "md-host");
}

TEST_F(Process, Domainname) {
  KNOWN_FAILURE("runc", "runc 1.1.5 ignores `domainname` (support arrived in runc 1.2)");
  bundle_.config["hostname"] = "md-host";
  bundle_.config["domainname"] = "md.example";
  Facts f = Check({"hostname"});
  EXPECT_EQ(f["domainname"], "md.example");
}

TEST_F(Process, HostnameNotSetKeepsHostValue) {
  bundle_.config.erase("hostname");
  Facts f = Check({"hostname"});
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  EXPECT_EQ(f["hostname"], host);
}

TEST_F(Process, IsPidOneInNewPidNamespace) {
  Facts f = Check({"pid"});
  EXPECT_EQ(f["pid"], "1");
  EXPECT_EQ(f["ppid"], "0");
}

TEST_F(Process, NoSeccompByDefault) {
  Facts f = Check({"seccomp"});
  EXPECT_EQ(f["seccomp"], "0");
}

TEST_F(Process, StdioIsNotATerminal) {
  Facts f = Check({"tty"});
  EXPECT_EQ(f["tty.isatty0"], "0");
  EXPECT_EQ(f["tty.isatty1"], "0");
  EXPECT_EQ(f["tty.ctty"], "0");
}

TEST_F(Process, Stdin) {
  bundle_.config["process"]["args"] = {"/bin/cat"};
  bundle_.Save();
  SpawnOptions o;
  o.stdin_data = "through stdin\n";
  Result r = Rt({"run", "--bundle", bundle_.dir, NewId()}, o);
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out, "through stdin\n");
}

TEST_F(Process, Stderr) {
  bundle_.config["process"]["args"] = {"/bin/sh", "-c", "echo to-err >&2; echo to-out"};
  Result r = RunBundle(bundle_);
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out, "to-out\n");
  EXPECT_NE(r.err.find("to-err\n"), std::string::npos) << r;
}

}  // namespace
}  // namespace mdtest
