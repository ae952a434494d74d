// The dashboard's event stream: WebSocket /api/ws (container_created / _updated /
// _deleted, status_update every 2 s, log_update for subscribed containers).
// Reconnects with back-off and re-sends its log subscriptions, so a restarted server or a
// dropped connection heals itself; `onstate` drives the connection indicator.
import { wsUrl } from './api.js';

export class EventStream {
  constructor() {
    this.handlers = new Map();   // type → Set of functions
    this.logSubs = new Map();    // container name → subscriber count
    this.delay = 500;
    this.onstate = () => {};
    this.ws = null;
  }

  on(type, fn) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type).add(fn);
    return () => this.handlers.get(type).delete(fn);
  }

  connect() {
    this.onstate('connecting');
    const ws = new WebSocket(wsUrl('/api/ws'));
    this.ws = ws;
    ws.addEventListener('open', () => {
      this.delay = 500;
      this.onstate('open');
      for (const name of this.logSubs.keys()) this.send({ type: 'subscribe_logs', name });
      this.emit({ type: 'reconnected' });
    });
    ws.addEventListener('message', (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch { return; }
      if (msg && typeof msg.type === 'string') this.emit(msg);
    });
    ws.addEventListener('close', () => {
      if (this.ws !== ws) return;
      this.onstate('closed');
      setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 10000);
    });
  }

  emit(msg) {
    for (const fn of this.handlers.get(msg.type) || []) {
      try { fn(msg); } catch (e) { console.error('handler for', msg.type, e); }
    }
  }

  send(obj) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(obj));
  }

  // Live log lines of one container; returns the function that ends the subscription.
  subscribeLogs(name) {
    const n = this.logSubs.get(name) || 0;
    this.logSubs.set(name, n + 1);
    if (n === 0) this.send({ type: 'subscribe_logs', name });
    return () => {
      const left = (this.logSubs.get(name) || 1) - 1;
      if (left > 0) { this.logSubs.set(name, left); return; }
      this.logSubs.delete(name);
      this.send({ type: 'unsubscribe_logs', name });
    };
  }
}
