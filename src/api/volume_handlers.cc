// API endpoints: volumes (not written yet).
#include "api/handlers.h"

namespace md::api {

void add_volume_routes(Router<Route>&) {}

}  // namespace md::api
