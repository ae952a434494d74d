#include "engine/core/container_filter.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "base/file_util.h"

namespace md::engine {
namespace {

using store::ContainerState;

// An engine on a private temporary root with a few container rows (no processes: the
// rows are at rest, created or exited, so nothing reconciles them away).
class ContainerFilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/md-cfilter-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    EngineOptions o;
    o.root = dir_ + "/root";
    o.run_root = dir_ + "/run";
    auto e = Engine::open(o);
    ASSERT_TRUE(e) << e.error().message;
    e_ = std::move(*e);
    web_ = add("web", ContainerState::kExited, 0, {{"com.docker.compose.project", "demo"}, {"tier", "front"}}, 100);
    db_ = add("db-1", ContainerState::kExited, 3, {{"com.docker.compose.project", "demo"}}, 200);
    new_ = add("fresh", ContainerState::kCreated, 0, {}, 300);
  }
  void TearDown() override {
    e_.reset();
    (void)remove_tree(dir_);
  }

  store::Container add(const std::string& name, ContainerState s, int code, std::map<std::string, std::string> labels,
                       int64_t created) {
    store::Container c;
    c.name = name;
    c.image = "sha256:" + std::string(64, 'a');
    c.state = s;
    c.exit_code = code;
    c.created = created;
    c.labels = std::move(labels);
    c.config = {{"Image", "busybox"}, {"ExposedPorts", {{"80/tcp", nlohmann::json::object()}}}};
    c.host_config = {{"NetworkMode", "none"},
                     {"MountPoints", {{{"Type", "volume"}, {"Name", name + "-data"}, {"Destination", "/data"}}}}};
    auto r = e_->containers().create(c);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : c;
  }

  // Names of the rows that pass `raw`, in creation order.
  std::string pass(const FilterMap& raw) {
    auto f = parse_container_filters(*e_, raw);
    if (!f) return "error: " + f.error().message;
    std::string out;
    for (auto* c : {&web_, &db_, &new_})
      if (container_matches(*e_, *c, *f)) out += (out.empty() ? "" : ",") + c->name;
    return out;
  }

  std::string dir_;
  std::unique_ptr<Engine> e_;
  store::Container web_, db_, new_;
};

TEST_F(ContainerFilterTest, LabelsAreAndedAndComposeProjectsMatch) {
  EXPECT_EQ(pass({{"label", {"com.docker.compose.project=demo"}}}), "web,db-1");
  EXPECT_EQ(pass({{"label", {"com.docker.compose.project=demo", "tier=front"}}}), "web");
  EXPECT_EQ(pass({{"label", {"tier"}}}), "web");
  EXPECT_EQ(pass({{"label", {"com.docker.compose.project=other"}}}), "");
}

TEST_F(ContainerFilterTest, NameAndIdAreUnanchoredRegularExpressions) {
  EXPECT_EQ(pass({{"name", {"web"}}}), "web");
  EXPECT_EQ(pass({{"name", {"^/db"}}}), "db-1");
  EXPECT_EQ(pass({{"name", {"^/web$", "fresh"}}}), "web,fresh");  // values of one key: OR
  EXPECT_EQ(pass({{"name", {"e"}}}), "web,fresh");
  EXPECT_EQ(pass({{"name", {"[unclosed"}}}), "");                 // no match, no error
  EXPECT_EQ(pass({{"id", {db_.id.substr(0, 10)}}}), "db-1");
}

TEST_F(ContainerFilterTest, StatusExitedAndKeysCombineWithAnd) {
  EXPECT_EQ(pass({{"status", {"exited"}}}), "web,db-1");
  EXPECT_EQ(pass({{"status", {"created", "running"}}}), "fresh");
  EXPECT_EQ(pass({{"exited", {"3"}}}), "db-1");
  EXPECT_EQ(pass({{"exited", {"3"}}, {"name", {"web"}}}), "");
  auto f = parse_container_filters(*e_, {{"status", {"exited"}}});
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->implies_all);
  auto g = parse_container_filters(*e_, {{"label", {"x"}}});
  ASSERT_TRUE(g);
  EXPECT_FALSE(g->implies_all);
}

