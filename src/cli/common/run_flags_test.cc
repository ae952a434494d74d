// Expected bodies and messages are what docker 28.2's CLI sends/prints for the same
// arguments (captured against a stub daemon).
#include "cli/common/run_flags.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace md::cli {
namespace {

using nlohmann::json;

std::vector<std::string> v(std::initializer_list<const char*> l) { return {l.begin(), l.end()}; }

RunArgs run_ok(std::initializer_list<const char*> args, RunVerb verb = RunVerb::kRun) {
  auto a = v(args);
  auto r = parse_run_args(a, verb);
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  return r ? *r : RunArgs{};
}

std::string run_err(std::initializer_list<const char*> args, RunVerb verb = RunVerb::kRun) {
  auto a = v(args);
  auto r = parse_run_args(a, verb);
  return r ? "<ok>" : r.error().message;
}

class RunFlags : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/run_flags_test.XXXXXX";
    dir_ = mkdtemp(tmpl);
    setenv("MD_TEST_SET", "from-env", 1);
    unsetenv("MD_TEST_UNSET");
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  std::string write(const std::string& name, const std::string& text) {
    std::string p = dir_ + "/" + name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  std::string dir_;
};

TEST_F(RunFlags, DefaultsAndShape) {
  RunArgs ra = run_ok({"busybox"});
  const json& b = ra.body;
  EXPECT_EQ(b["Image"], "busybox");
  EXPECT_TRUE(b["Cmd"].is_null());
  EXPECT_TRUE(b["Entrypoint"].is_null());
  EXPECT_TRUE(b["Env"].is_null());
  EXPECT_EQ(b["AttachStdin"], false);
  EXPECT_EQ(b["AttachStdout"], true);
  EXPECT_EQ(b["AttachStderr"], true);
  EXPECT_EQ(b["OpenStdin"], false);
  EXPECT_EQ(b["StdinOnce"], false);
  EXPECT_EQ(b["Tty"], false);
  EXPECT_EQ(b["Volumes"], json::object());
  EXPECT_EQ(b["Labels"], json::object());
  EXPECT_FALSE(b.contains("ExposedPorts"));
  EXPECT_FALSE(b.contains("Healthcheck"));
  EXPECT_FALSE(b.contains("StopSignal"));
  EXPECT_FALSE(b.contains("StopTimeout"));
  const json& hc = b["HostConfig"];
  EXPECT_TRUE(hc["Binds"].is_null());
  EXPECT_EQ(hc["NetworkMode"], "default");
  EXPECT_EQ(hc["PortBindings"], json::object());
  EXPECT_EQ(hc["RestartPolicy"], json::parse(R"({"Name":"no","MaximumRetryCount":0})"));
  EXPECT_EQ(hc["Dns"], json::array());
  EXPECT_EQ(hc["Devices"], json::array());
  EXPECT_EQ(hc["Ulimits"], json::array());
  EXPECT_TRUE(hc["CapAdd"].is_null());
  EXPECT_EQ(hc["Memory"], 0);
  EXPECT_FALSE(hc.contains("LogConfig"));
  EXPECT_FALSE(hc.contains("PidsLimit"));
  EXPECT_FALSE(hc.contains("Init"));
  EXPECT_FALSE(hc.contains("Mounts"));
  EXPECT_FALSE(hc.contains("Tmpfs"));
  EXPECT_EQ(b["NetworkingConfig"], json::parse(R"({"EndpointsConfig":{}})"));
  EXPECT_TRUE(ra.sig_proxy);
  EXPECT_EQ(ra.pull, "missing");

  RunArgs cmd = run_ok({"busybox", "ls", "-l", "--rm"});  // flags end at the image
  EXPECT_EQ(cmd.body["Cmd"], json::parse(R"(["ls","-l","--rm"])"));
  EXPECT_FALSE(cmd.rm);
}

TEST_F(RunFlags, CommonFlags) {
  RunArgs ra = run_ok({"-d", "-it", "--rm", "--name", "web", "-e", "A=1", "-e", "MD_TEST_SET", "-e", "MD_TEST_UNSET", "-w",
                       "/tmp", "-u", "1000:1000", "-h", "host", "--domainname", "dom", "--entrypoint", "/bin/sh", "-l", "a=b",
                       "-l", "c", "busybox", "sleep", "100"});
  EXPECT_EQ(ra.name, "web");
  EXPECT_TRUE(ra.detach && ra.interactive && ra.tty && ra.rm);
  const json& b = ra.body;
  EXPECT_EQ(b["Hostname"], "host");
  EXPECT_EQ(b["Domainname"], "dom");
  EXPECT_EQ(b["User"], "1000:1000");
  EXPECT_EQ(b["WorkingDir"], "/tmp");
  // -d clears the attach flags; -i still opens stdin.
  EXPECT_EQ(b["AttachStdin"], false);
  EXPECT_EQ(b["AttachStdout"], false);
  EXPECT_EQ(b["AttachStderr"], false);
  EXPECT_EQ(b["OpenStdin"], true);
  EXPECT_EQ(b["StdinOnce"], false);
  EXPECT_EQ(b["Tty"], true);
  // An unset variable is sent bare, as docker does (the daemon then unsets it).
  EXPECT_EQ(b["Env"], json::parse(R"(["A=1","MD_TEST_SET=from-env","MD_TEST_UNSET"])"));
  EXPECT_EQ(b["Cmd"], json::parse(R"(["sleep","100"])"));
  EXPECT_EQ(b["Entrypoint"], json::parse(R"(["/bin/sh"])"));
  EXPECT_EQ(b["Labels"], json::parse(R"({"a":"b","c":""})"));
  EXPECT_EQ(b["HostConfig"]["AutoRemove"], true);

  RunArgs i = run_ok({"-i", "busybox"});
  EXPECT_EQ(i.body["AttachStdin"], true);
  EXPECT_EQ(i.body["StdinOnce"], true);
  RunArgs a = run_ok({"--network", "none", "-a", "stdin", "-a", "STDOUT", "busybox"});
  EXPECT_EQ(a.attach, v({"stdin", "stdout"}));
  EXPECT_EQ(a.body["AttachStdin"], true);
  EXPECT_EQ(a.body["AttachStdout"], true);
  EXPECT_EQ(a.body["AttachStderr"], false);
  EXPECT_EQ(a.body["OpenStdin"], false);
  EXPECT_EQ(a.body["HostConfig"]["NetworkMode"], "none");

  EXPECT_EQ(run_ok({"--entrypoint", "", "busybox"}).body["Entrypoint"], json::parse(R"([""])"));
  EXPECT_EQ(run_ok({"-e", "A=1", "-e", "B=1", "-e", "A=2", "busybox"}).body["Env"], json::parse(R"(["A=2","B=1"])"));
  EXPECT_EQ(run_ok({"-l", "x=1", "-l", "x=2", "busybox"}).body["Labels"], json::parse(R"({"x":"2"})"));
}

TEST_F(RunFlags, Resources) {
  const json hc = run_ok({"-m", "64m", "--memory-swap", "-1", "--memory-reservation", "32m", "--cpus", "1.5", "-c", "512",
                          "--cpu-quota", "50000", "--cpu-period", "100000", "--cpuset-cpus", "0-1", "--pids-limit", "100",
                          "--restart", "on-failure:3", "--shm-size", "64m", "--oom-kill-disable", "--init",
                          "--memory-swappiness", "50", "busybox"})
                      .body["HostConfig"];
  EXPECT_EQ(hc["Memory"], 67108864);
  EXPECT_EQ(hc["MemorySwap"], -1);
  EXPECT_EQ(hc["MemoryReservation"], 33554432);
  EXPECT_EQ(hc["NanoCpus"], 1500000000);
  EXPECT_EQ(hc["CpuShares"], 512);
  EXPECT_EQ(hc["CpuQuota"], 50000);
  EXPECT_EQ(hc["CpuPeriod"], 100000);
  EXPECT_EQ(hc["CpusetCpus"], "0-1");
  EXPECT_EQ(hc["PidsLimit"], 100);
  EXPECT_EQ(hc["RestartPolicy"], json::parse(R"({"Name":"on-failure","MaximumRetryCount":3})"));
  EXPECT_EQ(hc["ShmSize"], 67108864);
  EXPECT_EQ(hc["OomKillDisable"], true);
  EXPECT_EQ(hc["Init"], true);
  EXPECT_EQ(hc["MemorySwappiness"], 50);
  EXPECT_EQ(run_ok({"--memory", "1.5g", "--cpus", "1/2", "busybox"}).body["HostConfig"]["Memory"], 1610612736);
  EXPECT_EQ(run_ok({"--restart", "always", "-d", "busybox"}).body["HostConfig"]["RestartPolicy"]["Name"], "always");
  EXPECT_EQ(run_ok({"--rm", "--restart", "no", "busybox"}).body["HostConfig"]["AutoRemove"], true);
}

TEST_F(RunFlags, HealthAndSecurity) {
  json b = run_ok({"--health-cmd", "curl x", "--health-interval", "1m30s", "--health-timeout", "5s", "--health-retries", "3",
                   "--health-start-period", "2s", "busybox"})
               .body;
  EXPECT_EQ(b["Healthcheck"], json::parse(R"({"Test":["CMD-SHELL","curl x"],"Interval":90000000000,
      "Timeout":5000000000,"StartPeriod":2000000000,"Retries":3})"));
  EXPECT_EQ(run_ok({"--no-healthcheck", "busybox"}).body["Healthcheck"], json::parse(R"({"Test":["NONE"]})"));
  EXPECT_EQ(run_ok({"--health-timeout", "1s", "busybox"}).body["Healthcheck"], json::parse(R"({"Timeout":1000000000})"));

  json hc = run_ok({"--read-only", "--cap-add", "net_admin", "--cap-add", "CAP_SYS_TIME", "--cap-add", "ALL", "--cap-drop",
                    "chown", "--privileged", "--security-opt", "seccomp=unconfined", "--security-opt",
                    "systempaths=unconfined", "--ulimit", "nofile=1024:2048", "--ulimit", "nproc=10", "--ulimit",
                    "core=-1", "--stop-signal", "SIGKILL", "--stop-timeout", "5", "busybox"})
                .body["HostConfig"];
  EXPECT_EQ(hc["ReadonlyRootfs"], true);
  EXPECT_EQ(hc["Privileged"], true);
  EXPECT_EQ(hc["CapAdd"], json::parse(R"(["ALL","CAP_NET_ADMIN","CAP_SYS_TIME"])"));
  EXPECT_EQ(hc["CapDrop"], json::parse(R"(["CAP_CHOWN"])"));
  EXPECT_EQ(hc["SecurityOpt"], json::parse(R"(["seccomp=unconfined"])"));
  EXPECT_EQ(hc["MaskedPaths"], json::array());
  EXPECT_EQ(hc["ReadonlyPaths"], json::array());
  EXPECT_EQ(hc["Ulimits"], json::parse(R"([{"Name":"nofile","Soft":1024,"Hard":2048},{"Name":"nproc","Soft":10,"Hard":10},
      {"Name":"core","Soft":-1,"Hard":-1}])"));
  json b2 = run_ok({"--stop-signal", "SIGKILL", "--stop-timeout", "5", "busybox"}).body;
  EXPECT_EQ(b2["StopSignal"], "SIGKILL");
  EXPECT_EQ(b2["StopTimeout"], 5);

  std::string profile = write("seccomp.json", "{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\",\n  \"a\": [1, 2]\n}\n");
  json s = run_ok({"--security-opt", ("seccomp=" + profile).c_str(), "busybox"}).body["HostConfig"]["SecurityOpt"];
  EXPECT_EQ(s, json::parse(R"(["seccomp={\"defaultAction\":\"SCMP_ACT_ALLOW\",\"a\":[1,2]}"])"));
}

TEST_F(RunFlags, PortsVolumesMounts) {
  json b = run_ok({"-p", "8080:80", "-p", "127.0.0.1:9000:9000/udp", "-p", "53", "-p", "7000-7001:8000-8001", "-p",
                   "127.0.0.1::81", "-p", "[::1]:80:80", "-p", "9000-9001:9000", "-p", "target=5000,published=5001", "-P",
                   "--expose", "3000", "--expose", "4000-4001/udp", "busybox"})
               .body;
  EXPECT_EQ(b["ExposedPorts"], json::parse(R"({"3000/tcp":{},"4000/udp":{},"4001/udp":{},"53/tcp":{},"80/tcp":{},
      "8000/tcp":{},"8001/tcp":{},"81/tcp":{},"9000/tcp":{},"9000/udp":{},"5000/tcp":{}})"));
  EXPECT_EQ(b["HostConfig"]["PortBindings"], json::parse(R"({
      "53/tcp":[{"HostIp":"","HostPort":""}],
      "80/tcp":[{"HostIp":"","HostPort":"8080"},{"HostIp":"::1","HostPort":"80"}],
      "8000/tcp":[{"HostIp":"","HostPort":"7000"}],"8001/tcp":[{"HostIp":"","HostPort":"7001"}],
      "81/tcp":[{"HostIp":"127.0.0.1","HostPort":""}],
      "9000/udp":[{"HostIp":"127.0.0.1","HostPort":"9000"}],
      "9000/tcp":[{"HostIp":"","HostPort":"9000-9001"}],
      "5000/tcp":[{"HostIp":"","HostPort":"5001"}]})"));
  EXPECT_EQ(b["HostConfig"]["PublishAllPorts"], true);

  char cwd[4096];
  ASSERT_TRUE(getcwd(cwd, sizeof cwd));
  json vb = run_ok({"-v", "/src:/dst", "-v", "/a:/b:ro", "-v", "named:/data", "-v", "/anon", "-v", "named2:/d2:rw,z", "-v",
                    "./data:/d", "-v", "/src:/dst", "busybox"})
                .body;
  EXPECT_EQ(vb["HostConfig"]["Binds"], json({"/src:/dst", "/a:/b:ro", "named:/data", "named2:/d2:rw,z", std::string(cwd) + "/data:/d"}));
  EXPECT_EQ(vb["Volumes"], json::parse(R"({"/anon":{}})"));

  json m = run_ok({"--mount", "type=bind,src=/x,dst=/y,readonly,bind-propagation=rslave", "--mount",
                   "type=volume,source=v1,target=/v,volume-opt=a=b,volume-nocopy", "--mount",
                   "type=tmpfs,target=/t,tmpfs-size=64m,tmpfs-mode=1770", "--mount", "target=/anon2", "--mount",
                   "\"type=bind\",src=/p,dst=/q,ro=false", "busybox"})
               .body["HostConfig"]["Mounts"];
  EXPECT_EQ(m, json::parse(R"([
      {"Type":"bind","Source":"/x","Target":"/y","ReadOnly":true,"BindOptions":{"Propagation":"rslave"}},
      {"Type":"volume","Source":"v1","Target":"/v","VolumeOptions":{"NoCopy":true,"DriverConfig":{"Options":{"a":"b"}}}},
      {"Type":"tmpfs","Target":"/t","TmpfsOptions":{"SizeBytes":67108864,"Mode":1016}},
      {"Type":"volume","Target":"/anon2"},
      {"Type":"bind","Source":"/p","Target":"/q"}])"));
  EXPECT_EQ(run_ok({"--tmpfs", "/run", "--tmpfs", "/tmp:rw,size=64m", "busybox"}).body["HostConfig"]["Tmpfs"],
            json::parse(R"({"/run":"","/tmp":"rw,size=64m"})"));
}

TEST_F(RunFlags, NetworkAndMisc) {
  RunArgs ra = run_ok({"--network", "mynet", "--network-alias", "foo", "--dns", "8.8.8.8", "--dns", "::1", "--dns-search",
                       "example.com", "--dns-option", "ndots:2", "--add-host", "a:1.2.3.4", "--add-host", "b=5.6.7.8",
                       "--add-host", "g=[::2]", "--add-host", "x:host-gateway", "--sysctl", "net.ipv4.ip_forward=1",
                       "--device", "/dev/fuse", "--device", "/dev/sda:/dev/xvda:r", "--group-add", "audio", "--log-driver",
                       "json-file", "--log-opt", "max-size=10m", "--log-opt", "max-file=3", "--cidfile", "/tmp/cid",
                       "--pull", "never", "--platform", "linux/amd64", "-q", "--pod", "p1", "--explain", "--config",
                       "web.yaml", "--sig-proxy=false", "--detach-keys", "ctrl-a", "busybox"});
  const json& hc = ra.body["HostConfig"];
  EXPECT_EQ(hc["NetworkMode"], "mynet");
  EXPECT_EQ(ra.body["NetworkingConfig"], json::parse(R"({"EndpointsConfig":{"mynet":{"Aliases":["foo"]}}})"));
  EXPECT_EQ(hc["Dns"], json::parse(R"(["8.8.8.8","::1"])"));
  EXPECT_EQ(hc["DnsSearch"], json::parse(R"(["example.com"])"));
  EXPECT_EQ(hc["DnsOptions"], json::parse(R"(["ndots:2"])"));
  EXPECT_EQ(hc["ExtraHosts"], json::parse(R"(["a:1.2.3.4","b:5.6.7.8","g:::2","x:host-gateway"])"));
  EXPECT_EQ(hc["Sysctls"], json::parse(R"({"net.ipv4.ip_forward":"1"})"));
  EXPECT_EQ(hc["Devices"], json::parse(R"([{"PathOnHost":"/dev/fuse","PathInContainer":"/dev/fuse","CgroupPermissions":"rwm"},
      {"PathOnHost":"/dev/sda","PathInContainer":"/dev/xvda","CgroupPermissions":"r"}])"));
  EXPECT_EQ(hc["GroupAdd"], json::parse(R"(["audio"])"));
  EXPECT_EQ(hc["LogConfig"], json::parse(R"({"Type":"json-file","Config":{"max-size":"10m","max-file":"3"}})"));
  EXPECT_EQ(hc["ContainerIDFile"], "/tmp/cid");
  EXPECT_EQ(ra.cidfile, "/tmp/cid");
  EXPECT_EQ(ra.pull, "never");
  EXPECT_EQ(ra.platform, "linux/amd64");
  EXPECT_TRUE(ra.quiet && ra.explain);
  EXPECT_EQ(ra.pod, "p1");
  EXPECT_EQ(ra.config_file, "web.yaml");
  EXPECT_FALSE(ra.sig_proxy);
  EXPECT_EQ(ra.detach_keys, "ctrl-a");
  EXPECT_EQ(run_ok({"--net", "host", "busybox"}).body["HostConfig"]["NetworkMode"], "host");
  EXPECT_EQ(run_ok({"--log-opt", "max-size=1m", "busybox"}).body["HostConfig"]["LogConfig"]["Type"], "json-file");

  json ns = run_ok({"--ipc", "host", "--pid", "host", "--uts", "host", "--userns", "host", "--cgroupns", "private",
                    "--oom-score-adj", "100", "--cgroup-parent", "/x", "--cpuset-mems", "0", "--runtime", "runc",
                    "--volumes-from", "c1:ro", "--annotation", "a=b", "busybox"})
                .body["HostConfig"];
  EXPECT_EQ(ns["IpcMode"], "host");
  EXPECT_EQ(ns["PidMode"], "host");
  EXPECT_EQ(ns["UTSMode"], "host");
  EXPECT_EQ(ns["UsernsMode"], "host");
  EXPECT_EQ(ns["CgroupnsMode"], "private");
  EXPECT_EQ(ns["OomScoreAdj"], 100);
  EXPECT_EQ(ns["VolumesFrom"], json::parse(R"(["c1:ro"])"));
  EXPECT_EQ(ns["Annotations"], json::parse(R"({"a":"b"})"));

  // create has no -d, --sig-proxy, --detach-keys.
  EXPECT_EQ(run_err({"-d", "busybox"}, RunVerb::kCreate), "unknown shorthand flag: 'd' in -d");
  EXPECT_EQ(run_ok({"busybox"}, RunVerb::kCreate).body["AttachStdout"], true);
}

TEST_F(RunFlags, FlagValueErrors) {
  struct {
    std::initializer_list<const char*> args;
    const char* want;
  } cases[] = {
      {{"--memory", "abc", "busybox"}, "invalid argument \"abc\" for \"-m, --memory\" flag: invalid size: 'abc'"},
      {{"-m", "1x", "busybox"}, "invalid argument \"1x\" for \"-m, --memory\" flag: invalid suffix: 'x'"},
      {{"--memory-swap", "abc", "busybox"}, "invalid argument \"abc\" for \"--memory-swap\" flag: invalid size: 'abc'"},
      {{"--shm-size", "-1", "busybox"}, "invalid argument \"-1\" for \"--shm-size\" flag: invalid size: '-1'"},
      {{"--cpus", "1.x", "busybox"}, "invalid argument \"1.x\" for \"--cpus\" flag: failed to parse 1.x as a rational number"},
      {{"--cpus", "0.0000000001", "busybox"}, "invalid argument \"0.0000000001\" for \"--cpus\" flag: value is too precise"},
      {{"--cpu-shares", "x", "busybox"},
       "invalid argument \"x\" for \"-c, --cpu-shares\" flag: strconv.ParseInt: parsing \"x\": invalid syntax"},
      {{"--pids-limit", "x", "busybox"}, "invalid argument \"x\" for \"--pids-limit\" flag: strconv.ParseInt: parsing \"x\": invalid syntax"},
      {{"--stop-timeout", "99999999999999999999", "busybox"},
       "invalid argument \"99999999999999999999\" for \"--stop-timeout\" flag: strconv.ParseInt: parsing "
       "\"99999999999999999999\": value out of range"},
      {{"--health-interval", "x", "busybox"}, "invalid argument \"x\" for \"--health-interval\" flag: time: invalid duration \"x\""},
      {{"--health-interval", "10", "busybox"},
       "invalid argument \"10\" for \"--health-interval\" flag: time: missing unit in duration \"10\""},
      {{"--ulimit", "nofile", "busybox"}, "invalid argument \"nofile\" for \"--ulimit\" flag: invalid ulimit argument: nofile"},
      {{"--ulimit", "nofile=x", "busybox"}, "invalid argument \"nofile=x\" for \"--ulimit\" flag: strconv.ParseInt: parsing \"x\": invalid syntax"},
      {{"--ulimit", "nofile=1:x", "busybox"}, "invalid argument \"nofile=1:x\" for \"--ulimit\" flag: strconv.ParseInt: parsing \"x\": invalid syntax"},
      {{"--ulimit", "foo=1", "busybox"}, "invalid argument \"foo=1\" for \"--ulimit\" flag: invalid ulimit type: foo"},
      {{"--ulimit", "nofile=10:5", "busybox"},
       "invalid argument \"nofile=10:5\" for \"--ulimit\" flag: ulimit soft limit must be less than or equal to hard limit: 10 > 5"},
      {{"--ulimit", "nofile=1:2:3", "busybox"},
       "invalid argument \"nofile=1:2:3\" for \"--ulimit\" flag: too many limit value arguments - 1:2:3, can only have up to two, `soft[:hard]`"},
      {{"-e", "=x", "busybox"}, "invalid argument \"=x\" for \"-e, --env\" flag: invalid environment variable: =x"},
      {{"-l", "", "busybox"}, "invalid argument \"\" for \"-l, --label\" flag: invalid label '': empty name"},
      {{"-l", " k ", "busybox"}, "invalid argument \" k \" for \"-l, --label\" flag: label 'k ' contains whitespaces"},
      {{"--dns", "abc", "busybox"}, "invalid argument \"abc\" for \"--dns\" flag: IP address is not correctly formatted: abc"},
      {{"--dns-search", "a b", "busybox"}, "invalid argument \"a b\" for \"--dns-search\" flag: a b is not a valid domain"},
      {{"--add-host", "foo", "busybox"}, "invalid argument \"foo\" for \"--add-host\" flag: bad format for add-host: \"foo\""},
      {{"--add-host", "foo:bar", "busybox"}, "invalid argument \"foo:bar\" for \"--add-host\" flag: invalid IP address in add-host: \"bar\""},
      {{"-a", "foo", "busybox"}, "invalid argument \"foo\" for \"-a, --attach\" flag: valid streams are STDIN, STDOUT and STDERR"},
      {{"--sysctl", "kernel.foo=1", "busybox"}, "invalid argument \"kernel.foo=1\" for \"--sysctl\" flag: sysctl 'kernel.foo=1' is not allowed"},
      {{"--mount", "type=bind,src=/x", "busybox"}, "invalid argument \"type=bind,src=/x\" for \"--mount\" flag: target is required"},
      {{"--mount", "bogus=1,target=/x", "busybox"},
       "invalid argument \"bogus=1,target=/x\" for \"--mount\" flag: unexpected key 'bogus' in 'bogus=1'"},
      {{"--mount", "readonly=maybe,target=/x", "busybox"},
       "invalid argument \"readonly=maybe,target=/x\" for \"--mount\" flag: invalid value for readonly: maybe"},
      {{"--mount", "type=tmpfs,target=/x,tmpfs-mode=999", "busybox"},
       "invalid argument \"type=tmpfs,target=/x,tmpfs-mode=999\" for \"--mount\" flag: invalid value for tmpfs-mode: 999"},
      {{"--mount", "type=volume,target=/x,bind-propagation=rslave", "busybox"},
       "invalid argument \"type=volume,target=/x,bind-propagation=rslave\" for \"--mount\" flag: cannot mix 'bind-*' options "
       "with mount type 'volume'"},
      {{"--mount", "", "busybox"}, "invalid argument \"\" for \"--mount\" flag: EOF"},
      {{"--mount", "target", "busybox"}, "invalid argument \"target\" for \"--mount\" flag: invalid field 'target' must be a key=value pair"},
      {{"-d=maybe", "busybox"}, "invalid argument \"maybe\" for \"-d, --detach\" flag: strconv.ParseBool: parsing \"maybe\": invalid syntax"},
      {{"--foo", "busybox"}, "unknown flag: --foo"},
      {{"--name"}, "flag needs an argument: --name"},
  };
  for (auto& c : cases) EXPECT_EQ(run_err(c.args), c.want);
}

TEST_F(RunFlags, ParseErrors) {
  struct {
    std::initializer_list<const char*> args;
    const char* want;
  } cases[] = {
      {{}, "\"minidocker run\" requires at least 1 argument."},
      {{"-d", "-a", "stdout", "busybox"}, "conflicting options: cannot specify both --attach and --detach"},
      {{"--memory-swappiness", "200", "busybox"}, "invalid value: 200. Valid memory swappiness range is 0-100"},
      {{"-v", "", "busybox"}, "invalid empty volume spec"},
      {{"-v", "/a:", "busybox"}, "invalid spec: /a:: empty section between colons"},
      {{"-v", ":/b", "busybox"}, "invalid spec: :/b: empty section between colons"},
      {{"-v", "/a:/b:ro:x", "busybox"}, "invalid spec: /a:/b:ro:x: too many colons"},
      {{"-p", "abc", "busybox"}, "invalid containerPort: abc"},
      {{"-p", "80/xyz", "busybox"}, "invalid proto: xyz"},
      {{"-p", "x:80", "busybox"}, "invalid hostPort: x"},
      {{"-p", "70000", "busybox"}, "invalid containerPort: 70000"},
      {{"-p", "7000-7002:8000-8001", "busybox"}, "invalid ranges specified for container and host Ports: 8000-8001 and 7000-7002"},
      {{"-p", "1:2:3:4", "busybox"}, "invalid IP address: 1:2"},
      {{"-p", "", "busybox"}, "no port specified: <empty>"},
      {{"-p", "/tcp", "busybox"}, "no port specified: /tcp<empty>"},
      {{"-p", "target=80,bogus", "busybox"}, "invalid publish opts format (should be name=value but got 'bogus')"},
      {{"--expose", "1:2", "busybox"}, "invalid port format for --expose: 1:2"},
      {{"--expose", "abc", "busybox"}, "invalid range format for --expose: abc, error: strconv.ParseUint: parsing \"abc\": invalid syntax"},
      {{"--expose", "70000", "busybox"},
       "invalid range format for --expose: 70000, error: strconv.ParseUint: parsing \"70000\": value out of range"},
      {{"--expose", "9-8", "busybox"}, "invalid range format for --expose: 9-8, error: invalid range specified for port: 9-8"},
      {{"--device", "rel", "busybox"}, "rel is not an absolute path"},
      {{"--device", "/a:/b:x", "busybox"}, "bad mode specified: x"},
      {{"--device", "/a:/b:rw:x", "busybox"}, "bad format for path: /a:/b:rw:x"},
      {{"--pid", "foo", "busybox"}, "--pid: invalid PID mode"},
      {{"--uts", "foo", "busybox"}, "--uts: invalid UTS mode"},
      {{"--userns", "foo", "busybox"}, "--userns: invalid USER mode"},
      {{"--cgroupns", "foo", "busybox"}, "--cgroupns: invalid CGROUP mode"},
      {{"--restart", "on-failure:x", "busybox"}, "invalid restart policy format: maximum retry count must be an integer"},
      {{"--restart", ":3", "busybox"}, "invalid restart policy format: no policy provided before colon"},
      {{"--restart", "sometimes", "busybox"},
       "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"},
      {{"--restart", "always:3", "busybox"}, "invalid restart policy: maximum retry count can only be used with 'on-failure'"},
      {{"--restart", "on-failure:-1", "busybox"}, "invalid restart policy: maximum retry count cannot be negative"},
      {{"-d", "--rm", "--restart", "on-failure:2", "busybox"}, "conflicting options: cannot specify both --restart and --rm"},
      {{"--log-driver", "none", "--log-opt", "max-size=1m", "busybox"}, "invalid logging opts for driver none"},
      {{"--security-opt", "foo", "busybox"}, "Invalid --security-opt: \"foo\""},
      {{"--security-opt", "seccomp=/nonexist.json", "busybox"},
       "opening seccomp profile (/nonexist.json) failed: open /nonexist.json: no such file or directory"},
      {{"--health-interval", "-1s", "busybox"}, "--health-interval cannot be negative"},
      {{"--health-retries", "-1", "busybox"}, "--health-retries cannot be negative"},
      {{"--no-healthcheck", "--health-cmd", "x", "busybox"}, "--no-healthcheck conflicts with --health-* options"},
      {{"--network", "container:x", "--network-alias", "a", "busybox"}, "network-scoped aliases are only supported for user-defined networks"},
      {{"--network", "", "busybox"}, "no name set for network"},
      {{"--pull", "bogus", "busybox"}, "invalid pull option: 'bogus': must be one of \"always\", \"missing\" or \"never\""},
      {{"--env-file", "/nonexistent/env", "busybox"}, "open /nonexistent/env: no such file or directory"},
  };
  for (auto& c : cases) EXPECT_EQ(run_err(c.args), c.want);
  EXPECT_EQ(run_err({}, RunVerb::kCreate), "\"minidocker create\" requires at least 1 argument.");
  EXPECT_NE(run_err({"--pull", "always", "busybox"}).find("no registry"), std::string::npos);
}

TEST_F(RunFlags, EnvFiles) {
  std::string p = write("env", "# comment\nA=1\n  B=2  \r\nMD_TEST_SET\nMD_TEST_UNSET\n\n\tC=\"q\"\nD=\n");
  auto env = parse_env_file(p);
  ASSERT_TRUE(env) << env.error().message;
  EXPECT_EQ(*env, v({"A=1", "B=2  ", "MD_TEST_SET=from-env", "C=\"q\"", "D="}));
  EXPECT_EQ(*parse_env_file(p, false), v({"A=1", "B=2  ", "C=\"q\"", "D="}));
  EXPECT_EQ(*parse_env_file(write("bom", "\xEF\xBB\xBF" "A=1\n")), v({"A=1"}));
  EXPECT_EQ(parse_env_file(write("ws", "a b=1\n")).error().message,
            "invalid env file (" + dir_ + "/ws): variable 'a b' contains whitespaces");
  EXPECT_EQ(parse_env_file(write("ws2", "A =1\n")).error().message,
            "invalid env file (" + dir_ + "/ws2): variable 'A ' contains whitespaces");
  EXPECT_EQ(parse_env_file(write("noname", " =1\n")).error().message,
            "invalid env file (" + dir_ + "/noname): no variable name on line '=1'");
  EXPECT_EQ(parse_env_file(write("utf", "\xff\xfe" "A=1\n")).error().message,
            "invalid env file (" + dir_ + "/utf): invalid utf8 bytes at line 1: [255 254 65 61 49]");
  EXPECT_EQ(parse_env_file(dir_ + "/missing").error().message, "open " + dir_ + "/missing: no such file or directory");

  // --env-file entries come first; -e entries follow (and are not merged with the file's).
  std::string f = write("e2", "A=1\nB=2\n");
  auto ra = parse_run_args(v({"-e", "A=9", "--env-file", f.c_str(), "busybox"}), RunVerb::kRun);
  ASSERT_TRUE(ra);
  EXPECT_EQ(ra->body["Env"], json::parse(R"(["A=1","B=2","A=9"])"));
  // --label-file: bare keys are dropped; -l wins.
  std::string lf = write("labels", "x=1\n#c\nfoo\nbar=\n");
  auto lr = parse_run_args(v({"--label-file", lf.c_str(), "-l", "x=2", "busybox"}), RunVerb::kRun);
  ASSERT_TRUE(lr);
  EXPECT_EQ(lr->body["Labels"], json::parse(R"({"x":"2","bar":""})"));
}

TEST_F(RunFlags, Exec) {
  auto e = parse_exec_args(v({"-i", "-e", "A=1", "-e", "MD_TEST_SET", "-e", "MD_TEST_UNSET", "-w", "/tmp", "-u", "root",
                              "--privileged", "c", "sh", "-c", "x"}));
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->container, "c");
  EXPECT_EQ(e->config, json::parse(R"({"User":"root","Privileged":true,"Tty":false,"AttachStdin":true,"AttachStderr":true,
      "AttachStdout":true,"Detach":false,"DetachKeys":"","Env":["A=1","MD_TEST_SET=from-env","MD_TEST_UNSET"],
      "WorkingDir":"/tmp","Cmd":["sh","-c","x"]})"));
  auto d = parse_exec_args(v({"-d", "-it", "--detach-keys", "ctrl-p", "c", "sh"}));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->config, json::parse(R"({"User":"","Privileged":false,"Tty":true,"AttachStdin":false,"AttachStderr":false,
      "AttachStdout":false,"Detach":true,"DetachKeys":"ctrl-p","Env":null,"WorkingDir":"","Cmd":["sh"]})"));
  EXPECT_TRUE(d->detach && d->interactive && d->tty);
  EXPECT_EQ(parse_exec_args(v({"c"})).error().message, "\"minidocker exec\" requires at least 2 arguments.");
  EXPECT_EQ(parse_exec_args(v({"-e", "=x", "c", "sh"})).error().message,
            "invalid argument \"=x\" for \"-e, --env\" flag: invalid environment variable: =x");
  EXPECT_TRUE(parse_exec_args(v({"--help"}))->help);
}

