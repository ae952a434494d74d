// Container endpoints beyond the lifecycle: rename, update, top, changes, export, archive
// (docker cp) and prune. The work is the engine's (ops.cc rename, update.h, top.h,
// container_files.h, system.h prune); this file is Docker's HTTP shapes and status codes.
// docs/api-objects.md describes each endpoint.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "api/http_util.h"
#include "api/prune_filter.h"
#include "base/unique_fd.h"
#include "engine/core/container_files.h"
#include "engine/core/system.h"
#include "engine/core/top.h"
#include "engine/core/update.h"

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

// POST /containers/{id}/rename?name=NEW → 204. 409 when the name is taken.
Response container_rename(engine::Engine* e, const Request& q) {
  const std::string& ref = q.params.at("id");
  auto c = lookup(*e, ref);
  if (!c) return error_response(c.error());
  std::string name = query_value(q, "name");
  if (!name.empty() && name[0] == '/') name.erase(0, 1);
  if (name.empty()) return error_response(400, "Neither old nor new names may be empty");
  auto s = engine::rename_container(*e, c->id, name);
  if (!s) return error_response(s.error());
  return no_content();
}

// POST /containers/{id}/update, body: Docker's UpdateConfig (Resources + RestartPolicy).
Response container_update(engine::Engine* e, const Request& q) {
  auto c = lookup(*e, q.params.at("id"));
  if (!c) return error_response(c.error());
  json body = json::parse(q.body.empty() ? std::string("{}") : q.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return error_response(400, "invalid JSON: the body is not a JSON object");
  auto r = engine::parse_update_body(body);
  if (!r) return error_response(400, r.error().message);
  auto warnings = engine::update_container(*e, c->id, *r);
  if (!warnings) {
    int err = warnings.error().errno_value;
    // Docker's update errors are bad parameters (limits, conflicts), not server faults.
    return error_response(err == ENOENT ? 404 : err == EINVAL || err == ERANGE ? 400 : error_response(warnings.error()).status,
                          warnings.error().message);
  }
  return json_response(200, {{"Warnings", *warnings}});
}

// GET /containers/{id}/top?ps_args=-ef → {"Titles": [...], "Processes": [[...]]}.
Response container_top(engine::Engine* e, const Request& q) {
  const std::string& ref = q.params.at("id");
  auto c = lookup(*e, ref);
  if (!c) return error_response(c.error());
  if (c->state != store::ContainerState::kRunning && c->state != store::ContainerState::kPaused)
    return error_response(409, "Container " + c->id + " is not running");
  std::string args = query_value(q, "ps_args", "-ef");
  if (args.empty()) args = "-ef";
  auto t = engine::top_container(*e, c->id, args);
  if (!t) {
    int err = t.error().errno_value;
    if (err == EINVAL && t.error().message.find("is not running") != std::string::npos)
      return error_response(409, "Container " + c->id + " is not running");
    // EINVAL: ps_args Docker refuses ("specifying \"user=PID\" is not allowed") or ps
    // rejected them; anything else is ours.
    return error_response(err == ENOENT ? 404 : err == EINVAL ? 400 : 500, t.error().message);
  }
  return json_response(200, {{"Titles", t->titles}, {"Processes", t->processes}});
}

// GET /containers/{id}/changes → [{"Path": "/tmp", "Kind": 0}, …] (0 changed, 1 added, 2 deleted).
Response container_changes(engine::Engine* e, const Request& q) {
  auto c = lookup(*e, q.params.at("id"));
  if (!c) return error_response(c.error());
  auto changes = engine::container_changes(*e, c->id);
  if (!changes) return error_response(changes.error());
  json out = json::array();
  for (auto& ch : *changes) out.push_back({{"Path", ch.path}, {"Kind", ch.kind}});
  return json_response(200, out);
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

// POST /containers/prune?filters={"until":[…],"label":[…],"label!":[…]}.
Response containers_prune(engine::Engine* e, const Request& q) {
  auto raw = parse_filters(query_value(q, "filters"));
  if (!raw) return error_response(400, raw.error().message);
  auto f = prune_filter_from(*raw, {"until", "label", "label!"});
  if (!f) return error_response(400, f.error().message);
  auto rep = engine::prune_containers(*e, *f);
  if (!rep) return error_response(rep.error());
  return json_response(200, {{"ContainersDeleted", rep->deleted}, {"SpaceReclaimed", rep->reclaimed}});
}

}  // namespace

void add_container_extra_routes(Router<Route>& r) {
  r.add("POST", "/containers/{id}/rename", {container_rename, RunOn::kPool});
  r.add("POST", "/containers/{id}/update", {container_update, RunOn::kPool});
  r.add("GET", "/containers/{id}/top", {container_top, RunOn::kPool});
  r.add("GET", "/containers/{id}/changes", {container_changes, RunOn::kPool});
  // Streams (hijacked): a thread of their own, never a pool worker.
  r.add("GET", "/containers/{id}/export", {container_export, RunOn::kOwnThread});
  r.add("GET", "/containers/{id}/archive", {container_archive_get, RunOn::kOwnThread});  // HEAD too
  r.add("PUT", "/containers/{id}/archive", {container_archive_put, RunOn::kOwnThread, uint64_t(8) << 30});
  r.add("POST", "/containers/prune", {containers_prune, RunOn::kPool});
}

}  // namespace md::api
