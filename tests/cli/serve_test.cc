// `minidocker serve`: the real docker CLI (/usr/local/bin/docker) against the API server
// on a socket in the test's root (docs/api.md).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <future>
#include <thread>

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
    // The server may answer (413) and close before reading everything: write what it
    // takes, then read its answer.
    for (size_t off = 0; off < request.size();) {
      ssize_t n = ::send(fd, request.data() + off, request.size() - off, MSG_NOSIGNAL);
      if (n <= 0) break;
      off += size_t(n);
    }
    pollfd p{fd, POLLIN, 0};
    char buf[4096];
    while (::poll(&p, 1, 5000) > 0) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, size_t(n));
    }
  }
  ::close(fd);
  return out;
}

class Serve : public serve_client::ServeFixture {
 protected:
  bool needs_docker() override { return true; }
};

TEST_F(Serve, SocketIsRootOnly) {
  struct stat st {};
  ASSERT_EQ(::lstat(sock_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  EXPECT_EQ(st.st_uid, 0u);
}

TEST_F(Serve, VersionAndPing) {
  std::string v = docker_ok({"version", "--format", "{{.Server.APIVersion}} {{.Server.MinAPIVersion}} {{.Server.Os}}"});
  EXPECT_EQ(v, "1.43 1.24 linux");
  std::string ping = raw_request(sock_, "HEAD /_ping HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n");
  EXPECT_NE(ping.find("HTTP/1.1 200"), std::string::npos) << ping;
  EXPECT_NE(ping.find("Api-Version: 1.43"), std::string::npos) << ping;
  EXPECT_NE(ping.find("Ostype: linux"), std::string::npos) << ping;
  Out info = docker({"info", "--format", "{{.Containers}} {{.Images}}"});
  ASSERT_TRUE(info.ok()) << info;
  EXPECT_EQ(info.out, "0 1\n");
}

TEST_F(Serve, UnknownEndpointIs404Json) {
  std::string r = raw_request(sock_, "GET /v1.43/no/such/endpoint HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n");
  ASSERT_NE(r.find("HTTP/1.1 404"), std::string::npos) << r;
  auto body = r.substr(r.find("\r\n\r\n") + 4);
  EXPECT_EQ(json::parse(body)["message"], "page not found") << r;
  // No such container: 404 with Docker's message; the CLI shows it.
  r = raw_request(sock_, "GET /containers/nosuch/json HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n");
  ASSERT_NE(r.find("HTTP/1.1 404"), std::string::npos) << r;
  EXPECT_EQ(json::parse(r.substr(r.find("\r\n\r\n") + 4))["message"], "No such container: nosuch");
  // Malformed JSON: 400, nothing created.
  std::string bad = "{not json";
  r = raw_request(sock_, "POST /containers/create HTTP/1.1\r\nHost: d\r\nConnection: close\r\nContent-Type: application/json\r\n"
                         "Content-Length: " + std::to_string(bad.size()) + "\r\n\r\n" + bad);
  EXPECT_NE(r.find("HTTP/1.1 400"), std::string::npos) << r;
  EXPECT_EQ(md_ok({"ps", "-aq"}), "");
}

TEST_F(Serve, RunInspectLogsStopRemove) {
  std::string name = unique("api");
  std::string id = docker_ok({"run", "-d", "--name", name, "busybox", "sh", "-c", "echo hello; echo oops >&2; exec sleep 100"});
  ASSERT_EQ(id.size(), 64u) << id;
  EXPECT_EQ(docker_ok({"inspect", "-f", "{{.State.Status}} {{.Name}}", name}), "running /" + name);
  EXPECT_EQ(state(name), "running");  // the CLI sees what the API did
  std::string ps = docker_ok({"ps", "--format", "{{.ID}} {{.Names}} {{.Image}} {{.State}}"});
  EXPECT_EQ(ps, id.substr(0, 12) + " " + name + " busybox running");
  EXPECT_EQ(docker_ok({"ps", "-aq", "--filter", "status=exited"}), "");
  ASSERT_TRUE(eventually([&] { return docker({"logs", name}).out == "hello\n"; })) << docker({"logs", name});
  Out logs = docker({"logs", name});
  EXPECT_EQ(logs.err, "oops\n");
  Out ts = docker({"logs", "-t", "--tail", "1", name});
  EXPECT_EQ(ts.out.size() + ts.err.size() > 10, true) << ts;

  Out st = docker({"stop", "-t", "1", name});
  EXPECT_TRUE(st.ok()) << st;
  EXPECT_EQ(state(name), "exited");
  EXPECT_EQ(docker_ok({"ps", "-a", "--format", "{{.Names}} {{.State}}", "--filter", "name=" + name}), name + " exited");
  // Already stopped: 304, which the CLI takes as success.
  EXPECT_TRUE(docker({"stop", name}).ok());
  EXPECT_EQ(docker_ok({"wait", name}), "137");
  EXPECT_TRUE(docker({"start", name}).ok());
  EXPECT_EQ(state(name), "running");
  Out k = docker({"kill", name});
  EXPECT_TRUE(k.ok()) << k;
  Out k2 = docker({"kill", name});
  EXPECT_FALSE(k2.ok());
  EXPECT_NE(k2.err.find("is not running"), std::string::npos) << k2;

  Out rm = docker({"rm", "-f", name});
  EXPECT_TRUE(rm.ok()) << rm;
  EXPECT_FALSE(md({"inspect", name}).ok());
  Out gone = docker({"inspect", name});
  EXPECT_FALSE(gone.ok());
  EXPECT_NE(gone.err.find("No such"), std::string::npos) << gone;
}

TEST_F(Serve, WaitDoesNotBlockOtherRequests) {
  std::string name = unique("wait");
  ASSERT_TRUE(docker({"create", "--name", name, "busybox", "sleep", "100"}).ok());
  ASSERT_TRUE(docker({"start", name}).ok());
  auto waiter = std::async(std::launch::async, [&] { return docker({"wait", name}, "", std::chrono::seconds(60)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // Requests keep being answered while the wait is pending (more of them than workers).
  for (int i = 0; i < 6; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(docker_ok({"ps", "-q"}).size(), 12u);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  }
  ASSERT_TRUE(md({"kill", name}).ok());
  Out w = waiter.get();
  EXPECT_TRUE(w.ok()) << w;
  EXPECT_EQ(w.out, "137\n");
  EXPECT_TRUE(docker({"rm", name}).ok());
  EXPECT_EQ(docker_ok({"images", "--format", "{{.Repository}}:{{.Tag}}"}), "busybox:latest");
}

TEST_F(Serve, PauseRestartFiltersAndLimits) {
  std::string name = unique("pr");
  ASSERT_TRUE(docker({"run", "-d", "--name", name, "-l", "tier=web", "busybox", "sleep", "100"}).ok());
  EXPECT_TRUE(docker({"pause", name}).ok());
  EXPECT_EQ(state(name), "paused");
  Out again = docker({"pause", name});
  EXPECT_FALSE(again.ok());
  EXPECT_TRUE(docker({"unpause", name}).ok());
  EXPECT_EQ(state(name), "running");
  int64_t before = inspect(name)["State"]["Pid"].get<int64_t>();
  Out rs = docker({"restart", "-t", "0", name});
  EXPECT_TRUE(rs.ok()) << rs;
  EXPECT_EQ(state(name), "running");
  EXPECT_NE(inspect(name)["State"]["Pid"].get<int64_t>(), before);
  EXPECT_EQ(docker_ok({"ps", "--format", "{{.Names}}", "--filter", "label=tier=web"}), name);
  EXPECT_EQ(docker_ok({"ps", "-q", "--filter", "label=tier=db"}), "");
  // A name in use: 409 with the engine's message.
  Out dup = docker({"create", "--name", name, "busybox"});
  EXPECT_FALSE(dup.ok());
  EXPECT_NE(dup.err.find("already in use"), std::string::npos) << dup;
  // rm without -f of a running container: refused.
  Out rm = docker({"rm", name});
  EXPECT_FALSE(rm.ok());
  EXPECT_NE(rm.err.find("container is running"), std::string::npos) << rm;
  // A body over the limit: 413, the server stays up.
  std::string big(17 << 20, 'x');
  std::string r = raw_request(sock_, "POST /containers/create HTTP/1.1\r\nHost: d\r\nConnection: close\r\n"
                                     "Content-Length: " + std::to_string(big.size()) + "\r\n\r\n" + big);
  EXPECT_NE(r.find("HTTP/1.1 413"), std::string::npos) << r.substr(0, 200);
  EXPECT_EQ(docker_ok({"version", "--format", "{{.Server.Version}}"}), "0.1.0");
  EXPECT_TRUE(docker({"rm", "-f", name}).ok());
}

}  // namespace
}  // namespace mdcli
