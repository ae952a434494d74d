// `minidocker serve`: the object endpoints (docs/api-objects.md) through the real docker
// CLI — ps filters (the engine's container_filter), rename, update, top, diff, export,
// cp (archive), container prune, networks and volumes — plus raw requests for the
// answers the CLI does not show (status codes, headers, symlink and tar-slip safety).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "serve_client.h"

namespace mdcli {
namespace {


// One HTTP/1.1 request over a unix socket, "Connection: close"; the whole answer.
std::string raw_request(const std::string& sock, const std::string& request) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, sock.c_str(), sizeof a.sun_path - 1);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    for (size_t off = 0; off < request.size();) {
      ssize_t n = ::send(fd, request.data() + off, request.size() - off, MSG_NOSIGNAL);
      if (n <= 0) break;
      off += size_t(n);
    }
    pollfd p{fd, POLLIN, 0};
    char buf[65536];
    while (::poll(&p, 1, 10000) > 0) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, size_t(n));
    }
  }
  ::close(fd);
  return out;
}

std::string http(const std::string& sock, const std::string& method, const std::string& target,
                 const std::string& body = "", const std::string& type = "application/json") {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: d\r\nConnection: close\r\n";
  if (!body.empty() || method == "POST" || method == "PUT")
    req += "Content-Type: " + type + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  return raw_request(sock, req + "\r\n" + body);
}

int status_of(const std::string& response) {
  if (response.size() < 12) return 0;
  return std::atoi(response.substr(9, 3).c_str());
}

std::string body_of(const std::string& response) {
  auto p = response.find("\r\n\r\n");
  return p == std::string::npos ? "" : response.substr(p + 4);
}

// The serve fixture of serve_test.cc: a server on <root>/api.sock, the docker CLI on it.
class ServeObjects : public serve_client::ServeFixture {
 protected:
  bool needs_docker() override { return true; }
};

