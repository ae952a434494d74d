#include "cli/common/seed_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "base/file_util.h"
#include "cli/common/run_flags.h"

namespace md::cli {
namespace {

using nlohmann::json;

std::string err(const auto& r) { return r ? std::string("<ok>") : r.error().message; }

// Two CPUs, whatever machine runs the tests.
Result<SeedTemplate> parse(const std::string& text) {
  return parse_seed_template(text, SeedParseOptions{"template", 2});
}

// What the engine's inspect shows for a body (no image defaults): Config = body minus
// HostConfig, HostConfig = body.HostConfig, Name = "/" + name.
json inspect_of(const json& body, const std::string& name) {
  json config = body;
  config.erase("HostConfig");
  return json{{"Name", "/" + name}, {"Config", config}, {"HostConfig", body["HostConfig"]}};
}

const char* kFull = R"(# a health-checked web server
name: web
image: busybox
command: httpd -f -p 8080 -h /www
mem_limit_mb: 64
cpu_limit_percent: 50
ports:
  - "8080:8080"
  - "127.0.0.1:9000:9000/udp"
volumes:
  - /srv/www:/www:ro
  - cache:/cache
env_vars:
  MODE: production
  PORT: 8080
restart_policy: on-failure:3
health_check:
  command: wget -q -O /dev/null http://127.0.0.1:8080/
  interval: 30s
  timeout: 5
  retries: 3
  start_period: 1.5
description: ignored
)";

TEST(SeedConfig, ParsesEveryField) {
  auto t = parse(kFull);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->name, "web");
  EXPECT_EQ(t->image, "busybox");
  EXPECT_EQ(t->command, "httpd -f -p 8080 -h /www");
  EXPECT_EQ(t->mem_limit_mb, 64);
  EXPECT_EQ(t->cpu_limit_percent, 50);
  EXPECT_EQ(t->ports, (std::vector<std::string>{"8080:8080", "127.0.0.1:9000:9000/udp"}));
  EXPECT_EQ(t->volumes, (std::vector<std::string>{"/srv/www:/www:ro", "cache:/cache"}));
  using Env = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(t->env_vars, (Env{{"MODE", "production"}, {"PORT", "8080"}}));
  EXPECT_EQ(t->restart_policy, "on-failure:3");
  ASSERT_TRUE(t->has_health);
  EXPECT_EQ(t->health.command, "wget -q -O /dev/null http://127.0.0.1:8080/");
  EXPECT_EQ(t->health.interval, "30s");
  EXPECT_EQ(t->health.timeout, "5s");  // plain numbers are seconds
  EXPECT_EQ(t->health.start_period, "1.5s");
  EXPECT_EQ(t->health.retries, 3);
  EXPECT_FALSE(t->health.exec_form);
}

// The seeds' own examples (000's my-container.yaml, 004's export) read as they are written.
TEST(SeedConfig, SeedExamples) {
  auto t = parse(R"(name: webserver
command: python -m http.server 8080
mem_limit_mb: 200
cpu_limit_percent: 50
ports:
  - "8080:8080"
volumes:
  - "./data:/app/data"
env_vars:
  MODE: production
restart_policy: always
)");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->volumes, std::vector<std::string>{"./data:/app/data"});
  EXPECT_EQ(t->restart_policy, "always");

  const char* exported = R"({
  "name": "my-web-server",
  "command": "python -m http.server 8000",
  "mem_limit_mb": 100,
  "cpu_limit_percent": 50,
  "volumes": ["C:\\Data:/app/data"],
  "env_vars": {"PORT": "8000"},
  "exported_at": "2026-01-06 12:00:00"
})";
  EXPECT_EQ(err(parse(exported)),
            "template: volumes[0]: invalid volume \"C:\\\\Data:/app/data\": Windows paths are not "
            "supported; use a Linux path such as /srv/data:/app/data");
  std::string linux_export = exported;
  linux_export.replace(linux_export.find("C:\\\\Data"), 8, "/data");
  auto e = parse(linux_export);
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->exported_at, "2026-01-06 12:00:00");
  EXPECT_EQ(e->volumes, std::vector<std::string>{"/data:/app/data"});
}

TEST(SeedConfig, JsonKeepsEnvOrderAndTypes) {
  auto t = parse(R"({"image": "busybox", "env_vars": {"Z": "1", "A": 2, "M": true},
                    "command": ["echo", "a b", "it's"]})");
  ASSERT_TRUE(t) << t.error().message;
  using Env = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(t->env_vars, (Env{{"Z", "1"}, {"A", "2"}, {"M", "true"}}));
  EXPECT_EQ(t->command, "echo 'a b' \"it's\"");
  EXPECT_EQ(*seed_command_argv(t->command), (std::vector<std::string>{"echo", "a b", "it's"}));
}

