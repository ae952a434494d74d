// Container file transfer endpoints: export (`docker export`) and archive (`docker cp`:
// HEAD/GET/PUT /containers/{id}/archive). The tar work and the symlink-safe resolution
// are the engine's (container_files.h, image/tree_tar.h); this file is Docker's HTTP
// shapes, the streaming of big answers and the feeding of big bodies.
// docs/api-objects.md.
#include "api/container_archive_handlers.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "api/http_util.h"
#include "base/unique_fd.h"
#include "engine/core/container_files.h"

namespace md::api {
namespace {

using nlohmann::json;

// The tar writers use write(2): a reader that went away (client closed the connection,
// extractor stopped) must give EPIPE on this thread, not a SIGPIPE that ends the server.
// SIGPIPE from write(2) is sent to the writing thread, so blocking it here is enough; a
// pending one is consumed before the old mask comes back.
class NoSigpipe {
 public:
  NoSigpipe() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~NoSigpipe() {
    struct timespec zero {};
    while (sigtimedwait(&pipe_, nullptr, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t pipe_, old_;
};

// Writes all of `data` to a pipe; false when the reader is gone.
bool write_pipe(int fd, std::string_view data) {
  NoSigpipe guard;
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(size_t(n));
  }
  return true;
}

// The hijacked answer of export and GET archive: the status line and headers are the
// server's; the body is written straight to the socket and ends when the connection
// closes (no Content-Length, no chunking), so memory stays bounded for any size.
Response streamed_tar(std::vector<std::pair<std::string, std::string>> headers, std::function<void(int)> write_body) {
  Response r;
  r.status = 200;
  r.content_type = "application/x-tar";
  r.headers = std::move(headers);
  r.headers.push_back({"Connection", "close"});
  r.hijack = [write_body = std::move(write_body)](Hijacked& h) {
    NoSigpipe guard;
    write_body(h.fd);
  };
  return r;
}

// GET /containers/{id}/export → the container's file system as a tar (application/x-tar).
Response container_export(engine::Engine* e, const Request& q) {
  auto c = lookup(*e, q.params.at("id"));
  if (!c) return error_response(c.error());
  std::string id = c->id;
  return streamed_tar({}, [e, id](int fd) { (void)engine::export_container(*e, id, fd); });
}

// Docker's texts for archive errors.
Response archive_error(const Error& err, const std::string& path, const std::string& ref) {
  if (err.errno_value == ENOENT) return error_response(404, "Could not find the file " + path + " in container " + ref);
  if (err.errno_value == ENOTDIR) return error_response(400, err.message);
  if (err.errno_value == EROFS) return error_response(403, err.message);
  if (err.errno_value == EINVAL || err.errno_value == EEXIST || err.errno_value == EISDIR || err.errno_value == EXDEV)
    return error_response(400, err.message);
  return error_response(500, err.message);
}

// HEAD/GET /containers/{id}/archive?path=P: X-Docker-Container-Path-Stat; GET adds a tar
// of P (Docker's naming: "/etc" → "etc/…", "/etc/." → "./…").
Response container_archive_get(engine::Engine* e, const Request& q) {
  const std::string& ref = q.params.at("id");
  auto c = lookup(*e, ref);
  if (!c) return error_response(c.error());
  std::string path = query_value(q, "path");
  if (path.empty()) return error_response(400, "path cannot be empty");
  auto root = engine::open_container_root(*e, c->id);
  if (!root) return error_response(root.error());
  auto st = image::stat_path((*root)->fd(), path);
  if (!st) return archive_error(st.error(), path, ref);
  std::pair<std::string, std::string> stat_header = {"X-Docker-Container-Path-Stat", engine::path_stat_header(*st)};
  if (q.method == "HEAD") {
    Response r;
    r.content_type = "";
    r.headers.push_back(stat_header);
    return r;
  }
  std::shared_ptr<engine::ContainerRoot> held(std::move(*root));
  e->emit_container(*c, "archive-path");  // Docker's event for a copy out
  return streamed_tar({stat_header}, [held, path](int fd) { (void)image::copy_out(held->fd(), path, fd); });
}

// The container's user as uid:gid for copyUIDGID ("1000", "1000:1000"; names: root).
std::pair<int64_t, int64_t> container_owner(const store::Container& c) {
  std::string user = c.config.value("User", "");
  auto colon = user.find(':');
  auto num = [](const std::string& s) -> int64_t {
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) return 0;
    return std::stoll(s);
  };
  int64_t uid = num(user.substr(0, colon));
  int64_t gid = colon == std::string::npos ? uid : num(user.substr(colon + 1));
  return {uid, gid};
}

// Docker's rule for writing into a container: a path inside a mount needs a writable
// mount; anywhere else a read-only root file system refuses (403 both).
std::optional<std::string> write_refused(const store::Container& c, const std::string& path) {
  std::string p = path.empty() || path[0] != '/' ? "/" + path : path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  const json* best = nullptr;
  size_t best_len = 0;
  auto points = c.host_config.value("MountPoints", json::array());
  for (auto& m : points) {
    std::string d = m.value("Destination", "");
    if (d.empty() || d.size() < best_len) continue;
    if (p == d || p.starts_with(d == "/" ? d : d + "/")) {
      best = &m;
      best_len = d.size();
    }
  }
  if (best) {
    auto rw = best->find("RW");
    if (rw != best->end() && rw->is_boolean() && !rw->get<bool>()) return "mounted volume is marked read-only";
    return std::nullopt;
  }
  auto ro = c.host_config.find("ReadonlyRootfs");
  if (ro != c.host_config.end() && ro->is_boolean() && ro->get<bool>()) return "container rootfs is marked read-only";
  return std::nullopt;
}

// PUT /containers/{id}/archive?path=DIR&noOverwriteDirNonDir=&copyUIDGID=, body: a tar
// (any compression) extracted into the existing directory DIR, every entry resolved inside
// the container's root.
Response container_archive_put(engine::Engine* e, const Request& q) {
  const std::string& ref = q.params.at("id");
  auto c = lookup(*e, ref);
  if (!c) return error_response(c.error());
  std::string path = query_value(q, "path");
  if (path.empty()) return error_response(400, "path cannot be empty");
  if (auto why = write_refused(*c, path)) return error_response(403, *why);
  auto root = engine::open_container_root(*e, c->id);
  if (!root) return error_response(root.error());
  auto st = image::stat_path((*root)->fd(), path + (path.back() == '/' ? "" : "/"));
  if (!st) {
    auto plain = image::stat_path((*root)->fd(), path);
    if (plain) return error_response(400, "extraction point is not a directory");
    return archive_error(st.error(), path, ref);
  }
  image::CopyInOptions o;
  o.keep_existing_types = query_bool(q, "noOverwriteDirNonDir");
  o.cross_mounts = (*root)->running();
  if (query_bool(q, "copyUIDGID")) std::tie(o.owner_uid, o.owner_gid) = container_owner(*c);
  // The body is in memory already: a pipe and a writer thread feed it to the extractor
  // without another copy.
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return error_response(500, std::string("pipe: ") + std::strerror(errno));
  UniqueFd rd(p[0]), wr(p[1]);
  std::thread writer([&] {
    (void)write_pipe(wr.get(), q.body);
    wr.reset();
  });
  auto s = image::copy_in((*root)->fd(), path, rd.get(), o);
  rd.reset();  // a failed extraction stops reading: the writer gets EPIPE and ends
  writer.join();
  if (!s) return archive_error(s.error(), path, ref);
  e->emit_container(*c, "extract-to-dir");  // Docker's event for a copy in
  return Response{};
}

}  // namespace

void add_container_archive_routes(Router<Route>& r) {
  // Streams (hijacked) and big uploads: a thread of their own, never a pool worker.
  r.add("GET", "/containers/{id}/export", {container_export, RunOn::kOwnThread});
  r.add("GET", "/containers/{id}/archive", {container_archive_get, RunOn::kOwnThread});  // HEAD too
  r.add("PUT", "/containers/{id}/archive", {container_archive_put, RunOn::kOwnThread, uint64_t(8) << 30});
}

}  // namespace md::api