TEST_F(ServeObjects, PsFiltersAreTheEnginesThroughTheApi) {
  std::string a = unique("fa"), b = unique("fb"), c = unique("fc");
  std::string port = std::to_string(20000 + ::getpid() % 20000);
  ASSERT_TRUE(docker({"run", "-d", "--name", a, "-l", "app=demo", "-l", "tier=web", "-p", port + ":80", "busybox", "sleep",
                      "100"}).ok());
  ASSERT_TRUE(docker({"run", "-d", "--name", b, "-l", "app=demo", "-v", b + "-vol:/data", "busybox", "sh", "-c", "exit 3"}).ok());
  EXPECT_EQ(docker_ok({"wait", b}), "3");
  ASSERT_TRUE(docker({"create", "--name", c, "--expose", "7000", "busybox", "true"}).ok());

  auto names = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"ps", "--format", "{{.Names}}"});
    return docker_ok(args);
  };
  EXPECT_EQ(names({"--filter", "label=app=demo"}), a);  // running only by default
  EXPECT_EQ(names({"-a", "--filter", "label=app=demo"}), b + "\n" + a);
  EXPECT_EQ(names({"-a", "--filter", "label=app=demo", "--filter", "label=tier=web"}), a);  // labels: AND
  EXPECT_EQ(names({"--filter", "exited=3"}), b);                                            // implies -a
  EXPECT_EQ(names({"--filter", "status=created"}), c);
  EXPECT_EQ(names({"-a", "--filter", "name=^/" + a + "$"}), a);
  EXPECT_EQ(names({"-a", "--filter", "ancestor=busybox", "--filter", "before=" + c}), b + "\n" + a);
  EXPECT_EQ(names({"-a", "--filter", "since=" + a}), c + "\n" + b);
  EXPECT_EQ(names({"-a", "--filter", "volume=" + b + "-vol"}), b);
  EXPECT_EQ(names({"-a", "--filter", "expose=7000"}), c);
  EXPECT_EQ(names({"--filter", "publish=" + port}), a);
  EXPECT_EQ(names({"--filter", "network=bridge"}), a);
  EXPECT_EQ(names({"-a", "--filter", "health=healthy"}), "");
  EXPECT_EQ(names({"-n", "1"}), c);

  Out bad = docker({"ps", "--filter", "colour=red"});
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.err.find("invalid filter 'colour'"), std::string::npos) << bad;
  Out bad_status = docker({"ps", "--filter", "status=sleeping"});
  EXPECT_FALSE(bad_status.ok());
  EXPECT_NE(bad_status.err.find("invalid filter 'status=sleeping'"), std::string::npos) << bad_status;
  Out no_such = docker({"ps", "--filter", "before=nosuch"});
  EXPECT_FALSE(no_such.ok());
  EXPECT_NE(no_such.err.find("No such container: nosuch"), std::string::npos) << no_such;
  // minidocker ps (no server) uses the same filters.
  EXPECT_EQ(md_ok({"ps", "-a", "--format", "{{.Names}}", "--filter", "label=app=demo", "--filter", "exited=3"}), b);

  // The summary's shape: Names "/x", Ports with IP 0.0.0.0, sizes with size=1.
  std::string filters = "%7B%22name%22%3A%5B%22%5E%2F" + a + "%24%22%5D%7D";  // {"name":["^/a$"]}
  std::string r = http(sock_, "GET", "/v1.43/containers/json?size=1&filters=" + filters);
  ASSERT_EQ(status_of(r), 200) << r;
  json list = json::parse(body_of(r));
  ASSERT_EQ(list.size(), 1u) << list;
  EXPECT_EQ(list[0]["Names"], json::array({"/" + a}));
  EXPECT_EQ(list[0]["Image"], "busybox");
  EXPECT_EQ(list[0]["State"], "running");
  EXPECT_EQ(list[0]["Status"].get<std::string>().rfind("Up ", 0), 0u) << list[0]["Status"];
  EXPECT_EQ(list[0]["Labels"]["tier"], "web");
  bool published = false;
  for (auto& p : list[0]["Ports"])
    published |= p.value("IP", "") == "0.0.0.0" && p.value("PublicPort", 0) == std::stoi(port) && p["PrivatePort"] == 80;
  EXPECT_TRUE(published) << list[0]["Ports"];
  EXPECT_TRUE(list[0].contains("SizeRw") && list[0].contains("SizeRootFs")) << list[0];
  EXPECT_GT(list[0]["SizeRootFs"].get<int64_t>(), 0);
  EXPECT_TRUE(list[0]["NetworkSettings"]["Networks"].contains("bridge")) << list[0];
  EXPECT_FALSE(list[0]["NetworkSettings"]["Networks"]["bridge"].value("IPAddress", "").empty()) << list[0];
  EXPECT_EQ(status_of(http(sock_, "GET", "/containers/json?filters=%7B%22x%22%3A%5B%22y%22%5D%7D")), 400);
  // A stopped container: no ports, its volume in Mounts.
  std::string vol_filter = "%7B%22volume%22%3A%5B%22" + b + "-vol%22%5D%7D";  // {"volume":["<b>-vol"]}
  r = http(sock_, "GET", "/containers/json?all=1&filters=" + vol_filter);
  ASSERT_EQ(status_of(r), 200) << r;
  list = json::parse(body_of(r));
  ASSERT_EQ(list.size(), 1u) << list;
  EXPECT_EQ(list[0]["Ports"], json::array());
  EXPECT_EQ(list[0]["Status"].get<std::string>().rfind("Exited (3) ", 0), 0u) << list[0]["Status"];
  ASSERT_EQ(list[0]["Mounts"].size(), 1u) << list[0];
  EXPECT_EQ(list[0]["Mounts"][0]["Type"], "volume");
  EXPECT_EQ(list[0]["Mounts"][0]["Name"], b + "-vol");
  EXPECT_EQ(list[0]["Mounts"][0]["Destination"], "/data");
  EXPECT_EQ(list[0]["Command"], "sh -c 'exit 3'");
}