TEST(SeedConfig, EnvAsDockerList) {
  auto t = parse("image: busybox\nenv_vars:\n  - A=1\n  - B=x=y\n  - C=\n");
  ASSERT_TRUE(t) << t.error().message;
  using Env = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(t->env_vars, (Env{{"A", "1"}, {"B", "x=y"}, {"C", ""}}));
}

TEST(SeedConfig, CommandSplitting) {
  using V = std::vector<std::string>;
  struct {
    const char* in;
    V want;
  } cases[] = {
      {"sleep 10", {"sleep", "10"}},
      {"  httpd   -f  -p 80 ", {"httpd", "-f", "-p", "80"}},
      {"python -c \"print('Hello')\"", {"python", "-c", "print('Hello')"}},
      {"echo 'a  b' \"c \\\" d\" e\\ f", {"echo", "a  b", "c \" d", "e f"}},
      {"echo \"back\\slash\" ''", {"echo", "back\\slash", ""}},
      {"echo a#b x~y --opt=1", {"echo", "a#b", "x~y", "--opt=1"}},
      {"echo '$HOME' '*'", {"echo", "$HOME", "*"}},
      {"", {}},
      // Only a shell can do these: the command runs as /bin/sh -c.
      {"echo hi | tr a-z A-Z", {"/bin/sh", "-c", "echo hi | tr a-z A-Z"}},
      {"while true; do date; sleep 5; done", {"/bin/sh", "-c", "while true; do date; sleep 5; done"}},
      {"echo $HOME", {"/bin/sh", "-c", "echo $HOME"}},
      {"echo \"$HOME\"", {"/bin/sh", "-c", "echo \"$HOME\""}},
      {"ls *.txt", {"/bin/sh", "-c", "ls *.txt"}},
      {"cat < in > out", {"/bin/sh", "-c", "cat < in > out"}},
      {"a && b", {"/bin/sh", "-c", "a && b"}},
      {"echo `date`", {"/bin/sh", "-c", "echo `date`"}},
      {"echo hi # comment", {"/bin/sh", "-c", "echo hi # comment"}},
      {"ls ~/x", {"/bin/sh", "-c", "ls ~/x"}},
      {"MODE=x env", {"/bin/sh", "-c", "MODE=x env"}},
      {"if true; then echo y; fi", {"/bin/sh", "-c", "if true; then echo y; fi"}},
      {"echo a\necho b", {"/bin/sh", "-c", "echo a\necho b"}},
  };
  for (auto& c : cases) {
    auto r = seed_command_argv(c.in);
    ASSERT_TRUE(r) << c.in << ": " << r.error().message;
    EXPECT_EQ(*r, c.want) << c.in;
  }
  EXPECT_EQ(err(seed_command_argv("echo 'hi")),
            "unterminated single quote in \"echo 'hi\"; close it, or escape it with \\");
  EXPECT_EQ(err(parse("command: echo \"hi\n")),
            "template: command: unterminated double quote in \"echo \\\"hi\"; close it, or escape "
            "it with \\");
}

// Any argv survives quoting and splitting, without a shell.
TEST(SeedConfig, QuoteArgvInverse) {
  using V = std::vector<std::string>;
  V cases[] = {
      {"sleep", "10"},
      {"/bin/sh", "-c", "sleep 10"},
      {"/bin/sh", "-c", "echo $HOME | cat"},
      {"echo", "", "it's", "a\"b", "back\\slash", "$x", "`y`", "*", "#", "~", "a\nb", "\t"},
      {"if", "then"},
      {"A=1", "env"},
      {"--opt=1", "x=y", "a:b,c@d%e+f"},
      {"{", "}", "!", "[[", "semi;colon"},
  };
  for (auto& v : cases) {
    std::string q = seed_quote_argv(v);
    auto back = seed_command_argv(q);
    ASSERT_TRUE(back) << q;
    EXPECT_EQ(*back, v) << q;
  }
  EXPECT_EQ(seed_quote_argv({"httpd", "-f", "-p", "8080"}), "httpd -f -p 8080");
  EXPECT_EQ(seed_quote_argv({"/bin/sh", "-c", "sleep 10"}), "/bin/sh -c 'sleep 10'");
}

