// The export and archive (docker cp) routes, registered by add_container_extra_routes
// (container_extra_handlers.cc) so handlers.h keeps one function per area.
#pragma once

#include "api/handlers.h"

namespace md::api {

// GET /containers/{id}/export, HEAD/GET/PUT /containers/{id}/archive.
void add_container_archive_routes(Router<Route>& r);

}  // namespace md::api
