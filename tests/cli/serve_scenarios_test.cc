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

#include "serve_client.h"

namespace mdcli {
namespace {


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

class Scenario : public serve_client::ServeFixture, public ::testing::WithParamInterface<std::string> {
 protected:
  bool needs_docker() override { return true; }
};

TEST_P(Scenario, PassesWithRealClients) {
  Out r = run_process({"env", "DOCKER_HOST=unix://" + sock_, "DOCKER_CONFIG=" + config_, "bash", scenarios_script(), GetParam()},
                      "", std::chrono::seconds(280));
  EXPECT_TRUE(r.ok()) << r << "\nserver log:\n" << read_text(root_ + "/serve.log");
  EXPECT_NE(r.out.find("PASS " + GetParam()), std::string::npos) << r;
}

INSTANTIATE_TEST_SUITE_P(DockerApi, Scenario, ::testing::ValuesIn(scenario_names()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace mdcli