TEST(SeedConfig, CreateBody) {
  auto t = parse(kFull);
  ASSERT_TRUE(t);
  json b = seed_template_to_create_body(*t, "/etc/web");
  json want = json::parse(R"({
    "Image": "busybox",
    "Cmd": ["httpd", "-f", "-p", "8080", "-h", "/www"],
    "Env": ["MODE=production", "PORT=8080"],
    "ExposedPorts": {"8080/tcp": {}, "9000/udp": {}},
    "Healthcheck": {"Test": ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8080/"],
                    "Interval": 30000000000, "Timeout": 5000000000,
                    "StartPeriod": 1500000000, "Retries": 3},
    "HostConfig": {
      "Memory": 67108864,
      "NanoCpus": 500000000,
      "PortBindings": {"8080/tcp": [{"HostIp": "", "HostPort": "8080"}],
                       "9000/udp": [{"HostIp": "127.0.0.1", "HostPort": "9000"}]},
      "Binds": ["/srv/www:/www:ro", "cache:/cache"],
      "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3}
    }
  })");
  EXPECT_EQ(b, want) << b.dump(2);

  // Nothing set: only the image, HostConfig stays an (empty) object.
  EXPECT_EQ(seed_template_to_create_body(*parse("image: busybox"), ""),
            json::parse(R"({"Image": "busybox", "HostConfig": {}})"));
  // Two host ports for one container port; a container port alone; exec-form health check.
  auto two = parse(R"(image: busybox
ports: ["8080:80", "8081:80", "53/udp", "[::1]:8443:443", "127.0.0.1::7000"]
health_check:
  command: [wget, -q, "http://x/a b"]
)");
  ASSERT_TRUE(two) << two.error().message;
  json b2 = seed_template_to_create_body(*two, "");
  EXPECT_EQ(b2["HostConfig"]["PortBindings"],
            json::parse(R"({"80/tcp": [{"HostIp": "", "HostPort": "8080"}, {"HostIp": "", "HostPort": "8081"}],
                            "53/udp": [{"HostIp": "", "HostPort": ""}],
                            "443/tcp": [{"HostIp": "::1", "HostPort": "8443"}],
                            "7000/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]})"));
  EXPECT_EQ(b2["Healthcheck"], json::parse(R"({"Test": ["CMD", "wget", "-q", "http://x/a b"]})"));
  // health_check: none turns the image's check off.
  EXPECT_EQ(seed_template_to_create_body(*parse("image: b\nhealth_check: none"), "")["Healthcheck"],
            json::parse(R"({"Test": ["NONE"]})"));
  // on-failure without a count; "no" is Docker's default and sets nothing.
  EXPECT_EQ(seed_template_to_create_body(*parse("restart_policy: on-failure"), "")["HostConfig"]["RestartPolicy"],
            json::parse(R"({"Name": "on-failure", "MaximumRetryCount": 0})"));
  EXPECT_EQ(seed_template_to_create_body(*parse("restart_policy: no"), "")["HostConfig"], json::object());
  EXPECT_EQ(seed_template_to_create_body(*parse("cpu_limit_percent: 12.5"), "")["HostConfig"]["NanoCpus"],
            125000000);
  EXPECT_EQ(seed_template_to_create_body(*parse("cpu_limit_percent: 200"), "")["HostConfig"]["NanoCpus"],
            2000000000);
}

TEST(SeedConfig, RelativeVolumesAgainstTemplateDir) {
  auto t = parse(R"(volumes:
  - ./data:/app/data
  - ../logs:/var/log:rw
  - data/sub:/sub
  - .:/src:ro
  - named:/cache
  - /abs/./x/:/abs
)");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(seed_template_to_create_body(*t, "/etc/app")["HostConfig"]["Binds"],
            json::parse(R"(["/etc/app/data:/app/data", "/etc/logs:/var/log:rw", "/etc/app/data/sub:/sub",
                            "/etc/app:/src:ro", "named:/cache", "/abs/x:/abs"])"));
  // No directory given: the current one.
  char cwd[4096];
  ASSERT_TRUE(::getcwd(cwd, sizeof cwd));
  EXPECT_EQ(seed_template_to_create_body(*t, "")["HostConfig"]["Binds"][0],
            std::string(cwd == std::string("/") ? "" : cwd) + "/data:/app/data");
}

