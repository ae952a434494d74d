// Real containers under minidocker's default seccomp profile (Docker's; see
// src/engine/core/default_seccomp.h and docs/seccomp.md).
//
// This binary does not link the engine, so the profile comes from the unit-test binary
// (DefaultSeccompExport in src/engine/core/default_seccomp_test.cc), found next to the
// runtime's default build path or named by MD_UNIT_TESTS. Without it the tests skip.
//
// What they show: busybox's everyday commands (sh, ls, cat, ps, wget, nc, httpd, id)
// keep working; the filter — not the capability — is what refuses mount, unshare and
// sethostname when the profile was made without CAP_SYS_ADMIN, and chroot without
// CAP_SYS_CHROOT; with the capability in the profile the same commands work. Both
// filter load orders are used: noNewPrivileges false (Docker's default: the runtime
// still switches user and capabilities under the filter) and true.
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "harness.h"

namespace mdtest {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kDockerCaps = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE"};

std::vector<std::string> Plus(std::vector<std::string> caps, const std::string& cap) {
  caps.push_back(cap);
  return caps;
}

std::vector<std::string> Minus(std::vector<std::string> caps, const std::string& cap) {
  std::erase(caps, cap);
  return caps;
}

std::string ProfileGenerator() {
  if (const char* p = getenv("MD_UNIT_TESTS")) return p;
  return (fs::path(MD_DEFAULT_RUNTIME).parent_path() / "unit_tests").string();
}

class DefaultSeccomp : public RuntimeTest {
 protected:
  void SetUp() override {
    RuntimeTest::SetUp();
    if (access(ProfileGenerator().c_str(), X_OK) != 0)
      GTEST_SKIP() << "no profile generator at " << ProfileGenerator()
                   << " (build unit_tests, or set MD_UNIT_TESTS)";
  }

  // default_seccomp_profile(caps), from the unit-test binary.
  json Profile(const std::vector<std::string>& caps) {
    std::string path = tmp_ + "/seccomp-" + std::to_string(++profiles_) + ".json";
    std::string list;
    for (const auto& c : caps) list += (list.empty() ? "" : ",") + c;
    SpawnOptions o;
    o.env = {"MD_EXPORT_DEFAULT_SECCOMP=" + path, "MD_EXPORT_SECCOMP_CAPS=" + list};
    Result r = Exec({ProfileGenerator(), "--gtest_filter=DefaultSeccompExport.*"}, o);
    EXPECT_TRUE(r.ok()) << r;
    json p = json::parse(ReadFile(path), nullptr, false);
    EXPECT_TRUE(p.is_object()) << "no profile written to " << path << "\n" << r;
    return p;
  }

  // A Docker-like container: `caps` as bounding/effective/permitted (no ambient), a
  // writable root, the given profile, `sh -c script`.
  Bundle ShBundle(const std::string& script, const std::vector<std::string>& caps,
                  const json& profile, bool no_new_privileges = false) {
    Bundle b = NewBundle();
    b.config["process"]["args"] = {"/bin/sh", "-c", script};
    b.config["process"]["capabilities"] = {
        {"bounding", caps}, {"effective", caps}, {"permitted", caps}};
    b.config["process"]["noNewPrivileges"] = no_new_privileges;
    b.config["root"]["readonly"] = false;
    b.config["linux"]["seccomp"] = profile;
    return b;
  }

  int profiles_ = 0;
};

TEST_F(DefaultSeccomp, BusyboxCommandsWork) {
  json profile = Profile(kDockerCaps);
  for (bool nnp : {false, true}) {
    Bundle b = ShBundle(
        "ls / >/dev/null && cat /proc/self/status >/dev/shm/status && "
        "grep -E '^(Seccomp|NoNewPrivs):' /dev/shm/status && ps >/dev/null && "
        "ps -o pid,comm | grep -q ps && sleep 0.01 && date >/dev/null && "
        "mkdir -p /tmp/x && touch /tmp/x/f && chmod 600 /tmp/x/f && chown 1:1 /tmp/x/f && "
        "ln -s f /tmp/x/l && mv /tmp/x/f /tmp/x/g && rm -r /tmp/x && "
        "echo piped | cat | grep -q piped && "
        "(sleep 5 & kill $!; wait $!; true) && "
        "chroot / true && md5sum /bin/busybox >/dev/null && echo all-ok",
        kDockerCaps, profile, nnp);
    Result r = RunBundle(b);
    ASSERT_TRUE(r.ok()) << "noNewPrivileges=" << nnp << "\n" << r;
    EXPECT_NE(r.out.find("Seccomp:\t2"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(std::string("NoNewPrivs:\t") + (nnp ? "1" : "0")), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("all-ok"), std::string::npos) << r;
  }
}

TEST_F(DefaultSeccomp, NonRootUserIsSetUpUnderTheFilter) {
  // noNewPrivileges false: the filter goes in before the runtime switches to uid 1000
  // and drops capabilities, so setgroups/setresuid/capset run under it.
  Bundle b = ShBundle("id -u && id -g && cat /proc/self/status | grep '^CapEff'", kDockerCaps,
                      Profile(kDockerCaps));
  b.config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}, {"additionalGids", {100}}};
  Result r = RunBundle(b);
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(SplitLines(r.out).at(0), "1000") << r.out;
  EXPECT_EQ(SplitLines(r.out).at(1), "1000") << r.out;
}

