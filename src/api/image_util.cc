// Helpers the image endpoints share; see image_util.h.
#include "api/image_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "api/http_util.h"
#include "engine/core/containers.h"

namespace md::api {

image::ImageService image_service(engine::Engine& e) { return image::ImageService(e.paths().root, e.db()); }

Error image_error(const Error& e, const std::string& ref) {
  if (e.errno_value == ENOENT && e.message.rfind("no such image", 0) == 0) return Error{ENOENT, "No such image: " + ref};
  return e;
}

Result<store::Image> lookup_image(engine::Engine& e, const std::string& ref) {
  auto img = e.images().get(ref);
  if (!img) return std::unexpected(image_error(img.error(), ref));
  return img;
}

std::vector<image::ImageUser> image_users(engine::Engine& e, const std::string& image_id) {
  (void)engine::reconcile_all(e);
  std::vector<image::ImageUser> users;
  store::ContainerFilter f;
  f.all = true;
  if (auto list = e.containers().list(f))
    for (auto& c : *list)
      if (c.image == image_id) users.push_back({c.id, is_up(c.state)});
  return users;
}

std::set<std::string> images_in_use(engine::Engine& e) {
  std::set<std::string> ids;
  store::ContainerFilter f;
  f.all = true;
  if (auto list = e.containers().list(f))
    for (auto& c : *list) ids.insert(c.image);
  return ids;
}

Result<UniqueFd> anonymous_file(engine::Engine& e) {
  std::string dir = e.paths().tmp();
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return fail("create " + dir + ": " + std::strerror(errno), errno);
  UniqueFd fd(::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (fd.valid()) return fd;
  // A filesystem without O_TMPFILE: a named file, unlinked at once.
  std::string path = dir + "/api-body-XXXXXX";
  int raw = ::mkostemp(path.data(), O_CLOEXEC);
  if (raw < 0) return fail("create a temporary file in " + dir + ": " + std::strerror(errno), errno);
  ::unlink(path.c_str());
  return UniqueFd(raw);
}

Result<UniqueFd> body_as_file(engine::Engine& e, const std::string& data) {
  UniqueFd fd = TRY(anonymous_file(e));
  for (size_t off = 0; off < data.size();) {
    ssize_t n = ::write(fd.get(), data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(std::string("write the request body to a temporary file: ") + std::strerror(errno), EIO);
    off += size_t(n);
  }
  if (::lseek(fd.get(), 0, SEEK_SET) != 0) return fail(std::string("rewind the request body: ") + std::strerror(errno), EIO);
  return fd;
}

Response json_stream_response(const std::vector<nlohmann::json>& messages) {
  Response r;
  for (auto& m : messages) r.body += m.dump() + "\r\n";
  return r;
}

}  // namespace md::api