// template → create body → inspect → template: the same template.
TEST(SeedConfig, RoundTripThroughInspect) {
  auto t = parse(kFull);
  ASSERT_TRUE(t);
  json body = seed_template_to_create_body(*t, "/etc/web");
  SeedTemplate back = seed_template_from_inspect(inspect_of(body, "web"));
  EXPECT_EQ(back, *t) << seed_template_to_yaml(back);

  const char* others[] = {
      "name: w1\nimage: busybox\n",
      "name: w2\nimage: busybox\ncommand: while true; do date; sleep 5; done\nrestart_policy: always\n",
      "name: w3\nimage: busybox\ncommand: [sh, -c, sleep 10]\nrestart_policy: unless-stopped\n",
      "name: w4\nimage: busybox\ncommand: echo 'a b' \"c\"\ncpu_limit_percent: 33.3\nmem_limit_mb: 6\n",
      "name: w5\nimage: busybox\nports: [\"80\", \"8081:80\", \"8080:80\", \"[::1]:53:53/udp\"]\n",
      "name: w6\nimage: busybox\nhealth_check: none\n",
      "name: w7\nimage: busybox\nhealth_check:\n  command: [\"true\"]\n  interval: 1m30s\n",
      "name: w8\nimage: busybox\nhealth_check:\n  interval: 10s\n  retries: 5\n",
      "name: w9\nimage: busybox\nrestart_policy: on-failure\nenv_vars: {EMPTY: \"\", X: \"a=b\"}\n",
  };
  for (auto* text : others) {
    auto o = parse(text);
    ASSERT_TRUE(o) << text << o.error().message;
    SeedTemplate b = seed_template_from_inspect(inspect_of(seed_template_to_create_body(*o, "/"), o->name));
    // Ports come back sorted by container port (PortBindings is a map).
    if (o->name == "w5") {
      EXPECT_EQ(b.ports, (std::vector<std::string>{"[::1]:53:53/udp", "80", "8081:80", "8080:80"}));
      b.ports = o->ports;
    }
    // The same argv; quoting may be written differently ('a b' "c" → 'a b' c).
    EXPECT_EQ(*seed_command_argv(b.command), *seed_command_argv(o->command)) << text;
    if (o->name == "w4") b.command = o->command;
    EXPECT_EQ(b, *o) << text << "\n" << seed_template_to_yaml(b);
  }
  // The seeds' way of quoting comes back as written.
  auto py = parse("command: python -c \"print('Hello')\"\n");
  EXPECT_EQ(seed_template_from_inspect(inspect_of(seed_template_to_create_body(*py, ""), "p")).command,
            "python -c \"print('Hello')\"");
  // Relative volumes come back absolute: the exported template works from anywhere.
  auto rel = parse("image: busybox\nvolumes: [./www:/www:ro]\n");
  auto rb = seed_template_from_inspect(inspect_of(seed_template_to_create_body(*rel, "/etc/web"), "x"));
  EXPECT_EQ(rb.volumes, std::vector<std::string>{"/etc/web/www:/www:ro"});
}

// What the real engine's inspect adds (image Env, Cmd, Healthcheck; RestartPolicy "no"; zeros)
// is left out when the image's config is given.
TEST(SeedConfig, FromInspectLeavesOutImageDefaults) {
  json inspect = json::parse(R"({
    "Name": "/worker",
    "Config": {"Image": "busybox", "Cmd": ["sh"], "Entrypoint": null,
               "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "JOB=x"],
               "Healthcheck": {"Test": ["CMD-SHELL", "true"], "Interval": 0, "Timeout": 0,
                               "StartPeriod": 0, "Retries": 0}},
    "HostConfig": {"Memory": 0, "NanoCpus": 0, "CpuQuota": 0, "CpuPeriod": 0, "Binds": null,
                   "PortBindings": {}, "Mounts": null,
                   "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0}}
  })");
  json image = json::parse(R"({"Config": {"Cmd": ["sh"],
    "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    "Healthcheck": {"Test": ["CMD-SHELL", "true"], "Interval": 0, "Timeout": 0, "StartPeriod": 0, "Retries": 0}}})");
  SeedTemplate t = seed_template_from_inspect(inspect, image);
  EXPECT_EQ(seed_template_to_yaml(t), "name: worker\nimage: busybox\nenv_vars:\n  JOB: x\n");
  // Without the image: everything the container has.
  SeedTemplate all = seed_template_from_inspect(inspect);
  EXPECT_EQ(all.command, "sh");
  EXPECT_EQ(all.env_vars.size(), 2u);
  EXPECT_TRUE(all.has_health);
  EXPECT_EQ(all.restart_policy, "");

  // sh -c of something only a shell runs is shown as written; else quoted exactly.
  json c = {{"Config", {{"Cmd", {"/bin/sh", "-c", "echo a | cat"}}}}};
  EXPECT_EQ(seed_template_from_inspect(c).command, "echo a | cat");
  c["Config"]["Cmd"] = {"/bin/sh", "-c", "sleep 10"};
  EXPECT_EQ(seed_template_from_inspect(c).command, "/bin/sh -c 'sleep 10'");
  // --cpu-quota/--cpu-period, --mount, a memory limit that is not whole MiB (rounded up).
  json q = json::parse(R"({"HostConfig": {"CpuQuota": 150000, "CpuPeriod": 100000, "Memory": 10000000,
    "Mounts": [{"Type": "bind", "Source": "/srv", "Target": "/srv", "ReadOnly": true},
               {"Type": "volume", "Source": "vol", "Target": "/v"}, {"Type": "tmpfs", "Target": "/t"}]}})");
  SeedTemplate qt = seed_template_from_inspect(q);
  EXPECT_EQ(qt.cpu_limit_percent, 150);
  EXPECT_EQ(qt.mem_limit_mb, 10);
  EXPECT_EQ(qt.volumes, (std::vector<std::string>{"/srv:/srv:ro", "vol:/v"}));
}

