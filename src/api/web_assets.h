// The dashboard's files (web/**), compiled into the binary by cmake/embed_web.cmake,
// which generates the definition of web_assets() (build/generated/web_assets.cc).
// Served by web_routes.cc; docs/dashboard.md.
#pragma once

#include <span>
#include <string_view>

namespace md::api {

struct WebAsset {
  std::string_view path;          // URL path: "/index.html", "/static/app.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view etag;          // quoted SHA-1 of the content
  std::string_view data;
};

// Every embedded file, sorted by path; static storage, never changes.
std::span<const WebAsset> web_assets();

}  // namespace md::api
