// The seeds' REST API, WebSockets and /metrics end to end (docs/api-seeds.md): real
// containers through /api/*, events from the CLI over /api/ws, a terminal running echo.
#include "serve_client.h"

namespace mdcli {
namespace {

using namespace serve_client;

class ServeSeed : public ServeFixture {
 protected:
  // POST /api/containers with a running `sleep`; the container object.
  json create_running(const std::string& name, const std::string& command = "sleep 300") {
    HttpReply r = api("POST", "/api/containers", json{{"name", name}, {"image", "busybox"}, {"command", command}}.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return r.j();
  }
};

TEST_F(ServeSeed, CreateListLifecycleDelete) {
  std::string name = unique("seed");
  json body = {{"name", name},
               {"image", "busybox"},
               {"command", "sleep 300"},
               {"mem_limit", "64m"},
               {"cpu_limit", 0.5},
               {"pids_limit", 50},
               {"env_vars", {{"MODE", "test"}}},
               {"labels", {{"app", "seed"}}},
               {"restart_policy", "on-failure:2"},
               {"health_check", {{"command", "true"}, {"interval", 30}, {"timeout", 5}, {"retries", 2}}}};
  HttpReply r = api("POST", "/api/containers", body.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  json c = r.j();
  EXPECT_EQ(c.value("name", ""), name);
  EXPECT_EQ(c.value("status", ""), "running");
  EXPECT_EQ(c.value("mem_limit", 0), 64 << 20);
  EXPECT_DOUBLE_EQ(c.value("cpu_limit", 0.0), 0.5);
  EXPECT_EQ(c.value("pids_limit", 0), 50);
  EXPECT_EQ(c["env_vars"].value("MODE", ""), "test");
  EXPECT_EQ(c["labels"].value("app", ""), "seed");
  EXPECT_EQ(c.value("restart_policy", ""), "on-failure:2");
  EXPECT_EQ(c["health_check"].value("command", ""), "true");
  EXPECT_EQ(c["command"], json({"sh", "-c", "sleep 300"}));
  EXPECT_GT(c.value("pid", 0), 0);
  EXPECT_EQ(state(name), "running");  // the CLI sees the same container

  HttpReply list = api("GET", "/api/containers");
  ASSERT_EQ(list.status, 200);
  ASSERT_TRUE(list.j().is_array());
  bool found = false;
  for (auto& x : list.j()) found = found || x.value("name", "") == name;
  EXPECT_TRUE(found) << list.body;
  EXPECT_EQ(api("GET", "/api/containers/" + name).j().value("id", ""), c.value("id", ""));

  EXPECT_EQ(api("POST", "/api/containers/" + name + "/pause").j().value("status", ""), "paused");
  EXPECT_EQ(api("POST", "/api/containers/" + name + "/pause").status, 409);
  EXPECT_EQ(api("POST", "/api/containers/" + name + "/resume").j().value("status", ""), "running");
  HttpReply stopped = api("POST", "/api/containers/" + name + "/stop?t=1");
  EXPECT_EQ(stopped.status, 200) << stopped.body;
  EXPECT_EQ(stopped.j().value("status", ""), "exited");
  EXPECT_EQ(api("POST", "/api/containers/" + name + "/start").j().value("status", ""), "running");
  EXPECT_EQ(api("POST", "/api/containers/" + name + "/restart?t=1").j().value("status", ""), "running");

  HttpReply ex = api("POST", "/api/containers/" + name + "/exec", R"({"command":"echo out; echo err >&2; echo $MODE"})");
  ASSERT_EQ(ex.status, 200) << ex.body;
  EXPECT_EQ(ex.j().value("exit_code", -1), 0);
  EXPECT_EQ(ex.j().value("output", ""), "out\nerr\ntest\n");
  ex = api("POST", "/api/containers/" + name + "/exec", R"({"command":["sh","-c","exit 3"]})");
  EXPECT_EQ(ex.j().value("exit_code", -1), 3) << ex.body;

  HttpReply stats = api("GET", "/api/containers/" + name + "/stats");
  ASSERT_EQ(stats.status, 200) << stats.body;
  EXPECT_EQ(stats.j().value("memory_limit", 0), 64 << 20) << stats.body;
  EXPECT_GE(stats.j().value("pids", 0), 1);

  HttpReply iso = api("GET", "/api/containers/" + name + "/isolation");
  ASSERT_EQ(iso.status, 200) << iso.body;
  bool pid_ns_own = false;
  json isolation = iso.j();
  for (auto& n : isolation["namespaces"]) {
    EXPECT_FALSE(n["host_inode"].is_null()) << n;
    if (n.value("type", "") == "pid") pid_ns_own = !n.value("shared_with_host", true);
  }
  EXPECT_TRUE(pid_ns_own) << iso.body;
  EXPECT_FALSE(iso.j()["capabilities"]["effective"].empty());
  EXPECT_FALSE(iso.j()["mounts"].empty());

  HttpReply root = api("POST", "/api/containers/" + name + "/rootfs");
  EXPECT_TRUE(root.j().value("exists", false)) << root.body;

  // export → import under another name, not started.
  HttpReply exp = api("GET", "/api/containers/" + name + "/export");
  ASSERT_EQ(exp.status, 200);
  EXPECT_NE(exp.head.find("Content-Disposition: attachment"), std::string::npos) << exp.head;
  json cfg = exp.j();
  EXPECT_EQ(cfg.value("mem_limit", 0), 64 << 20);
  std::string copy = unique("copy");
  cfg["name"] = copy;
  cfg["start"] = false;
  HttpReply imp = api("POST", "/api/containers/import", cfg.dump());
  ASSERT_EQ(imp.status, 201) << imp.body;
  EXPECT_EQ(imp.j().value("status", ""), "created");
  EXPECT_EQ(imp.j().value("mem_limit", 0), 64 << 20);
  EXPECT_EQ(imp.j()["labels"].value("app", ""), "seed");

  EXPECT_EQ(api("DELETE", "/api/containers/" + name).status, 409);  // running, no force
  HttpReply del = api("DELETE", "/api/containers/" + name + "?force=1");
  EXPECT_EQ(del.status, 200) << del.body;
  EXPECT_EQ(del.j().value("deleted", ""), name);
  EXPECT_EQ(api("GET", "/api/containers/" + name).status, 404);
  EXPECT_EQ(api("DELETE", "/api/containers/" + copy).status, 200);
}

TEST_F(ServeSeed, LogsOfAContainer) {
  std::string name = unique("logs");
  HttpReply r = api("POST", "/api/containers",
                    json{{"name", name}, {"command", "echo one; echo two >&2; sleep 0.2; echo three; sleep 300"}}.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  json logs;
  ASSERT_TRUE(eventually([&] {
    logs = api("GET", "/api/containers/" + name + "/logs").j();
    return logs.contains("logs") && logs["logs"].size() >= 3;
  })) << logs;
  EXPECT_EQ(logs["logs"][0].value("text", ""), "one");
  EXPECT_EQ(logs["logs"][0].value("stream", ""), "stdout");
  bool err_line = false;
  for (auto& l : logs["logs"]) err_line = err_line || (l.value("text", "") == "two" && l.value("stream", "") == "stderr");
  EXPECT_TRUE(err_line) << logs;
  json tail = api("GET", "/api/containers/" + name + "/logs?tail=1").j();
  ASSERT_EQ(tail["logs"].size(), 1u) << tail;
  EXPECT_EQ(tail["logs"][0].value("text", ""), "three");
  md_ok({"rm", "-f", name});
}

TEST_F(ServeSeed, BadInputIs400NamingTheFieldAndCreatesNothing) {
  std::string name = unique("bad");
  struct Case {
    json body;
    std::string field;
  };
  std::vector<Case> cases = {{{{"name", name}, {"mem_limit", "lots"}}, "mem_limit"},
                             {{{"name", name}, {"cpu_limit", "half"}}, "cpu_limit"},
                             {{{"name", name}, {"ports", {"99999:80"}}}, "ports"},
                             {{{"name", name}, {"restart_policy", "sometimes"}}, "restart_policy"},
                             {{{"name", name}, {"command", 5}}, "command"},
                             {{{"name", name}, {"env_vars", 3}}, "env_vars"},
                             {{{"name", name}, {"volumes", {"nocolon"}}}, "volumes"},
                             {{{"name", name}, {"health_check", {{"interval", 3}}}}, "health_check"},
                             {{{"name", name}, {"colour", "red"}}, "colour"}};
  for (auto& c : cases) {
    HttpReply r = api("POST", "/api/containers", c.body.dump());
    EXPECT_EQ(r.status, 400) << c.body << " → " << r.body;
    EXPECT_NE(r.j().value("message", "").find(c.field), std::string::npos) << r.body;
  }
  HttpReply missing = api("POST", "/api/containers", json{{"name", name}, {"image", "no-such-image:1"}}.dump());
  EXPECT_EQ(missing.status, 404) << missing.body;
  EXPECT_EQ(api("GET", "/api/containers").j(), json::array());
  EXPECT_EQ(md_ok({"ps", "-aq"}), "");
  EXPECT_EQ(api("GET", "/api/containers/nope").status, 404);
  EXPECT_EQ(api("GET", "/api/containers/nope/isolation").status, 404);
}

TEST_F(ServeSeed, HealthTemplatesTopologyMetrics) {
  std::string name = unique("met");
  json c = create_running(name);
  json h = api("GET", "/api/health").j();
  EXPECT_EQ(h.value("status", ""), "ok");
  EXPECT_EQ(h.value("containers", 0), 1);
  EXPECT_EQ(h.value("running", 0), 1);

  HttpReply t = api("GET", "/api/templates");
  ASSERT_EQ(t.status, 200);
  ASSERT_TRUE(t.j().is_array());

  HttpReply topo = api("GET", "/api/topology");
  ASSERT_EQ(topo.status, 200) << topo.body;
  EXPECT_FALSE(topo.j()["networks"].empty());
  ASSERT_EQ(topo.j()["containers"].size(), 1u);
  EXPECT_EQ(topo.j()["containers"][0].value("name", ""), name);

  HttpReply m = api("GET", "/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.head.find("Content-Type: text/plain; version=0.0.4"), std::string::npos) << m.head;
  std::string id = c.value("id", "");
  EXPECT_NE(m.body.find("# TYPE minidocker_container_cpu_usage_seconds_total counter"), std::string::npos);
  EXPECT_NE(m.body.find("minidocker_container_cpu_usage_seconds_total{id=\"" + id + "\",name=\"" + name + "\",image=\"busybox\"}"),
            std::string::npos) << m.body;
  EXPECT_NE(m.body.find("minidocker_container_memory_usage_bytes{id=\"" + id), std::string::npos);
  EXPECT_NE(m.body.find("minidocker_container_state{id=\"" + id + "\",name=\"" + name + "\",image=\"busybox\",state=\"running\"} 1"),
            std::string::npos) << m.body;
  EXPECT_NE(m.body.find("minidocker_containers{state=\"running\"} 1\n"), std::string::npos) << m.body;
  md_ok({"rm", "-f", name});
}

// /api/ws: a container created from the CLI arrives as container_created, status_update
// follows, a subscribed container's output arrives as log_update, rm gives container_deleted.
TEST_F(ServeSeed, WebSocketEvents) {
  WsClient ws(connect_unix(sock_), "/api/ws");
  ASSERT_TRUE(ws.ok()) << ws.response();
  std::string name = unique("wsev");
  md_ok({"create", "--name", name, "busybox", "sh", "-c", "while true; do echo tick; sleep 0.2; done"});
  json created = ws.next_of_type("container_created");
  ASSERT_FALSE(created.is_null());
  EXPECT_EQ(created["container"].value("name", ""), name);
  EXPECT_EQ(created["container"].value("status", ""), "created");

  json status = ws.next_of_type("status_update");
  ASSERT_FALSE(status.is_null());
  ASSERT_TRUE(status["containers"].is_array());

  ASSERT_TRUE(ws.send_text(json{{"type", "subscribe_logs"}, {"name", name}}.dump()));
  md_ok({"start", name});
  json updated = ws.next_of_type("container_updated");
  ASSERT_FALSE(updated.is_null());
  json logs = ws.next_of_type("log_update");
  ASSERT_FALSE(logs.is_null());
  EXPECT_EQ(logs.value("name", ""), name);
  ASSERT_FALSE(logs["lines"].empty());
  EXPECT_EQ(logs["lines"][0].value("text", ""), "tick");

  md_ok({"rm", "-f", name});
  json deleted = ws.next_of_type("container_deleted");
  ASSERT_FALSE(deleted.is_null());
  EXPECT_EQ(deleted.value("name", ""), name);
}

// The terminal: a shell with a pty; typed input runs, output comes back as binary frames,
// and the socket closes with the exit code as its reason.
TEST_F(ServeSeed, TerminalRunsEcho) {
  std::string name = unique("term");
  create_running(name);
  WsClient ws(connect_unix(sock_), "/api/containers/" + name + "/terminal?cmd=sh&cols=100&rows=30");
  ASSERT_TRUE(ws.ok()) << ws.response();
  ASSERT_TRUE(ws.send_text(R"({"type":"resize","cols":120,"rows":40})"));
  ASSERT_TRUE(ws.send(2, "echo hello-$((40+2)); stty size\n"));
  std::string out;
  while (out.find("hello-42") == std::string::npos || out.find("40 120") == std::string::npos) {
    auto m = ws.next(30000);
    if (m.op != 2) break;
    out += m.data;
  }
  EXPECT_NE(out.find("hello-42"), std::string::npos) << out;
  EXPECT_NE(out.find("40 120"), std::string::npos) << out;
  ASSERT_TRUE(ws.send(2, "exit 7\n"));
  WsClient::Msg m;
  do m = ws.next(30000);
  while (m.op == 2);
  EXPECT_EQ(m.op, 8);
  EXPECT_EQ(m.data, "7");

  // A container that is not running has no terminal.
  md_ok({"stop", "-t", "1", name});
  WsClient refused(connect_unix(sock_), "/api/containers/" + name + "/terminal");
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.response().rfind("HTTP/1.1 409", 0), 0u) << refused.response();
  md_ok({"rm", "-f", name});
}

}  // namespace
}  // namespace mdcli
