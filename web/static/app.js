// The dashboard's entry point: hash routes → views, the event stream → the store, the
// header's health and connection indicators. Every view lives in its own module.
import { adoptToken, get } from './api.js';
import { EventStream } from './ws.js';
import { store } from './store.js';
import { ContainerList } from './containers.js';
import { CreateForm, TemplatesView } from './create.js';
import { DetailView } from './detail.js';
import { ImagesView, NetworksView, VolumesView } from './resources.js';
import { TopologyView } from './topology.js';
import { h, clear, toast } from './util.js';

adoptToken();

const main = document.getElementById('main');
const events = new EventStream();
const go = (hash) => { if (location.hash === hash) route(); else location.hash = hash; };

const form = new CreateForm((c) => go(`#/c/${encodeURIComponent(c.name)}`));
const views = {
  containers: new ContainerList(),
  create: form,
  templates: new TemplatesView(form, go),
  images: new ImagesView((image) => { form.fill({ image }); go('#/create'); }),
  networks: new NetworksView(),
  volumes: new VolumesView(),
  topology: new TopologyView(),
};
const detail = new DetailView(events, go);

let shown = null;
function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const name = parts[0] || 'containers';
  for (const a of document.querySelectorAll('nav a')) {
    if (a.dataset.view === (name === 'c' ? 'containers' : name)) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (name === 'c' && parts[1]) {
    if (shown !== detail) clear(main, detail.el);
    shown = detail;
    detail.show(parts[1], parts[2] || 'overview');
    document.title = `${parts[1]} · minidocker`;
    return;
  }
  detail.leave();
  const v = views[name] || views.containers;
  if (shown !== v) clear(main, v.el);
  shown = v;
  v.refresh?.();
  if (v === form) form.refreshImages();
  document.title = `${v.el.querySelector('h2').textContent} · minidocker`;
}
window.addEventListener('hashchange', route);

// The event stream. Our own actions already updated the store from their answers; the
// events bring everything else (the CLI, the Docker API, monitors, restarts).
events.on('container_created', (m) => {
  const known = m.container && store.containers.has(m.container.id);
  store.upsert(m.container);
  if (!known && m.container && !store.creating) toast(`New container: ${m.container.name}`);
});
events.on('container_updated', (m) => store.upsert(m.container));
events.on('container_deleted', (m) => store.remove(m.id || m.name));
events.on('status_update', (m) => { if (store.sample(m)) store.load().catch(() => {}); updateCounts(); });
// The server's complaints about a message of ours (a subscription to an unknown container).
events.on('error', (m) => toast(`Live updates: ${m.message}`, 'error'));
// Events missed while the socket was down: fetch the whole list again.
events.on('reconnected', () => store.load().catch(() => {}));

const conn = document.getElementById('conn');
events.onstate = (s) => {
  conn.dataset.state = s;
  conn.textContent = s === 'open' ? 'live' : s === 'connecting' ? 'connecting…' : 'offline — retrying';
  conn.title = s === 'open' ? 'Receiving live updates' : 'No live updates: the WebSocket /api/ws is not connected';
};

const counts = document.getElementById('counts');
function updateCounts() {
  const all = [...store.containers.values()];
  counts.textContent = `${all.filter((c) => c.status === 'running').length} running / ${all.length} containers`;
}
store.subscribe(updateCounts);

async function health() {
  try {
    const hh = await get('/api/health');
    document.getElementById('version').textContent = `v${hh.version}`;
  } catch (e) {
    document.getElementById('version').textContent = '';
  }
}

async function start() {
  route();
  events.connect();
  health();
  try {
    await store.load();
  } catch (e) {
    clear(document.getElementById('banner'), h('p', { role: 'alert' },
      `Cannot load the containers: ${e.message}.`, e.status === 401 ? ' Open the dashboard with ?token=<token> once.' : ''));
  }
}
start();