TEST_F(ServeObjects, RenameUpdateTopDiff) {
  std::string name = unique("ext"), renamed = unique("ext2");
  ASSERT_TRUE(docker({"run", "-d", "--name", name, "busybox", "sh", "-c",
                      "mkdir /tmp/d && echo hi > /tmp/d/f && rm /bin/true && rm -rf /home && mkdir /home && touch /ready && "
                      "exec sleep 100"}).ok());
  ASSERT_TRUE(docker({"rename", name, renamed}).ok());
  EXPECT_EQ(docker_ok({"inspect", "-f", "{{.Name}}", renamed}), "/" + renamed);
  Out taken = docker({"create", "--name", unique("other"), "busybox"});
  ASSERT_TRUE(taken.ok()) << taken;
  Out dup = docker({"rename", renamed, unique("other")});
  EXPECT_FALSE(dup.ok());
  EXPECT_NE(dup.err.find("already in use"), std::string::npos) << dup;

  Out up = docker({"update", "--memory", "64m", "--cpus", "0.5", renamed});
  EXPECT_TRUE(up.ok()) << up;
  EXPECT_EQ(docker_ok({"inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}", renamed}), "67108864 500000000");
  Out tiny = docker({"update", "--memory", "1m", renamed});
  EXPECT_FALSE(tiny.ok());
  EXPECT_NE(tiny.err.find("Minimum memory limit"), std::string::npos) << tiny;

  Out top = docker({"top", renamed});
  ASSERT_TRUE(top.ok()) << top;
  EXPECT_NE(top.out.find("PID"), std::string::npos) << top;
  EXPECT_NE(top.out.find("sleep 100"), std::string::npos) << top;

  ASSERT_TRUE(eventually([&] { return docker_ok({"diff", renamed}).find("A /ready") != std::string::npos; }))
      << docker({"diff", renamed});
  std::string diff = docker_ok({"diff", renamed}) + "\n";
  EXPECT_NE(diff.find("C /tmp\n"), std::string::npos) << diff;
  EXPECT_NE(diff.find("A /tmp/d\n"), std::string::npos) << diff;
  EXPECT_NE(diff.find("A /tmp/d/f\n"), std::string::npos) << diff;
  EXPECT_NE(diff.find("D /bin/true\n"), std::string::npos) << diff;
  // /home removed and made again: an opaque directory hiding the image's /home/user.
  EXPECT_NE(diff.find("C /home\n"), std::string::npos) << diff;
  EXPECT_NE(diff.find("D /home/user\n"), std::string::npos) << diff;
  EXPECT_EQ(diff.find("/etc/hostname"), std::string::npos) << diff;  // the runtime's mount targets are hidden

  ASSERT_TRUE(docker({"kill", renamed}).ok());
  Out stopped_top = docker({"top", renamed});
  EXPECT_FALSE(stopped_top.ok());
  EXPECT_NE(stopped_top.err.find("is not running"), std::string::npos) << stopped_top;
  // diff of a stopped container: the same writable layer.
  EXPECT_NE(docker_ok({"diff", renamed}).find("A /tmp/d/f"), std::string::npos);
}

