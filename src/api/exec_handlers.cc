// API endpoints: exec create/start/inspect/resize (not written yet).
#include "api/handlers.h"

namespace md::api {

void add_exec_routes(Router<Route>&) {}

}  // namespace md::api
