// Resource graphs of one container: CPU % and memory over time from the samples the
// store collects out of every status_update (one per 2 s, kept for 5 minutes, also while
// this panel is closed), plus the counters of GET …/stats (network, block I/O, pids).
// Chart.js (web/vendor/chart.umd.js) is loaded the first time a graph is shown.
import { get, cpath } from './api.js';
import { store } from './store.js';
import { h, clear, fmtBytes, fmtPercent, loadScript } from './util.js';

function css(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888'; }

function lineChart(canvas, label, color, yTitle, max) {
  return new window.Chart(canvas, {
    type: 'line',
    data: { labels: [], datasets: [{ label, data: [], borderColor: color, backgroundColor: color + '33', fill: true, pointRadius: 0, borderWidth: 2, tension: 0.25 }] },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'index', intersect: false },
      scales: {
        x: { ticks: { maxTicksLimit: 6, color: css('--muted') }, grid: { color: css('--grid') } },
        y: { beginAtZero: true, suggestedMax: max, title: { display: true, text: yTitle, color: css('--muted') }, ticks: { color: css('--muted') }, grid: { color: css('--grid') } },
      },
      plugins: { legend: { labels: { color: css('--fg') } } },
    },
  });
}

export class StatsPanel {
  constructor(events) {
    this.events = events;
    this.cpuCanvas = h('canvas', { role: 'img', 'aria-label': 'CPU usage over time' });
    this.memCanvas = h('canvas', { role: 'img', 'aria-label': 'Memory usage over time' });
    this.numbers = h('dl', { class: 'numbers' });
    this.memCaption = h('figcaption', {}, 'Memory');
    this.note = h('p', { class: 'muted' });
    this.el = h('div', { class: 'panel stats' },
      this.numbers, this.note,
      h('div', { class: 'charts' },
        h('figure', { class: 'chart' }, h('figcaption', {}, 'CPU'), h('div', { class: 'chart-box' }, this.cpuCanvas)),
        h('figure', { class: 'chart' }, this.memCaption, h('div', { class: 'chart-box' }, this.memCanvas))));
  }

  async mount(c) {
    this.c = c;
    this.off = this.events.on('status_update', () => { this.draw(); this.counters(); });
    try {
      await loadScript('/vendor/chart.umd.js');
    } catch (e) {
      this.note.textContent = `Graphs unavailable: ${e.message}`;
      return;
    }
    if (!this.cpu) {
      this.cpu = lineChart(this.cpuCanvas, 'CPU %', css('--accent'), '% of one CPU', 10);
      this.mem = lineChart(this.memCanvas, 'Memory', css('--ok'), 'MiB', 8);
      this.mem.data.datasets.push({ label: 'Limit', data: [], borderColor: css('--danger'), borderDash: [6, 4], pointRadius: 0, borderWidth: 1, fill: false });
    }
    this.draw();
    await this.counters();
  }

  unmount() {
    this.off?.();
    this.off = null;
  }

  draw() {
    if (!this.cpu || !this.c) return;
    const c = store.containers.get(this.c.id) || this.c;
    const hist = store.history.get(c.id) || [];
    const labels = hist.map((s) => new Date(s.t).toLocaleTimeString());
    this.cpu.data.labels = labels;
    this.cpu.data.datasets[0].data = hist.map((s) => s.cpu);
    this.mem.data.labels = labels;
    this.mem.data.datasets[0].data = hist.map((s) => s.mem / 1048576);
    // The limit as a dashed line only when usage comes near it (a 64 MiB line over a few
    // hundred KiB would flatten the curve); the caption always names it.
    const limit = c.mem_limit || 0;
    const peak = Math.max(0, ...hist.map((s) => s.mem));
    const near = limit && peak > limit / 4;
    this.mem.data.datasets[1].data = near ? hist.map(() => limit / 1048576) : [];
    this.mem.data.datasets[1].hidden = !near;
    this.memCaption.textContent = limit ? `Memory (limit ${fmtBytes(limit)})` : 'Memory (no limit)';
    this.cpu.update('none');
    this.mem.update('none');
    const up = ['running', 'paused', 'restarting'].includes(c.status);
    this.note.textContent = !up ? 'The container is not running: no new samples.' :
      hist.length < 2 ? 'Collecting samples (one every 2 seconds)…' : `${hist.length} samples, the last ${Math.round((hist.at(-1).t - hist[0].t) / 1000)} s.`;
  }

  async counters() {
    if (!this.c) return;
    const c = store.containers.get(this.c.id) || this.c;
    if (!['running', 'paused', 'restarting'].includes(c.status)) {
      clear(this.numbers);
      return;
    }
    try {
      const s = await get(cpath(c.name, '/stats'));
      const item = (k, v) => h('div', { class: 'stat' }, h('dt', {}, k), h('dd', { 'data-stat': k }, v));
      clear(this.numbers,
        item('CPU', fmtPercent(s.cpu_percent)),
        item('Memory', `${fmtBytes(s.memory_usage)}${s.memory_limit ? ` of ${fmtBytes(s.memory_limit)} (${fmtPercent(s.memory_percent)})` : ''}`),
        item('Processes', String(s.pids ?? '–')),
        item('Network', `↓ ${fmtBytes(s.net_rx)}  ↑ ${fmtBytes(s.net_tx)}`),
        item('Block I/O', `read ${fmtBytes(s.block_read)}, written ${fmtBytes(s.block_write)}`));
    } catch (e) {
      clear(this.numbers, h('dt', {}, 'Stats'), h('dd', {}, e.message));
    }
  }
}
