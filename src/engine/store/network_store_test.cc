#include "engine/store/network_store.h"

#include <gtest/gtest.h>

#include "engine/store/container_store.h"
#include "engine/store/schema.h"
#include "engine/store/testing.h"

namespace md::store {
namespace {

TEST(StoreIpam, ParsesSubnetsStrictly) {
  auto s = parse_subnet("10.78.3.0/24");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->str(), "10.78.3.0/24");
  EXPECT_EQ(ipv4_str(s->broadcast()), "10.78.3.255");
  auto bad = parse_subnet("10.78.3.7/24");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("did you mean 10.78.3.0/24"), std::string::npos);
  EXPECT_FALSE(parse_subnet("10.78.3.0"));
  EXPECT_FALSE(parse_subnet("10.78.3.0/33"));
  EXPECT_FALSE(parse_subnet("nope/8"));
  EXPECT_FALSE(parse_subnet("10.0.0.0/31"));
}

TEST(StoreIpam, OverlapAndPick) {
  auto a = *parse_subnet("10.78.0.0/16"), b = *parse_subnet("10.78.5.0/24"), c = *parse_subnet("10.79.0.0/24");
  EXPECT_TRUE(a.overlaps(b));
  EXPECT_TRUE(b.overlaps(a));
  EXPECT_FALSE(a.overlaps(c));
  auto picked = pick_subnet(a, 24, {*parse_subnet("10.78.0.0/24"), *parse_subnet("10.78.1.0/24"), *parse_subnet("10.78.2.0/23")});
  ASSERT_TRUE(picked);
  EXPECT_EQ(picked->str(), "10.78.4.0/24");
  EXPECT_EQ(pick_subnet(*parse_subnet("10.78.0.0/24"), 24, {*parse_subnet("10.0.0.0/8")}).error().errno_value, ENOSPC);
}

class StoreNetworks : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(root_.ok());
    auto db = open_state_db(root_.path());
    ASSERT_TRUE(db) << db.error().message;
    db_ = std::move(*db);
  }
  std::string container(const std::string& name) {
    ContainerStore cs(db_);
    Container c;
    c.name = name;
    c.image = "sha256:" + std::string(64, 'e');
    auto made = cs.create(c);
    EXPECT_TRUE(made) << made.error().message;
    return made ? made->id : std::string();
  }
  testing::TempRoot root_;
  Database db_;
};

TEST_F(StoreNetworks, CreateGetRemove) {
  NetworkStore ns(db_);
  Network n;
  n.name = "front";
  n.bridge = "md-test0";
  n.subnet = "10.78.3.0/24";
  n.gateway = "10.78.3.1";
  auto made = ns.create(n);
  ASSERT_TRUE(made) << made.error().message;
  EXPECT_EQ(ns.get("front")->id, made->id);
  EXPECT_EQ(ns.get(made->id.substr(0, 6))->name, "front");
  EXPECT_EQ(ns.create(n).error().errno_value, EEXIST);
  EXPECT_EQ(ns.get("nope").error().message, "network nope not found");
  ASSERT_TRUE(ns.remove(made->id));
  EXPECT_FALSE(ns.get("front"));
}

TEST_F(StoreNetworks, AllocatesAddressesAndInterfaces) {
  NetworkStore ns(db_);
  Network n;
  n.name = "front";
  n.subnet = "10.78.3.0/29";
  n.gateway = "10.78.3.1";
  n = *ns.create(n);
  std::string a = container("ca"), b = container("cb");
  auto ea = ns.allocate_endpoint(a, n, "", {"web"});
  ASSERT_TRUE(ea) << ea.error().message;
  EXPECT_EQ(ea->ip, "10.78.3.2");
  EXPECT_EQ(ea->ifname, "eth0");
  EXPECT_EQ(ea->mac, "02:42:0a:4e:03:02");
  EXPECT_EQ(ns.allocate_endpoint(a, n, "", {}).error().errno_value, EEXIST);
  EXPECT_EQ(ns.allocate_endpoint(b, n, "10.78.3.2", {}).error().errno_value, EEXIST);
  EXPECT_EQ(ns.allocate_endpoint(b, n, "10.78.4.2", {}).error().errno_value, EINVAL);
  auto eb = ns.allocate_endpoint(b, n, "10.78.3.6", {});
  ASSERT_TRUE(eb);
  EXPECT_TRUE(eb->static_ip);
  // Network in use cannot go; the container's removal frees its address.
  EXPECT_EQ(ns.remove(n.id).error().errno_value, EBUSY);
  ASSERT_TRUE(ContainerStore(db_).remove(a));
  EXPECT_TRUE(ns.endpoints_of(a)->empty());
  std::string c = container("cc");
  EXPECT_EQ(ns.allocate_endpoint(c, n, "", {})->ip, "10.78.3.2");
  // /29: .2-.6 usable; .2 .6 taken → .3 .4 .5 then full.
  for (auto name : {"cd", "ce", "cf"}) ASSERT_TRUE(ns.allocate_endpoint(container(name), n, "", {}));
  EXPECT_EQ(ns.allocate_endpoint(container("cg"), n, "", {}).error().errno_value, ENOSPC);
}

TEST_F(StoreNetworks, ReservesPorts) {
  NetworkStore ns(db_);
  std::string a = container("ca"), b = container("cb");
  PublishedPort p{a, "tcp", "0.0.0.0", 8080, "10.78.3.2", 80};
  ASSERT_TRUE(ns.reserve_ports({p}, 40000, 40010, nullptr));
  PublishedPort q{b, "tcp", "127.0.0.1", 8080, "10.78.3.3", 80};
  auto clash = ns.reserve_ports({q}, 40000, 40010, nullptr);
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error().message, "Bind for 127.0.0.1:8080 failed: port is already allocated");
  q.proto = "udp";
  ASSERT_TRUE(ns.reserve_ports({q}, 40000, 40010, nullptr));
  PublishedPort r{b, "tcp", "0.0.0.0", 0, "10.78.3.3", 81};
  auto got = ns.reserve_ports({r, r}, 40000, 40010, [](const PublishedPort& x) { return x.host_port != 40000; });
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ((*got)[0].host_port, 40001);
  EXPECT_EQ((*got)[1].host_port, 40002);
  EXPECT_EQ(ns.ports_of(b)->size(), 3u);
  ASSERT_TRUE(ns.release_ports(b));
  EXPECT_EQ(ns.all_ports()->size(), 1u);
}

}  // namespace
}  // namespace md::store
