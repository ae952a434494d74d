// The network topology (GET /api/topology) as an SVG: every network a box (name, subnet,
// bridge), every container a node (coloured by state) under its first network, with a
// line to each network it is attached to, labelled with its address there. The same
// facts follow as a plain list for screen readers and copy-paste.
import { get } from './api.js';
import { h, svg, clear } from './util.js';

const PER_ROW = 4;
const NODE_W = 130;
const TOP = 16;
const BOX_H = 66;
const ROW_H = 112;

export class TopologyView {
  constructor() {
    this.body = h('div', { class: 'topology' });
    this.el = h('section', { class: 'view', 'aria-labelledby': 'topology-title' },
      h('div', { class: 'view-head' },
        h('h2', { id: 'topology-title' }, 'Network topology'),
        h('button', { class: 'btn btn-small', type: 'button', onclick: () => this.refresh() }, 'Refresh')),
      h('p', { class: 'muted' }, 'Boxes are networks (a Linux bridge each, with its subnet); circles are containers, joined to each network they are attached to by a veth pair, labelled with their address there.'),
      this.body);
  }

  async refresh() {
    let t;
    try {
      t = await get('/api/topology');
    } catch (e) {
      clear(this.body, h('p', { class: 'form-error', role: 'alert' }, `Cannot load the topology: ${e.message}`));
      return;
    }
    clear(this.body, this.draw(t), this.list(t));
  }

  draw(t) {
    const nets = [...(t.networks || [])];
    const containers = t.containers || [];
    const byName = new Map(nets.map((n) => [n.name, n]));
    // Containers attached to nothing we know (network "none", or gone) get a group too.
    const groups = new Map(nets.map((n) => [n.name, []]));
    const loose = [];
    for (const c of containers) {
      const first = (c.networks || []).find((a) => byName.has(a.network));
      if (first) groups.get(first.network).push(c); else loose.push(c);
    }
    if (loose.length) groups.set('', loose);
    // Columns, left to right.
    const cols = [];
    let x = 10;
    for (const [name, members] of groups) {
      const w = Math.max(230, Math.min(members.length, PER_ROW) * NODE_W);
      cols.push({ name, net: byName.get(name), members, x, w });
      x += w + 24;
    }
    const rows = Math.max(1, ...cols.map((c) => Math.ceil(c.members.length / PER_ROW)));
    const width = Math.max(x, 300);
    const height = TOP + BOX_H + 60 + rows * ROW_H;
    const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-labelledby': 'topo-title', class: 'topo-svg' },
      svg('title', { id: 'topo-title' }, `${nets.length} networks, ${containers.length} containers`));
    const edges = svg('g', { class: 'edges' });
    const boxes = svg('g', { class: 'boxes' });
    const nodes = svg('g', { class: 'nodes' });
    root.append(edges, boxes, nodes);
    const boxOf = new Map();
    for (const col of cols) {
      const bx = col.x;
      const bw = col.w - 10;
      boxOf.set(col.name, { x: bx, w: bw });
      const n = col.net;
      boxes.append(svg('g', { class: n ? 'net' : 'net net-none', 'data-network': col.name || 'none' },
        svg('rect', { x: bx, y: TOP, width: bw, height: BOX_H, rx: 8 }),
        svg('text', { x: bx + 12, y: TOP + 22, class: 'net-name' }, n ? n.name : 'not connected'),
        n ? svg('text', { x: bx + 12, y: TOP + 40, class: 'net-meta' }, `${n.subnet || ''}${n.gateway ? '  gw ' + n.gateway : ''}`) : null,
        n ? svg('text', { x: bx + 12, y: TOP + 56, class: 'net-meta' }, `${n.driver || ''}${n.bridge ? ' · ' + n.bridge : ''}`) : null));
    }
    for (const col of cols) {
      col.members.forEach((c, i) => {
        const cx = col.x + NODE_W / 2 + (i % PER_ROW) * NODE_W;
        const cy = TOP + BOX_H + 70 + Math.floor(i / PER_ROW) * ROW_H;
        (c.networks || []).forEach((a, k) => {
          const b = boxOf.get(a.network);
          if (!b) return;
          const tx = Math.min(Math.max(cx, b.x + 14), b.x + b.w - 14);
          const ty = TOP + BOX_H;
          edges.append(svg('line', { x1: cx, y1: cy - 18, x2: tx, y2: ty, class: a.network === (col.name || null) ? 'edge' : 'edge edge-extra' }));
          // Labels of a node's edges at different heights, so they never overlap.
          const f = Math.max(0.2, 0.7 - k * 0.3);
          const lx = tx + (cx - tx) * f;
          const ly = ty + (cy - 18 - ty) * f;
          if (a.ip) edges.append(svg('text', { x: lx + 5, y: ly + 4, class: 'edge-label' }, a.ip));
        });
        nodes.append(svg('g', { class: `node node-${c.status}`, 'data-container': c.name },
          svg('title', {}, `${c.name} (${c.status})`),
          svg('circle', { cx, cy, r: 17 }),
          svg('text', { x: cx, y: cy + 34, class: 'node-name', 'text-anchor': 'middle' }, c.name.length > 16 ? c.name.slice(0, 15) + '…' : c.name),
          svg('text', { x: cx, y: cy + 48, class: 'node-meta', 'text-anchor': 'middle' }, c.status)));
      });
    }
    return h('div', { class: 'topo-scroll' }, root);
  }

  list(t) {
    return h('details', { class: 'topo-list' }, h('summary', {}, 'As a list'),
      h('ul', {}, ...(t.networks || []).map((n) => h('li', {},
        h('strong', {}, n.name), ` ${n.driver || ''} ${n.subnet || ''} ${n.bridge ? '(' + n.bridge + ')' : ''}`,
        h('ul', {}, ...(t.containers || []).flatMap((c) => (c.networks || []).filter((a) => a.network === n.name)
          .map((a) => h('li', {}, `${c.name} — ${a.ip || 'no address'}${a.mac ? ' ' + a.mac : ''} (${c.status})`))))))));
  }
}
