// Small DOM and formatting helpers shared by every view. No framework: h() builds
// elements, never innerHTML with data, so container names and log lines cannot inject markup.

// h('button', {class: 'btn', onclick: fn, 'aria-label': 'Stop'}, 'Stop')
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;   // textareas have no value attribute
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k in el && typeof v !== 'string') el[k] = v;   // checked, value, disabled…
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// SVG elements need their namespace.
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  append(el, children);
  return el;
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function fmtBytes(n) {
  if (n === undefined || n === null || Number.isNaN(n)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = Number(n);
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v < 10 && i > 0 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

export function fmtPercent(p) {
  if (p === undefined || p === null || Number.isNaN(p)) return '–';
  return `${Number(p).toFixed(p < 10 ? 1 : 0)}%`;
}

export function fmtTime(iso) {
  if (!iso || iso.startsWith('0001-')) return '–';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function shortId(id) { return (id || '').replace(/^sha256:/, '').slice(0, 12); }

// "64m", "1g", "512k", "1048576" → bytes (as the CLI's -m); null when blank, NaN when bad.
export function parseSize(s) {
  s = String(s || '').trim().toLowerCase();
  if (!s) return null;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/.exec(s);
  if (!m) return NaN;
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]];
  return Math.round(parseFloat(m[1]) * mult);
}

// Non-empty trimmed lines of a textarea.
export function lines(text) {
  return String(text || '').split('\n').map((l) => l.trim()).filter(Boolean);
}

// Toasts: one aria-live region, errors stay until dismissed (they carry the server's
// message, which the user may need to read twice), info fades.
export function toast(message, kind = 'info') {
  const region = document.getElementById('toasts');
  const close = h('button', { class: 'toast-close', 'aria-label': 'Dismiss', onclick: () => t.remove() }, '×');
  const t = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('span', { class: 'toast-text' }, message), close);
  region.append(t);
  if (kind !== 'error') setTimeout(() => t.remove(), 4000);
  else setTimeout(() => t.remove(), 15000);
  return t;
}

// A modal confirmation (the native confirm() blocks the page and cannot be styled).
export function confirmDialog(message, okLabel = 'OK', danger = false) {
  return new Promise((resolve) => {
    const dlg = h('dialog', { class: 'confirm', 'aria-label': 'Confirm' });
    const done = (v) => { dlg.close(); dlg.remove(); resolve(v); };
    dlg.append(
      h('p', {}, message),
      h('div', { class: 'dialog-buttons' },
        h('button', { class: 'btn', type: 'button', onclick: () => done(false) }, 'Cancel'),
        h('button', { class: danger ? 'btn btn-danger' : 'btn btn-primary', type: 'button', onclick: () => done(true) }, okLabel)));
    dlg.addEventListener('cancel', (e) => { e.preventDefault(); done(false); });
    document.body.append(dlg);
    dlg.showModal();
    dlg.querySelector('.btn-danger, .btn-primary').focus();
  });
}

// Loads a classic script (the vendored UMD builds) once; resolves when it ran.
const loaded = new Map();
export function loadScript(src) {
  if (!loaded.has(src)) {
    loaded.set(src, new Promise((resolve, reject) => {
      const s = h('script', { src });
      s.addEventListener('load', () => resolve());
      s.addEventListener('error', () => { loaded.delete(src); reject(new Error(`could not load ${src}`)); });
      document.head.append(s);
    }));
  }
  return loaded.get(src);
}

export function loadStyle(href) {
  if (!document.querySelector(`link[href="${href}"]`)) document.head.append(h('link', { rel: 'stylesheet', href }));
}

// Saves `text` as a file through a temporary object URL.
export function download(filename, text, type = 'application/json') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