TEST(SeedConfig, YamlAndJsonOutput) {
  auto t = parse(kFull);
  ASSERT_TRUE(t);
  t->exported_at = "2026-11-23T19:14:15Z";
  EXPECT_EQ(seed_template_to_yaml(*t), R"(name: web
image: busybox
command: httpd -f -p 8080 -h /www
mem_limit_mb: 64
cpu_limit_percent: 50
ports:
  - "8080:8080"
  - "127.0.0.1:9000:9000/udp"
volumes:
  - /srv/www:/www:ro
  - cache:/cache
env_vars:
  MODE: production
  PORT: "8080"
restart_policy: on-failure:3
health_check:
  command: wget -q -O /dev/null http://127.0.0.1:8080/
  interval: "30s"
  timeout: "5s"
  retries: 3
  start_period: "1.5s"
exported_at: "2026-11-23T19:14:15Z"
)");
  EXPECT_EQ(seed_template_to_json(*t), R"({
  "name": "web",
  "image": "busybox",
  "command": "httpd -f -p 8080 -h /www",
  "mem_limit_mb": 64,
  "cpu_limit_percent": 50,
  "ports": [
    "8080:8080",
    "127.0.0.1:9000:9000/udp"
  ],
  "volumes": [
    "/srv/www:/www:ro",
    "cache:/cache"
  ],
  "env_vars": {
    "MODE": "production",
    "PORT": "8080"
  },
  "restart_policy": "on-failure:3",
  "health_check": {
    "command": "wget -q -O /dev/null http://127.0.0.1:8080/",
    "interval": "30s",
    "timeout": "5s",
    "retries": 3,
    "start_period": "1.5s"
  },
  "exported_at": "2026-11-23T19:14:15Z"
}
)");
  // Both read back to the same template.
  EXPECT_EQ(*parse(seed_template_to_yaml(*t)), *t);
  EXPECT_EQ(*parse(seed_template_to_json(*t)), *t);

  // Strings YAML could take for something else are quoted; awkward ones survive.
  SeedTemplate w;
  w.image = "busybox";
  w.command = "echo 'a: b' # not a comment";
  w.env_vars = {{"A", "yes"}, {"B", "no"}, {"C", "null"}, {"D", "~"}, {"E", "1e3"}, {"F", "line\nbreak"},
                {"G", " pad "}, {"H", "tab\there"}, {"I", "\"q\""}, {"J", "- x"}, {"K", "ünï"}, {"L", ""},
                {"M", "0x1F"}, {"ON", "off"}, {"N", "@x"}, {"O", "a\\b"}};
  w.health.command = "exit 0";
  w.health.exec_form = true;
  w.has_health = true;
  w.cpu_limit_percent = 12.5;
  auto wy = parse(seed_template_to_yaml(w));
  ASSERT_TRUE(wy) << seed_template_to_yaml(w) << wy.error().message;
  EXPECT_EQ(*wy, w) << seed_template_to_yaml(w);
  EXPECT_EQ(*parse(seed_template_to_json(w)), w) << seed_template_to_json(w);
  EXPECT_NE(seed_template_to_yaml(w).find("health_check:\n  command:\n    - exit\n    - \"0\"\n"), std::string::npos)
      << seed_template_to_yaml(w);
}

