// Image endpoints that move whole images: create (import / pull), load, get (save),
// commit. See image_transfer.h and docs/api-images.md.
//
// Bodies: the server holds a request body in memory; the image service reads archives
// from fds, so an upload is copied into an anonymous file under <root>/tmp first. Saves
// go to such a file too and are sent with a Content-Length once complete: a failure is a
// proper error status, never a truncated tar that looks like a good one.
#include <sys/sendfile.h>
#include <sys/stat.h>

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/http_util.h"
#include "api/image_transfer.h"
#include "api/image_util.h"
#include "base/scope_guard.h"
#include "engine/core/containers.h"
#include "engine/image/image_config.h"

namespace md::api {
namespace {

using nlohmann::json;

// Every value of a repeated query parameter. The server's Request keeps one value per
// key (the last), so "changes=a&changes=b" gives only "b" (see docs/api-images.md).
std::vector<std::string> query_values(const Request& q, const std::string& key) {
  std::vector<std::string> out;
  auto [from, to] = q.query_all.equal_range(key);
  for (auto it = from; it != to; ++it)
    if (!it->second.empty()) out.push_back(it->second);
  return out;
}

// An error from reading an uploaded archive: libarchive reports a body that is not an
// archive (or a damaged one) as EILSEQ, which is the client's fault (400), not ours.
Response upload_error(const Error& e) {
  if (e.errno_value == EILSEQ) return error_response(400, e.message);
  return error_response(e);
}

// "repo" + optional "tag" as Docker's clients send them ("myimg:1" + "", or "myimg" + "1").
std::string reference_of(const Request& q) {
  std::string repo = query_value(q, "repo"), tag = query_value(q, "tag");
  if (repo.empty()) return "";
  return tag.empty() ? repo : repo + ":" + tag;
}

// POST /images/create?fromSrc=-&repo=&tag=&changes=&message=&platform=: the body is a
// root filesystem tar; one {"status":"sha256:…"} line like dockerd's import.
Response image_import(engine::Engine* e, const Request& q) {
  std::string src = query_value(q, "fromSrc");
  if (src != "-")
    return error_response(400, "importing from \"" + src +
                                   "\" is not supported (no network access): download the file and send it as the "
                                   "request body with fromSrc=-");
  image::ImportOptions o;
  o.tag = reference_of(q);
  if (!o.tag.empty()) {
    auto t = store::normalize_tag(o.tag);
    if (!t) return error_response(400, "invalid reference format: " + t.error().message);
  }
  o.changes = query_values(q, "changes");
  o.message = query_value(q, "message");
  o.platform = query_value(q, "platform");
  auto fd = body_as_file(*e, q.body);
  if (!fd) return error_response(fd.error());
  auto img = image_service(*e).import_tarball(fd->get(), o);
  if (!img) return upload_error(img.error());
  e->emit({.type = "image", .action = "import", .id = img->id, .attributes = {{"name", o.tag.empty() ? img->id : o.tag}}});
  return json_stream_response({{{"status", img->id}}});
}

// POST /images/create?fromImage=&tag=: there is no registry client. An image that is here
// already "pulls" like an up-to-date one (docker-compose pulls images it needs); any
// other is a 404 that says how images get here.
Response image_pull(engine::Engine* e, const Request& q) {
  std::string from = query_value(q, "fromImage"), tag = query_value(q, "tag");
  std::string ref = from;
  bool digest = tag.rfind("sha256:", 0) == 0 || from.find('@') != std::string::npos;
  if (!tag.empty() && !digest) ref += ":" + tag;
  auto normalized = store::normalize_tag(ref);
  std::string name = normalized ? *normalized : ref;
  if (normalized && !digest) {
    if (auto img = e->images().get(*normalized)) {
      std::string repo = name.substr(0, name.rfind(':')), shown_tag = name.substr(name.rfind(':') + 1);
      std::string remote = repo.find('/') == std::string::npos ? "library/" + repo : repo;
      e->emit({.type = "image", .action = "pull", .id = name, .attributes = {{"name", name}}});
      return json_stream_response({{{"status", "Pulling from " + remote}, {"id", shown_tag}},
                                   {{"status", "Status: Image is up to date for " + name}}});
    }
  }
  // Docker names the repository as the user wrote it ("nosuch/thing", not docker.io/…).
  std::string repo = normalized ? name.substr(0, name.rfind(':')) : from;
  return error_response(404, "pull access denied for " + repo +
                                 ": minidocker has no registry client, so only images that are here already can be "
                                 "pulled; add " + name + " with `docker load` or `docker import`");
}

Response images_create(engine::Engine* e, const Request& q) {
  if (!query_value(q, "fromSrc").empty()) return image_import(e, q);
  if (!query_value(q, "fromImage").empty()) return image_pull(e, q);
  return error_response(400, "either fromSrc or fromImage is required");
}

// POST /images/load?quiet=: a docker-archive or oci-archive body; one
// {"stream":"Loaded image: …\n"} per tag (dockerd writes them whether quiet or not).
Response images_load(engine::Engine* e, const Request& q) {
  if (q.body.empty()) return error_response(400, "no image archive in the request body (send the output of docker save)");
  auto fd = body_as_file(*e, q.body);
  if (!fd) return error_response(fd.error());
  auto loaded = image_service(*e).load(fd->get());
  if (!loaded) return upload_error(loaded.error());
  std::vector<json> lines;
  for (auto& l : *loaded) {
    for (auto& [tag, old] : l.moved_tags)
      lines.push_back({{"stream", "The image " + tag + " already exists, renaming the old one with ID " + old +
                                      " to empty string\n"}});
    if (l.tags.empty()) lines.push_back({{"stream", "Loaded image ID: " + l.id + "\n"}});
    for (auto& t : l.tags) lines.push_back({{"stream", "Loaded image: " + t + "\n"}});
    e->emit({.type = "image", .action = "load", .id = l.id, .attributes = {{"name", l.tags.empty() ? l.id : l.tags[0]}}});
  }
  return json_stream_response(lines);
}

// GET /images/{name}/get and GET /images/get?names=: the archive is written to an
// anonymous file, then sent (hijacked connection, Content-Length, sendfile).
Response save_images(engine::Engine* e, const std::vector<std::string>& refs) {
  if (refs.empty()) return error_response(400, "no image named: give names=<image>");
  for (auto& ref : refs)
    if (auto img = lookup_image(*e, ref); !img) return error_response(img.error());
  auto file = anonymous_file(*e);
  if (!file) return error_response(file.error());
  auto saved = image_service(*e).save(refs, file->get());
  if (!saved) return error_response(saved.error());
  for (auto& s : *saved) e->emit({.type = "image", .action = "save", .id = s.id, .attributes = {{"name", s.id}}});
  struct stat st {};
  if (::fstat(file->get(), &st) != 0) return error_response(Error{EIO, "stat the saved archive"});
  auto fd = std::make_shared<UniqueFd>(std::move(*file));
  Response r;
  r.content_type = "application/x-tar";
  r.headers = {{"Content-Type", "application/x-tar"},
               {"Content-Length", std::to_string(st.st_size)},
               {"Connection", "close"}};
  off_t size = st.st_size;
  r.hijack = [fd, size](Hijacked& h) {
    off_t off = 0;
    while (off < size) {
      ssize_t n = ::sendfile(h.fd, fd->get(), &off, size_t(size - off));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // the client went away
    }
  };
  return r;
}

Response image_get(engine::Engine* e, const Request& q) { return save_images(e, {q.params.at("name")}); }
Response images_get(engine::Engine* e, const Request& q) { return save_images(e, query_values(q, "names")); }

// Docker merges the body's Config over the container's: a field the body sets wins.
json merged_config(const json& container, const json& body) {
  json out = container.is_object() ? container : json::object();
  if (!body.is_object()) return out;
  for (auto& [k, v] : body.items()) {
    bool unset = v.is_null() || (v.is_string() && v.get<std::string>().empty()) ||
                 ((v.is_array() || v.is_object()) && v.empty()) || (v.is_boolean() && !v.get<bool>()) ||
                 (v.is_number() && v.get<double>() == 0);
    if (!unset) out[k] = v;
  }
  return out;
}

// POST /commit?container=&repo=&tag=&comment=&author=&changes=&pause= (body: a Config to
// merge, or nothing) → 201 {"Id": "sha256:…"}.
Response commit(engine::Engine* e, const Request& q) {
  std::string ref = query_value(q, "container");
  if (ref.empty()) return error_response(400, "container= is required");
  json body;
  if (!q.body.empty()) {
    body = json::parse(q.body, nullptr, false);
    if (body.is_discarded() || !(body.is_object() || body.is_null()))
      return error_response(400, "the request body must be a JSON object (a container Config) or empty");
  }
  std::string tag = reference_of(q);
  if (!tag.empty()) {
    auto t = store::normalize_tag(tag);
    if (!t) return error_response(400, "invalid reference format: " + t.error().message);
  }
  auto c = lookup(*e, ref);
  if (!c) return error_response(c.error());
  // Docker pauses a running container unless pause=0/false is given.
  bool want_pause = q.query.count("pause") ? query_bool(q, "pause") : true;
  bool paused = false;
  if (want_pause && c->state == store::ContainerState::kRunning)
    paused = bool(engine::pause_container(*e, c->id));
  auto unpause = ScopeGuard([&] {
    if (paused) (void)engine::unpause_container(*e, c->id);
  });
  image::CommitOptions o;
  o.upper_dir = e->paths().upper(c->id);
  o.parent = c->image;
  o.container_config = merged_config(c->config, body);
  o.changes = query_values(q, "changes");
  o.container_id = c->id;
  o.comment = query_value(q, "comment");
  o.author = query_value(q, "author");
  o.tag = tag;
  auto img = image_service(*e).commit(o);
  if (!img) return error_response(img.error());
  e->emit_container(*c, "commit");
  return json_response(201, {{"Id", img->id}});
}

}  // namespace

void add_image_transfer_routes(Router<Route>& r) {
  // Long-running (whole images): threads of their own, not pool workers.
  r.add("POST", "/images/create", {images_create, RunOn::kOwnThread, kImageBodyLimit});
  r.add("POST", "/images/load", {images_load, RunOn::kOwnThread, kImageBodyLimit});
  r.add("GET", "/images/get", {images_get, RunOn::kOwnThread});
  r.add("GET", "/images/{name*}/get", {image_get, RunOn::kOwnThread});
  r.add("POST", "/commit", {commit, RunOn::kOwnThread});
}

}  // namespace md::api
