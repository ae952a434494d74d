// process.terminal with --console-socket: the runtime sends the pty master
// over a unix socket (SCM_RIGHTS); the test reads the container's output
// from it and writes its input to it.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>

#include "harness.h"

namespace mdtest {
namespace {

using namespace std::chrono_literals;

class Terminal : public RuntimeTest {
 protected:
  void TearDown() override {
    if (master_ >= 0) close(master_);
    if (listener_ >= 0) close(listener_);
    RuntimeTest::TearDown();
  }

  std::string Listen() {
    std::string path = tmp_ + "/console.sock";
    listener_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    EXPECT_GE(listener_, 0) << strerror(errno);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    EXPECT_EQ(bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << strerror(errno);
    EXPECT_EQ(listen(listener_, 1), 0) << strerror(errno);
    return path;
  }

  // Accepts the runtime's connection and receives the pty master.
  int ReceiveMaster(bool required = true) {
    pollfd p{listener_, POLLIN, 0};
    if (poll(&p, 1, 60000) != 1) {
      if (required) ADD_FAILURE() << "the runtime never connected to the console socket";
      return -1;
    }
    int conn = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) {
      ADD_FAILURE() << "accept: " << strerror(errno);
      return -1;
    }
    char data[4096];
    iovec iov{data, sizeof data};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    pollfd pc{conn, POLLIN, 0};
    int fd = -1;
    if (poll(&pc, 1, 60000) == 1 && recvmsg(conn, &msg, MSG_CMSG_CLOEXEC) >= 0) {
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) memcpy(&fd, CMSG_DATA(c), sizeof fd);
      }
    }
    close(conn);
    if (fd < 0 && required) ADD_FAILURE() << "no fd received over the console socket";
    master_ = fd;
    return fd;
  }

  // Reads from the master until the slave side is gone (EIO/EOF) or a
  // generous bound passes.
  std::string ReadAll(int fd) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + 60s;
    for (;;) {
      pollfd p{fd, POLLIN, 0};
      int left = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
      if (left <= 0) {
        ADD_FAILURE() << "terminal output never ended; got so far: " << out;
        break;
      }
      int n = poll(&p, 1, left);
      if (n <= 0) continue;
      char buf[4096];
      ssize_t r = read(fd, buf, sizeof buf);
      if (r <= 0) break;  // EIO once every slave fd is closed
      out.append(buf, r);
    }
    return out;
  }

  static Facts TermFacts(std::string s) {
    s.erase(std::remove(s.begin(), s.end(), '\r'), s.end());
    return ParseFacts(s);
  }

  int master_ = -1, listener_ = -1;
};

TEST_F(Terminal, CreateWithConsoleSocket) {
  std::string sock = Listen();
  std::string id = NewId();
  bundle_.config["process"]["terminal"] = true;
  bundle_.config["process"]["args"] = {"/md-check", "tty", "+", "echo", "hello tty", "+", "stat", "/dev/console"};
  bundle_.Save();
  Child create = RtSpawn({"create", "--console-socket", sock, "--bundle", bundle_.dir, id});
  int master = ReceiveMaster();
  Result c = Wait(create);
  ASSERT_TRUE(c.ok()) << c;
  ASSERT_GE(master, 0);
  EXPECT_TRUE(isatty(master));
  ASSERT_TRUE(Rt({"start", id}).ok());
  std::string out = ReadAll(master);
  Facts f = TermFacts(out);
  EXPECT_EQ(f["tty.isatty0"], "1") << out;
  EXPECT_EQ(f["tty.isatty1"], "1") << out;
  EXPECT_EQ(f["tty.isatty2"], "1") << out;
  EXPECT_EQ(f["tty.ctty"], "1") << "no controlling terminal\n" << out;
  EXPECT_EQ(f["tty.name"].rfind("/dev/pts/", 0), 0u) << out;
  EXPECT_EQ(f["stat:/dev/console.type"], "chr") << out;
  EXPECT_EQ(f["stat:/dev/console.rdev"].rfind("136:", 0), 0u) << "/dev/console is not a pty: " << out;
  EXPECT_NE(out.find("hello tty\r\n"), std::string::npos) << "output is not in terminal (onlcr) form: " << out;
  EXPECT_EQ(WaitStatus(id, "stopped"), "stopped");
}

TEST_F(Terminal, InputThroughTheMaster) {
  std::string sock = Listen();
  std::string id = NewId();
  bundle_.config["process"]["terminal"] = true;
  bundle_.config["process"]["args"] = {"/bin/sh", "-c", "read line; echo got:$line"};
  bundle_.Save();
  Child create = RtSpawn({"create", "--console-socket", sock, "--bundle", bundle_.dir, id});
  int master = ReceiveMaster();
  ASSERT_TRUE(Wait(create).ok());
  ASSERT_GE(master, 0);
  ASSERT_TRUE(Rt({"start", id}).ok());
  ASSERT_EQ(write(master, "hello\n", 6), 6);
  std::string out = ReadAll(master);
  EXPECT_NE(out.find("got:hello"), std::string::npos) << out;
}

TEST_F(Terminal, ConsoleSize) {
  std::string sock = Listen();
  bundle_.config["process"]["terminal"] = true;
  bundle_.config["process"]["consoleSize"] = {{"height", 40}, {"width", 100}};
  bundle_.config["process"]["args"] = {"/md-check", "tty"};
  bundle_.Save();
  std::string id = NewId();
  Child run = RtSpawn({"run", "-d", "--console-socket", sock, "--bundle", bundle_.dir, id});
  int master = ReceiveMaster();
  Result r = Wait(run);
  ASSERT_TRUE(r.ok()) << r;
  ASSERT_GE(master, 0);
  Facts f = TermFacts(ReadAll(master));
  EXPECT_EQ(f["tty.size"], "40x100") << f.raw;
}

