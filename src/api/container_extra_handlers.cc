// API endpoints: rename, update, top, changes, export, archive, prune (not written yet).
#include "api/handlers.h"

namespace md::api {

void add_container_extra_routes(Router<Route>&) {}

}  // namespace md::api
