// The server's REST API (docs/api.md, "The seeds' API"): fetch with JSON in and out, and
// every failure turned into an ApiError carrying the server's {"message"} so the views can
// show exactly what went wrong.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// A listener started with --token wants it on every request. The page is opened once as
// http://host:port/?token=T; the server's answer to that sets the md_token cookie
// (HttpOnly; web_routes.cc), which the browser then sends with every file, fetch and
// WebSocket of this origin (WebSockets cannot carry headers). Here: drop T from the
// address bar so it ends up in no bookmark or screenshot.
export function adoptToken() {
  const url = new URL(location.href);
  const token = url.searchParams.get('token');
  if (!token) return;
  url.searchParams.delete('token');
  history.replaceState(null, '', url.pathname + url.search + url.hash);
}

export async function api(method, path, body) {
  const opts = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, opts);
  } catch (e) {
    throw new ApiError(0, `cannot reach the server (${e.message})`);
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = text; }
  }
  if (!res.ok) {
    const msg = (data && typeof data === 'object' && data.message) || (typeof data === 'string' && data.trim()) ||
      `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, msg);
  }
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body);
export const del = (path) => api('DELETE', path);

// "/api/containers/<name>" with the name escaped.
export const cpath = (name, rest = '') => `/api/containers/${encodeURIComponent(name)}${rest}`;

export function wsUrl(path) {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${path}`;
}
