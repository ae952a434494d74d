// root, mounts, maskedPaths, readonlyPaths, rootfsPropagation, devices.
#include <sys/mount.h>
#include <sys/stat.h>
#include <filesystem>
#include <sys/sysmacros.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

namespace mdtest {
namespace {

bool HasOption(const std::string& csv, const std::string& opt) {
  std::string s = "," + csv + ",";
  return s.find("," + opt + ",") != std::string::npos;
}

class Mounts : public RuntimeTest {};

TEST_F(Mounts, RootReadonly) {
  bundle_.config["root"]["readonly"] = true;
  Facts f = Check({"write", "/", "+", "write", "/etc/passwd", "+", "mount", "/"});
  EXPECT_EQ(f["write:/"], "EROFS");
  EXPECT_EQ(f["write:/etc/passwd"], "EROFS");
  EXPECT_TRUE(HasOption(f["mount:/.opts"], "ro")) << f["mount:/.opts"];
}

TEST_F(Mounts, RootWritable) {
  bundle_.config["root"]["readonly"] = false;
  Facts f = Check({"write", "/tmp", "+", "write", "/written", "data\n", "+", "mount", "/"});
  EXPECT_EQ(f["write:/tmp"], "ok");
  EXPECT_EQ(f["write:/written"], "ok");
  EXPECT_TRUE(HasOption(f["mount:/.opts"], "rw")) << f["mount:/.opts"];
  // The rootfs is the bundle's directory: the write is visible there.
  EXPECT_EQ(ReadFile(bundle_.rootfs + "/written"), "data\n");
}

TEST_F(Mounts, RootPathAbsolute) {
  bundle_.config["root"]["path"] = bundle_.rootfs;
  Facts f = Check({"stat", "/md-check"});
  EXPECT_EQ(f["stat:/md-check.type"], "reg");
}

TEST_F(Mounts, IsolatedFromHostRoot) {
  // The container's / is the bundle rootfs: a host-only file is invisible.
  Facts f = Check({"stat", "/work", "+", "stat", "/bin/busybox", "+", "ls", "/"});
  EXPECT_EQ(f["stat:/work.error"], "ENOENT");
  EXPECT_EQ(f["stat:/bin/busybox.type"], "reg");
}

TEST_F(Mounts, BindReadonly) {
  std::string src = Scratch("bind-src");
  WriteFile(src + "/file", "from the host\n");
  AddMount(bundle_.config, "/data", "bind", src, {"rbind", "ro"});
  Facts f = Check({"cat", "/data/file", "+", "write", "/data", "+", "write", "/data/file", "+", "mount", "/data"});
  EXPECT_EQ(f["cat:/data/file"], "from the host");
  EXPECT_EQ(f["write:/data"], "EROFS");
  EXPECT_EQ(f["write:/data/file"], "EROFS");
  EXPECT_TRUE(HasOption(f["mount:/data.opts"], "ro")) << f["mount:/data.opts"];
  EXPECT_EQ(ReadFile(src + "/file"), "from the host\n");
}

TEST_F(Mounts, BindReadWrite) {
  std::string src = Scratch("bind-rw");
  AddMount(bundle_.config, "/data", "bind", src, {"rbind", "rw"});
  Facts f = Check({"write", "/data/new", "written inside\n"});
  EXPECT_EQ(f["write:/data/new"], "ok");
  EXPECT_EQ(ReadFile(src + "/new"), "written inside\n");
}

TEST_F(Mounts, BindFile) {
  std::string src = Scratch("bind-file");
  WriteFile(src + "/hosts", "127.0.0.1 md\n");
  AddMount(bundle_.config, "/etc/hosts", "bind", src + "/hosts", {"bind", "ro"});
  Facts f = Check({"cat", "/etc/hosts", "+", "stat", "/etc/hosts"});
  EXPECT_EQ(f["cat:/etc/hosts"], "127.0.0.1 md");
  EXPECT_EQ(f["stat:/etc/hosts.type"], "reg");
}

TEST_F(Mounts, BindCreatesMissingDestination) {
  std::string src = Scratch("bind-mkdir");
  AddMount(bundle_.config, "/new/deep/dir", "bind", src, {"rbind"});
  Facts f = Check({"stat", "/new/deep/dir", "+", "mount", "/new/deep/dir"});
  EXPECT_EQ(f["stat:/new/deep/dir.type"], "dir");
  EXPECT_EQ(f["mount:/new/deep/dir.found"], "1");
}

TEST_F(Mounts, TmpfsSizeModeAndFlags) {
  AddMount(bundle_.config, "/scratch", "tmpfs", "tmpfs", {"size=1m", "mode=1770", "nosuid", "nodev", "noexec"});
  Facts f = Check({"mount", "/scratch", "+", "stat", "/scratch", "+", "write", "/scratch/x"});
  EXPECT_EQ(f["mount:/scratch.fstype"], "tmpfs");
  EXPECT_TRUE(HasOption(f["mount:/scratch.super"], "size=1024k")) << f["mount:/scratch.super"];
  EXPECT_TRUE(HasOption(f["mount:/scratch.super"], "mode=1770")) << f["mount:/scratch.super"];
  for (const char* o : {"nosuid", "nodev", "noexec", "rw"}) {
    EXPECT_TRUE(HasOption(f["mount:/scratch.opts"], o)) << o << " missing from " << f["mount:/scratch.opts"];
  }
  EXPECT_EQ(f["stat:/scratch.mode"], "1770");
  EXPECT_EQ(f["write:/scratch/x"], "ok");
}

TEST_F(Mounts, TmpfsSizeIsEnforced) {
  AddMount(bundle_.config, "/small", "tmpfs", "tmpfs", {"size=64k"});
  bundle_.config["process"]["args"] = {"/bin/sh", "-c",
                                       "dd if=/dev/zero of=/small/f bs=1k count=256 2>/dev/null; echo rc=$?"};
  Result r = RunBundle(bundle_);
  EXPECT_NE(r.out.find("rc=1"), std::string::npos) << r;
}

TEST_F(Mounts, NoexecIsEnforced) {
  std::string src = Scratch("noexec");
  WriteFile(src + "/busybox", ReadFile(bundle_.rootfs + "/bin/busybox"), 0755);
  AddMount(bundle_.config, "/x", "bind", src, {"rbind", "ro", "noexec"});
  bundle_.config["process"]["args"] = {"/bin/sh", "-c", "/x/busybox true; echo rc=$?"};
  Result r = RunBundle(bundle_);
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out, "rc=126\n") << r;
}

TEST_F(Mounts, RoRemountOfBindKeepsFlags) {
  std::string src = Scratch("flags");
  AddMount(bundle_.config, "/flags", "bind", src, {"rbind", "ro", "nosuid", "nodev", "noexec"});
  Facts f = Check({"mount", "/flags"});
  for (const char* o : {"ro", "nosuid", "nodev", "noexec"}) {
    EXPECT_TRUE(HasOption(f["mount:/flags.opts"], o)) << o << " missing from " << f["mount:/flags.opts"];
  }
}

TEST_F(Mounts, MountOrderIsConfigOrder) {
  // A later mount on top of an earlier one wins.
  std::string a = Scratch("order-a"), b = Scratch("order-b");
  WriteFile(a + "/which", "a\n");
  WriteFile(b + "/which", "b\n");
  AddMount(bundle_.config, "/order", "bind", a, {"rbind"});
  AddMount(bundle_.config, "/order", "bind", b, {"rbind"});
  EXPECT_EQ(Check({"cat", "/order/which"})["cat:/order/which"], "b");
}

TEST_F(Mounts, ProcSysfsDevptsMqueueShm) {
  Facts f = Check({"mount", "/proc", "+", "mount", "/sys", "+", "mount", "/dev/pts", "+", "mount", "/dev/mqueue",
                   "+", "mount", "/dev/shm", "+", "mount", "/dev", "+", "stat", "/dev/shm"});
  EXPECT_EQ(f["mount:/proc.fstype"], "proc");
  EXPECT_EQ(f["mount:/sys.fstype"], "sysfs");
  EXPECT_TRUE(HasOption(f["mount:/sys.opts"], "ro")) << f["mount:/sys.opts"];
  EXPECT_EQ(f["mount:/dev/pts.fstype"], "devpts");
  EXPECT_TRUE(HasOption(f["mount:/dev/pts.super"], "ptmxmode=666")) << f["mount:/dev/pts.super"];
  EXPECT_TRUE(HasOption(f["mount:/dev/pts.super"], "mode=620")) << f["mount:/dev/pts.super"];
  EXPECT_TRUE(HasOption(f["mount:/dev/pts.super"], "gid=5")) << f["mount:/dev/pts.super"];
  EXPECT_EQ(f["mount:/dev/mqueue.fstype"], "mqueue");
  EXPECT_EQ(f["mount:/dev/shm.fstype"], "tmpfs");
  EXPECT_EQ(f["stat:/dev/shm.mode"], "1777");  // tmpfs does not list its default mode=1777
  EXPECT_EQ(f["mount:/dev.fstype"], "tmpfs");
}

TEST_F(Mounts, ProcShowsOnlyTheContainersProcesses) {
  Facts f = Check({"ls", "/proc"});
  std::vector<std::string> pids;
  for (const auto& e : SplitCsv(f["ls:/proc"])) {
    if (!e.empty() && isdigit(static_cast<unsigned char>(e[0]))) pids.push_back(e);
  }
  EXPECT_EQ(pids, std::vector<std::string>{"1"}) << f["ls:/proc"];
}

TEST_F(Mounts, CgroupMount) {
  Facts f = Check({"mount", "/sys/fs/cgroup", "+", "mounts"});
  EXPECT_EQ(f["mount:/sys/fs/cgroup.found"], "1");
  // Read-only as configured, whatever the layout (v1 tmpfs+binds, v2 cgroup2).
  bool any = false;
  for (const auto& line : f.all("mountinfo")) {
    if (line.find(" /sys/fs/cgroup") == std::string::npos) continue;
    if (line.find(" - cgroup") == std::string::npos) continue;
    any = true;
    auto opts = line.substr(0, line.find(" - "));
    EXPECT_NE((" " + opts + ",").find(" ro,"), std::string::npos) << line;
  }
  EXPECT_TRUE(any) << f.raw;
}

class Masked : public RuntimeTest {};

TEST_F(Masked, DefaultMaskedProcFiles) {
  std::vector<std::string> args;
  for (const char* p : {"/proc/keys", "/proc/timer_list", "/proc/kcore", "/proc/sched_debug"}) {
    args.insert(args.end(), {"read", p, "+", "stat", p, "+"});
  }
  args.insert(args.end(), {"ls", "/proc/acpi", "+", "ls", "/sys/firmware", "+", "write", "/sys/firmware"});
  Facts f = Check(args);
  for (const char* p : {"/proc/keys", "/proc/timer_list", "/proc/kcore", "/proc/sched_debug"}) {
    std::string host = std::string("/proc/") + (p + 6);
    if (access(p, F_OK) != 0) continue;  // not on this kernel: nothing to mask
    EXPECT_EQ(f[std::string("read:") + p + ".bytes"], "0") << p << " is readable: not masked";
    EXPECT_EQ(f[std::string("stat:") + p + ".type"], "chr") << p;
  }
  if (access("/proc/acpi", F_OK) == 0) {
    EXPECT_EQ(f["ls:/proc/acpi"], "");
  }
  if (access("/sys/firmware", F_OK) == 0) {
    EXPECT_EQ(f["ls:/sys/firmware"], "");
    EXPECT_NE(f["write:/sys/firmware"], "ok");
  }
}

TEST_F(Masked, CustomFileAndDirectory) {
  bundle_.config["root"]["readonly"] = false;
  WriteFile(bundle_.rootfs + "/secret-file", "secret\n");
  std::filesystem::create_directories(bundle_.rootfs + "/secret-dir");
  WriteFile(bundle_.rootfs + "/secret-dir/inner", "secret\n");
  bundle_.config["linux"]["maskedPaths"].push_back("/secret-file");
  bundle_.config["linux"]["maskedPaths"].push_back("/secret-dir");
  Facts f = Check({"read", "/secret-file", "+", "ls", "/secret-dir", "+", "read", "/secret-dir/inner", "+",
                   "write", "/secret-dir", "+", "write", "/secret-file"});
  EXPECT_EQ(f["read:/secret-file.bytes"], "0");
  EXPECT_EQ(f["ls:/secret-dir"], "");
  EXPECT_EQ(f["read:/secret-dir/inner"], "ENOENT");
  EXPECT_EQ(f["write:/secret-dir"], "EROFS");
  // Writing to the /dev/null bind succeeds and goes nowhere.
  EXPECT_EQ(ReadFile(bundle_.rootfs + "/secret-file"), "secret\n");
}

TEST_F(Masked, MissingPathIsIgnored) {
  bundle_.config["linux"]["maskedPaths"].push_back("/does/not/exist");
  Facts f = Check({"stat", "/does/not/exist"});
  EXPECT_EQ(f["stat:/does/not/exist.error"], "ENOENT");
}

class ReadonlyPaths : public RuntimeTest {};

TEST_F(ReadonlyPaths, DefaultProcPaths) {
  Facts f = Check({"write", "/proc/sys/kernel/hostname", "x", "+", "write", "/proc/sysrq-trigger", "h", "+", "read",
                   "/proc/sys/kernel/hostname", "+", "mount", "/proc/sys"});
  EXPECT_EQ(f["write:/proc/sys/kernel/hostname"], "EROFS");
  EXPECT_TRUE(HasOption(f["mount:/proc/sys.opts"], "ro")) << f["mount:/proc/sys.opts"];
  if (access("/proc/sysrq-trigger", F_OK) == 0) {
    EXPECT_EQ(f["write:/proc/sysrq-trigger"], "EROFS");
  }
  EXPECT_EQ(f["read:/proc/sys/kernel/hostname"], "ok");
}

TEST_F(ReadonlyPaths, CustomDirectory) {
  bundle_.config["root"]["readonly"] = false;
  std::filesystem::create_directories(bundle_.rootfs + "/ro-dir");
  WriteFile(bundle_.rootfs + "/ro-dir/file", "keep\n");
  bundle_.config["linux"]["readonlyPaths"].push_back("/ro-dir");
  Facts f = Check({"write", "/ro-dir", "+", "write", "/ro-dir/file", "+", "write", "/tmp", "+", "cat",
                   "/ro-dir/file", "+", "mount", "/ro-dir"});
  EXPECT_EQ(f["write:/ro-dir"], "EROFS");
  EXPECT_EQ(f["write:/ro-dir/file"], "EROFS");
  EXPECT_EQ(f["write:/tmp"], "ok");
  EXPECT_EQ(f["cat:/ro-dir/file"], "keep");
  EXPECT_TRUE(HasOption(f["mount:/ro-dir.opts"], "ro")) << f["mount:/ro-dir.opts"];
}

TEST_F(ReadonlyPaths, MissingPathIsIgnored) {
  bundle_.config["linux"]["readonlyPaths"].push_back("/does/not/exist");
  Facts f = Check({"stat", "/does/not/exist"});
  EXPECT_EQ(f["stat:/does/not/exist.error"], "ENOENT");
}

// rootfsPropagation, checked by behaviour, the way it is used (Kubernetes'
// mount propagation): a volume bind-mounted from a host mount that is
// shared. After the container starts, the host mounts a tmpfs inside the
// volume (does it appear in the container?) and the container mounts one
// (does it appear on the host?). Unbindable: a bind of / fails inside.
struct PropagationCase {
  const char* mode;
  int receives;   // host mounts under the volume appear in the container (-1: not checked)
  int sends;      // container mounts under the volume appear on the host (-1: not checked)
  bool bindable;  // `mount --bind / /x` works inside
};

void PrintTo(const PropagationCase& c, std::ostream* os) { *os << c.mode; }

class Propagation : public RuntimeTest, public ::testing::WithParamInterface<PropagationCase> {};

TEST_P(Propagation, Behaviour) {
  const PropagationCase c = GetParam();
  if (std::string(c.mode).find("unbindable") != std::string::npos) {
    KNOWN_FAILURE("runc", "runc 1.1.5 fails with EINVAL (bind of an unbindable /) for rootfsPropagation=" << c.mode);
  }
  std::string vol = Scratch("vol");
  ASSERT_EQ(mount("md-vol", vol.c_str(), "tmpfs", 0, "size=1m"), 0) << strerror(errno);
  ASSERT_EQ(mount(nullptr, vol.c_str(), nullptr, MS_SHARED, nullptr), 0) << strerror(errno);
  std::filesystem::create_directories(vol + "/from-host");
  std::filesystem::create_directories(vol + "/from-container");
  AddMount(bundle_.config, "/vol", "bind", vol, {"rbind"});

  std::string id = NewId();
  bundle_.config["linux"]["rootfsPropagation"] = c.mode;
  bundle_.config["root"]["readonly"] = false;
  // CAP_SYS_ADMIN in the bounding set only, so that `exec --cap` may use it.
  bundle_.config["process"]["capabilities"]["bounding"].push_back("CAP_SYS_ADMIN");
  bundle_.config["process"]["noNewPrivileges"] = false;
  bundle_.config["process"]["args"] = {"/md-check", "hold"};
  std::filesystem::create_directories(bundle_.rootfs + "/bind-root");
  Create(bundle_, id);
  ASSERT_TRUE(Rt({"start", id}).ok());

  std::string host_mnt = vol + "/from-host";
  ASSERT_EQ(mount("md-host-side", host_mnt.c_str(), "tmpfs", 0, "size=1m"), 0) << strerror(errno);
  WriteFile(host_mnt + "/marker", "from the host\n");
  Result in = Rt({"exec", id, "/md-check", "cat", "/vol/from-host/marker"});
  ASSERT_TRUE(in.ok()) << in;
  Facts f = ParseFacts(in.out);
  if (c.receives == 1) {
    EXPECT_EQ(f["cat:/vol/from-host/marker"], "from the host") << c.mode << ": host mount did not propagate in";
  } else if (c.receives == 0) {
    EXPECT_EQ(f["cat:/vol/from-host/marker.error"], "ENOENT") << c.mode << ": host mount propagated in";
  }

  Result m = Rt({"exec", "--cap", "CAP_SYS_ADMIN", id, "/bin/mount", "-t", "tmpfs", "md-ctr-side", "/vol/from-container"});
  ASSERT_TRUE(m.ok()) << m;
  bool on_host = ReadFile("/proc/self/mountinfo").find(" " + vol + "/from-container ") != std::string::npos;
  if (c.sends != -1) {
    EXPECT_EQ(on_host, c.sends == 1) << c.mode << ": container mount " << (on_host ? "reached" : "did not reach") << " the host";
  }

  Result b = Rt({"exec", "--cap", "CAP_SYS_ADMIN", id, "/bin/mount", "--bind", "/", "/bind-root"});
  EXPECT_EQ(b.exit_code == 0, c.bindable) << c.mode << "\n" << b;
}

INSTANTIATE_TEST_SUITE_P(Mounts, Propagation,
                         // Non-recursive modes apply to / only; whether that reaches the
                         // volume mount is not pinned down, so only / itself is checked.
                         ::testing::Values(PropagationCase{"private", -1, -1, true},
                                           PropagationCase{"rprivate", 0, 0, true},
                                           PropagationCase{"rslave", 1, 0, true},
                                           PropagationCase{"rshared", 1, 1, true},
                                           PropagationCase{"unbindable", -1, -1, false},
                                           PropagationCase{"runbindable", 0, 0, false}),
                         [](const auto& info) { return std::string(info.param.mode); });

class Devices : public RuntimeTest {};

TEST_F(Devices, DefaultDevices) {
  struct Dev {
    const char* path;
    const char* rdev;
  };
  const Dev devs[] = {{"/dev/null", "1:3"}, {"/dev/zero", "1:5"},    {"/dev/full", "1:7"},
                      {"/dev/random", "1:8"}, {"/dev/urandom", "1:9"}, {"/dev/tty", "5:0"}};
  std::vector<std::string> args;
  for (const auto& d : devs) args.insert(args.end(), {"stat", d.path, "+", "open", d.path, "rw", "+"});
  args.insert(args.end(), {"lstat", "/dev/ptmx", "+", "stat", "/dev/ptmx", "+", "lstat", "/dev/fd", "+", "lstat",
                           "/dev/stdin", "+", "lstat", "/dev/stdout", "+", "lstat", "/dev/stderr", "+", "ls",
                           "/dev"});
  Facts f = Check(args);
  for (const auto& d : devs) {
    std::string k = std::string("stat:") + d.path;
    EXPECT_EQ(f[k + ".type"], "chr") << d.path;
    EXPECT_EQ(f[k + ".rdev"], d.rdev) << d.path;
    EXPECT_EQ(f[k + ".mode"], "0666") << d.path;
    EXPECT_EQ(f[k + ".owner"], "0:0") << d.path;
    if (std::string(d.path) != "/dev/tty") {  // no controlling terminal: ENXIO is right
      EXPECT_EQ(f[std::string("open:") + d.path], "ok") << d.path;
    }
  }
  // /dev/ptmx: a symlink to pts/ptmx or a bind of it (5:2).
  if (f["lstat:/dev/ptmx.type"] == "lnk") {
    EXPECT_EQ(f["lstat:/dev/ptmx.link"], "pts/ptmx");
  } else {
    EXPECT_EQ(f["stat:/dev/ptmx.rdev"], "5:2");
  }
  EXPECT_EQ(f["stat:/dev/ptmx.type"], "chr");
  EXPECT_EQ(f["lstat:/dev/fd.link"], "/proc/self/fd");
  EXPECT_EQ(f["lstat:/dev/stdin.link"], "/proc/self/fd/0");
  EXPECT_EQ(f["lstat:/dev/stdout.link"], "/proc/self/fd/1");
  EXPECT_EQ(f["lstat:/dev/stderr.link"], "/proc/self/fd/2");
}

TEST_F(Devices, NoHostDevicesLeakIn) {
  Facts f = Check({"stat", "/dev/vda", "+", "stat", "/dev/mem", "+", "stat", "/dev/kmsg"});
  EXPECT_EQ(f["stat:/dev/vda.error"], "ENOENT");
  EXPECT_EQ(f["stat:/dev/mem.error"], "ENOENT");
  EXPECT_EQ(f["stat:/dev/kmsg.error"], "ENOENT");
}

TEST_F(Devices, ConfiguredDeviceNodes) {
  bundle_.config["linux"]["devices"] = {
      {{"path", "/dev/md-null"}, {"type", "c"}, {"major", 1}, {"minor", 3}, {"fileMode", 0620}, {"uid", 1000},
       {"gid", 5}},
      {{"path", "/dev/md-loop0"}, {"type", "b"}, {"major", 7}, {"minor", 0}, {"fileMode", 0600}},
      {{"path", "/dev/sub/md-zero"}, {"type", "c"}, {"major", 1}, {"minor", 5}},
  };
  Facts f = Check({"stat", "/dev/md-null", "+", "stat", "/dev/md-loop0", "+", "stat", "/dev/sub/md-zero"});
  EXPECT_EQ(f["stat:/dev/md-null.type"], "chr");
  EXPECT_EQ(f["stat:/dev/md-null.rdev"], "1:3");
  EXPECT_EQ(f["stat:/dev/md-null.mode"], "0620");
  EXPECT_EQ(f["stat:/dev/md-null.owner"], "1000:5");
  EXPECT_EQ(f["stat:/dev/md-loop0.type"], "blk");
  EXPECT_EQ(f["stat:/dev/md-loop0.rdev"], "7:0");
  EXPECT_EQ(f["stat:/dev/md-loop0.mode"], "0600");
  EXPECT_EQ(f["stat:/dev/sub/md-zero.type"], "chr");
  EXPECT_EQ(f["stat:/dev/sub/md-zero.rdev"], "1:5");
}

TEST_F(Devices, CgroupDeniesUnlistedDevice) {
  if (HostIsCgroupV2Only()) GTEST_SKIP() << "v1 devices controller only";
  bundle_.config["linux"]["devices"] = {
      {{"path", "/dev/md-loopctl"}, {"type", "c"}, {"major", 10}, {"minor", 237}, {"fileMode", 0666}}};
  Facts denied = Check({"open", "/dev/md-loopctl", "rw"});
  EXPECT_EQ(denied["open:/dev/md-loopctl"], "EPERM");
  bundle_.config["linux"]["resources"]["devices"].push_back(
      {{"allow", true}, {"type", "c"}, {"major", 10}, {"minor", 237}, {"access", "rw"}});
  Facts allowed = Check({"open", "/dev/md-loopctl", "rw"});
  EXPECT_EQ(allowed["open:/dev/md-loopctl"], "ok");
}

}  // namespace
}  // namespace mdtest
