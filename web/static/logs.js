// Live logs of one container: the last lines from GET …/logs, then every new line the
// WebSocket's log_update brings (after subscribe_logs). stderr lines are marked; the view
// follows the end unless the user scrolled up.
import { get, cpath } from './api.js';
import { h, clear, download } from './util.js';

const MAX_LINES = 5000;

// RFC 3339 times with nanoseconds ("…:05.1Z", "…:05.123456789Z") as strings that sort
// in time order: the fraction padded to 9 digits.
function sortable(t) {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(.*)$/.exec(t);
  return m ? `${m[1]}.${(m[2] || '').padEnd(9, '0')}${m[3]}` : t;
}

export class LogsPanel {
  constructor(events) {
    this.events = events;
    this.out = h('div', { class: 'logs mono', role: 'log', 'aria-live': 'off', tabindex: 0, 'aria-label': 'Container logs' });
    this.follow = h('input', { type: 'checkbox', checked: true });
    this.status = h('span', { class: 'muted' });
    this.el = h('div', { class: 'panel' },
      h('div', { class: 'toolbar' },
        h('label', { class: 'check' }, this.follow, ' Follow'),
        h('button', { class: 'btn btn-small', type: 'button', onclick: () => this.reload() }, 'Reload'),
        h('button', { class: 'btn btn-small', type: 'button', onclick: () => clear(this.out) }, 'Clear view'),
        h('button', { class: 'btn btn-small', type: 'button', onclick: () => this.save() }, 'Download'),
        this.status),
      this.out);
    this.out.addEventListener('scroll', () => {
      const atEnd = this.out.scrollHeight - this.out.scrollTop - this.out.clientHeight < 8;
      this.follow.checked = atEnd;
    });
  }

  async mount(c) {
    this.c = c;
    this.cutoff = '';
    this.unsub = this.events.subscribeLogs(c.name);
    this.off = this.events.on('log_update', (m) => {
      if (m.name === this.c.name || m.id === this.c.id) this.add(m.lines || [], true);
    });
    // After a reconnect the server starts a new subscription; reload so nothing is missed.
    this.offRe = this.events.on('reconnected', () => this.reload());
    await this.reload();
  }

  unmount() {
    this.unsub?.();
    this.off?.();
    this.offRe?.();
    this.unsub = this.off = this.offRe = null;
  }

  async reload() {
    // Live lines that arrive while the fetch is under way wait for it: the fetch's answer
    // may have been made before they were written, and clearing the view would lose them.
    this.loading = true;
    this.pending = [];
    this.status.textContent = 'loading…';
    try {
      const r = await get(cpath(this.c.name, '/logs?tail=1000'));
      clear(this.out);
      this.add(r.logs || [], false);
      // Updates may repeat what this fetch already returned: skip those up to its last line.
      const last = (r.logs || []).at(-1);
      this.cutoff = last?.time ? sortable(last.time) : '';
      this.status.textContent = '';
    } catch (e) {
      this.status.textContent = `cannot load logs: ${e.message}`;
    } finally {
      this.loading = false;
      const held = this.pending;
      this.pending = [];
      this.add(held, true);
    }
  }

  add(entries, live) {
    if (live && this.loading) { this.pending.push(...entries); return; }
    for (const l of entries) {
      if (live && this.cutoff) {
        if (l.time && sortable(l.time) <= this.cutoff) continue;
        this.cutoff = '';
      }
      const text = (l.text ?? '').replace(/\n$/, '');
      this.out.append(h('div', { class: `line ${l.stream === 'stderr' ? 'stderr' : ''}` },
        h('time', { datetime: l.time || '' }, l.time ? new Date(l.time).toLocaleTimeString() : ''), ' ',
        h('span', {}, text)));
    }
    while (this.out.childElementCount > MAX_LINES) this.out.firstElementChild.remove();
    if (!this.out.childElementCount) this.out.append(h('div', { class: 'muted' }, 'No output yet.'));
    else this.out.querySelector(':scope > .muted')?.remove();
    if (this.follow.checked) this.out.scrollTop = this.out.scrollHeight;
  }

  save() {
    const text = [...this.out.querySelectorAll('.line')].map((d) => `${d.querySelector('time').getAttribute('datetime')} ${d.classList.contains('stderr') ? 'stderr' : 'stdout'} ${d.querySelector('span').textContent}`).join('\n');
    download(`${this.c.name}.log`, text + '\n', 'text/plain');
  }
}