TEST(SeedConfig, Errors) {
  struct {
    const char* in;
    const char* want;
  } cases[] = {
      {"mem_limit_mb: lots", "template: mem_limit_mb: expected a number, got \"lots\""},
      {"mem_limit_mb: 1.5", "template: mem_limit_mb: expected a whole number, got \"1.5\""},
      {"mem_limit_mb: -5", "template: mem_limit_mb: must not be negative, got -5 (leave it out for no limit)"},
      {"mem_limit_mb: 3", "template: mem_limit_mb: the minimum memory limit is 6 (MB), got 3"},
      {"mem_limit_mb: [1]", "template: mem_limit_mb: expected a number, got a list"},
      {"cpu_limit_percent: 250",
       "template: cpu_limit_percent: 250 is more than this machine's 2 CPUs allow; use a value from 1 to "
       "200 (100 per CPU)"},
      {"cpu_limit_percent: -1", "template: cpu_limit_percent: must not be negative, got -1 (leave it out for no limit)"},
      {"cpu_limit_percent: 0.5", "template: cpu_limit_percent: 0.5 is below the minimum of 1 (0.01 CPUs)"},
      {"cpu_limit_percent: half", "template: cpu_limit_percent: expected a number, got \"half\""},
      {"cpu_limit_percent: .nan", "template: cpu_limit_percent: expected a number, got \".nan\""},
      {"ports: [\"80:abc\"]",
       "template: ports[0]: invalid port \"80:abc\": container port \"abc\" is not a number from 1 to 65535 "
       "(write \"HOST:CONTAINER[/tcp|udp|sctp]\", e.g. \"8080:80\")"},
      {"ports: [\"8080:80\", \"99999:80\"]",
       "template: ports[1]: invalid port \"99999:80\": host port \"99999\" is not a number from 1 to 65535 "
       "(write \"HOST:CONTAINER[/tcp|udp|sctp]\", e.g. \"8080:80\")"},
      {"ports: [\"80/icmp\"]",
       "template: ports[0]: invalid port \"80/icmp\": unknown protocol \"icmp\" (use tcp, udp or sctp) "
       "(write \"HOST:CONTAINER[/tcp|udp|sctp]\", e.g. \"8080:80\")"},
      {"ports: [\"8000-8010:8000-8010\"]",
       "template: ports[0]: invalid port \"8000-8010:8000-8010\": port ranges are not supported in "
       "templates; list each port (write \"HOST:CONTAINER[/tcp|udp|sctp]\", e.g. \"8080:80\")"},
      {"ports: \"8080:80\"", "template: ports: expected a list, got a string"},
      {"ports: [[1]]", "template: ports[0]: expected a string, got a list"},
      {"volumes: [/data]",
       "template: volumes[0]: invalid volume \"/data\": write HOST_PATH:CONTAINER_PATH[:ro], e.g. "
       "\"./data:/app/data\""},
      {"volumes: [\"./a:data\"]",
       "template: volumes[0]: invalid volume \"./a:data\": the container path \"data\" must be absolute"},
      {"volumes: [\"./a:/d:rx\"]", "template: volumes[0]: invalid volume \"./a:/d:rx\": invalid mode \"rx\" (use ro or rw)"},
      {"volumes: [\"~/a:/d\"]",
       "template: volumes[0]: invalid volume \"~/a:/d\": \"~\" is not expanded in templates; write the full path"},
      {"restart_policy: sometimes",
       "template: restart_policy: invalid restart policy \"sometimes\"; use one of no, always, on-failure, "
       "on-failure:MAX_RETRIES, unless-stopped"},
      {"restart_policy: always:3",
       "template: restart_policy: \"always:3\": a maximum retry count can only be used with on-failure"},
      {"restart_policy: on-failure:-1",
       "template: restart_policy: \"on-failure:-1\": the maximum retry count \"-1\" is not a whole number from 0 up"},
      {"restart_policy: [always]", "template: restart_policy: expected a string, got a list"},
      {"nmae: web", "template: unknown field \"nmae\"; did you mean \"name\"? (the fields are: name, image, "
                    "command, mem_limit_mb, cpu_limit_percent, ports, volumes, env_vars, restart_policy, "
                    "health_check, exported_at, description)"},
      {"bogus: 1", "template: unknown field \"bogus\" (the fields are: name, image, command, mem_limit_mb, "
                   "cpu_limit_percent, ports, volumes, env_vars, restart_policy, health_check, exported_at, "
                   "description)"},
      {"image: a\nimage: b", "template: field \"image\" is given twice"},
      {"name: my web", "template: name: invalid container name \"my web\", only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
                       "allowed (at least 2 characters)"},
      {"image: [busybox]", "template: image: expected a string, got a list"},
      {"env_vars: {A: [1]}", "template: env_vars.A: expected a string, got a list"},
      {"env_vars: {A: }", "template: env_vars.A: has no value; write A: \"\" for an empty one"},
      {"env_vars: [A]", "template: env_vars[0]: \"A\" has no value; write A=VALUE"},
      {"env_vars: [A=1, A=2]", "template: env_vars[1]: variable \"A\" is given twice"},
      {"env_vars: MODE=x", "template: env_vars: expected a mapping (NAME: value) or a list (NAME=value), got \"MODE=x\""},
      {"health_check: {intervall: 5s}",
       "template: health_check: unknown field \"intervall\"; did you mean \"interval\"? (the fields are: "
       "command, interval, timeout, retries, start_period)"},
      {"health_check: {command: true, interval: soon}",
       "template: health_check.interval: invalid duration \"soon\"; use seconds (30) or a duration such as "
       "\"30s\", \"1m30s\", \"500ms\""},
      {"health_check: {command: true, timeout: -5s}", "template: health_check.timeout: must not be negative, got \"-5s\""},
      {"health_check: {command: true, interval: 10us}",
       "template: health_check.interval: \"10us\" is shorter than the minimum of 1ms"},
      {"health_check: {command: true, retries: -1}", "template: health_check.retries: must not be negative, got -1"},
      {"health_check: {command: true, retries: many}", "template: health_check.retries: expected a number, got \"many\""},
      {"health_check: {}",
       "template: health_check: is empty; give at least a command (command: \"wget -q -O /dev/null http://127.0.0.1/\")"},
      {"health_check: always",
       "template: health_check: expected a mapping (command, interval, timeout, retries, start_period) or "
       "\"none\", got \"always\""},
      {"- image: busybox", "template: expected a mapping of fields (name: …, image: …, command: …), got a list"},
      {"busybox", "template: expected a mapping of fields (name: …, image: …, command: …), got \"busybox\""},
      {"", "template: the template is empty; give at least an image (image: busybox)"},
      {"# only a comment\n", "template: the template is empty; give at least an image (image: busybox)"},
      {"image: busybox\n  bad: indent", "template: invalid YAML at line 2, column 6: illegal map value"},
      {"{\"image\": \"busybox\",}",
       "template: invalid JSON: parse error at line 1, column 21: syntax error while parsing object key - "
       "unexpected '}'; expected string literal"},
      {"{\"mem_limit_mb\": {\"mb\": 64}}", "template: mem_limit_mb: expected a number, got a mapping"},
      {"{\"retries\": 3}",
       "template: unknown field \"retries\" (the fields are: name, image, command, mem_limit_mb, "
       "cpu_limit_percent, ports, volumes, env_vars, restart_policy, health_check, exported_at, description)"},
  };
  for (auto& c : cases) EXPECT_EQ(err(parse(c.in)), c.want) << c.in;
}

