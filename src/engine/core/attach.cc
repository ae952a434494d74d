#include "engine/core/attach.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstdio>

#include "runtime/unix_socket.h"

namespace md::engine {

Result<UniqueFd> connect_attach(const Paths& p, const std::string& id) {
  return runtime::connect_unix(p.attach_socket(id), SOCK_STREAM);
}

Status resize_tty(const Paths& p, const std::string& id, int rows, int cols) {
  if (rows < 0 || cols < 0 || rows > 65535 || cols > 65535)
    return fail("invalid terminal size " + std::to_string(rows) + "x" + std::to_string(cols), EINVAL);
  // The control socket's path may be longer than sun_path: address it through its directory.
  std::string path = p.control_socket(id);
  std::string dir = path.substr(0, path.rfind('/'));
  UniqueFd dirfd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dirfd) return fail_errno("open " + dir);
  UniqueFd s(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s) return fail_errno("create socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", dirfd.get(),
                path.substr(path.rfind('/') + 1).c_str());
  std::string msg = "resize " + std::to_string(rows) + " " + std::to_string(cols);
  if (::sendto(s.get(), msg.data(), msg.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
    return fail_errno("resize the terminal of " + id);
  return {};
}

}  // namespace md::engine