TEST_F(ServeObjects, ExportAndCopyBothWays) {
  std::string name = unique("cp");
  ASSERT_TRUE(docker({"run", "-d", "--name", name, "busybox", "sh", "-c",
                      "mkdir -p /srv/dir/sub && echo one > /srv/dir/a && echo two > /srv/dir/sub/b && "
                      "ln -sfn " + root_ + "/host-only /srv/escape && touch /srv/ready && exec sleep 100"}).ok());
  ASSERT_TRUE(eventually([&] { return md({"cp", name + ":/srv/ready", "-"}).ok(); }));

  // export: a tar of the whole file system.
  std::string tarfile = root_ + "/export.tar";
  Out ex = run_process({"sh", "-c", "env DOCKER_CONFIG=" + config_ + " " + serve_client::kDockerCli + " -H unix://" + sock_ + " export " +
                                        name + " > " + tarfile});
  ASSERT_TRUE(ex.ok()) << ex;
  std::string listing = run_process({"tar", "-tf", tarfile}).out;
  EXPECT_NE(listing.find("bin/busybox"), std::string::npos) << listing.substr(0, 500);
  EXPECT_NE(listing.find("srv/dir/sub/b"), std::string::npos);

  // container → stdout (a tar), container → host directory, host → container.
  Out one = docker({"cp", name + ":/srv/dir/a", "-"});
  ASSERT_TRUE(one.ok()) << one;
  EXPECT_NE(one.out.find("one\n"), std::string::npos);
  std::string out_dir = root_ + "/out";
  ASSERT_TRUE(docker({"cp", name + ":/srv/dir", out_dir}).ok());
  EXPECT_EQ(read_text(out_dir + "/a"), "one");  // read_text drops the last newline
  EXPECT_EQ(read_text(out_dir + "/sub/b"), "two");
  std::ofstream(root_ + "/upload.txt") << "uploaded\n";
  Out in = docker({"cp", root_ + "/upload.txt", name + ":/tmp/"});
  ASSERT_TRUE(in.ok()) << in;
  Out back = docker({"cp", name + ":/tmp/upload.txt", "-"});
  EXPECT_NE(back.out.find("uploaded\n"), std::string::npos) << back;
  Out renamed_in = docker({"cp", root_ + "/upload.txt", name + ":/tmp/renamed.txt"});
  ASSERT_TRUE(renamed_in.ok()) << renamed_in;
  EXPECT_NE(docker({"cp", name + ":/tmp/renamed.txt", "-"}).out.find("uploaded\n"), std::string::npos);

  // HEAD: the stat header; a missing path: 404 with Docker's text.
  std::string head = http(sock_, "HEAD", "/containers/" + name + "/archive?path=/srv/dir");
  EXPECT_EQ(status_of(head), 200) << head;
  EXPECT_NE(head.find("X-Docker-Container-Path-Stat: "), std::string::npos) << head;
  std::string missing = http(sock_, "GET", "/containers/" + name + "/archive?path=/nope");
  EXPECT_EQ(status_of(missing), 404) << missing;
  EXPECT_NE(missing.find("Could not find the file /nope"), std::string::npos) << missing;

  // Symlink safety: /srv/escape points at a host path; copying through it stays inside
  // the container (it does not exist there), the host directory gets nothing.
  ASSERT_EQ(::mkdir((root_ + "/host-only").c_str(), 0755), 0);
  Out esc = docker({"cp", root_ + "/upload.txt", name + ":/srv/escape/"});
  EXPECT_NE(::access((root_ + "/host-only/upload.txt").c_str(), F_OK), 0) << esc;
  // Tar-slip: an entry "../../x" is refused and lands nowhere.
  std::string slip = run_process({"python3", "-c",
                                  "import io,sys,tarfile\n"
                                  "b=io.BytesIO()\n"
                                  "t=tarfile.open(fileobj=b,mode='w')\n"
                                  "d=b'slip\\n'\n"
                                  "i=tarfile.TarInfo('../../../../../../" + root_.substr(1) + "/slipped')\n"
                                  "i.size=len(d)\n"
                                  "t.addfile(i,io.BytesIO(d))\n"
                                  "t.close()\n"
                                  "sys.stdout.buffer.write(b.getvalue())\n"}).out;
  ASSERT_FALSE(slip.empty());
  std::string put = http(sock_, "PUT", "/containers/" + name + "/archive?path=/tmp", slip, "application/x-tar");
  EXPECT_NE(status_of(put), 200) << put;
  EXPECT_NE(::access((root_ + "/slipped").c_str(), F_OK), 0);
  // A destination that is a file: 400.
  std::string notdir = http(sock_, "PUT", "/containers/" + name + "/archive?path=/srv/dir/a", slip, "application/x-tar");
  EXPECT_EQ(status_of(notdir), 400) << notdir;

  // A stopped container: cp and export use its overlay, mounted for the request only.
  ASSERT_TRUE(docker({"kill", name}).ok());
  Out stopped = docker({"cp", name + ":/srv/dir/sub/b", "-"});
  ASSERT_TRUE(stopped.ok()) << stopped;
  EXPECT_NE(stopped.out.find("two\n"), std::string::npos);
  EXPECT_TRUE(docker({"start", name}).ok());  // the temporary mount did not get in the way
  EXPECT_EQ(state(name), "running");
}

