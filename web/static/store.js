// What the dashboard knows about the containers: the objects of GET /api/containers,
// kept current by the WebSocket's events (and by the answers of our own actions, so a
// click shows its effect without waiting for the event), plus a few minutes of CPU and
// memory samples per container for the graphs.
import { get } from './api.js';

const HISTORY = 150;   // samples kept per container: 5 minutes at one per 2 s

export const store = {
  containers: new Map(),   // id → container object
  history: new Map(),      // id → [{t, cpu, mem, limit, pids}]
  listeners: new Set(),
  creating: 0,             // creations of this page under way (their events are no news)

  subscribe(fn) { this.listeners.add(fn); return () => this.listeners.delete(fn); },
  changed() { for (const fn of this.listeners) fn(); },

  async load() {
    const list = await get('/api/containers');
    this.containers = new Map(list.map((c) => [c.id, c]));
    this.changed();
  },

  upsert(c) {
    if (!c || !c.id) return;
    const old = this.containers.get(c.id);
    this.containers.set(c.id, old ? { ...old, ...c } : c);
    this.changed();
  },

  remove(idOrName) {
    for (const [id, c] of this.containers) {
      if (id === idOrName || c.name === idOrName) {
        this.containers.delete(id);
        this.history.delete(id);
      }
    }
    this.changed();
  },

  // A container by id, id prefix or name (the API accepts all three).
  find(ref) {
    if (this.containers.has(ref)) return this.containers.get(ref);
    for (const c of this.containers.values()) if (c.name === ref) return c;
    for (const c of this.containers.values()) if (ref.length >= 3 && c.id.startsWith(ref)) return c;
    return undefined;
  },

  // status_update: record samples, and the status it reports (a container that exited
  // between two events still turns grey within two seconds).
  sample(msg) {
    const t = msg.time ? (typeof msg.time === 'number' ? msg.time * (msg.time < 1e12 ? 1000 : 1) : Date.parse(msg.time)) : Date.now();
    let statusChanged = false;
    for (const s of msg.containers || []) {
      const c = this.containers.get(s.id) || this.find(s.name || '');
      if (!c) continue;
      if (s.status && s.status !== c.status) { c.status = s.status; statusChanged = true; }
      c.cpu_percent = s.cpu_percent;
      c.memory_usage = s.memory_usage;
      c.memory_limit = s.memory_limit;
      c.memory_percent = s.memory_percent;
      c.pids = s.pids;
      const h = this.history.get(c.id) || [];
      h.push({ t, cpu: s.cpu_percent || 0, mem: s.memory_usage || 0, limit: s.memory_limit || 0, pids: s.pids || 0 });
      if (h.length > HISTORY) h.splice(0, h.length - HISTORY);
      this.history.set(c.id, h);
    }
    this.changed();
    return statusChanged;
  },
};
