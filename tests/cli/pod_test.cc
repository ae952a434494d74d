// Pods through the CLI on real containers (docs/pods.md): members share the infra's
// network, IPC and UTS namespaces (localhost between members, one hostname), ports are
// published at pod level and answer from the host, pod stop/start/rm and the pod states,
// the errors of `run --pod` and `pod rm`, and that `pod rm -f` leaves nothing behind.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "cli_harness.h"

namespace mdcli {
namespace {

class Pod : public Cli {
 protected:
  std::string pod_state(const std::string& pod) { return md_ok({"pod", "inspect", "-f", "{{.State}}", pod}); }
  // A detached busybox httpd in `pod` serving "hello from NAME" on port 80.
  std::string run_web(const std::string& pod, const std::string& name) {
    return md_ok({"run", "-d", "--pod", pod, "--name", name, "busybox", "sh", "-c",
                  "mkdir -p /www && echo hello from " + name + " > /www/index.html && exec httpd -f -p 80 -h /www"});
  }
  // The host veth of the infra's endpoint on its network ("mdv" + 12 hex of the endpoint).
  std::string infra_veth(const std::string& infra) {
    json nets = inspect(infra)["NetworkSettings"]["Networks"];
    for (auto& [name, ep] : nets.items())
      if (ep.value("EndpointID", "").size() >= 12) return "mdv" + ep["EndpointID"].get<std::string>().substr(0, 12);
    return "";
  }
};

// A free TCP port on the host (the kernel's choice, released at once).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// An HTTP/1.0 GET of / over a plain TCP socket to 127.0.0.1:port; the whole answer ("" on
// any failure). Bounded: 2 s per step.
std::string http_get_local(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const char req[] = "GET / HTTP/1.0\r\n\r\n";
    if (::send(fd, req, sizeof req - 1, MSG_NOSIGNAL) == ssize_t(sizeof req - 1)) {
      char buf[4096];
      ssize_t n;
      while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, size_t(n));
    }
  }
  ::close(fd);
  return out;
}

bool link_exists(const std::string& name) { return ::access(("/sys/class/net/" + name).c_str(), F_OK) == 0; }