TEST_F(RunFlags, Help) {
  EXPECT_TRUE(run_ok({"--help"}).help);
  std::string h = run_help(RunVerb::kRun);
  EXPECT_NE(h.find("Usage:  minidocker run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nCreate and run a new container from an image\n"),
            std::string::npos)
      << h;
  EXPECT_NE(h.find("  -m, --memory bytes"), std::string::npos);
  EXPECT_NE(h.find("  -d, --detach"), std::string::npos);
  EXPECT_NE(h.find("      --restart string"), std::string::npos);
  EXPECT_EQ(h.find("--net-alias"), std::string::npos);  // hidden
  std::string c = run_help(RunVerb::kCreate);
  EXPECT_NE(c.find("Usage:  minidocker create"), std::string::npos);
  EXPECT_EQ(c.find("--detach"), std::string::npos);
  EXPECT_NE(exec_help().find("Usage:  minidocker exec [OPTIONS] CONTAINER COMMAND [ARG...]"), std::string::npos);
  bool found = false;
  for (auto& d : run_flag_defs(RunVerb::kRun)) found |= d.name == "publish" && d.shorthand == 'p';
  EXPECT_TRUE(found);
}

TEST(RunPieces, Publish) {
  json exposed = json::object(), bindings = json::object();
  ASSERT_TRUE(parse_publish("127.0.0.1:7000-7001:8000-8001", exposed, bindings));
  EXPECT_EQ(bindings, json::parse(R"({"8000/tcp":[{"HostIp":"127.0.0.1","HostPort":"7000"}],
      "8001/tcp":[{"HostIp":"127.0.0.1","HostPort":"7001"}]})"));
  EXPECT_EQ(parse_publish("8000-7000", exposed, bindings).error().message, "invalid containerPort: 8000-7000");
  EXPECT_EQ(parse_publish("notanip:80:80", exposed, bindings).error().message, "invalid IP address: notanip");
  EXPECT_EQ(*parse_restart_policy("unless-stopped"), json::parse(R"({"Name":"unless-stopped","MaximumRetryCount":0})"));
  EXPECT_EQ(*parse_restart_policy(""), json::parse(R"({"Name":"","MaximumRetryCount":0})"));
  EXPECT_EQ(*parse_ulimit("memlock=-1:-1"), json::parse(R"({"Name":"memlock","Soft":-1,"Hard":-1})"));
  EXPECT_EQ(*parse_device("/dev/fuse:rwm"), json::parse(R"({"PathOnHost":"/dev/fuse","PathInContainer":"/dev/fuse","CgroupPermissions":"rwm"})"));
  EXPECT_EQ(*parse_device("/dev/sda:/dev/sdb"), json::parse(R"({"PathOnHost":"/dev/sda","PathInContainer":"/dev/sdb","CgroupPermissions":"rwm"})"));
  EXPECT_EQ(parse_device("").error().message, "bad format for path: ");
  EXPECT_EQ(parse_mount_spec("type=bind,src=\"/a,b\",dst=/x").error().message,
            "parse error on line 1, column 15: bare \" in non-quoted-field");
  EXPECT_EQ(parse_mount_spec("\"a\"b,c").error().message, "parse error on line 1, column 3: extraneous or missing \" in quoted-field");
  EXPECT_EQ((*parse_mount_spec("type=bind,\"src=/a,b\",dst=/x"))["Source"], "/a,b");
}

}  // namespace
}  // namespace md::cli
