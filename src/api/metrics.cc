// API endpoints: /metrics in Prometheus text format (not written yet).
#include "api/handlers.h"

namespace md::api {

void add_metrics_routes(Router<Route>&) {}

}  // namespace md::api
