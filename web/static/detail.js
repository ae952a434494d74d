// One container: overview (configuration, actions, export, rootfs path, one-off exec) and
// the tabs Logs, Stats, Terminal, Isolation. Reached as #/c/<name>/<tab>; follows the
// container through the store, and says so when it is deleted meanwhile.
import { get, post, cpath } from './api.js';
import { store } from './store.js';
import { ACTIONS, allowed, act } from './actions.js';
import { stateClass, stateLabel, portsText, commandText } from './containers.js';
import { LogsPanel } from './logs.js';
import { StatsPanel } from './stats.js';
import { TerminalPanel } from './terminal.js';
import { IsolationPanel } from './isolation.js';
import { h, clear, fmtBytes, fmtTime, toast, download } from './util.js';

const TABS = ['overview', 'logs', 'stats', 'terminal', 'isolation'];

export class DetailView {
  constructor(events, go) {
    this.go = go;
    this.panels = {
      logs: new LogsPanel(events),
      stats: new StatsPanel(events),
      terminal: new TerminalPanel(),
      isolation: new IsolationPanel(),
    };
    this.title = h('h2', { id: 'detail-title' });
    this.state = h('span');
    this.actions = h('div', { class: 'row-actions', role: 'toolbar', 'aria-label': 'Container actions' });
    this.tabs = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Container details' },
      ...TABS.map((t) => h('a', { role: 'tab', class: 'tab', 'data-tab': t, id: `tab-${t}` }, t[0].toUpperCase() + t.slice(1))));
    this.body = h('div', { class: 'tab-body', role: 'tabpanel' });
    this.el = h('section', { class: 'view detail', 'aria-labelledby': 'detail-title' },
      h('div', { class: 'view-head' },
        h('a', { href: '#/containers', class: 'back' }, '← Containers'),
        this.title, this.state, this.actions),
      this.tabs, this.body);
    store.subscribe(() => this.refreshHead());
  }

  // Shows container `name` at `tab`.
  async show(name, tab) {
    if (!TABS.includes(tab)) tab = 'overview';
    if (this.name !== name || this.tab !== tab) this.leave();
    this.name = name;
    this.tab = tab;
    let c = store.find(name);
    if (!c) {
      try { c = await get(cpath(name)); store.upsert(c); } catch (e) {
        clear(this.body, h('p', { class: 'form-error', role: 'alert' }, `Cannot show ${name}: ${e.message}`));
        this.title.textContent = name;
        return;
      }
    }
    this.id = c.id;
    for (const a of this.tabs.children) {
      a.href = `#/c/${encodeURIComponent(c.name)}/${a.dataset.tab}`;
      a.setAttribute('aria-selected', String(a.dataset.tab === tab));
    }
    this.body.setAttribute('aria-labelledby', `tab-${tab}`);
    this.refreshHead();
    if (tab === 'overview') {
      clear(this.body, this.overview(c));
    } else if (this.mounted !== tab) {
      const p = this.panels[tab];
      clear(this.body, p.el);
      this.mounted = tab;
      await p.mount(c);
    }
  }

  leave() {
    if (this.mounted) this.panels[this.mounted].unmount();
    this.mounted = null;
    this.headKey = null;
  }

  current() { return store.containers.get(this.id); }

  refreshHead() {
    if (!this.id) return;
    const c = this.current();
    if (!c) {
      if (this.name) {
        clear(this.state, h('span', { class: 'state state-dead' }, 'deleted'));
        clear(this.actions);
      }
      return;
    }
    this.title.textContent = c.name;
    const key = `${c.status}|${c.exit_code}`;
    if (key === this.headKey) return;
    this.headKey = key;
    clear(this.state, h('span', { class: stateClass(c) }, stateLabel(c)));
    clear(this.actions, ...Object.entries(ACTIONS).filter(([a]) => allowed(a, c)).map(([a, d]) =>
      h('button', { class: `btn btn-small ${a === 'delete' ? 'btn-danger' : ''}`, type: 'button', 'data-action': a,
        onclick: async () => { if (await act(a, this.current() || c) && a === 'delete') this.go('#/containers'); } }, d.label)));
    if (this.tab === 'overview' && this.body.firstElementChild?.classList.contains('overview')) clear(this.body, this.overview(c));
    // Terminal and isolation need a running container: remount when it (re)starts.
    if (this.mounted === 'terminal' || this.mounted === 'isolation') {
      const p = this.panels[this.mounted];
      p.unmount();
      p.mount(c);
    }
  }

  overview(c) {
    const row = (k, v) => (v === undefined || v === null || v === '' ? [] : [h('dt', {}, k), h('dd', {}, v)]);
    const hc = c.health_check;
    const env = Object.entries(c.env_vars || {});
    const rootfs = h('div', { class: 'rootfs' });
    const execIn = h('input', { class: 'mono', placeholder: 'ls -l /', 'aria-label': 'Command to run in the container' });
    const execOut = h('pre', { class: 'exec-out mono', hidden: true, 'aria-live': 'polite' });
    const runExec = async (e) => {
      e.preventDefault();
      const cmd = execIn.value.trim();
      if (!cmd) return;
      try {
        const r = await post(cpath(c.name, '/exec'), { command: cmd });
        execOut.textContent = `${r.output || ''}${r.output && !r.output.endsWith('\n') ? '\n' : ''}[exit code ${r.exit_code}]`;
      } catch (err) {
        execOut.textContent = `error: ${err.message}`;
      }
      execOut.hidden = false;
    };
    return h('div', { class: 'overview' },
      h('dl', { class: 'kv' },
        ...row('ID', h('span', { class: 'mono' }, c.id)),
        ...row('Image', c.image),
        ...row('Command', h('code', {}, commandText(c))),
        ...row('Status', c.state_text),
        ...row('Created', fmtTime(c.created)),
        ...row('Started', fmtTime(c.started_at)),
        ...row('Finished', c.status === 'exited' || c.status === 'dead' ? `${fmtTime(c.finished_at)} (exit code ${c.exit_code})` : ''),
        ...row('PID', c.pid ? String(c.pid) : ''),
        ...row('IP address', c.ip ? h('span', { class: 'mono' }, c.ip) : ''),
        ...row('Networks', (c.networks || []).join(', ')),
        ...row('Ports', portsText(c)),
        ...row('Memory limit', c.mem_limit ? fmtBytes(c.mem_limit) : 'none'),
        ...row('CPU limit', c.cpu_limit ? `${c.cpu_limit} CPU` : 'none'),
        ...row('PIDs limit', c.pids_limit ? String(c.pids_limit) : 'none'),
        ...row('Restart policy', c.restart_policy || 'no'),
        ...row('Health check', hc ? `${hc.command} (every ${hc.interval ?? '?'} s, timeout ${hc.timeout ?? '?'} s, ${hc.retries ?? '?'} retries) — ${c.health}` : ''),
        ...row('Volumes', (c.volumes || []).length ? h('ul', { class: 'plain mono' }, ...c.volumes.map((v) => h('li', {}, v))) : ''),
        ...row('Environment', env.length ? h('ul', { class: 'plain mono' }, ...env.map(([k, v]) => h('li', {}, `${k}=${v}`))) : ''),
        ...row('Labels', Object.keys(c.labels || {}).length ? h('ul', { class: 'plain mono' }, ...Object.entries(c.labels).map(([k, v]) => h('li', {}, `${k}=${v}`))) : ''),
        ...row('Pod', c.pod)),
      h('div', { class: 'row' },
        h('button', { class: 'btn', type: 'button', onclick: () => this.exportConfig(c) }, 'Export config'),
        h('button', { class: 'btn', type: 'button', onclick: () => this.openRootfs(c, rootfs) }, 'Open rootfs')),
      rootfs,
      h('form', { class: 'exec', onsubmit: runExec },
        h('label', {}, 'Run a command ', execIn),
        h('button', { class: 'btn', type: 'submit', disabled: c.status !== 'running' }, 'Exec')),
      execOut);
  }

  async exportConfig(c) {
    try {
      const cfg = await get(cpath(c.name, '/export'));
      download(`${c.name}.json`, JSON.stringify(cfg, null, 2) + '\n');
      toast(`Exported ${c.name}.json`);
    } catch (e) {
      toast(`Cannot export ${c.name}: ${e.message}`, 'error');
    }
  }

  async openRootfs(c, box) {
    try {
      const r = await post(cpath(c.name, '/rootfs'));
      const path = h('code', { class: 'mono', id: 'rootfs-path' }, r.path);
      clear(box, h('p', {}, 'The container\'s root filesystem on the host', r.exists ? '' : ' (not mounted now: the container is not running)', ': ', path, ' ',
        h('button', { class: 'btn btn-small', type: 'button', onclick: async () => {
          try { await navigator.clipboard.writeText(r.path); toast('Path copied'); } catch { toast('Copy it by hand: the clipboard is not available here', 'error'); }
        } }, 'Copy')));
    } catch (e) {
      toast(`Cannot get the rootfs of ${c.name}: ${e.message}`, 'error');
    }
  }
}
