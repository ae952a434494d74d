// minidocker-dns: name resolution for one user-defined network. See docs/networking.md.
//
//   minidocker-dns --listen IP[:PORT] --hosts FILE [--upstream IP[:PORT]]...
//                  [--pid-file FILE] [--domain NAME]
//
// Started (and detached) by the engine; runs until SIGTERM or SIGINT, then exits 0.
#include <fcntl.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "base/file_util.h"
#include "dns/dns_server.h"

namespace {

constexpr const char* kUsage =
    "usage: minidocker-dns --listen IP[:PORT] --hosts FILE [--upstream IP[:PORT]]...\n"
    "                      [--pid-file FILE] [--domain NAME]\n"
    "  --listen IP[:PORT]    address to serve on, UDP and TCP (port 53 by default)\n"
    "  --hosts FILE          lines of `IP NAME [ALIAS...]`, re-read when it changes\n"
    "  --upstream IP[:PORT]  where other names are forwarded (repeatable; none: NXDOMAIN)\n"
    "  --pid-file FILE       written once serving, removed on exit\n"
    "  --domain NAME         zone for container names (default dns.minidocker; \"\" for none)\n";

struct Flags {
  md::dns::ServerOptions server;
  std::string pid_file;
};

md::Result<Flags> parse_flags(int argc, char** argv) {
  Flags f;
  bool have_listen = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string_view value;
    bool inline_value = false;
    if (size_t eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      inline_value = true;
    }
    auto next = [&]() -> md::Result<std::string_view> {
      if (inline_value) return value;
      if (i + 1 >= argc) return md::fail("flag " + std::string(arg) + " needs a value", EINVAL);
      return std::string_view(argv[++i]);
    };
    if (arg == "--listen") {
      f.server.listen = TRY(md::dns::parse_endpoint(TRY(next()), 53));
      have_listen = true;
    } else if (arg == "--hosts") {
      f.server.hosts_path = std::string(TRY(next()));
    } else if (arg == "--upstream") {
      f.server.upstreams.push_back(TRY(md::dns::parse_endpoint(TRY(next()), 53)));
    } else if (arg == "--pid-file") {
      f.pid_file = std::string(TRY(next()));
    } else if (arg == "--domain") {
      std::string domain(TRY(next()));
      while (domain.ends_with('.')) domain.pop_back();
      for (char& c : domain) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
      if (!domain.empty() && !md::dns::valid_host_name(domain))
        return md::fail("invalid --domain `" + domain + "`: use letters, digits, '-' and dots", EINVAL);
      f.server.domain = domain;
    } else if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else {
      return md::fail("unknown flag `" + std::string(arg) + "`", EINVAL);
    }
  }
  if (!have_listen) return md::fail("--listen is required", EINVAL);
  if (f.server.hosts_path.empty()) return md::fail("--hosts is required", EINVAL);
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  auto flags = parse_flags(argc, argv);
  if (!flags) {
    std::fprintf(stderr, "minidocker-dns: %s\n%s", flags.error().message.c_str(), kUsage);
    return 2;
  }
  // A client closing its TCP connection early must not kill the server.
  ::signal(SIGPIPE, SIG_IGN);
  // Detached by the engine; nothing is ever read from stdin.
  if (int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC); null >= 0) {
    ::dup3(null, STDIN_FILENO, 0);
    if (null != STDIN_FILENO) ::close(null);
  }
  // SIGTERM/SIGINT arrive through a signalfd that the poll loop watches: a clean
  // return from run() removes the pid file and closes the sockets.
  // A shell starts background jobs with SIGINT ignored, and an ignored signal never
  // reaches a signalfd: restore the defaults first (blocked, they cannot kill us).
  ::signal(SIGTERM, SIG_DFL);
  ::signal(SIGINT, SIG_DFL);
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  if (::sigprocmask(SIG_BLOCK, &stop, nullptr) != 0) {
    std::fprintf(stderr, "minidocker-dns: block signals: %s\n", std::strerror(errno));
    return 1;
  }
  md::UniqueFd stop_fd(::signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!stop_fd) {
    std::fprintf(stderr, "minidocker-dns: signalfd: %s\n", std::strerror(errno));
    return 1;
  }
  auto server = md::dns::DnsServer::create(std::move(flags->server));
  if (!server) {
    std::fprintf(stderr, "minidocker-dns: %s\n", server.error().message.c_str());
    return 1;
  }
  // Written only once the sockets are bound: a pid file means "serving".
  if (!flags->pid_file.empty()) {
    if (auto s = md::write_file_atomic(flags->pid_file, std::to_string(::getpid()) + "\n"); !s) {
      std::fprintf(stderr, "minidocker-dns: write pid file: %s\n", s.error().message.c_str());
      return 1;
    }
  }
  auto ran = (*server)->run(stop_fd.get());
  if (!flags->pid_file.empty()) ::unlink(flags->pid_file.c_str());
  if (!ran) {
    std::fprintf(stderr, "minidocker-dns: %s\n", ran.error().message.c_str());
    return 1;
  }
  return 0;
}
