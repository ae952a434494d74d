// `minidocker serve`, the streaming endpoints (docs/api-streams.md): the real docker CLI
// (/usr/local/bin/docker) and python3-docker for run in the foreground, start -a, attach,
// exec, logs -f, stats and events. Every client command runs under a 60 s limit, so a hang
// fails the test instead of blocking it.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <thread>

#include "serve_client.h"

namespace mdcli {
namespace {


// One HTTP/1.1 request over a unix socket, "Connection: close"; the whole answer.
std::string raw_request(const std::string& sock, const std::string& request) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, sock.c_str(), sizeof a.sun_path - 1);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    (void)!::write(fd, request.data(), request.size());
    pollfd p{fd, POLLIN, 0};
    char buf[4096];
    while (::poll(&p, 1, 5000) > 0) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, size_t(n));
    }
  }
  ::close(fd);
  return out;
}

// 'single-quoted' for sh.
std::string sh_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

// A client left running in the background (docker events, docker logs -f): its stdout
// is read as it comes.
struct Background {
  pid_t pid = -1;
  int out = -1;
  std::string seen;

  void start(const std::vector<std::string>& argv) {
    int p[2];
    ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
    pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::setpgid(0, 0);
      ::dup2(p[1], 1);
      int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, 0);
      ::dup2(null, 2);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    ::close(p[1]);
    out = p[0];
  }
  // Reads until `needle` was seen (true) or `limit` passes.
  bool wait_for(const std::string& needle, std::chrono::milliseconds limit = std::chrono::seconds(30)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!contains(seen, needle)) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{out, POLLIN, 0};
      if (::poll(&p, 1, int(left.count())) <= 0) return false;
      char buf[4096];
      ssize_t n = ::read(out, buf, sizeof buf);
      if (n <= 0) return contains(seen, needle);
      seen.append(buf, size_t(n));
    }
    return true;
  }
  // Waits for the process to end by itself; its exit code, or -1 after `limit`.
  int wait_exit(std::chrono::milliseconds limit) {
    int status = 0;
    if (!eventually([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, limit)) return -1;
    pid = -1;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(out, buf, sizeof buf)) > 0) seen.append(buf, size_t(n));
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  void stop() {
    if (pid > 0) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      pid = -1;
    }
    if (out >= 0) ::close(out);
    out = -1;
  }
  ~Background() { stop(); }
};

int thread_count(pid_t pid) {
  int n = 0;
  DIR* d = ::opendir(("/proc/" + std::to_string(pid) + "/task").c_str());
  if (!d) return -1;
  while (auto* e = ::readdir(d))
    if (e->d_name[0] != '.') ++n;
  ::closedir(d);
  return n;
}

class ServeStream : public serve_client::ServeFixture {
 protected:
  bool needs_docker() override { return true; }
  // The docker CLI with a terminal: script(1) gives it a pty; `input` is typed into it.
  Out docker_tty(const std::vector<std::string>& args, const std::string& input = "") {
    std::string cmd;
    for (auto& a : docker_argv(args)) cmd += (cmd.empty() ? "" : " ") + sh_quote(a);
    return run_process({"timeout", "60", "script", "-qefc", cmd, "/dev/null"}, input, std::chrono::seconds(70));
  }
  Out python(const std::string& code) {
    std::string prog = "import docker\nclient = docker.DockerClient(base_url='unix://" + sock_ + "')\n" + code;
    return run_process({"timeout", "60", "python3", "-c", prog}, "", std::chrono::seconds(70));
  }
};

