#include "oci/features.h"

#include <algorithm>
#include <cstdio>
#include <memory>

#include <gtest/gtest.h>

#include "oci/capabilities.h"
#include "oci/spec.h"
#include "runtime/seccomp_compiler.h"

namespace md::oci {
namespace {

bool contains(const nlohmann::json& list, const std::string& v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

TEST(Features, HasTheSpecShape) {
  nlohmann::json f = features_json();
  EXPECT_EQ(f["ociVersionMin"], "1.0.0");
  EXPECT_EQ(f["ociVersionMax"], "1.2.0");
  EXPECT_EQ(f["hooks"].size(), 6u);
  EXPECT_TRUE(contains(f["mountOptions"], "rbind"));
  EXPECT_TRUE(f["linux"]["seccomp"]["enabled"].get<bool>());
  EXPECT_FALSE(f["linux"]["apparmor"]["enabled"].get<bool>());
  EXPECT_FALSE(f["linux"]["selinux"]["enabled"].get<bool>());
  EXPECT_TRUE(f["linux"]["cgroup"]["v1"].get<bool>());
  EXPECT_TRUE(f["linux"]["cgroup"]["v2"].get<bool>());
  EXPECT_FALSE(f["linux"]["cgroup"]["systemd"].get<bool>());
  EXPECT_TRUE(f["annotations"].contains("io.github.minidocker.version"));
}

TEST(Features, CapabilitiesAreOurTable) {
  nlohmann::json f = features_json();
  EXPECT_EQ(f["linux"]["capabilities"].get<std::vector<std::string>>(), all_capability_names());
}

TEST(Features, NamespacesAreOnesWeParse) {
  nlohmann::json f = features_json();
  // The seven of the seeds plus time (created by the parent around clone()).
  EXPECT_EQ(f["linux"]["namespaces"].size(), 8u);
  EXPECT_TRUE(contains(f["linux"]["namespaces"], "time"));
  for (const auto& ns : f["linux"]["namespaces"])
    EXPECT_TRUE(namespace_type_from_name(ns.get<std::string>())) << ns;
}

oci::Seccomp profile_with(std::string action, std::string op = "",
                          std::vector<std::string> archs = {}, std::vector<std::string> flags = {}) {
  oci::Seccomp s;
  s.default_action = action == "SCMP_ACT_ALLOW" ? "SCMP_ACT_ERRNO" : "SCMP_ACT_ALLOW";
  s.architectures = std::move(archs);
  s.flags = std::move(flags);
  oci::SeccompSyscall sc;
  sc.names = {"getcwd"};
  sc.action = std::move(action);
  if (!op.empty()) sc.args = {oci::SeccompArg{0, 1, 1, op}};
  s.syscalls = {sc};
  return s;
}

// The document must not promise what the compiler rejects.
TEST(Features, EverySeccompNameIsAcceptedByTheCompiler) {
  nlohmann::json sc = features_json()["linux"]["seccomp"];
  EXPECT_FALSE(contains(sc["actions"], "SCMP_ACT_NOTIFY"));
  for (const auto& a : sc["actions"]) {
    auto r = runtime::compile_seccomp(profile_with(a));
    EXPECT_TRUE(r) << a << ": " << r.error().message;
  }
  for (const auto& op : sc["operators"]) {
    auto r = runtime::compile_seccomp(profile_with("SCMP_ACT_ERRNO", op));
    EXPECT_TRUE(r) << op << ": " << r.error().message;
  }
  for (const auto& f : sc["knownFlags"]) {
    auto r = runtime::compile_seccomp(profile_with("SCMP_ACT_ERRNO", "", {}, {f}));
    EXPECT_TRUE(r) << f << ": " << r.error().message;
  }
  for (const auto& arch : sc["archs"]) {
    auto r = runtime::compile_seccomp(profile_with("SCMP_ACT_ERRNO", "", {arch}));
    // Recognised everywhere; combinable only with same-byte-order hosts.
    if (!r) {
      EXPECT_NE(r.error().message.find("different byte order"), std::string::npos)
          << arch << ": " << r.error().message;
    }
  }
}

TEST(Features, SupportedFlagsAreKnownFlagsTheKernelAccepts) {
  nlohmann::json sc = features_json()["linux"]["seccomp"];
  for (const auto& f : sc["supportedFlags"]) EXPECT_TRUE(contains(sc["knownFlags"], f)) << f;
  // TSYNC exists since Linux 3.17.
  EXPECT_TRUE(contains(sc["supportedFlags"], "SECCOMP_FILTER_FLAG_TSYNC"));
}

TEST(Features, MountOptionsAreOnesRuncAlsoKnows) {
  std::unique_ptr<FILE, int (*)(FILE*)> p(::popen("runc features 2>/dev/null", "r"), ::pclose);
  std::string out;
  char buf[4096];
  size_t n;
  while (p && (n = std::fread(buf, 1, sizeof buf, p.get())) > 0) out.append(buf, n);
  auto runc = nlohmann::json::parse(out, nullptr, false);
  if (runc.is_discarded() || !runc.contains("mountOptions")) GTEST_SKIP() << "no runc features";
  const nlohmann::json ours = features_json();
  for (const auto& o : ours["mountOptions"])
    EXPECT_TRUE(contains(runc["mountOptions"], o)) << o;
}

}  // namespace
}  // namespace md::oci