TEST_F(ContainerFilterTest, BeforeSinceAncestorVolumeExposeHealthIsTask) {
  EXPECT_EQ(pass({{"before", {"db-1"}}}), "web");
  EXPECT_EQ(pass({{"since", {"db-1"}}}), "fresh");
  EXPECT_EQ(pass({{"ancestor", {"busybox"}}}), "web,db-1,fresh");
  EXPECT_EQ(pass({{"ancestor", {"busybox:latest"}}}), "web,db-1,fresh");
  EXPECT_EQ(pass({{"ancestor", {"alpine"}}}), "");
  EXPECT_EQ(pass({{"volume", {"web-data"}}}), "web");
  EXPECT_EQ(pass({{"volume", {"/data"}}}), "web,db-1,fresh");
  EXPECT_EQ(pass({{"expose", {"80"}}}), "web,db-1,fresh");
  EXPECT_EQ(pass({{"expose", {"79-81/tcp"}}}), "web,db-1,fresh");
  EXPECT_EQ(pass({{"expose", {"80/udp"}}}), "");
  EXPECT_EQ(pass({{"publish", {"80"}}}), "");  // nothing runs, nothing is published
  EXPECT_EQ(pass({{"health", {"none"}}}), "web,db-1,fresh");
  EXPECT_EQ(pass({{"health", {"healthy"}}}), "");
  EXPECT_EQ(pass({{"is-task", {"false"}}}), "web,db-1,fresh");
  EXPECT_EQ(pass({{"is-task", {"true"}}}), "");
  EXPECT_EQ(pass({{"network", {"none"}}}), "web,db-1,fresh");
}

TEST_F(ContainerFilterTest, BadFiltersAreDockersErrors) {
  EXPECT_EQ(pass({{"colour", {"red"}}}), "error: invalid filter 'colour'");
  EXPECT_EQ(pass({{"status", {"sleeping"}}}), "error: invalid filter 'status=sleeping'");
  EXPECT_EQ(pass({{"health", {"ok"}}}), "error: Unrecognised filter value for health: ok");
  EXPECT_EQ(pass({{"exited", {"x"}}}), "error: strconv.Atoi: parsing \"x\": invalid syntax");
  EXPECT_EQ(pass({{"publish", {"1:2"}}}), "error: filter for 'publish' should not contain ':': 1:2");
  EXPECT_EQ(pass({{"before", {"nosuch"}}}), "error: No such container: nosuch");
  auto f = parse_container_filters(*e_, {{"since", {"nosuch"}}});
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().errno_value, ENOENT);
}

TEST(ContainerFilterPieces, PortRanges) {
  auto p = parse_port_filter("publish", "8000-8002/udp");
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, (std::set<std::string>{"8000/udp", "8001/udp", "8002/udp"}));
  EXPECT_FALSE(parse_port_filter("expose", "9-8"));
  EXPECT_FALSE(parse_port_filter("expose", "70000"));
  EXPECT_FALSE(parse_port_filter("expose", "80/xyz"));
}

TEST(ContainerFilterPieces, SummaryCommandQuotesArgumentsWithSpaces) {
  store::Container c;
  c.config = {{"Entrypoint", {"sh", "-c"}}, {"Cmd", {"echo hi; sleep 1", "x"}}};
  EXPECT_EQ(summary_command(c), "sh -c 'echo hi; sleep 1' x");
  c.config = {{"Cmd", {"/bin/my prog", "a"}}};
  EXPECT_EQ(summary_command(c), "/bin/my prog a");  // the path is never quoted
  c.config = nlohmann::json::object();
  EXPECT_EQ(summary_command(c), "");
}

TEST(ContainerFilterPieces, LabelsMatch) {
  std::map<std::string, std::string> l = {{"a", "1"}, {"b", ""}};
  EXPECT_TRUE(labels_match({}, l));
  EXPECT_TRUE(labels_match({"a", "b="}, l));
  EXPECT_FALSE(labels_match({"a=2"}, l));
  EXPECT_FALSE(labels_match({"c"}, l));
}

}  // namespace
}  // namespace md::engine
