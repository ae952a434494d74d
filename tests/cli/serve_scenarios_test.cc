// Real-client scenarios (tests/compat/docker_api/scenarios.sh: the docker CLI,
// python3-docker and docker-compose) against `minidocker serve`, one test per scenario,
// each on a root and server of its own. The same script proves itself against a real
// dockerd (see docs/api.md, "Proving the scenarios").
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <sstream>

#include "cli_harness.h"

namespace mdcli {
namespace {

constexpr const char* kDocker = "/usr/local/bin/docker";

std::string scenarios_script() {
  std::string here = __FILE__;  // …/tests/cli/serve_scenarios_test.cc
  return here.substr(0, here.rfind("/cli/")) + "/compat/docker_api/scenarios.sh";
}

// The scenario names: the script's sc_<name> functions, read from the script itself so
// a new scenario is a new test without touching this file.
std::vector<std::string> scenario_names() {
  std::vector<std::string> names;
  std::istringstream in(read_text(scenarios_script()));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("sc_", 0) != 0) continue;
    auto paren = line.find("()");
    if (paren == std::string::npos) continue;
    names.push_back(line.substr(3, paren - 3));
  }
  return names;
}

bool can_connect(const std::string& sock) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, sock.c_str(), sizeof a.sun_path - 1);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

class Scenario : public Cli, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    Cli::SetUp();
    if (skip_ || HasFatalFailure()) return;
    if (::access(kDocker, X_OK) != 0) GTEST_SKIP() << kDocker << " not installed";
    sock_ = root_ + "/api.sock";
    std::string log = root_ + "/serve.log";
    server_ = ::fork();
    ASSERT_GE(server_, 0);
    if (server_ == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execl(cli_binary().c_str(), "minidocker", "--root", root_.c_str(), "serve", "-H", ("unix://" + sock_).c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ASSERT_TRUE(eventually([&] { return can_connect(sock_); }, std::chrono::seconds(10)))
        << "the server did not listen: " << read_text(log);
  }

  void TearDown() override {
    if (server_ > 0) {
      ::kill(server_, SIGTERM);
      int status = 0;
      if (!eventually([&] { return ::waitpid(server_, &status, WNOHANG) == server_; }, std::chrono::seconds(10))) {
        ADD_FAILURE() << "the server ignored SIGTERM";
        ::kill(server_, SIGKILL);
        ::waitpid(server_, &status, 0);
      }
      server_ = -1;
    }
    Cli::TearDown();
  }

  pid_t server_ = -1;
  std::string sock_;
};

TEST_P(Scenario, PassesWithRealClients) {
  std::string config = root_ + "/docker-config";
  ::mkdir(config.c_str(), 0700);
  Out r = run_process({"env", "DOCKER_HOST=unix://" + sock_, "DOCKER_CONFIG=" + config, "bash", scenarios_script(), GetParam()},
                      "", std::chrono::seconds(280));
  EXPECT_TRUE(r.ok()) << r << "\nserver log:\n" << read_text(root_ + "/serve.log");
  EXPECT_NE(r.out.find("PASS " + GetParam()), std::string::npos) << r;
}

INSTANTIATE_TEST_SUITE_P(DockerApi, Scenario, ::testing::ValuesIn(scenario_names()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace mdcli
