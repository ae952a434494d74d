// docker-compose v1 (/usr/bin/docker-compose, Python, python3-docker underneath) against
// `minidocker serve`: up -d, ps, logs, stop, down -v of a two-service project with a
// named volume, a network, a published port, environment, labels and depends_on. The
// client service reaches the web service by its service name (the network alias compose
// connects it with). docs/api-objects.md.
#include <fcntl.h>
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

constexpr const char* kCompose = "/usr/bin/docker-compose";

class ServeCompose : public serve_client::ServeFixture {
 protected:
  void SetUp() override {
    if (::access(kCompose, X_OK) != 0) GTEST_SKIP() << kCompose << " not installed";
    ServeFixture::SetUp();
    if (skip_ || HasFatalFailure()) return;
    project_ = unique("proj");
    // Compose project names are lower-case letters, digits, '-' and '_'.
    for (auto& ch : project_)
      if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '-') ch = '_';
    for (auto& ch : project_) ch = char(std::tolower(static_cast<unsigned char>(ch)));
    dir_ = root_ + "/compose";
    ::mkdir(dir_.c_str(), 0755);
  }

  void TearDown() override {
    if (server_ > 0 && !project_.empty()) compose({"down", "-v", "--timeout", "1"});  // best effort when a test failed half-way
    ServeFixture::TearDown();
  }

  Out compose(std::vector<std::string> args, std::chrono::seconds timeout = std::chrono::seconds(120)) {
    std::vector<std::string> argv = {"env", "DOCKER_HOST=unix://" + sock_, "COMPOSE_INTERACTIVE_NO_CLI=1", kCompose,
                                     "--no-ansi", "-p", project_, "-f", dir_ + "/docker-compose.yml"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, "", timeout);
  }

  std::string project_, dir_;
};

TEST_F(ServeCompose, UpPsLogsStopDown) {
  std::string port = std::to_string(30000 + ::getpid() % 20000);
  std::ofstream(dir_ + "/docker-compose.yml") << R"(version: "3.7"
services:
  web:
    image: busybox
    command: sh -c 'echo "hello from $$GREETING" > /www/index.html && exec httpd -f -p 80 -h /www'
    environment:
      GREETING: compose
    labels:
      role: server
    ports:
      - ")" << port << R"(:80"
    volumes:
      - www:/www
    networks: [backend]
  client:
    image: busybox
    command: sh -c 'until wget -qO- http://web/; do sleep 0.2; done; exec sleep 100'
    depends_on: [web]
    networks: [backend]
volumes:
  www:
networks:
  backend:
)";
  Out up = compose({"up", "-d"});
  ASSERT_TRUE(up.ok()) << up << "\nserver log:\n" << read_text(root_ + "/serve.log");

  // The objects compose made, with its labels.
  std::string web = project_ + "_web_1", client = project_ + "_client_1";
  EXPECT_EQ(state(web), "running");
  EXPECT_EQ(state(client), "running");
  json w = inspect(web);
  EXPECT_EQ(w["Config"]["Labels"]["role"], "server");
  EXPECT_EQ(w["Config"]["Labels"]["com.docker.compose.project"], project_);
  EXPECT_EQ(w["Config"]["Labels"]["com.docker.compose.service"], "web");
  EXPECT_TRUE(w["NetworkSettings"]["Networks"].contains(project_ + "_backend")) << w["NetworkSettings"];
  EXPECT_TRUE(md({"network", "inspect", project_ + "_backend"}).ok());
  EXPECT_TRUE(md({"volume", "inspect", project_ + "_www"}).ok());

  // The client reached the web service by name.
  ASSERT_TRUE(eventually([&] { return compose({"logs", "--no-color", "client"}).out.find("hello from compose") != std::string::npos; }))
      << compose({"logs", "--no-color"});
  Out ps = compose({"ps"});
  ASSERT_TRUE(ps.ok()) << ps;
  EXPECT_NE(ps.out.find(web), std::string::npos) << ps;
  EXPECT_NE(ps.out.find(client), std::string::npos) << ps;
  EXPECT_NE(ps.out.find("Up"), std::string::npos) << ps;
  EXPECT_NE(ps.out.find("0.0.0.0:" + port + "->80/tcp"), std::string::npos) << ps;

  // The published port answers from the host.
  auto fetch = [&] {
    return run_process({"/usr/bin/python3", "-c",
                        "import urllib.request,sys; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode(), end='')",
                        "http://127.0.0.1:" + port + "/"});
  };
  ASSERT_TRUE(eventually([&] { return fetch().out == "hello from compose\n"; })) << fetch();

  Out stop = compose({"stop", "--timeout", "1"});
  ASSERT_TRUE(stop.ok()) << stop;
  EXPECT_EQ(state(web), "exited");
  EXPECT_EQ(state(client), "exited");

  Out down = compose({"down", "-v"});
  ASSERT_TRUE(down.ok()) << down;
  EXPECT_EQ(md_ok({"ps", "-aq"}), "");
  EXPECT_FALSE(md({"network", "inspect", project_ + "_backend"}).ok());
  EXPECT_FALSE(md({"volume", "inspect", project_ + "_www"}).ok());
}

}  // namespace
}  // namespace mdcli
