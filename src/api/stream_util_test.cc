// The pure pieces of the streaming endpoints: detach keys, Docker's frames, event filters,
// the upgrade answer.
#include "api/stream_util.h"

#include <gtest/gtest.h>

#include "api/http_util.h"
#include "engine/core/follow.h"

namespace md::api {
namespace {

TEST(ApiStreams, DetachKeysDefaultAndCustom) {
  DetachKeys k;
  ASSERT_TRUE(k.parse(""));
  std::string out;
  EXPECT_FALSE(k.scan("ls\n", out));
  EXPECT_EQ(out, "ls\n");
  out.clear();
  EXPECT_TRUE(k.scan("a\x10\x11", out));  // ctrl-p ctrl-q
  EXPECT_EQ(out, "a");                   // the sequence itself is not passed on

  DetachKeys held;
  ASSERT_TRUE(held.parse(""));
  out.clear();
  EXPECT_FALSE(held.scan("x\x10", out));  // a partial match is held back…
  EXPECT_EQ(out, "x");
  EXPECT_FALSE(held.scan("y", out));  // …and let through once it is not the sequence
  EXPECT_EQ(out, "x\x10y");
  out.clear();
  EXPECT_TRUE(held.scan("\x10", out) || held.scan("\x11", out));

  DetachKeys custom;
  ASSERT_TRUE(custom.parse("ctrl-a,x"));
  out.clear();
  EXPECT_FALSE(custom.scan("\x10\x11", out));
  EXPECT_EQ(out, "\x10\x11");
  EXPECT_TRUE(custom.scan("\x01x", out));
  EXPECT_FALSE(DetachKeys().parse("ctrl-1"));
  EXPECT_FALSE(DetachKeys().parse("abc"));
  EXPECT_TRUE(DetachKeys().parse("ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_"));
}

TEST(ApiStreams, FrameReaderSplitsAndJoins) {
  std::string wire;
  put_frame(wire, false, "hello\n");
  put_frame(wire, true, "oops");
  put_frame(wire, false, "");
  FrameReader r;
  int stream = 0;
  std::string payload;
  r.feed(wire.data(), 3);  // a header cut in two
  EXPECT_FALSE(r.next(&stream, &payload));
  r.feed(wire.data() + 3, 10);
  EXPECT_FALSE(r.next(&stream, &payload));
  r.feed(wire.data() + 13, wire.size() - 13);
  ASSERT_TRUE(r.next(&stream, &payload));
  EXPECT_EQ(stream, 1);
  EXPECT_EQ(payload, "hello\n");
  ASSERT_TRUE(r.next(&stream, &payload));
  EXPECT_EQ(stream, 2);
  EXPECT_EQ(payload, "oops");
  ASSERT_TRUE(r.next(&stream, &payload));
  EXPECT_EQ(payload, "");
  EXPECT_FALSE(r.next(&stream, &payload));
}

TEST(ApiStreams, UpgradeAnswer) {
  Request q;
  EXPECT_EQ(attach_stream_response(q, false).status, 200);
  EXPECT_EQ(attach_stream_response(q, false).content_type, "application/vnd.docker.multiplexed-stream");
  q.headers = {{"connection", "Upgrade"}, {"upgrade", "tcp"}};
  Response r = attach_stream_response(q, true);
  EXPECT_EQ(r.status, 101);
  EXPECT_EQ(r.content_type, "application/vnd.docker.raw-stream");
}

TEST(ApiStreams, EventFilters) {
  engine::Event ev;
  ev.action = "exec_start: sh -c true";
  ev.id = "3f2a0000000000000000000000000000000000000000000000000000000000aa";
  ev.attributes = {{"name", "web"}, {"image", "busybox"}, {"tier", "front"}};
  auto j = engine::event_json(ev, 2000);
  engine::EventQuery q;
  EXPECT_TRUE(engine::event_matches(j, q));
  q.filters = {{"container", {"web"}}, {"event", {"exec_start"}}, {"label", {"tier=front"}}, {"type", {"container"}}};
  EXPECT_TRUE(engine::event_matches(j, q));
  q.filters = {{"container", {"3f2a"}}, {"image", {"busybox"}}};
  EXPECT_TRUE(engine::event_matches(j, q));
  q.filters = {{"container", {"db"}}};
  EXPECT_FALSE(engine::event_matches(j, q));
  q.filters = {{"label", {"tier=back"}}};
  EXPECT_FALSE(engine::event_matches(j, q));
  q.filters = {{"network", {"web"}}};
  EXPECT_FALSE(engine::event_matches(j, q));
  q.filters.clear();
  q.since_ns = 3000;
  EXPECT_FALSE(engine::event_matches(j, q));
  q.since_ns = 0;
  q.until_ns = 1000;
  EXPECT_FALSE(engine::event_matches(j, q));
}

}  // namespace
}  // namespace md::api
