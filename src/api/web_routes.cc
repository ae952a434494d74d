// API endpoints: the dashboard's files (docs/dashboard.md). Every file of web/ is
// embedded in the binary (web_assets.h) and registered as a route of its own at its path
// ("/static/app.js", "/vendor/chart.umd.js"); "/" is index.html.
//
// With --token, the page is opened once as "/?token=T". The server has checked T before
// routing here, so the answer to that request sets it as the md_token cookie (HttpOnly,
// SameSite=Strict): the stylesheets, scripts, fetches and WebSockets the page then makes
// cannot carry the query string, and a script would set its cookie too late for the
// files the page already asked for.
//
// Every answer carries a Content-Security-Policy that allows only this origin (scripts,
// styles, WebSockets, images): the dashboard makes no external requests, and an injected
// script could not send data elsewhere. Files are revalidated on every load
// (Cache-Control: no-cache) against their SHA-1 ETag, so a new binary's dashboard shows
// up at once while an unchanged file costs a 304.
#include <string>
#include <string_view>

#include "api/handlers.h"
#include "api/http_util.h"
#include "api/web_assets.h"

namespace md::api {
namespace {

// 'unsafe-inline' for styles only: xterm.js and Chart.js set element styles at run time.
constexpr const char* kCsp =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

const WebAsset* find_asset(std::string_view path) {
  if (path.empty() || path == "/") path = "/index.html";
  for (const auto& a : web_assets())
    if (a.path == path) return &a;
  return nullptr;
}

void add_common_headers(Response& r, const WebAsset& a, const char* cache = "no-cache") {
  r.headers.emplace_back("Cache-Control", cache);
  r.headers.emplace_back("ETag", std::string(a.etag));
  r.headers.emplace_back("Content-Security-Policy", kCsp);
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
}

// RFC 6265 cookie-octets only: anything else cannot be a cookie value as it is (the
// server compares the cookie byte for byte, so no encoding either).
bool cookie_safe(std::string_view v) {
  if (v.empty()) return false;
  for (unsigned char ch : v)
    if (ch <= 0x20 || ch >= 0x7f || ch == '"' || ch == ',' || ch == ';' || ch == '\\') return false;
  return true;
}

// GET (and HEAD) of an embedded file. Runs inline: a table lookup and a copy.
Response get_asset(engine::Engine*, const Request& q) {
  const WebAsset* a = find_asset(q.path);
  if (!a) return error_response(404, "No such file: " + q.path);
  auto token = q.query.find("token");
  const bool set_cookie = token != q.query.end() && a->path == "/index.html" && cookie_safe(token->second);
  auto inm = q.headers.find("if-none-match");
  if (!set_cookie && inm != q.headers.end() && inm->second == a->etag) {
    Response r = no_content(304);
    add_common_headers(r, *a);
    return r;
  }
  Response r;
  r.status = 200;
  r.content_type = std::string(a->content_type);
  r.body = std::string(a->data);
  if (set_cookie) {
    add_common_headers(r, *a, "no-store");  // an answer that sets a secret is not cached
    r.headers.emplace_back("Set-Cookie", "md_token=" + token->second + "; Path=/; SameSite=Strict; HttpOnly");
  } else {
    add_common_headers(r, *a);
  }
  return r;
}

// Unknown files under the dashboard's folders: a clear 404 rather than the API's
// "page not found".
Response missing_asset(engine::Engine*, const Request& q) {
  return error_response(404, "No such file: " + q.path);
}

}  // namespace

void add_web_routes(Router<Route>& r) {
  const Route file{get_asset, RunOn::kInline};
  r.add("GET", "/", file);
  for (const auto& a : web_assets()) r.add("GET", a.path, file);
  // The router takes the first match: these come after every real file.
  const Route missing{missing_asset, RunOn::kInline};
  r.add("GET", "/static/{path*}", missing);
  r.add("GET", "/vendor/{path*}", missing);
}

}  // namespace md::api
