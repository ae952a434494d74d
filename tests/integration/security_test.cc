// Security regressions: leaked fds, --preserve-fds, /proc/self/exe overwrite
// (CVE-2019-5736), cwd escape through /proc/self/fd (CVE-2024-21626), masked
// paths and mount destinations redirected by symlinks in the rootfs
// (CVE-2025-31133 and friends).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "harness.h"

namespace mdtest {
namespace {

namespace fs = std::filesystem;

class Security : public RuntimeTest {
 protected:
  SpawnOptions WithLeakedFds() {
    SpawnOptions o;
    o.extra_files = {{5, tmp_ + "/leak5"}, {7, tmp_ + "/leak7"}};
    return o;
  }
};

TEST_F(Security, NoFdsLeakIntoTheContainerOnRun) {
  bundle_.config["process"]["args"] = {"/md-check", "fds"};
  bundle_.Save();
  Result r = Rt({"run", "--bundle", bundle_.dir, NewId()}, WithLeakedFds());
  ASSERT_TRUE(r.ok()) << r;
  Facts f = ParseFacts(r.out);
  EXPECT_EQ(f["fds"], "") << f.raw;
}

TEST_F(Security, NoFdsLeakIntoTheContainerOnCreateStart) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"/md-check", "fds"};
  bundle_.Save();
  Result c = Rt({"create", "--bundle", bundle_.dir, id}, WithLeakedFds());
  ASSERT_TRUE(c.ok()) << c;
  Result s = Rt({"start", id}, WithLeakedFds());
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(WaitStatus(id, "stopped"), "stopped");
  Facts f = ParseFacts(ReadFile(c.out_file));
  EXPECT_EQ(f["fds"], "") << f.raw;
}

TEST_F(Security, NoFdsLeakIntoExec) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"/md-check", "hold"};
  Create(bundle_, id);
  ASSERT_TRUE(Rt({"start", id}).ok());
  Result r = Rt({"exec", id, "/md-check", "fds"}, WithLeakedFds());
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(ParseFacts(r.out)["fds"], "") << r.out;
}

TEST_F(Security, PreserveFdsPassesExactlyThoseFds) {
  WriteFile(tmp_ + "/three", "fd three\n");
  WriteFile(tmp_ + "/four", "fd four\n");
  SpawnOptions o = WithLeakedFds();
  o.extra_files.push_back({3, tmp_ + "/three"});
  o.extra_files.push_back({4, tmp_ + "/four"});
  bundle_.config["process"]["args"] = {"/md-check", "fds", "+", "fdread", "3", "+", "fdread", "4"};
  bundle_.Save();
  Result r = Rt({"run", "--preserve-fds", "2", "--bundle", bundle_.dir, NewId()}, o);
  ASSERT_TRUE(r.ok()) << r;
  Facts f = ParseFacts(r.out);
  EXPECT_EQ(f["fds"], "3,4") << f.raw;
  EXPECT_EQ(f["fdread:3"], "fd three");
  EXPECT_EQ(f["fdread:4"], "fd four");
}

TEST_F(Security, PreserveFdsOnCreate) {
  WriteFile(tmp_ + "/three", "fd three\n");
  SpawnOptions o = WithLeakedFds();
  o.extra_files.push_back({3, tmp_ + "/three"});
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"/md-check", "fds", "+", "fdread", "3"};
  bundle_.Save();
  Result c = Rt({"create", "--preserve-fds", "1", "--bundle", bundle_.dir, id}, o);
  ASSERT_TRUE(c.ok()) << c;
  ASSERT_TRUE(Rt({"start", id}).ok());
  ASSERT_EQ(WaitStatus(id, "stopped"), "stopped");
  Facts f = ParseFacts(ReadFile(c.out_file));
  EXPECT_EQ(f["fds"], "3") << f.raw;
  EXPECT_EQ(f["fdread:3"], "fd three");
}

TEST_F(Security, ExeCannotBeOpenedForWriting) {
  // CVE-2019-5736: neither our own /proc/self/exe nor any runtime helper's
  // executable visible in the container may be opened for writing.
  bundle_.config["process"]["capabilities"] = json::object();
  for (const char* set : {"bounding", "effective", "permitted"}) {
    bundle_.config["process"]["capabilities"][set] = HostCapNames();
  }
  Facts f = Check({"exe-overwrite"});
  EXPECT_EQ(f["exe-overwrite"], "blocked") << f.raw;
}