TEST_F(Terminal, DetachedTerminalNeedsConsoleSocket) {
  std::string id = NewId();
  std::string cg = bundle_.config["linux"]["cgroupsPath"];
  bundle_.config["process"]["terminal"] = true;
  bundle_.Save();
  Result r = Rt({"create", "--bundle", bundle_.dir, id});
  EXPECT_NE(r.exit_code, 0) << r;
  EXPECT_NE(r.err.find("console"), std::string::npos) << r;
  ExpectNothingLeftBehind(id, cg);
}

TEST_F(Terminal, ConsoleSocketWithoutTerminalIsRejected) {
  std::string sock = Listen();
  std::string id = NewId();
  std::string cg = bundle_.config["linux"]["cgroupsPath"];
  bundle_.Save();
  Result r = Rt({"create", "--console-socket", sock, "--bundle", bundle_.dir, id});
  if (r.exit_code == 0) {
    ADD_FAILURE() << "--console-socket without process.terminal must be rejected (as runc does)\n" << r;
    Rt({"delete", "--force", id});
    return;
  }
  ExpectNothingLeftBehind(id, cg);
}

TEST_F(Terminal, DevConsoleSymlinkIsNotFollowed) {
  // CVE-2025-52565: with the rootfs's own /dev, a /dev/console symlink must
  // not redirect the console bind mount onto its target.
  KNOWN_FAILURE("runc", "runc 1.1.5 is vulnerable to CVE-2025-52565 (mounts the pty over /dev/console's target)");
  json mounts = json::array();
  for (const auto& m : bundle_.config["mounts"]) {
    std::string d = m["destination"];
    if (d != "/dev" && d != "/dev/shm" && d != "/dev/mqueue") mounts.push_back(m);
  }
  bundle_.config["mounts"] = mounts;
  bundle_.config["root"]["readonly"] = false;
  WriteFile(bundle_.rootfs + "/md-target", "target\n");
  std::filesystem::create_directories(bundle_.rootfs + "/dev/pts");
  std::filesystem::create_symlink("/md-target", bundle_.rootfs + "/dev/console");
  std::string sock = Listen();
  bundle_.config["process"]["terminal"] = true;
  bundle_.config["process"]["args"] = {"/md-check", "stat", "/md-target"};
  bundle_.Save();
  std::string id = NewId();
  Child run = RtSpawn({"run", "-d", "--console-socket", sock, "--bundle", bundle_.dir, id});
  int master = ReceiveMaster(/*required=*/false);
  Result r = Wait(run);
  if (r.exit_code != 0) {
    std::cout << "[ INFO     ] refused: " << r.err;
    return;
  }
  ASSERT_GE(master, 0);
  Facts f = TermFacts(ReadAll(master));
  EXPECT_EQ(f["stat:/md-target.type"], "reg") << "the console was mounted over the symlink's target: " << f.raw;
  EXPECT_EQ(ReadFile(bundle_.rootfs + "/md-target"), "target\n");
}

}  // namespace
}  // namespace mdtest

namespace mdtest {
namespace {

// exec -t: the exec'd process gets its own pty through --console-socket, and the
// container's mounts are left alone (no /dev/console bind from an exec).
TEST_F(Terminal, ExecWithTerminalLeavesContainerMountsAlone) {
  std::string id = NewId();
  bundle_.config["process"]["args"] = {"/md-check", "hold"};
  Create(bundle_, id);
  ASSERT_TRUE(Rt({"start", id}).ok());
  std::string sock = Listen();
  // runc accepts --console-socket only with -d (it proxies a pty itself otherwise).
  Child exec = RtSpawn({"exec", "-d", "-t", "--console-socket", sock, id, "/md-check", "tty"});
  int master = ReceiveMaster();
  ASSERT_GE(master, 0);
  Facts f = TermFacts(ReadAll(master));
  Result r = Wait(exec);
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(f["tty.isatty0"], "1") << f.raw;
  EXPECT_EQ(f["tty.ctty"], "1") << f.raw;
  Result mounts = Rt({"exec", id, "/md-check", "mounts"});
  ASSERT_TRUE(mounts.ok()) << mounts;
  EXPECT_EQ(mounts.out.find("/dev/console"), std::string::npos) << mounts.out;
}

}  // namespace
}  // namespace mdtest

namespace mdtest {
namespace {

// `run` in the foreground with process.terminal and no --console-socket: the runtime
// allocates the pty and copies it to its own stdio (runc does the same).
TEST_F(Terminal, ForegroundRunProxiesThePty) {
  KNOWN_FAILURE("runc", "runc 1.1.5 insists on opening /dev/tty (the caller's controlling terminal) and fails without one");
  std::string id = NewId();
  bundle_.config["process"]["terminal"] = true;
  bundle_.config["process"]["args"] = {"/md-check", "tty"};
  bundle_.Save();
  Result r = Rt({"run", "--bundle", bundle_.dir, id});
  ASSERT_TRUE(r.ok()) << r;
  Facts f = TermFacts(r.out);
  EXPECT_EQ(f["tty.isatty0"], "1") << r.out;
  EXPECT_EQ(f["tty.isatty1"], "1") << r.out;
  EXPECT_EQ(f["tty.name"].rfind("/dev/pts/", 0), 0u) << r.out;
}

}  // namespace
}  // namespace mdtest