TEST_F(ServeObjects, CopyIntoReadOnlyRootfsOnlyThroughWritableMounts) {
  std::string name = unique("ro"), vol = unique("rovol");
  ASSERT_TRUE(docker({"run", "-d", "--read-only", "--name", name, "-v", vol + ":/data", "-v", root_ + ":/hostro:ro",
                      "busybox", "sleep", "100"}).ok());
  std::ofstream(root_ + "/f.txt") << "f\n";
  Out ro = docker({"cp", root_ + "/f.txt", name + ":/tmp/"});
  EXPECT_FALSE(ro.ok());
  EXPECT_NE(ro.err.find("container rootfs is marked read-only"), std::string::npos) << ro;
  Out ro_mount = docker({"cp", root_ + "/f.txt", name + ":/hostro/"});
  EXPECT_FALSE(ro_mount.ok());
  EXPECT_NE(ro_mount.err.find("mounted volume is marked read-only"), std::string::npos) << ro_mount;
  Out vol_ok = docker({"cp", root_ + "/f.txt", name + ":/data/"});
  EXPECT_TRUE(vol_ok.ok()) << vol_ok;
  EXPECT_NE(docker({"cp", name + ":/data/f.txt", "-"}).out.find("f\n"), std::string::npos);
  EXPECT_TRUE(docker({"rm", "-f", name}).ok());
}

TEST_F(ServeObjects, ContainerPrune) {
  std::string done = unique("done"), kept = unique("kept"), up = unique("up");
  ASSERT_TRUE(docker({"create", "--name", done, "busybox", "true"}).ok());
  ASSERT_TRUE(docker({"create", "--name", kept, "-l", "keep=1", "busybox", "true"}).ok());
  ASSERT_TRUE(docker({"run", "-d", "--name", up, "busybox", "sleep", "100"}).ok());
  Out p = docker({"container", "prune", "-f", "--filter", "label!=keep"});
  ASSERT_TRUE(p.ok()) << p;
  EXPECT_NE(p.out.find("Deleted Containers:"), std::string::npos) << p;
  EXPECT_NE(p.out.find("Total reclaimed space:"), std::string::npos) << p;
  EXPECT_FALSE(md({"inspect", done}).ok());
  EXPECT_EQ(state(kept), "created");
  EXPECT_EQ(state(up), "running");
  std::string r = http(sock_, "POST", "/containers/prune?filters=%7B%22until%22%3A%5B%220%22%5D%7D");  // until=0
  ASSERT_EQ(status_of(r), 200) << r;
  EXPECT_EQ(json::parse(body_of(r))["SpaceReclaimed"], 0) << r;
  EXPECT_EQ(state(kept), "created");
  EXPECT_EQ(status_of(http(sock_, "POST", "/containers/prune?filters=%7B%22bad%22%3A%5B%22x%22%5D%7D")), 400);
  ASSERT_TRUE(docker({"container", "prune", "-f"}).ok());
  EXPECT_FALSE(md({"inspect", kept}).ok());
}

