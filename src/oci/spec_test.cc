#include "oci/spec.h"

#include <gtest/gtest.h>

namespace md::oci {
namespace {

const char* kMinimal = R"({"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"args":["sh"]}})";

TEST(SpecParse, Minimal) {
  auto s = parse_spec(kMinimal);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->root_path, "rootfs");
  ASSERT_TRUE(s->process);
  EXPECT_EQ(s->process->args[0], "sh");
  EXPECT_EQ(s->process->cwd, "/");
}

TEST(SpecParse, MalformedJsonNamesTheProblem) {
  auto s = parse_spec("{\"ociVersion\": ");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("invalid JSON"), std::string::npos);
}

TEST(SpecParse, UnknownMajorVersion) {
  auto s = parse_spec(R"({"ociVersion":"2.0.0","root":{"path":"r"}})");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("ociVersion"), std::string::npos);
  EXPECT_NE(s.error().message.find("2.0.0"), std::string::npos);
}

TEST(SpecParse, UnknownNamespaceNamesPathAndValue) {
  auto s = parse_spec(
      R"({"ociVersion":"1.0.0","root":{"path":"r"},"linux":{"namespaces":[{"type":"pid"},{"type":"bogus"}]}})");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("linux.namespaces[1].type"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("bogus"), std::string::npos);
}

TEST(SpecParse, UnknownCapability) {
  auto s = parse_spec(
      R"({"ociVersion":"1.0.0","root":{"path":"r"},"process":{"args":["x"],"capabilities":{"bounding":["CAP_KILL","CAP_FLY"]}}})");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("process.capabilities.bounding[1]"), std::string::npos);
  EXPECT_NE(s.error().message.find("CAP_FLY"), std::string::npos);
}

TEST(SpecParse, WrongTypeNamesField) {
  auto s = parse_spec(R"({"ociVersion":"1.0.0","root":{"path":"r"},"process":{"args":["x"],"user":{"uid":"0"}}})");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("process.user.uid"), std::string::npos);
}

TEST(SpecParse, FullLinuxSection) {
  auto s = parse_spec(R"({"ociVersion":"1.1.0","root":{"path":"/r","readonly":true},
    "hostname":"h","mounts":[{"destination":"/proc","type":"proc","source":"proc"}],
    "process":{"args":["x"],"rlimits":[{"type":"RLIMIT_NOFILE","hard":1024,"soft":1024}],"oomScoreAdj":100},
    "linux":{"namespaces":[{"type":"user"},{"type":"network","path":"/proc/1/ns/net"}],
      "uidMappings":[{"containerID":0,"hostID":1000,"size":1}],
      "resources":{"memory":{"limit":1048576},"pids":{"limit":10},"devices":[{"allow":false,"access":"rwm"}]},
      "seccomp":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":42}]},
      "personality":{"domain":"LINUX32"},"maskedPaths":["/proc/kcore"]}})");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_TRUE(s->root_readonly);
  EXPECT_EQ(s->process->rlimits[0].hard, 1024u);
  EXPECT_EQ(*s->process->oom_score_adj, 100);
  EXPECT_EQ(s->linux->namespaces[1].path, "/proc/1/ns/net");
  EXPECT_EQ(*s->linux->resources->memory->limit, 1048576);
  EXPECT_EQ(*s->linux->resources->pids_limit, 10);
  EXPECT_EQ(*s->linux->seccomp->syscalls[0].errno_ret, 42u);
  EXPECT_EQ(s->linux->personality->domain, "LINUX32");
}

TEST(SpecParse, SoftAboveHardRlimit) {
  auto s = parse_spec(
      R"({"ociVersion":"1.0.0","root":{"path":"r"},"process":{"args":["x"],"rlimits":[{"type":"RLIMIT_NOFILE","hard":10,"soft":20}]}})");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("process.rlimits[0]"), std::string::npos);
}

}  // namespace
}  // namespace md::oci
