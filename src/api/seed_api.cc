// API endpoints: the seeds' /api/* and the WebSocket (not written yet).
#include "api/handlers.h"

namespace md::api {

void add_seed_routes(Router<Route>&) {}

}  // namespace md::api