TEST_F(Security, ExeCannotBeOpenedForWritingFromExec) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"/md-check", "hold"};
  bundle_.config["linux"]["namespaces"] = json::array();
  for (const char* t : {"mount", "network", "ipc", "uts", "pid"}) bundle_.config["linux"]["namespaces"].push_back({{"type", t}});
  Create(bundle_, id);
  ASSERT_TRUE(Rt({"start", id}).ok());
  Result r = Rt({"exec", "--cap", "CAP_DAC_OVERRIDE", id, "/md-check", "exe-overwrite"});
  EXPECT_TRUE(r.ok()) << r;
  EXPECT_EQ(ParseFacts(r.out)["exe-overwrite"], "blocked") << r.out;
}

TEST_F(Security, ShebangProcSelfExeDoesNotExposeTheRuntimeBinary) {
  // The classic exploit's first step: an entrypoint whose interpreter is
  // /proc/self/exe makes the runtime re-execute itself inside the container.
  // Whatever happens, the runtime binary on the host must be unchanged.
  std::string before = ReadFile(GetConfig().runtime);
  WriteFile(bundle_.rootfs + "/evil", "#!/proc/self/exe\n", 0755);
  bundle_.config["process"]["args"] = {"/evil"};
  RunBundle(bundle_);
  EXPECT_TRUE(ReadFile(GetConfig().runtime) == before) << "the runtime binary changed";
}

class CwdEscape : public Security, public ::testing::WithParamInterface<int> {};

TEST_P(CwdEscape, ProcSelfFdCwdStaysInside) {
  // CVE-2024-21626: a cwd of /proc/self/fd/N must never resolve to a host
  // directory the runtime (or its caller) had open.
  int n = GetParam();
  SpawnOptions o = WithLeakedFds();
  o.extra_dirs = {{8, "/"}, {9, "/sys/fs/cgroup"}};
  bundle_.config["process"]["cwd"] = "/proc/self/fd/" + std::to_string(n);
  bundle_.config["process"]["args"] = {"/md-check", "cwd", "+", "ls", "."};
  bundle_.Save();
  Result r = Rt({"run", "--bundle", bundle_.dir, NewId()}, o);
  if (r.exit_code != 0) {
    std::cout << "[ INFO     ] refused: " << r.err;  // refusing is fine
    return;
  }
  Facts f = ParseFacts(r.out);
  EXPECT_EQ(f["cwd.reachable"], "1") << "cwd escaped the container: " << f.raw;
  EXPECT_EQ(f["ls:.."].find("work"), std::string::npos) << f.raw;
}

INSTANTIATE_TEST_SUITE_P(Security, CwdEscape, ::testing::Range(3, 12));

TEST_F(Security, ExecCwdProcSelfFdStaysInside) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"/md-check", "hold"};
  Create(bundle_, id);
  ASSERT_TRUE(Rt({"start", id}).ok());
  SpawnOptions o;
  o.extra_dirs = {{5, "/"}, {7, "/sys/fs/cgroup"}};
  for (int n = 3; n < 12; ++n) {
    Result r = Rt({"exec", "--cwd", "/proc/self/fd/" + std::to_string(n), id, "/md-check", "cwd"}, o);
    if (r.exit_code != 0) continue;  // refused
    EXPECT_EQ(ParseFacts(r.out)["cwd.reachable"], "1") << "fd " << n << ": " << r.out;
  }
}

TEST_F(Security, MaskedPathSymlinkToHostPath) {
  // rootfs/masked-link -> <tmp>/outside/secret (an absolute path that exists
  // only on the host). Masking must resolve it inside the rootfs (where it
  // dangles) or refuse; the host file must stay untouched.
  std::string outside = Scratch("outside");
  WriteFile(outside + "/secret", "host secret\n");
  fs::create_symlink(outside + "/secret", bundle_.rootfs + "/masked-link");
  bundle_.config["linux"]["maskedPaths"].push_back("/masked-link");
  bundle_.config["process"]["args"] = {"/md-check", "lstat", "/masked-link", "+", "read", "/masked-link"};
  Result r = RunBundle(bundle_);
  if (r.exit_code == 0) {
    Facts f = ParseFacts(r.out);
    EXPECT_NE(f["read:/masked-link"], "ok") << "the host file became readable at a masked path";
  }
  EXPECT_EQ(ReadFile(outside + "/secret"), "host secret\n");
  EXPECT_EQ(fs::read_symlink(bundle_.rootfs + "/masked-link"), outside + "/secret");
}

