// Image config helpers: RFC 3339 times, `--change` instructions, chain ids, inspect shape.
#include "engine/image/image_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/image/sha256.h"

namespace md::image {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

TEST(ImageConfigTime, FormatsLikeGoRfc3339Nano) {
  EXPECT_EQ(format_rfc3339_nano(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339_nano(1700000000LL * 1000000000 + 120000000), "2023-11-14T22:13:20.12Z");
  EXPECT_EQ(format_rfc3339_nano(1700000000LL * 1000000000 + 1), "2023-11-14T22:13:20.000000001Z");
}

TEST(ImageConfigTime, ParsesOffsetsAndFractions) {
  EXPECT_EQ(*parse_rfc3339("2023-11-14T22:13:20Z"), 1700000000LL * 1000000000);
  EXPECT_EQ(*parse_rfc3339("2023-11-14T22:13:20.5Z"), 1700000000LL * 1000000000 + 500000000);
  EXPECT_EQ(*parse_rfc3339("2023-11-15T00:13:20+02:00"), 1700000000LL * 1000000000);
  EXPECT_EQ(*parse_rfc3339("2023-11-14T22:13:20.1234567891Z"),
            1700000000LL * 1000000000 + 123456789);
  EXPECT_FALSE(parse_rfc3339("2023-11-14 22:13:20"));
  EXPECT_FALSE(parse_rfc3339("yesterday"));
  auto now = unix_nanos_now();
  EXPECT_EQ(*parse_rfc3339(format_rfc3339_nano(now)), now);
}

json changed(std::vector<std::string> changes, json config = json::object()) {
  auto s = apply_changes(config, changes);
  EXPECT_TRUE(s) << s.error().message;
  return config;
}

TEST(ImageConfigChanges, CmdAndEntrypointForms) {
  EXPECT_EQ(changed({R"(CMD ["/bin/sh", "-c", "echo hi"])"})["Cmd"],
            json({"/bin/sh", "-c", "echo hi"}));
  EXPECT_EQ(changed({"CMD echo $HOME"})["Cmd"], json({"/bin/sh", "-c", "echo $HOME"}));
  EXPECT_EQ(changed({"cmd [not json"})["Cmd"], json({"/bin/sh", "-c", "[not json"}));
  // A new entrypoint drops an inherited command, unless CMD comes with it.
  json base = {{"Cmd", {"old"}}};
  EXPECT_TRUE(changed({R"(ENTRYPOINT ["/app"])"}, base)["Cmd"].is_null());
  json both = changed({R"(CMD ["x"])", R"(ENTRYPOINT ["/app"])"}, base);
  EXPECT_EQ(both["Cmd"], json({"x"}));
  EXPECT_EQ(both["Entrypoint"], json({"/app"}));
}

TEST(ImageConfigChanges, EnvFormsAndExpansion) {
  // As in a Dockerfile, one ENV's own assignments are not visible in its words: C sees the
  // A from before ("abc=bye def=$abc" gives def the old abc).
  json c = changed({"ENV A=0", "ENV A=1 B=\"two words\" C=$A-${A}", "ENV D the rest of line",
                    "ENV PATH=$PATH:/opt/bin", R"(ENV E='$A' F="\$A" G=${NOPE:-dflt} H=${A:+set})"},
                   {{"Env", {"PATH=/usr/bin"}}});
  EXPECT_EQ(c["Env"], json({"PATH=/usr/bin:/opt/bin", "A=1", "B=two words", "C=0-0",
                            "D=the rest of line", "E=$A", "F=$A", "G=dflt", "H=set"}));
  json bad = json::object();
  auto s = apply_changes(bad, {"ENV A=1 B"});
  ASSERT_FALSE(s);
  EXPECT_THAT(s.error().message, HasSubstr("can't find = in \"B\""));
  EXPECT_FALSE(apply_changes(bad, {"ENV =x"}));
}

TEST(ImageConfigChanges, TheOtherInstructions) {
  json c = changed({"WORKDIR /app", "WORKDIR sub/../src", "USER nobody:nogroup",
                    "EXPOSE 80 53/udp 8000-8002", "LABEL a=b \"c d\"=e", "VOLUME /data /logs",
                    R"(VOLUME ["/cache"])", "STOPSIGNAL SIGINT",
                    "HEALTHCHECK --interval=30s --retries=3 CMD curl -f http://localhost/"});
  EXPECT_EQ(c["WorkingDir"], "/app/src");
  EXPECT_EQ(c["User"], "nobody:nogroup");
  EXPECT_EQ(c["ExposedPorts"], json({{"80/tcp", json::object()},
                                     {"53/udp", json::object()},
                                     {"8000/tcp", json::object()},
                                     {"8001/tcp", json::object()},
                                     {"8002/tcp", json::object()}}));
  EXPECT_EQ(c["Labels"], json({{"a", "b"}, {"c d", "e"}}));
  EXPECT_EQ(c["Volumes"], json({{"/data", json::object()}, {"/logs", json::object()},
                                {"/cache", json::object()}}));
  EXPECT_EQ(c["StopSignal"], "SIGINT");
  EXPECT_EQ(c["Healthcheck"], json({{"Test", {"CMD-SHELL", "curl -f http://localhost/"}},
                                    {"Interval", 30000000000LL},
                                    {"Retries", 3}}));
  EXPECT_EQ(changed({"HEALTHCHECK NONE"})["Healthcheck"], json({{"Test", {"NONE"}}}));
}

TEST(ImageConfigChanges, RefusedInstructionsLeaveTheConfigAlone) {
  json c = {{"User", "me"}};
  for (std::string change : {"ONBUILD RUN make", "RUN make", "FROM busybox", "COPY a b",
                             "EXPOSE 99999", "EXPOSE 80/foo", "VOLUME \"\"", "HEALTHCHECK CMD"}) {
    auto s = apply_changes(c, {"USER other", change});
    ASSERT_FALSE(s) << change;
    EXPECT_EQ(s.error().errno_value, EINVAL);
    EXPECT_THAT(s.error().message, HasSubstr(change.substr(0, 4))) << s.error().message;
    EXPECT_EQ(c, json({{"User", "me"}})) << change;
  }
  auto s = apply_changes(c, {"ONBUILD RUN make"});
  EXPECT_THAT(s.error().message, HasSubstr("ONBUILD is not supported"));
}

TEST(ImageConfig, ChainIdsAreDockers) {
  std::string a = "sha256:" + std::string(64, 'a'), b = "sha256:" + std::string(64, 'b');
  auto c = chain_ids({a, b});
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0], a);
  EXPECT_EQ(c[1], sha256_digest(a + " " + b));
}

TEST(ImageConfig, InspectShapeHasEveryField) {
  auto c = inspect_container_config({{"Cmd", {"sh"}}, {"ExposedPorts", {{"80/tcp", json::object()}}}});
  std::vector<std::string> keys;
  for (auto& [k, v] : c.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"Hostname", "Domainname", "User", "AttachStdin",
                                            "AttachStdout", "AttachStderr", "ExposedPorts", "Tty",
                                            "OpenStdin", "StdinOnce", "Env", "Cmd", "Image",
                                            "Volumes", "WorkingDir", "Entrypoint", "OnBuild",
                                            "Labels"}));
  EXPECT_TRUE(c["Env"].is_null());
  EXPECT_EQ(c["Cmd"], nlohmann::ordered_json({"sh"}));
}

}  // namespace
}  // namespace md::image
