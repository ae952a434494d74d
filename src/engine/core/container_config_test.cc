#include "engine/core/container_config.h"

#include <gtest/gtest.h>

namespace md::engine {
namespace {

using nlohmann::json;

store::Image image_with(json config) {
  store::Image img;
  img.id = "sha256:" + std::string(64, 'a');
  img.config = json{{"config", config}}.dump();
  return img;
}

TEST(ContainerConfig, ImageDefaultsAndOverrides) {
  auto img = image_with({{"Env", {"PATH=/bin", "A=image"}}, {"Cmd", {"sh"}}, {"WorkingDir", "/srv"},
                         {"Labels", {{"from", "image"}}}});
  auto r = resolve_config({{"Image", "busybox"}, {"Env", {"A=user", "B=2"}}, {"Labels", {{"mine", "1"}}}}, img);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->config["Cmd"], json({"sh"}));
  EXPECT_EQ(r->config["Env"], json({"PATH=/bin", "A=user", "B=2"}));
  EXPECT_EQ(r->config["WorkingDir"], "/srv");
  EXPECT_EQ(r->config["Labels"], json({{"from", "image"}, {"mine", "1"}}));
  EXPECT_EQ(r->host_config["NetworkMode"], "default");
  EXPECT_EQ(r->host_config["RestartPolicy"]["Name"], "no");
}

TEST(ContainerConfig, EntrypointDropsImageCmd) {
  auto img = image_with({{"Entrypoint", {"/init"}}, {"Cmd", {"serve"}}});
  auto keep = resolve_config({{"Image", "x"}}, img);
  ASSERT_TRUE(keep);
  EXPECT_EQ(keep->config["Entrypoint"], json({"/init"}));
  EXPECT_EQ(keep->config["Cmd"], json({"serve"}));
  auto over = resolve_config({{"Image", "x"}, {"Entrypoint", {"/bin/sh"}}}, img);
  ASSERT_TRUE(over);
  EXPECT_EQ(over->config["Entrypoint"], json({"/bin/sh"}));
  EXPECT_TRUE(over->config["Cmd"].is_null());
  auto none = resolve_config({{"Image", "x"}}, image_with(json::object()));
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message, "no command specified");
}

TEST(ContainerConfig, DockerChecks) {
  auto img = image_with({{"Cmd", {"sh"}}});
  auto check = [&](json hc) {
    auto r = resolve_config({{"Image", "x"}, {"HostConfig", hc}}, img);
    return r ? std::string() : r.error().message;
  };
  EXPECT_EQ(check({{"Memory", 1024}}), "Minimum memory limit allowed is 6MB");
  EXPECT_EQ(check({{"Memory", 64 << 20}, {"MemorySwap", 32 << 20}}),
            "Minimum memoryswap limit should be larger than memory limit, see usage");
  EXPECT_NE(check({{"NanoCpus", int64_t(1000) * 1000000000}}).find("Range of CPUs is from 0.01"), std::string::npos);
  EXPECT_EQ(check({{"RestartPolicy", {{"Name", "sometimes"}}}}), "invalid restart policy 'sometimes'");
  EXPECT_EQ(check({{"RestartPolicy", {{"Name", "always"}}}, {"AutoRemove", true}}),
            "can't create 'AutoRemove' container with restart policy");
  EXPECT_EQ(check({{"NetworkMode", "bridge"}}), "");
  EXPECT_EQ(check({{"NetworkMode", "container:x"}, {"PortBindings", {{"80/tcp", json::array()}}}}),
            "conflicting options: port publishing and the container type network mode");
  EXPECT_NE(check({{"IpcMode", "nonsense"}}).find("invalid IpcMode"), std::string::npos);
  EXPECT_EQ(check({{"Memory", 64 << 20}}), "");
}

TEST(ContainerConfig, RestartPolicyString) {
  EXPECT_EQ(restart_policy_string({{"RestartPolicy", {{"Name", "on-failure"}, {"MaximumRetryCount", 3}}}}), "on-failure:3");
  EXPECT_EQ(restart_policy_string({{"RestartPolicy", {{"Name", "always"}}}}), "always");
  EXPECT_EQ(restart_policy_string(json::object()), "no");
}

}  // namespace
}  // namespace md::engine
