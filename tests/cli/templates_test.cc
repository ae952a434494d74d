// The seeds' template format through the CLI: run --config, container export-config, and
// the round trip between them.
#include <fstream>

#include "cli_harness.h"

namespace mdcli {
namespace {

using Templates = Cli;

TEST_F(Templates, RunConfigAndExportRoundTrip) {
  std::string dir = root_ + "/tpl";
  ASSERT_TRUE(run_process({"mkdir", "-p", dir}).ok());
  std::string name = unique("seed");
  {
    std::ofstream f(dir + "/c.yaml");
    f << "name: " << name << "\nimage: busybox\ncommand: sleep 1000\nmem_limit_mb: 64\ncpu_limit_percent: 50\n"
      << "env_vars:\n  MODE: production\nrestart_policy: on-failure:2\n"
      << "health_check:\n  command: \"true\"\n  interval: 1s\n  retries: 2\n";
  }
  md_ok({"run", "-d", "--config", dir + "/c.yaml"});
  json j = inspect(name);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["HostConfig"]["Memory"], 64 * 1024 * 1024);
  EXPECT_EQ(j["HostConfig"]["NanoCpus"], 500000000);
  EXPECT_EQ(j["HostConfig"]["RestartPolicy"]["Name"], "on-failure");
  EXPECT_EQ(md_ok({"exec", name, "sh", "-c", "echo $MODE"}), "production");
  md_ok({"container", "export-config", "-o", dir + "/out.yaml", name});
  md_ok({"rm", "-f", name});
  // The exported file creates the same container again.
  md_ok({"run", "-d", "--config", dir + "/out.yaml"});
  json k = inspect(name);
  ASSERT_TRUE(k.is_object());
  for (auto key : {"Memory", "NanoCpus", "RestartPolicy"}) EXPECT_EQ(k["HostConfig"][key], j["HostConfig"][key]) << key;
  EXPECT_EQ(k["Config"]["Cmd"], j["Config"]["Cmd"]);
  EXPECT_EQ(k["Config"]["Env"], j["Config"]["Env"]);
  EXPECT_EQ(k["Config"]["Healthcheck"], j["Config"]["Healthcheck"]);
  Out json_out = md({"container", "export-config", "--format", "json", name});
  ASSERT_TRUE(json_out.ok()) << json_out;
  EXPECT_EQ(json::parse(json_out.out)["name"], name);
}

TEST_F(Templates, BadTemplateIsAClearError) {
  std::string path = root_ + "/bad.yaml";
  { std::ofstream(path) << "name: bad-one\nimage: busybox\nmem_limit_mb: lots\n"; }
  Out r = md({"run", "--rm", "--config", path});
  EXPECT_EQ(r.code, 125) << r;
  EXPECT_NE(r.err.find("mem_limit_mb"), std::string::npos) << r;
  EXPECT_EQ(md_ok({"ps", "-aq"}), "");
}

}  // namespace
}  // namespace mdcli