TEST_F(Pod, MembersShareNetworkIpcUtsAndPublishedPort) {
  std::string pod = unique("pod"), web = unique("web");
  int port = free_port();
  std::string id = md_ok({"pod", "create", "--name", pod, "-p", std::to_string(port) + ":80", "--label", "tier=front"});
  ASSERT_EQ(id.size(), 64u) << id;
  json p = json::parse(md_ok({"pod", "inspect", pod}));
  ASSERT_TRUE(p.is_array() && p.size() == 1) << p;
  EXPECT_EQ(p[0]["Id"], id);
  EXPECT_EQ(p[0]["Name"], pod);
  EXPECT_EQ(p[0]["State"], "Created");
  EXPECT_EQ(p[0]["Hostname"], pod);  // Podman's default: the pod's name
  EXPECT_EQ(p[0]["Labels"]["tier"], "front");
  EXPECT_EQ(p[0]["NumContainers"], 1);
  EXPECT_EQ(p[0]["InfraConfig"]["PortBindings"]["80/tcp"][0]["HostPort"], std::to_string(port));
  std::string infra = p[0]["InfraContainerID"];
  ASSERT_EQ(infra.size(), 64u);
  EXPECT_EQ(p[0]["Containers"][0]["Id"], infra);
  EXPECT_EQ(p[0]["Containers"][0]["Name"], id.substr(0, 12) + "-infra");
  EXPECT_EQ(inspect(infra)["Config"]["Image"], "minidocker/pause:latest");
  EXPECT_EQ(inspect(infra)["Config"]["Labels"]["io.minidocker.pod"], id);

  std::string web_id = run_web(pod, web);
  EXPECT_EQ(state(infra), "running");  // started by the member's start
  json wc = inspect(web);
  EXPECT_EQ(wc["HostConfig"]["NetworkMode"], "container:" + infra);
  EXPECT_EQ(wc["HostConfig"]["IpcMode"], "container:" + infra);
  EXPECT_EQ(wc["HostConfig"]["UTSMode"], "container:" + infra);
  EXPECT_EQ(wc["Config"]["Labels"]["io.minidocker.pod"], id);

  // localhost: a second member reaches the first one's server.
  Out fetched;
  EXPECT_TRUE(eventually([&] {
    fetched = md({"run", "--rm", "--pod", pod, "busybox", "wget", "-qO-", "http://localhost:80/"});
    return fetched.ok() && fetched.out == "hello from " + web + "\n";
  })) << fetched;

  // One hostname (the pod's) and the same net/ipc/uts namespaces in both members.
  EXPECT_EQ(md_ok({"exec", web, "hostname"}), pod);
  EXPECT_EQ(md_ok({"run", "--rm", "--pod", pod, "busybox", "hostname"}), pod);
  std::string ns_cmd = "for n in net ipc uts; do readlink /proc/self/ns/$n; done";
  std::string in_web = md_ok({"exec", web, "sh", "-c", ns_cmd});
  std::string in_other = md_ok({"run", "--rm", "--pod", pod, "busybox", "sh", "-c", ns_cmd});
  ASSERT_EQ(lines_of(in_web).size(), 3u) << in_web;
  EXPECT_EQ(in_web, in_other);
  auto outside = lines_of(md_ok({"run", "--rm", "busybox", "sh", "-c", ns_cmd}));
  ASSERT_EQ(outside.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_NE(outside[i], lines_of(in_web)[i]);  // a container outside the pod: its own

  // The pod's published port answers from the host.
  std::string answer;
  EXPECT_TRUE(eventually([&] {
    answer = http_get_local(port);
    return answer.find("hello from " + web) != std::string::npos;
  })) << answer;

  // pod ls: Podman's columns; the infra and the member are counted.
  auto rows = lines_of(md_ok({"pod", "ls"}));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].find("POD ID"), 0u) << rows[0];
  for (auto col : {"NAME", "STATUS", "CREATED", "INFRA ID", "# OF CONTAINERS"})
    EXPECT_NE(rows[0].find(col), std::string::npos) << rows[0];
  EXPECT_EQ(md_ok({"pod", "ps", "--format", "{{.Name}} {{.Status}} {{.InfraID}} {{.NumberOfContainers}} {{.Labels}}"}),
            pod + " Running " + infra.substr(0, 12) + " 2 tier=front");
  EXPECT_EQ(md_ok({"pod", "ls", "-q", "--no-trunc"}), id);

  std::string veth = infra_veth(infra);
  ASSERT_FALSE(veth.empty());
  EXPECT_TRUE(link_exists(veth));
  EXPECT_EQ(md_ok({"pod", "rm", "-f", pod}), id);
  EXPECT_EQ(md_ok({"ps", "-aq"}), "");
  EXPECT_EQ(md_ok({"pod", "ls", "-q"}), "");
  EXPECT_FALSE(link_exists(veth));
  EXPECT_EQ(http_get_local(port), "");
}

TEST_F(Pod, StopStartRemoveAndStates) {
  std::string pod = unique("pod"), a = unique("a"), b = unique("b");
  std::string id = md_ok({"pod", "create", pod});
  std::string infra = json::parse(md_ok({"pod", "inspect", pod}))[0]["InfraContainerID"];
  EXPECT_EQ(pod_state(pod), "Created");

  // `create --pod` then `start`: the member starts the infra first.
  md_ok({"create", "--pod", pod, "--name", a, "busybox", "sleep", "1000"});
  EXPECT_EQ(state(infra), "created");
  EXPECT_EQ(pod_state(pod), "Created");
  md_ok({"start", a});
  EXPECT_EQ(state(infra), "running");
  EXPECT_EQ(pod_state(pod), "Running");
  md_ok({"run", "-d", "--pod", pod, "--name", b, "busybox", "sleep", "1000"});
  EXPECT_EQ(md_ok({"pod", "ps", "--format", "{{.NumberOfContainers}}"}), "3");

  // Running pods and infra containers are not removed on their own.
  Out rm = md({"pod", "rm", pod});
  EXPECT_EQ(rm.code, 1) << rm;
  EXPECT_NE(rm.err.find("has running containers"), std::string::npos) << rm;
  Out rm_infra = md({"rm", "-f", infra});
  EXPECT_NE(rm_infra.code, 0) << rm_infra;
  EXPECT_NE(rm_infra.err.find("is the infra container of pod " + pod + ": remove the pod instead"), std::string::npos)
      << rm_infra;
  EXPECT_EQ(state(infra), "running");

  // One member stopped: Degraded.
  md_ok({"stop", "-t", "0", b});
  EXPECT_EQ(pod_state(pod), "Degraded");

  // pod stop: members, then the infra; everything exited.
  EXPECT_EQ(md_ok({"pod", "stop", "-t", "1", pod}), id);
  EXPECT_EQ(state(a), "exited");
  EXPECT_EQ(state(b), "exited");
  EXPECT_EQ(state(infra), "exited");
  EXPECT_EQ(inspect(infra)["State"]["ExitCode"], 0);  // the pause process exits 0 on SIGTERM
  EXPECT_EQ(pod_state(pod), "Exited");

  // pod start: the infra, then the members, in the same namespaces again.
  EXPECT_EQ(md_ok({"pod", "start", pod}), id);
  EXPECT_EQ(state(infra), "running");
  EXPECT_EQ(state(a), "running");
  EXPECT_EQ(state(b), "running");
  EXPECT_EQ(pod_state(pod), "Running");
  EXPECT_EQ(md_ok({"exec", a, "readlink", "/proc/self/ns/net"}), md_ok({"exec", b, "readlink", "/proc/self/ns/net"}));

  // A stopped pod is removed without -f, with its containers.
  md_ok({"pod", "stop", "-t", "0", pod});
  EXPECT_EQ(md_ok({"pod", "rm", pod}), id);
  EXPECT_EQ(md_ok({"ps", "-aq"}), "");
  Out gone = md({"pod", "inspect", pod});
  EXPECT_EQ(gone.code, 1);
  EXPECT_NE(gone.err.find("no pod with name or ID " + pod + " found: no such pod"), std::string::npos) << gone;
}

