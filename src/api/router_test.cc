#include "api/router.h"

#include <gtest/gtest.h>

#include "api/handlers.h"

namespace md::api {
namespace {

TEST(ApiRouter, StripsVersionPrefix) {
  EXPECT_EQ(strip_version("/v1.43/containers/json"), (std::pair<std::string, std::string>{"/containers/json", "1.43"}));
  EXPECT_EQ(strip_version("/v1.24/_ping").first, "/_ping");
  EXPECT_EQ(strip_version("/containers/json"), (std::pair<std::string, std::string>{"/containers/json", ""}));
  // Not a version: left alone.
  EXPECT_EQ(strip_version("/volumes/x").first, "/volumes/x");
  EXPECT_EQ(strip_version("/v1/containers").first, "/v1/containers");
  EXPECT_EQ(strip_version("/v1.x/containers").first, "/v1.x/containers");
  EXPECT_EQ(strip_version("/version").first, "/version");
  EXPECT_EQ(strip_version("/v1.43"), (std::pair<std::string, std::string>{"/", "1.43"}));
}

TEST(ApiRouter, MatchesPathParameters) {
  Router<int> r;
  r.add("GET", "/containers/json", 1);
  r.add("GET", "/containers/{id}/json", 2);
  r.add("POST", "/containers/{id}/start", 3);
  r.add("DELETE", "/containers/{id}", 4);

  auto m = r.match("GET", "/containers/json");
  ASSERT_TRUE(m);
  EXPECT_EQ(*m->handler, 1);  // the literal route wins: it was added first
  m = r.match("GET", "/containers/web/json");
  ASSERT_TRUE(m);
  EXPECT_EQ(*m->handler, 2);
  EXPECT_EQ(m->params.at("id"), "web");
  m = r.match("POST", "/containers/3f2a/start/");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->params.at("id"), "3f2a");
  m = r.match("DELETE", "/containers/a%20b");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->params.at("id"), "a b");
  // HEAD is served by GET routes.
  EXPECT_TRUE(r.match("HEAD", "/containers/json"));

  bool known = false;
  EXPECT_FALSE(r.match("POST", "/containers/x/json", &known));
  EXPECT_TRUE(known);
  EXPECT_FALSE(r.match("GET", "/nosuch", &known));
  EXPECT_FALSE(known);
  EXPECT_FALSE(r.match("GET", "/containers/x/json/extra"));
}

TEST(ApiRouter, RestParameterTakesSlashes) {
  Router<int> r;
  r.add("GET", "/images/json", 1);
  r.add("GET", "/images/{name*}/json", 2);
  r.add("POST", "/images/{name*}/tag", 3);
  r.add("DELETE", "/images/{name*}", 4);

  auto m = r.match("GET", "/images/json");
  ASSERT_TRUE(m);
  EXPECT_EQ(*m->handler, 1);
  m = r.match("GET", "/images/busybox/json");
  ASSERT_TRUE(m);
  EXPECT_EQ(*m->handler, 2);
  EXPECT_EQ(m->params.at("name"), "busybox");
  m = r.match("GET", "/images/localhost:5000/a/b:tag/json");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->params.at("name"), "localhost:5000/a/b:tag");
  // A name may end in a segment that is also the route's suffix.
  m = r.match("GET", "/images/a/json/json");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->params.at("name"), "a/json");
  m = r.match("POST", "/images/library/busybox%3Alatest/tag");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->params.at("name"), "library/busybox:latest");
  m = r.match("DELETE", "/images/sha256:3f2a");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->params.at("name"), "sha256:3f2a");
  m = r.match("DELETE", "/images/docker.io/library/busybox");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->params.at("name"), "docker.io/library/busybox");
  // The rest needs at least one segment, and the suffix must be there.
  EXPECT_FALSE(r.match("DELETE", "/images"));
  EXPECT_FALSE(r.match("POST", "/images/tag"));
  EXPECT_FALSE(r.match("GET", "/images/a/b/history"));
}

TEST(ApiRouter, ParsesQueries) {
  auto q = parse_query("all=1&filters=%7B%22status%22%3A%5B%22running%22%5D%7D&name=a+b&flag");
  EXPECT_EQ(q.at("all"), "1");
  EXPECT_EQ(q.at("filters"), "{\"status\":[\"running\"]}");
  EXPECT_EQ(q.at("name"), "a b");
  EXPECT_EQ(q.at("flag"), "");
  EXPECT_TRUE(parse_query("").empty());
  EXPECT_EQ(url_decode("%zz%4"), "%zz%4");  // malformed escapes are kept
}

TEST(ApiRouter, DockerRoutesAndErrors) {
  Router<Route> r;
  add_docker_routes(r);
  EXPECT_TRUE(r.match("HEAD", "/_ping"));
  auto m = r.match("POST", strip_version("/v1.43/containers/abc/wait").first);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->handler->run_on, RunOn::kOwnThread);
  EXPECT_EQ(m->params.at("id"), "abc");
  EXPECT_FALSE(r.match("GET", "/nosuch/endpoint"));

  auto nf = not_found_response();
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(nlohmann::json::parse(nf.body)["message"], "page not found");
  EXPECT_EQ(error_response(Error{ENOENT, "No such container: x"}).status, 404);
  EXPECT_EQ(error_response(Error{EEXIST, "in use"}).status, 409);
  EXPECT_EQ(error_response(Error{EBUSY, "running"}).status, 409);
  EXPECT_EQ(error_response(Error{EINVAL, "bad"}).status, 400);
  EXPECT_EQ(error_response(Error{EIO, "io"}).status, 500);
}

}  // namespace
}  // namespace md::api

namespace md::api {
TEST(ApiRouter, QueryAllKeepsRepeatedKeys) {
  auto all = parse_query_all("names=a&names=b%2Fc&x=1");
  ASSERT_EQ(all.count("names"), 2u);
  auto [from, to] = all.equal_range("names");
  EXPECT_EQ(from->second, "a");
  EXPECT_EQ(std::next(from)->second, "b/c");
  EXPECT_EQ(parse_query("names=a&names=b").at("names"), "b");
}
}  // namespace md::api