TEST_F(DefaultSeccomp, NetworkingWorks) {
  // The container's own network namespace; CAP_NET_ADMIN only to bring up loopback
  // (Docker's engine does that for its containers).
  std::vector<std::string> caps = Plus(kDockerCaps, "CAP_NET_ADMIN");
  Bundle b = ShBundle(
      "ip link set lo up && mkdir -p /tmp/www && echo hello-seccomp >/tmp/www/index.html && "
      "httpd -p 127.0.0.1:8080 -h /tmp/www && "
      "for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O - http://127.0.0.1:8080/index.html && break; "
      "sleep 0.2; done && "
      "printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc 127.0.0.1 8080 | grep -c hello-seccomp "
      "&& "
      "ping -c 1 -W 2 127.0.0.1 >/dev/null && echo ping-ok",
      caps, Profile(caps));
  Result r = RunBundle(b);
  ASSERT_TRUE(r.ok()) << r;
  std::vector<std::string> lines = SplitLines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_EQ(lines[0], "hello-seccomp");  // wget
  EXPECT_EQ(lines[1], "1");              // nc, raw HTTP
  EXPECT_EQ(lines[2], "ping-ok");        // raw ICMP socket (CAP_NET_RAW)
}

TEST_F(DefaultSeccomp, ExecJoinsUnderTheProfile) {
  // `exec` (docker exec) gets the container's filter too; joining the namespaces must
  // happen before it is loaded.
  for (bool nnp : {false, true}) {
    std::string id = NewId();
    Bundle b = ShBundle("sleep 60", kDockerCaps, Profile(kDockerCaps), nnp);
    Create(b, id);
    ASSERT_TRUE(Rt({"start", id}).ok());
    Result r = Rt({"exec", id, "/bin/sh", "-c",
                   "grep '^Seccomp:' /proc/self/status && ps -o comm | grep -c sleep"});
    EXPECT_TRUE(r.ok()) << "noNewPrivileges=" << nnp << "\n" << r;
    EXPECT_EQ(SplitLines(r.out), (std::vector<std::string>{"Seccomp:\t2", "1"})) << r;
    Rt({"kill", id, "KILL"});
    WaitStatus(id, "stopped");
    Rt({"delete", "--force", id});
  }
}

// The container holds CAP_SYS_ADMIN, but the profile was made without it: the filter
// alone refuses the calls (EPERM, as Docker's). With the capability in the profile too,
// the same commands work.
constexpr const char* kAdminScript =
    "unshare -m true && echo unshare-ok; "
    "mount -t tmpfs none /mnt && echo mount-ok; "
    "hostname seccomp-test && echo hostname-ok; "
    "unshare -U true && echo userns-ok; "
    "true";

TEST_F(DefaultSeccomp, FilterRefusesMountAndNamespacesWithoutSysAdmin) {
  std::vector<std::string> caps = Plus(kDockerCaps, "CAP_SYS_ADMIN");
  Bundle b = ShBundle(kAdminScript, caps, Profile(kDockerCaps));
  Result r = RunBundle(b);
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(Trim(r.out), "") << r;
  EXPECT_NE(r.err.find("Operation not permitted"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("unshare-ok"), std::string::npos);
}

TEST_F(DefaultSeccomp, SysAdminProfileAllowsThem) {
  std::vector<std::string> caps = Plus(kDockerCaps, "CAP_SYS_ADMIN");
  Bundle b = ShBundle(kAdminScript, caps, Profile(caps));
  Result r = RunBundle(b);
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(SplitLines(r.out),
            (std::vector<std::string>{"unshare-ok", "mount-ok", "hostname-ok", "userns-ok"}))
      << r;
}

TEST_F(DefaultSeccomp, ChrootFollowsSysChroot) {
  // Profile without CAP_SYS_CHROOT, container with it: the filter refuses.
  Bundle denied =
      ShBundle("chroot / true", kDockerCaps, Profile(Minus(kDockerCaps, "CAP_SYS_CHROOT")));
  Result r = RunBundle(denied);
  EXPECT_NE(r.exit_code, 0) << r;
  EXPECT_NE(r.err.find("Operation not permitted"), std::string::npos) << r;
  Bundle allowed = ShBundle("chroot / true", kDockerCaps, Profile(kDockerCaps));
  Result ok = RunBundle(allowed);
  EXPECT_TRUE(ok.ok()) << ok;
}

TEST_F(DefaultSeccomp, PersonalityWithDockersValues) {
  // linux32/linux64 = personality(PER_LINUX32 / PER_LINUX), md-check queries with
  // 0xffffffff: the values Docker allows. (Other values are refused; the unit test
  // DefaultSeccompFilter.DefaultCapabilitiesInTheKernel checks ADDR_NO_RANDOMIZE.)
  Bundle b = ShBundle("linux32 uname -m && linux64 uname -m && /md-check personality", kDockerCaps,
                      Profile(kDockerCaps));
  Result r = RunBundle(b);
  ASSERT_TRUE(r.ok()) << r;
  std::vector<std::string> lines = SplitLines(r.out);
  ASSERT_GE(lines.size(), 3u) << r;
#if defined(__x86_64__)
  EXPECT_EQ(lines[0], "i686") << r;
  EXPECT_EQ(lines[1], "x86_64") << r;
#endif
  EXPECT_EQ(ParseFacts(r.out)["personality"], "0x0") << r;
}

}  // namespace
}  // namespace mdtest