TEST_F(Pod, RunWithPodRefusesWhatThePodOwns) {
  std::string pod = unique("pod");
  md_ok({"pod", "create", "--name", pod, "--hostname", "podhost"});
  Out ports = md({"run", "--rm", "--pod", pod, "-p", "8080:80", "busybox", "true"});
  EXPECT_EQ(ports.code, 125) << ports;
  EXPECT_NE(ports.err.find("published ports must be defined when the pod is created"), std::string::npos) << ports;
  Out all_ports = md({"create", "--pod", pod, "-P", "--expose", "80", "busybox", "true"});
  EXPECT_EQ(all_ports.code, 125) << all_ports;
  EXPECT_NE(all_ports.err.find("published ports must be defined when the pod is created"), std::string::npos);
  Out net = md({"run", "--rm", "--pod", pod, "--network", "none", "busybox", "true"});
  EXPECT_EQ(net.code, 125) << net;
  EXPECT_NE(net.err.find("cannot be set: it shares the pod's network namespace"), std::string::npos) << net;
  Out host = md({"run", "--rm", "--pod", pod, "--hostname", "other", "busybox", "true"});
  EXPECT_EQ(host.code, 125) << host;
  EXPECT_NE(host.err.find("cannot be set: it shares the pod's UTS namespace"), std::string::npos) << host;
  Out unknown = md({"run", "--rm", "--pod", "nosuchpod", "busybox", "true"});
  EXPECT_EQ(unknown.code, 125) << unknown;
  EXPECT_NE(unknown.err.find("no pod with name or ID nosuchpod found: no such pod"), std::string::npos) << unknown;
  // None of them left a container behind; the pod's own hostname is used.
  EXPECT_EQ(md_ok({"ps", "-a", "--format", "{{.Names}}"}), json::parse(md_ok({"pod", "inspect", pod}))[0]["Containers"][0]["Name"]);
  EXPECT_EQ(md_ok({"run", "--rm", "--pod", pod, "busybox", "hostname"}), "podhost");

  Out dup = md({"pod", "create", "--name", pod});
  EXPECT_EQ(dup.code, 1) << dup;
  EXPECT_NE(dup.err.find("is in use"), std::string::npos) << dup;
  Out bad_net = md({"pod", "create", "--network", "nosuchnet"});
  EXPECT_EQ(bad_net.code, 1) << bad_net;
  EXPECT_NE(bad_net.err.find("network nosuchnet not found"), std::string::npos) << bad_net;
  EXPECT_EQ(md({"pod", "rm", "nosuchpod"}).code, 1);
  EXPECT_EQ(md({"pod", "start", "nosuchpod"}).code, 1);
  EXPECT_EQ(md({"pod", "stop", "nosuchpod"}).code, 1);
  EXPECT_EQ(lines_of(md_ok({"pod", "ls", "-q"})).size(), 1u);  // failed creates left no pod
}

}  // namespace
}  // namespace mdcli
