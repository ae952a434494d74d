// The seeds' /api/* routes (docs/api-seeds.md), registered by add_seed_routes
// (seed_api.cc) from one function per file.
#pragma once

#include <nlohmann/json.hpp>

#include "api/handlers.h"

namespace md::api {

void add_seed_container_routes(Router<Route>& r);  // seed_api.cc: list, get, create, lifecycle, delete, export/import
void add_seed_info_routes(Router<Route>& r);       // seed_info.cc: logs, stats, exec, rootfs, templates, topology, health
void add_seed_isolation_routes(Router<Route>& r);  // seed_isolation.cc: the teaching view
void add_seed_ws_routes(Router<Route>& r);         // seed_ws.cc: /api/ws and the terminal

// POST /api/containers with an already parsed object (also import and templates): 201 and
// the container object, 400 naming a bad field; a failed start removes the container.
Response seed_create_from(engine::Engine& e, const nlohmann::json& in);

}  // namespace md::api
