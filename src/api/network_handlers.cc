// API endpoints: networks (not written yet).
#include "api/handlers.h"

namespace md::api {

void add_network_routes(Router<Route>&) {}

}  // namespace md::api