TEST(SeedConfig, LenientWhereHarmless) {
  // Quoted numbers, numbers as ports, empty fields, "no" restart policy, on-failure:0.
  auto t = parse("mem_limit_mb: \"64\"\nports: [80, 8080:80]\nvolumes:\nrestart_policy: on-failure:0\n");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->mem_limit_mb, 64);
  EXPECT_EQ(t->ports, (std::vector<std::string>{"80", "8080:80"}));
  EXPECT_EQ(t->restart_policy, "on-failure");
  EXPECT_EQ(parse("ports: [\"8080:80/tcp\"]")->ports, std::vector<std::string>{"8080:80"});
  EXPECT_EQ(parse("cpu_limit_percent: 0")->cpu_limit_percent, 0);
  EXPECT_EQ(parse("{\"env_vars\": {\"PORT\": 8000}}")->env_vars[0].second, "8000");
}

class SeedConfigFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/seed_config_test.XXXXXX";
    ASSERT_TRUE(::mkdtemp(tmpl));
    dir_ = tmpl;
  }
  void TearDown() override { (void)remove_tree(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    std::string p = dir_ + "/" + name;
    std::ofstream(p) << text;
    return p;
  }
  std::string dir_;
};

TEST_F(SeedConfigFiles, LoadNamesTheFile) {
  std::string p = write("web.yaml", "image: busybox\nmem_limit_mb: lots\n");
  EXPECT_EQ(err(load_seed_template(p, 2)), "template " + p + ": mem_limit_mb: expected a number, got \"lots\"");
  auto missing = load_seed_template(dir_ + "/nope.yaml");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().errno_value, ENOENT);
  EXPECT_EQ(missing.error().message.rfind("read template: ", 0), 0u) << missing.error().message;
}

