// API endpoints: the dashboard's files (not written yet).
#include "api/handlers.h"

namespace md::api {

void add_web_routes(Router<Route>&) {}

}  // namespace md::api
