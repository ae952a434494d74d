// Helpers the image endpoints share (image_handlers.cc, image_transfer_handlers.cc): the
// image service of a request's Engine, image lookup with Docker's 404 text, the
// containers that use an image, and request bodies as files for the service's fd APIs.
#pragma once

#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/handlers.h"
#include "base/result.h"
#include "base/unique_fd.h"
#include "engine/core/engine.h"
#include "engine/image/image_service.h"

namespace md::api {

// Uploads (load, import) and downloads are whole images: far above the server's default.
inline constexpr uint64_t kImageBodyLimit = 8ull << 30;  // 8 GiB

// The image service over `e`'s root and database (cheap: it holds references).
image::ImageService image_service(engine::Engine& e);

// The image `ref` names; ENOENT "No such image: <ref>" (Docker's text, → 404).
Result<store::Image> lookup_image(engine::Engine& e, const std::string& ref);

// An engine error with Docker's "No such image: <ref>" instead of the store's wording.
Error image_error(const Error& e, const std::string& ref);

// Containers (any state, reconciled) created from image `image_id`, for rmi's conflicts.
std::vector<image::ImageUser> image_users(engine::Engine& e, const std::string& image_id);
// Image ids any container (any state) was created from.
std::set<std::string> images_in_use(engine::Engine& e);

// `data` in an anonymous file under `e`'s tmp directory (same filesystem as the layers),
// positioned at 0: the services read archives from fds. Gone when the fd is closed.
Result<UniqueFd> body_as_file(engine::Engine& e, const std::string& data);
// An empty anonymous file there, for output the caller sends afterwards.
Result<UniqueFd> anonymous_file(engine::Engine& e);

// Docker's progress-stream lines ({"status": …} / {"stream": …}), "\r\n"-terminated as
// dockerd writes them, in one application/json answer.
Response json_stream_response(const std::vector<nlohmann::json>& messages);

}  // namespace md::api
