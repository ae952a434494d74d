// API endpoints: attach, logs follow, stats, resize, events (not written yet).
#include "api/handlers.h"

namespace md::api {

void add_stream_routes(Router<Route>&) {}

}  // namespace md::api
