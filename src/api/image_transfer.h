// The image endpoints that move whole images (image_transfer_handlers.cc):
//   POST /images/create   fromSrc=- (import the body's tar) or fromImage= (pull: only
//                         images that are here already "pull"; there is no registry client)
//   POST /images/load     a `docker save` archive in the body
//   GET  /images/{name}/get, GET /images/get?names=   a `docker save` archive
//   POST /commit          a container's changes as a new image
// Registered by add_image_routes (image_handlers.cc), before its "{name*}" routes.
#pragma once

#include "api/handlers.h"

namespace md::api {

void add_image_transfer_routes(Router<Route>& r);

}  // namespace md::api
