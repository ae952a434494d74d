#include "oci/default_spec.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include <gtest/gtest.h>

#include "base/file_util.h"
#include "oci/spec.h"

namespace md::oci {
namespace {

// `runc spec [--rootless]` output, or nullopt when runc is not installed.
std::optional<nlohmann::json> runc_spec(bool rootless) {
  if (::access("/usr/sbin/runc", X_OK) != 0 && ::access("/usr/bin/runc", X_OK) != 0)
    return std::nullopt;
  char tmpl[] = "/tmp/md-default-spec-XXXXXX";
  if (!::mkdtemp(tmpl)) return std::nullopt;
  std::string dir = tmpl;
  std::string cmd = "cd " + dir + " && runc spec" + (rootless ? " --rootless" : "") +
                    " >/dev/null 2>&1";
  std::optional<nlohmann::json> out;
  if (std::system(cmd.c_str()) == 0)
    if (auto text = read_file(dir + "/config.json")) out = nlohmann::json::parse(*text);
  (void)remove_tree(dir);
  return out;
}

// Our documented differences from runc 1.1's template.
nlohmann::json as_runc_would(nlohmann::json ours) {
  ours["hostname"] = "runc";
  auto& ns = ours["linux"]["namespaces"];
  for (size_t i = 0; i < ns.size(); ++i)
    if (ns[i]["type"] == "cgroup") {
      ns.erase(i);
      break;
    }
  return ours;
}

TEST(DefaultSpec, ParsesWithOurOwnParser) {
  for (bool rootless : {false, true}) {
    auto spec = parse_spec(default_spec_text(rootless));
    ASSERT_TRUE(spec) << spec.error().message;
    ASSERT_TRUE(spec->process);
    EXPECT_EQ(spec->process->args, std::vector<std::string>{"sh"});
    EXPECT_TRUE(spec->process->terminal);
    EXPECT_TRUE(spec->process->no_new_privileges);
    EXPECT_EQ(spec->hostname, "minidocker");
    EXPECT_EQ(spec->root_path, "rootfs");
    EXPECT_TRUE(spec->root_readonly);
    ASSERT_TRUE(spec->linux);
    EXPECT_NE(spec->linux->find_namespace(NamespaceType::kCgroup), nullptr);
    EXPECT_EQ(spec->linux->find_namespace(NamespaceType::kNetwork) == nullptr, rootless);
    EXPECT_EQ(spec->linux->find_namespace(NamespaceType::kUser) != nullptr, rootless);
  }
}

TEST(DefaultSpec, TextKeepsRuncFieldOrder) {
  std::string text = default_spec_text(false);
  EXPECT_EQ(text.rfind("{\n\t\"ociVersion\": \"1.0.2-dev\",\n\t\"process\": {", 0), 0u) << text;
  EXPECT_LT(text.find("\"root\""), text.find("\"mounts\""));
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(nlohmann::json::parse(text), default_spec(false));
}

TEST(DefaultSpec, RootlessMapsTheCallingUser) {
  nlohmann::json j = default_spec(true);
  EXPECT_EQ(j["linux"]["uidMappings"][0]["hostID"], ::geteuid());
  EXPECT_EQ(j["linux"]["gidMappings"][0]["hostID"], ::getegid());
  EXPECT_EQ(j["linux"]["uidMappings"][0]["size"], 1);
  EXPECT_FALSE(j["linux"].contains("resources"));
  for (const auto& m : j["mounts"])
    for (const auto& o : m.value("options", nlohmann::json::array()))
      EXPECT_NE(o.get<std::string>().rfind("gid=", 0), 0u) << m.dump();
  EXPECT_EQ(j["mounts"][5]["destination"], "/sys");
  EXPECT_EQ(j["mounts"][5]["source"], "/sys");
}

TEST(DefaultSpec, MatchesRuncSpec) {
  auto runc = runc_spec(false);
  if (!runc) GTEST_SKIP() << "runc not installed";
  EXPECT_EQ(as_runc_would(default_spec(false)), *runc)
      << "ours:\n" << as_runc_would(default_spec(false)).dump(2) << "\nrunc:\n" << runc->dump(2);
}

TEST(DefaultSpec, MatchesRuncSpecRootless) {
  auto runc = runc_spec(true);
  if (!runc) GTEST_SKIP() << "runc not installed";
  EXPECT_EQ(as_runc_would(default_spec(true)), *runc)
      << "ours:\n" << as_runc_would(default_spec(true)).dump(2) << "\nrunc:\n" << runc->dump(2);
}

}  // namespace
}  // namespace md::oci