TEST_F(Security, MaskedPathSymlinkInsideRootfs) {
  // rootfs/masked-link -> /etc/passwd: masking either refuses or hides the
  // link's target inside the container; it never mounts on the host.
  fs::create_symlink("/etc/passwd", bundle_.rootfs + "/masked-link");
  bundle_.config["linux"]["maskedPaths"].push_back("/masked-link");
  bundle_.config["process"]["args"] = {"/md-check", "read", "/masked-link"};
  Result r = RunBundle(bundle_);
  if (r.exit_code == 0) {
    EXPECT_EQ(ParseFacts(r.out)["read:/masked-link.bytes"], "0") << r.out;
  }
  EXPECT_NE(ReadFile("/etc/passwd").find("root:"), std::string::npos);
  EXPECT_NE(ReadFile(bundle_.rootfs + "/etc/passwd").find("root:"), std::string::npos);
}

TEST_F(Security, DevNullSymlinkDoesNotRedirectMasking) {
  // CVE-2025-31133: without a /dev tmpfs the rootfs's own /dev is used. If
  // rootfs/dev/null is a symlink, masking /proc/keys with "/dev/null" must
  // not bind-mount the symlink's target over the masked path.
  KNOWN_FAILURE("runc", "runc 1.1.5 is vulnerable to CVE-2025-31133 (masks with whatever /dev/null points to)");
  json mounts = json::array();
  for (const auto& m : bundle_.config["mounts"]) {
    if (m["destination"].get<std::string>().rfind("/dev", 0) != 0) mounts.push_back(m);
  }
  bundle_.config["mounts"] = mounts;
  bundle_.config["root"]["readonly"] = false;
  WriteFile(bundle_.rootfs + "/md-target", "LEAKED\n");
  fs::create_symlink("/md-target", bundle_.rootfs + "/dev/null");
  bundle_.config["process"]["args"] = {"/md-check", "read", "/proc/keys", "+", "stat", "/proc/keys"};
  Result r = RunBundle(bundle_);
  if (r.exit_code != 0) {
    std::cout << "[ INFO     ] refused: " << r.err;  // refusing is fine
    return;
  }
  Facts f = ParseFacts(r.out);
  EXPECT_EQ(f["read:/proc/keys.bytes"], "0") << "masked /proc/keys shows the symlink target: " << f.raw;
  EXPECT_EQ(f["stat:/proc/keys.type"], "chr") << f.raw;
}

TEST_F(Security, MountDestinationSymlinkStaysInsideRootfs) {
  // rootfs/evil -> <tmp>/outside (absolute, host-only). A mount on /evil/sub
  // must land inside the rootfs (or be refused), never create or mount
  // anything under the host's <tmp>/outside.
  std::string outside = Scratch("outside");
  std::string src = Scratch("mount-src");
  WriteFile(src + "/marker", "mounted\n");
  fs::create_symlink(outside, bundle_.rootfs + "/evil");
  fs::create_symlink("../../../../../../../../" + outside.substr(1) + "2", bundle_.rootfs + "/evil2");
  Scratch("outside2");
  AddMount(bundle_.config, "/evil/sub", "bind", src, {"rbind", "ro"});
  AddMount(bundle_.config, "/evil2", "tmpfs", "tmpfs", {"size=1m"});
  bundle_.config["process"]["args"] = {"/md-check", "cat", "/evil/sub/marker", "+", "write", "/evil2/inside"};
  Result r = RunBundle(bundle_);
  EXPECT_TRUE(fs::is_empty(outside)) << "the runtime created something in the host dir " << outside;
  EXPECT_TRUE(fs::is_empty(outside + "2")) << "the runtime created something in the host dir " << outside << "2";
  if (r.exit_code == 0) {
    Facts f = ParseFacts(r.out);
    EXPECT_EQ(f["cat:/evil/sub/marker"], "mounted") << f.raw;
    EXPECT_EQ(f["write:/evil2/inside"], "ok") << f.raw;
  }
}

TEST_F(Security, MountDestinationInProcIsRefusedOrContained) {
  // A bind over a /proc path that is not a plain file/dir of procfs
  // (e.g. /proc/self/...) must not be able to target the runtime's process.
  std::string src = Scratch("proc-src");
  AddMount(bundle_.config, "/proc/self/cwd", "bind", src, {"rbind"});
  bundle_.config["process"]["args"] = {"/md-check", "cwd"};
  Result r = RunBundle(bundle_);
  // runc refuses ("mounting over /proc is forbidden"); either way the host is fine.
  if (r.exit_code == 0) {
    EXPECT_EQ(ParseFacts(r.out)["cwd"], "/") << r;
  }
}

TEST_F(Security, StateDirIsNotWorldWritable) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"/md-check", "hold"};
  Create(bundle_, id);
  struct stat st {};
  ASSERT_EQ(stat((state_ + "/" + id).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0022, 0u) << "state dir mode " << std::oct << (st.st_mode & 07777);
}

}  // namespace
}  // namespace mdtest
