// The container list: colour-coded states, live CPU/memory, multi-select with bulk
// actions, per-row actions. Rows are kept per container id and updated in place, so the
// two-second refresh never steals focus or a half-made selection.
import { store } from './store.js';
import { ACTIONS, allowed, act, actOnMany } from './actions.js';
import { h, clear, fmtBytes, fmtPercent, shortId } from './util.js';

export function stateLabel(c) {
  if (c.status === 'exited' && c.exit_code) return `exited (${c.exit_code})`;
  return c.status || 'unknown';
}

export function stateClass(c) {
  if (c.status === 'exited' && c.exit_code) return 'state state-error';
  return `state state-${c.status || 'unknown'}`;
}

export function portsText(c) {
  return (c.ports || []).map((p) => `${p.host_ip && p.host_ip !== '0.0.0.0' ? p.host_ip + ':' : ''}${p.host_port}→${p.container_port}/${p.protocol || 'tcp'}`).join(', ');
}

export function commandText(c) {
  return Array.isArray(c.command) ? c.command.join(' ') : (c.command || '');
}

export class ContainerList {
  constructor() {
    this.selected = new Set();
    this.rows = new Map();
    this.filter = '';
    this.el = this.build();
    store.subscribe(() => this.update());
    this.update();
  }

  build() {
    this.selectAll = h('input', { type: 'checkbox', 'aria-label': 'Select all containers', onchange: (e) => this.toggleAll(e.target.checked) });
    this.count = h('span', { class: 'muted', 'aria-live': 'polite' });
    const bulk = Object.entries(ACTIONS).map(([action, a]) =>
      h('button', { class: `btn ${action === 'delete' ? 'btn-danger' : ''}`, type: 'button', 'data-bulk': action, disabled: true,
        onclick: () => actOnMany(action, this.selection()) }, a.label));
    this.bulkButtons = bulk;
    this.tbody = h('tbody');
    this.empty = h('p', { class: 'empty', hidden: true }, 'No containers yet. Create one, or run ', h('code', {}, 'minidocker run -d busybox sleep 1000'), ' — it shows up here at once.');
    const search = h('input', { type: 'search', placeholder: 'Filter by name, image, state…', 'aria-label': 'Filter containers',
      oninput: (e) => { this.filter = e.target.value.trim().toLowerCase(); this.update(); } });
    return h('section', { class: 'view', 'aria-labelledby': 'containers-title' },
      h('div', { class: 'view-head' },
        h('h2', { id: 'containers-title' }, 'Containers'),
        search),
      h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Actions on the selected containers' },
        this.count, ...bulk),
      h('div', { class: 'table-wrap' },
        h('table', { class: 'containers' },
          h('thead', {}, h('tr', {},
            h('th', { scope: 'col', class: 'sel' }, this.selectAll),
            ...['Name', 'State', 'Image', 'Command', 'IP / ports', 'CPU', 'Memory', 'Status', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
          this.tbody)),
      this.empty);
  }

  selection() {
    return [...this.selected].map((id) => store.containers.get(id)).filter(Boolean);
  }

  toggleAll(on) {
    for (const c of this.visible()) on ? this.selected.add(c.id) : this.selected.delete(c.id);
    this.update();
  }

  visible() {
    const list = [...store.containers.values()].sort((a, b) => (b.created || '').localeCompare(a.created || '') || a.name.localeCompare(b.name));
    if (!this.filter) return list;
    return list.filter((c) => `${c.name} ${c.image} ${c.status} ${shortId(c.id)} ${commandText(c)}`.toLowerCase().includes(this.filter));
  }

  row(c) {
    let r = this.rows.get(c.id);
    if (r) return r;
    const check = h('input', { type: 'checkbox', 'aria-label': `Select ${c.name}`, onchange: (e) => {
      e.target.checked ? this.selected.add(c.id) : this.selected.delete(c.id);
      r.tr.classList.toggle('selected', e.target.checked);
      this.updateToolbar();
    } });
    const cells = {};
    const td = (key, label) => (cells[key] = h('td', { 'data-label': label }));
    const tr = h('tr', { 'data-name': c.name, 'data-id': c.id },
      h('td', { class: 'sel' }, check),
      td('name', 'Name'), td('state', 'State'), td('image', 'Image'), td('command', 'Command'),
      td('net', 'IP / ports'), td('cpu', 'CPU'), td('mem', 'Memory'), td('status', 'Status'), td('actions', 'Actions'));
    r = { tr, check, cells, key: '' };
    this.rows.set(c.id, r);
    return r;
  }

  fill(r, c) {
    const { cells } = r;
    r.tr.dataset.name = c.name;
    r.tr.dataset.status = c.status;
    r.check.checked = this.selected.has(c.id);
    r.tr.classList.toggle('selected', r.check.checked);
    // Static parts only when they changed (keeps focus on buttons between refreshes).
    const key = JSON.stringify([c.name, c.status, c.exit_code, c.image, c.command, c.ip, c.ports, c.health]);
    if (key !== r.key) {
      r.key = key;
      clear(cells.name, h('a', { href: `#/c/${encodeURIComponent(c.name)}`, class: 'cname' }, c.name), h('div', { class: 'muted mono' }, shortId(c.id)));
      clear(cells.state, h('span', { class: stateClass(c) }, stateLabel(c)),
        c.health && c.health !== 'none' ? h('span', { class: `health health-${c.health}`, title: 'Health check' }, c.health) : null);
      clear(cells.image, c.image || '');
      clear(cells.command, h('code', { class: 'cmd', title: commandText(c) }, commandText(c)));
      clear(cells.net, c.ip ? h('div', { class: 'mono' }, c.ip) : null, portsText(c) ? h('div', { class: 'muted mono' }, portsText(c)) : null);
      clear(cells.actions, h('div', { class: 'row-actions' },
        ...Object.entries(ACTIONS).filter(([a]) => allowed(a, c)).map(([a, d]) =>
          h('button', { class: `btn btn-small ${a === 'delete' ? 'btn-danger' : ''}`, type: 'button', 'data-action': a,
            'aria-label': `${d.label} ${c.name}`, onclick: () => act(a, store.containers.get(c.id) || c) }, d.label)),
        h('a', { class: 'btn btn-small', href: `#/c/${encodeURIComponent(c.name)}/logs`, 'aria-label': `Logs of ${c.name}` }, 'Logs')));
    }
    const up = ['running', 'paused', 'restarting'].includes(c.status);
    cells.cpu.textContent = up ? fmtPercent(c.cpu_percent) : '–';
    cells.mem.textContent = up ? `${fmtBytes(c.memory_usage)}${c.mem_limit ? ' / ' + fmtBytes(c.mem_limit) : ''}` : '–';
    cells.status.textContent = c.state_text || '';
  }

  update() {
    const list = this.visible();
    const seen = new Set();
    list.forEach((c, i) => {
      const r = this.row(c);
      this.fill(r, c);
      seen.add(c.id);
      if (this.tbody.children[i] !== r.tr) this.tbody.insertBefore(r.tr, this.tbody.children[i] || null);
    });
    for (const [id, r] of this.rows) {
      if (!seen.has(id)) { r.tr.remove(); if (!store.containers.has(id)) this.rows.delete(id); }
    }
    for (const id of [...this.selected]) if (!store.containers.has(id)) this.selected.delete(id);
    this.empty.hidden = store.containers.size > 0;
    this.updateToolbar();
  }

  updateToolbar() {
    const sel = this.selection();
    const vis = this.visible();
    this.count.textContent = sel.length ? `${sel.length} selected` : `${store.containers.size} container${store.containers.size === 1 ? '' : 's'}`;
    for (const b of this.bulkButtons) b.disabled = !sel.some((c) => allowed(b.dataset.bulk, c));
    this.selectAll.checked = vis.length > 0 && vis.every((c) => this.selected.has(c.id));
    this.selectAll.indeterminate = !this.selectAll.checked && vis.some((c) => this.selected.has(c.id));
  }
}