TEST_F(SeedConfigFiles, ApplyFillsWhatTheCommandLineLeftUnset) {
  std::string p = write("web.yaml", R"(name: web
image: busybox
command: httpd -f -p 8080 -h /www
mem_limit_mb: 64
cpu_limit_percent: 50
ports: ["8080:8080", "9000:9000"]
volumes: [./www:/www:ro, /srv/logs:/logs]
env_vars: {MODE: production, PORT: "8080"}
restart_policy: always
health_check: {command: "wget -q -O /dev/null http://127.0.0.1:8080/", interval: 30s, retries: 3}
)");
  // Nothing on the command line: the template's body, its name.
  RunArgs bare;
  bare.config_file = p;
  ASSERT_TRUE(apply_seed_config(bare));
  EXPECT_EQ(bare.name, "web");
  auto t = load_seed_template(p, 2);
  ASSERT_TRUE(t);
  EXPECT_EQ(bare.body, seed_template_to_create_body(*t, dir_)) << bare.body.dump(2);
  EXPECT_EQ(bare.body["HostConfig"]["Binds"][0], dir_ + "/www:/www:ro");

  // The command line wins field by field.
  RunArgs ra;
  ra.config_file = p;
  ra.name = "web2";
  ra.body = json::parse(R"({
    "Image": "busybox:1.36", "Cmd": ["sleep", "1"], "Env": ["PORT=9090", "EXTRA=1"],
    "ExposedPorts": {"8080/tcp": {}},
    "Healthcheck": {"Interval": 5000000000},
    "HostConfig": {"Memory": 134217728, "CpuQuota": 50000,
                   "PortBindings": {"8080/tcp": [{"HostIp": "", "HostPort": "18080"}]},
                   "Binds": ["/other:/www"], "RestartPolicy": {"Name": "", "MaximumRetryCount": 0},
                   "NetworkMode": "host"}
  })");
  ASSERT_TRUE(apply_seed_config(ra));
  EXPECT_EQ(ra.name, "web2");
  EXPECT_EQ(ra.body, json::parse(R"({
    "Image": "busybox:1.36", "Cmd": ["sleep", "1"], "Env": ["MODE=production", "PORT=9090", "EXTRA=1"],
    "ExposedPorts": {"8080/tcp": {}, "9000/tcp": {}},
    "Healthcheck": {"Test": ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8080/"],
                    "Interval": 5000000000, "Retries": 3},
    "HostConfig": {"Memory": 134217728, "CpuQuota": 50000,
                   "PortBindings": {"8080/tcp": [{"HostIp": "", "HostPort": "18080"}],
                                    "9000/tcp": [{"HostIp": "", "HostPort": "9000"}]},
                   "Binds": ["/srv/logs:/logs", "/other:/www"],
                   "RestartPolicy": {"Name": "always", "MaximumRetryCount": 0},
                   "NetworkMode": "host"}
  })")) << ra.body.dump(2);

  // --no-healthcheck and --rm win over the template's check and restart policy; an
  // --entrypoint keeps the template's command out.
  RunArgs off;
  off.config_file = p;
  off.body = json::parse(R"({"Entrypoint": ["env"], "Healthcheck": {"Test": ["NONE"]}, "HostConfig": {"AutoRemove": true}})");
  ASSERT_TRUE(apply_seed_config(off));
  EXPECT_EQ(off.body["Healthcheck"], json::parse(R"({"Test": ["NONE"]})"));
  EXPECT_FALSE(off.body.contains("Cmd"));
  EXPECT_FALSE(off.body["HostConfig"].contains("RestartPolicy"));

  // A bad template: the error names the file.
  RunArgs bad;
  bad.config_file = write("bad.yaml", "image: busybox\nrestart_policy: sometimes\n");
  EXPECT_EQ(err(apply_seed_config(bad)),
            "template " + bad.config_file + ": restart_policy: invalid restart policy \"sometimes\"; use one of "
            "no, always, on-failure, on-failure:MAX_RETRIES, unless-stopped");
  RunArgs missing;
  missing.config_file = dir_ + "/nope.yaml";
  EXPECT_FALSE(apply_seed_config(missing));
}

// The worked example in docs/templates.md.
TEST(SeedConfig, DocsWorkerExample) {
  std::string here = __FILE__;
  auto t = load_seed_template(here.substr(0, here.rfind("/src/cli/common/")) + "/examples/templates/worker.yaml", 2);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(seed_template_to_create_body(*t, "/x"), json::parse(R"({
  "Image": "busybox",
  "Cmd": ["/bin/sh", "-c", "while true; do echo \"$(date) job=$JOB batch=$BATCH\" >> /data/worker.log; sleep 5; done"],
  "Env": ["JOB=thumbnails", "BATCH=50"],
  "HostConfig": {
    "Memory": 16777216,
    "NanoCpus": 100000000,
    "Binds": ["worker-data:/data"],
    "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 5}
  }
})"));
  SeedTemplate back = seed_template_from_inspect(inspect_of(seed_template_to_create_body(*t, "/x"), "worker"));
  EXPECT_EQ(back, *t);
  back.exported_at = "2026-11-23T19:14:15Z";
  EXPECT_EQ(seed_template_to_yaml(back), R"(name: worker
image: busybox
command: while true; do echo "$(date) job=$JOB batch=$BATCH" >> /data/worker.log; sleep 5; done
mem_limit_mb: 16
cpu_limit_percent: 10
volumes:
  - worker-data:/data
env_vars:
  JOB: thumbnails
  BATCH: "50"
restart_policy: on-failure:5
exported_at: "2026-11-23T19:14:15Z"
)");
}

// Every example template under examples/templates parses, and its JSON/YAML twin agrees.
TEST_F(SeedConfigFiles, ExamplesParse) {
  std::string here = __FILE__;  // src/cli/common/seed_config_test.cc, absolute under CMake
  std::string root = here.substr(0, here.rfind("/src/cli/common/")) + "/examples/templates";
  auto names = list_directory(root);
  ASSERT_TRUE(names) << names.error().message;
  int n = 0;
  for (auto& f : *names) {
    auto t = load_seed_template(root + "/" + f, 64);
    EXPECT_TRUE(t) << f << ": " << t.error().message;
    if (t) {
      EXPECT_EQ(t->image, "busybox") << f;
    }
    ++n;
  }
  EXPECT_GE(n, 3);
}

}  // namespace
}  // namespace md::cli