TEST_F(ServeObjects, Networks) {
  std::string net = unique("net"), c1 = unique("n1");
  std::string id = docker_ok({"network", "create", "--label", "proj=x", net});
  ASSERT_EQ(id.size(), 64u) << id;
  Out dup = docker({"network", "create", net});
  EXPECT_FALSE(dup.ok());
  EXPECT_NE(dup.err.find("already exists"), std::string::npos) << dup;
  EXPECT_EQ(docker_ok({"network", "ls", "--filter", "label=proj=x", "--format", "{{.Name}} {{.Driver}}"}), net + " bridge");
  std::string builtin = docker_ok({"network", "ls", "--filter", "type=builtin", "--format", "{{.Name}}"});
  EXPECT_EQ(builtin, "bridge\nhost\nnone");
  EXPECT_EQ(docker_ok({"network", "inspect", "-f", "{{.Name}} {{.Labels.proj}} {{.Scope}}", net}), net + " x local");

  ASSERT_TRUE(docker({"run", "-d", "--name", c1, "--network", net, "busybox", "sleep", "100"}).ok());
  EXPECT_EQ(docker_ok({"network", "inspect", "-f", "{{len .Containers}}", net}), "1");
  Out rm_busy = docker({"network", "rm", net});
  EXPECT_FALSE(rm_busy.ok());
  EXPECT_NE(rm_busy.err.find("active endpoints"), std::string::npos) << rm_busy;
  ASSERT_TRUE(docker({"network", "disconnect", net, c1}).ok());
  EXPECT_EQ(docker_ok({"inspect", "-f", "{{len .NetworkSettings.Networks}}", c1}), "0");
  Out conn = docker({"network", "connect", "--alias", "web", net, c1});
  ASSERT_TRUE(conn.ok()) << conn;
  std::string aliases = docker_ok({"inspect", "-f", "{{json (index .NetworkSettings.Networks \"" + net + "\").Aliases}}", c1});
  EXPECT_NE(aliases.find("\"web\""), std::string::npos) << aliases;
  Out again = docker({"network", "connect", net, c1});
  EXPECT_FALSE(again.ok());

  Out rm_bridge = docker({"network", "rm", "bridge"});
  EXPECT_FALSE(rm_bridge.ok());
  EXPECT_NE(rm_bridge.err.find("pre-defined network"), std::string::npos) << rm_bridge;
  Out missing = docker({"network", "inspect", "nosuchnet"});
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.err.find("not found"), std::string::npos) << missing;
  EXPECT_EQ(status_of(http(sock_, "POST", "/networks/create", R"({"Name":"x","EnableIPv6":true})")), 400);
  EXPECT_EQ(status_of(http(sock_, "POST", "/networks/create", R"({"Name":"x","Driver":"overlay"})")), 404);
  EXPECT_EQ(status_of(http(sock_, "POST", "/networks/create", "{oops")), 400);
  EXPECT_FALSE(docker({"network", "inspect", "x"}).ok());  // nothing half-created

  ASSERT_TRUE(docker({"rm", "-f", c1}).ok());
  std::string unused = unique("unused");
  ASSERT_TRUE(docker({"network", "create", unused}).ok());
  Out prune = docker({"network", "prune", "-f", "--filter", "label!=proj"});
  ASSERT_TRUE(prune.ok()) << prune;
  EXPECT_NE(prune.out.find(unused), std::string::npos) << prune;
  EXPECT_TRUE(docker({"network", "inspect", net}).ok());
  ASSERT_TRUE(docker({"network", "rm", net}).ok());
  EXPECT_FALSE(docker({"network", "inspect", net}).ok());
}