TEST_F(ServeStream, RunInForegroundPrintsOutputAndExitCode) {
  Out r = docker({"run", "--name", unique("fg"), "busybox", "sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(r.code, 3) << r;
  EXPECT_EQ(r.out, "out\n") << r;
  EXPECT_EQ(r.err, "err\n") << r;
  // A fast command: no byte is lost (the monitor gets the connection before the start).
  for (int i = 0; i < 3; ++i) {
    Out q = docker({"run", "--rm", "busybox", "echo", "quick" + std::to_string(i)});
    EXPECT_TRUE(q.ok()) << q;
    EXPECT_EQ(q.out, "quick" + std::to_string(i) + "\n") << q;
  }
  EXPECT_EQ(docker_ok({"ps", "-aq", "--filter", "status=running"}), "");
}

TEST_F(ServeStream, RunWithPipedStdin) {
  Out r = docker({"run", "-i", "--rm", "busybox", "cat"}, "hello\nworld\n");
  EXPECT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out, "hello\nworld\n") << r;
  Out wc = docker({"run", "-i", "--rm", "busybox", "sh", "-c", "wc -l; exit 7"}, "a\nb\nc\n");
  EXPECT_EQ(wc.code, 7) << wc;
  EXPECT_EQ(wc.out, "3\n") << wc;
}

TEST_F(ServeStream, RunWithTty) {
  Out r = docker_tty({"run", "-t", "--rm", "busybox", "sh", "-c", "tty; echo on-a-tty; exit 5"});
  EXPECT_EQ(r.code, 5) << r;
  EXPECT_TRUE(contains(r.out, "/dev/pts/")) << r;
  EXPECT_TRUE(contains(r.out, "on-a-tty\r")) << r;  // the container's terminal: \r\n
  // Interactive: what is typed reaches the shell, its exit code comes back.
  Out it = docker_tty({"run", "-it", "--rm", "busybox", "sh"}, "echo typed-$((6*7))\nexit 4\n");
  EXPECT_EQ(it.code, 4) << it;
  EXPECT_TRUE(contains(it.out, "typed-42")) << it;
}

TEST_F(ServeStream, StartAttachedAndAttach) {
  std::string name = unique("sa");
  ASSERT_TRUE(docker({"create", "--name", name, "busybox", "sh", "-c", "echo started; echo oops >&2; exit 4"}).ok());
  Out s = docker({"start", "-a", name});
  EXPECT_EQ(s.code, 4) << s;
  EXPECT_EQ(s.out, "started\n") << s;
  EXPECT_EQ(s.err, "oops\n") << s;
  // Again: a second start -a gets the second run's output.
  Out again = docker({"start", "-a", name});
  EXPECT_EQ(again.code, 4) << again;
  EXPECT_EQ(again.out, "started\n") << again;

  // attach to a running container that waits for a line on its stdin.
  std::string waiter = unique("at");
  ASSERT_TRUE(docker({"run", "-d", "-i", "--name", waiter, "busybox", "sh", "-c", "read line; echo got:$line; exit 2"}).ok());
  Out a = docker({"attach", waiter}, "hello\n");
  EXPECT_EQ(a.code, 2) << a;
  EXPECT_EQ(a.out, "got:hello\n") << a;
  Out stopped = docker({"attach", waiter});
  EXPECT_FALSE(stopped.ok());
  EXPECT_TRUE(contains(stopped.err, "cannot attach to a stopped container")) << stopped;
}

TEST_F(ServeStream, ExecExitCodesStdinAndTty) {
  std::string name = unique("ex");
  ASSERT_TRUE(docker({"run", "-d", "--name", name, "busybox", "sleep", "300"}).ok());
  Out r = docker({"exec", name, "sh", "-c", "echo hi; echo warn >&2; exit 3"});
  EXPECT_EQ(r.code, 3) << r;
  EXPECT_EQ(r.out, "hi\n") << r;
  EXPECT_EQ(r.err, "warn\n") << r;
  EXPECT_EQ(docker_ok({"exec", "-e", "X=42", "-w", "/tmp", name, "sh", "-c", "echo $X $(pwd) $(id -u)"}), "42 /tmp 0");
  EXPECT_EQ(docker_ok({"exec", "-u", "nobody", name, "id", "-un"}), "nobody");
  Out in = docker({"exec", "-i", name, "sh", "-c", "cat; echo done"}, "piped\nlines\n");
  EXPECT_TRUE(in.ok()) << in;
  EXPECT_EQ(in.out, "piped\nlines\ndone\n") << in;
  Out missing = docker({"exec", name, "no-such-command"});
  EXPECT_EQ(missing.code, 127) << missing;
  Out t = docker_tty({"exec", "-t", name, "sh", "-c", "tty; exit 7"});
  EXPECT_EQ(t.code, 7) << t;
  EXPECT_TRUE(contains(t.out, "/dev/pts/")) << t;
  Out it = docker_tty({"exec", "-it", name, "sh"}, "echo typed-$((6*7))\nexit 6\n");
  EXPECT_EQ(it.code, 6) << it;
  EXPECT_TRUE(contains(it.out, "typed-42")) << it;
  // -d: at once; the process runs on.
  EXPECT_TRUE(docker({"exec", "-d", name, "sh", "-c", "sleep 0.2; touch /tmp/detached"}).ok());
  EXPECT_TRUE(eventually([&] { return docker({"exec", name, "test", "-f", "/tmp/detached"}).ok(); }));
  // Not running: 409 from exec create.
  ASSERT_TRUE(docker({"kill", name}).ok());
  Out dead = docker({"exec", name, "true"});
  EXPECT_NE(dead.code, 0);
  EXPECT_TRUE(contains(dead.err, "is not running")) << dead;
}

TEST_F(ServeStream, LogsFollowEndsWhenTheContainerExits) {
  std::string name = unique("lf");
  ASSERT_TRUE(docker({"run", "-d", "--name", name, "busybox", "sh", "-c",
                      "for i in 1 2 3; do echo line$i; sleep 0.4; done; echo bye >&2"})
                  .ok());
  auto t0 = std::chrono::steady_clock::now();
  Out f = docker({"logs", "-f", name});
  EXPECT_TRUE(f.ok()) << f;
  EXPECT_EQ(f.out, "line1\nline2\nline3\n") << f;
  EXPECT_EQ(f.err, "bye\n") << f;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
  // Of a stopped container: the backlog, then the end. --tail, -t, --since, --until.
  Out tail = docker({"logs", "-f", "--tail", "2", name});  // of both streams together
  EXPECT_EQ(tail.out, "line3\n") << tail;
  EXPECT_EQ(tail.err, "bye\n") << tail;
  Out ts = docker({"logs", "-f", "-t", "--tail", "2", name});
  ASSERT_EQ(lines_of(ts.out).size(), 1u) << ts;
  EXPECT_TRUE(contains(ts.out, "Z line3")) << ts;
  EXPECT_EQ(docker({"logs", "-f", "--since", "2000-01-01T00:00:00Z", "--until", "2000-01-02T00:00:00Z", name}).out, "");
  EXPECT_EQ(docker({"logs", "-f", "--since", "2000-01-01T00:00:00Z", name}).out, "line1\nline2\nline3\n");
}

TEST_F(ServeStream, LogsFollowAndEventsLetGoOfAClientThatLeaves) {
  std::string name = unique("lg");
  ASSERT_TRUE(docker({"run", "-d", "--name", name, "busybox", "sh", "-c", "echo first; exec sleep 300"}).ok());
  int base = thread_count(server_);
  {
    Background logs, events;
    logs.start(docker_argv({"logs", "-f", name}));
    events.start(docker_argv({"events", "--filter", "container=" + name, "--format", "{{.Action}}"}));
    ASSERT_TRUE(logs.wait_for("first\n")) << logs.seen;
    // A container started after `docker events` began: its events arrive.
    std::string late = unique("late");
    ASSERT_TRUE(docker({"run", "--rm", "--name", late, "busybox", "true"}).ok());  // filtered out
    ASSERT_TRUE(docker({"exec", name, "true"}).ok());
    ASSERT_TRUE(events.wait_for("exec_die")) << events.seen;
    EXPECT_FALSE(contains(events.seen, late)) << events.seen;
    EXPECT_GT(thread_count(server_), base);
  }  // both clients killed
  // Their threads end within a second or so (a quiet container, no new event).
  EXPECT_TRUE(eventually([&] { return thread_count(server_) <= base; }, std::chrono::seconds(10)))
      << thread_count(server_) << " threads, " << base << " before";
}

TEST_F(ServeStream, EventsSinceUntilAndLive) {
  std::string name = unique("ev");
  Background live;
  live.start(docker_argv({"events", "--format", "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}"}));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the subscription is in place
  time_t t0 = ::time(nullptr) - 1;
  Out r = docker({"run", "--name", name, "busybox", "true"});
  ASSERT_TRUE(r.ok()) << r;
  ASSERT_TRUE(live.wait_for("container die " + name)) << live.seen;
  EXPECT_TRUE(contains(live.seen, "container create " + name)) << live.seen;
  EXPECT_TRUE(contains(live.seen, "container start " + name)) << live.seen;
  live.stop();
  time_t t1 = ::time(nullptr) + 1;
  Out past = docker({"events", "--since", std::to_string(t0), "--until", std::to_string(t1), "--filter",
                     "container=" + name, "--format", "{{.Action}}"});
  ASSERT_TRUE(past.ok()) << past;
  EXPECT_TRUE(contains(past.out, "create\n")) << past;
  EXPECT_TRUE(contains(past.out, "start\n")) << past;
  EXPECT_TRUE(contains(past.out, "die\n")) << past;
  Out none = docker({"events", "--since", std::to_string(t0), "--until", std::to_string(t1), "--filter",
                     "container=nosuch"});
  EXPECT_TRUE(none.ok()) << none;
  EXPECT_EQ(none.out, "");
  // An until in the future: the stream ends once it passes.
  Background ending;
  ending.start(docker_argv({"events", "--until", std::to_string(::time(nullptr) + 2)}));
  EXPECT_EQ(ending.wait_exit(std::chrono::seconds(15)), 0);
  Out bad = docker({"events", "--filter", "bogus=1", "--until", std::to_string(t1)});
  EXPECT_FALSE(bad.ok()) << bad;
}

TEST_F(ServeStream, StatsNoStreamAndStream) {
  std::string name = unique("st");
  ASSERT_TRUE(docker({"run", "-d", "--name", name, "busybox", "sleep", "300"}).ok());
  Out s = docker({"stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}} {{.PIDs}}"});
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(contains(s.out, name + " ")) << s;
  EXPECT_TRUE(contains(s.out, "iB / ")) << s;
  EXPECT_TRUE(contains(s.out, " 1\n")) << s;
  Out one = docker({"stats", "--no-stream", "--format", "{{.Container}}", name});
  EXPECT_EQ(one.out, name + "\n") << one;
  // Streaming: frames keep coming.
  Background stream;
  stream.start(docker_argv({"stats", "--format", "{{.Name}}:{{.PIDs}}", name}));
  ASSERT_TRUE(stream.wait_for(name + ":1")) << stream.seen;
  stream.seen.clear();
  ASSERT_TRUE(stream.wait_for(name + ":1")) << stream.seen;
  // The raw stream: one JSON object per line, chunked.
  std::string raw = raw_request(sock_, "GET /containers/" + name + "/stats?stream=false&one-shot=true HTTP/1.1\r\n"
                                       "Host: d\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(contains(raw, "HTTP/1.1 200")) << raw;
  auto body = json::parse(raw.substr(raw.find("\r\n\r\n") + 4));
  EXPECT_EQ(body["name"], "/" + name);
  EXPECT_TRUE(body["memory_stats"].contains("usage")) << body.dump();
}

TEST_F(ServeStream, PythonExecRunAndStats) {
  std::string name = unique("py");
  ASSERT_TRUE(docker({"run", "-d", "--name", name, "busybox", "sleep", "300"}).ok());
  Out r = python("c = client.containers.get('" + name + "')\n"
                 "code, out = c.exec_run(['sh', '-c', 'echo py-out; exit 4'])\n"
                 "print(code, out.decode().strip())\n"
                 "code, out = c.exec_run('echo plain')\n"
                 "print(code, out.decode().strip())\n"
                 "s = c.stats(stream=False)\n"
                 "print(s['name'], s['id'] == c.id, 'usage' in s['memory_stats'], 'cpu_usage' in s['cpu_stats'])\n"
                 "e = client.api.exec_create(c.id, 'sh -c \"exit 9\"')\n"
                 "client.api.exec_start(e['Id'])\n"
                 "i = client.api.exec_inspect(e['Id'])\n"
                 "print(i['ExitCode'], i['Running'], i['ContainerID'] == c.id)\n");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out, "4 py-out\n0 plain\n/" + name + " True True True\n9 False True\n") << r;
}

TEST_F(ServeStream, ResizeReachesTheTerminal) {
  std::string name = unique("rs");
  ASSERT_TRUE(docker({"run", "-d", "-t", "--name", name, "busybox", "sleep", "300"}).ok());
  std::string r = raw_request(sock_, "POST /containers/" + name + "/resize?h=33&w=101 HTTP/1.1\r\nHost: d\r\n"
                                     "Connection: close\r\nContent-Length: 0\r\n\r\n");
  EXPECT_TRUE(contains(r, "HTTP/1.1 200")) << r;
  // The container's terminal is its stdin (/proc/1/fd/0).
  EXPECT_TRUE(eventually([&] { return docker({"exec", name, "stty", "-F", "/proc/1/fd/0", "size"}).out == "33 101\n"; }))
      << docker({"exec", name, "stty", "-F", "/proc/1/fd/0", "size"});
  std::string bad = raw_request(sock_, "POST /exec/nosuch/resize?h=1&w=1 HTTP/1.1\r\nHost: d\r\n"
                                       "Connection: close\r\nContent-Length: 0\r\n\r\n");
  EXPECT_TRUE(contains(bad, "HTTP/1.1 404")) << bad;
}

}  // namespace
}  // namespace mdcli