TEST_F(ServeObjects, Volumes) {
  std::string v = unique("vol"), c = unique("vc");
  EXPECT_EQ(docker_ok({"volume", "create", "--label", "proj=y", v}), v);
  EXPECT_EQ(docker_ok({"volume", "inspect", "-f", "{{.Name}} {{.Driver}} {{.Labels.proj}} {{.Scope}}", v}),
            v + " local y local");
  EXPECT_EQ(docker_ok({"volume", "ls", "-q", "--filter", "label=proj=y"}), v);
  EXPECT_EQ(docker_ok({"volume", "ls", "-q", "--filter", "dangling=true", "--filter", "name=" + v}), v);
  ASSERT_TRUE(docker({"run", "-d", "--name", c, "-v", v + ":/data", "busybox", "sh", "-c", "echo kept > /data/f"}).ok());
  EXPECT_EQ(docker_ok({"wait", c}), "0");
  EXPECT_EQ(docker_ok({"volume", "ls", "-q", "--filter", "dangling=true", "--filter", "name=" + v}), "");
  Out busy = docker({"volume", "rm", v});
  EXPECT_FALSE(busy.ok());
  EXPECT_NE(busy.err.find("volume is in use"), std::string::npos) << busy;
  Out missing = docker({"volume", "inspect", "nosuchvol"});
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.err.find("no such volume"), std::string::npos) << missing;
  EXPECT_EQ(status_of(http(sock_, "POST", "/volumes/create", R"({"Name":"x","Driver":"nfs"})")), 404);
  EXPECT_EQ(status_of(http(sock_, "POST", "/volumes/create", R"({"Name":"bad/name"})")), 400);
  EXPECT_EQ(status_of(http(sock_, "DELETE", "/volumes/nosuchvol?force=1")), 204);

  // An anonymous volume is pruned by default, a named one only with all=true.
  std::string anon_c = unique("anon");
  ASSERT_TRUE(docker({"create", "--name", anon_c, "-v", "/scratch", "busybox", "true"}).ok());
  ASSERT_TRUE(docker({"rm", c, anon_c}).ok());
  Out prune = docker({"volume", "prune", "-f"});
  ASSERT_TRUE(prune.ok()) << prune;
  EXPECT_EQ(docker_ok({"volume", "ls", "-q"}), v);
  Out all = docker({"volume", "prune", "-f", "--all"});
  ASSERT_TRUE(all.ok()) << all;
  EXPECT_NE(all.out.find(v), std::string::npos) << all;
  EXPECT_EQ(docker_ok({"volume", "ls", "-q"}), "");
}

// python3-docker (Debian's) drives the same endpoints its own way: list filters as a
// dict, get_archive/put_archive, diff, top, networks and volumes with labels, prunes.
TEST_F(ServeObjects, PythonDockerSdk) {
  if (!run_process({"/usr/bin/python3", "-c", "import docker"}).ok()) GTEST_SKIP() << "python3-docker not installed";
  std::string name = unique("py"), net = unique("pynet"), vol = unique("pyvol");
  ASSERT_TRUE(docker({"run", "-d", "--name", name, "-l", "sdk=py", "busybox", "sh", "-c",
                      "mkdir /tmp/d && echo hi > /tmp/d/f && exec sleep 100"}).ok());
  std::string script = R"(
import io, sys, tarfile, docker
c = docker.DockerClient(base_url="unix://" + sys.argv[1])
name, net, vol = sys.argv[2], sys.argv[3], sys.argv[4]
assert [x.name for x in c.containers.list(filters={"label": "sdk=py"})] == [name]
ct = c.containers.get(name)
bits, stat = ct.get_archive("/tmp/d")
assert stat["name"] == "d" and stat["mode"] & 0x80000000, stat
t = tarfile.open(fileobj=io.BytesIO(b"".join(bits)))
assert t.extractfile("d/f").read() == b"hi\n"
b = io.BytesIO()
u = tarfile.open(fileobj=b, mode="w")
data = b"from python\n"
i = tarfile.TarInfo("py.txt"); i.size = len(data); u.addfile(i, io.BytesIO(data)); u.close()
assert ct.put_archive("/tmp", b.getvalue())
assert {"Path": "/tmp/py.txt", "Kind": 1} in ct.diff(), ct.diff()
assert "PID" in ct.top()["Titles"]
n = c.networks.create(net, labels={"sdk": "py"})
n.connect(ct, aliases=["alias1"])
n.reload()
assert name in [v["Name"] for v in n.attrs["Containers"].values()], n.attrs
assert [x.name for x in c.networks.list(filters={"label": "sdk=py"})] == [net]
n.disconnect(ct)
n.remove()
v = c.volumes.create(vol, labels={"sdk": "py"})
assert [x.name for x in c.volumes.list(filters={"label": "sdk=py"})] == [vol]
v.remove()
ct.remove(force=True)
assert c.containers.prune()["ContainersDeleted"] in ([], None)
print("ok")
)";
  Out py = run_process({"/usr/bin/python3", "-c", script, sock_, name, net, vol}, "", std::chrono::seconds(120));
  EXPECT_TRUE(py.ok()) << py;
  EXPECT_EQ(py.out, "ok\n") << py;
}

}  // namespace
}  // namespace mdcli
