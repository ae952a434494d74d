// The create form (with the seeds' advanced options), import of an exported config, and
// the templates list. The form builds the object POST /api/containers takes; the same
// object is what export gives and import takes, so "fill the form from a file/template"
// is one function (fillForm).
import { get, post } from './api.js';
import { store } from './store.js';
import { h, clear, lines, toast, parseSize } from './util.js';

function field(label, input, hint) {
  const id = input.id || `f-${input.name}`;
  input.id = id;
  return h('div', { class: 'field' },
    h('label', { for: id }, label), input,
    hint ? h('div', { class: 'hint', id: `${id}-hint` }, hint) : null);
}

export class CreateForm {
  constructor(onCreated) {
    this.onCreated = onCreated;
    this.el = this.build();
  }

  input(name, attrs = {}) { return h('input', { name, id: `f-${name}`, ...attrs }); }
  area(name, placeholder) { return h('textarea', { name, id: `f-${name}`, rows: 3, placeholder, spellcheck: 'false' }); }

  build() {
    this.images = h('datalist', { id: 'image-list' });
    this.error = h('div', { class: 'form-error', role: 'alert', hidden: true });
    const restart = h('select', { name: 'restart_policy', id: 'f-restart_policy' },
      ...['no', 'always', 'on-failure', 'unless-stopped'].map((p) => h('option', { value: p }, p)));
    this.form = h('form', { class: 'create-form', novalidate: true, onsubmit: (e) => { e.preventDefault(); this.submit(); } },
      this.error,
      h('div', { class: 'grid' },
        field('Name', this.input('name', { placeholder: 'my-container', autocomplete: 'off', pattern: '[a-zA-Z0-9][a-zA-Z0-9_.-]*' }), 'Optional; letters, digits, _ . -'),
        field('Image', this.input('image', { value: 'busybox', list: 'image-list', required: true, autocomplete: 'off' })),
        field('Command', this.input('command', { placeholder: 'echo hello; sleep 3600', autocomplete: 'off' }), 'Run with sh -c; empty = the image\'s default'),
        field('Memory limit', this.input('mem_limit', { placeholder: '64m' }), 'e.g. 64m, 1g; empty = no limit'),
        field('CPU limit', this.input('cpu_limit', { type: 'number', min: 0, step: 0.1, placeholder: '0.5' }), 'in CPUs (0.5 = half a core)'),
        field('PIDs limit', this.input('pids_limit', { type: 'number', min: 0, step: 1, placeholder: '100' }), 'most processes at once')),
      h('details', { class: 'advanced' },
        h('summary', {}, 'Advanced options'),
        h('div', { class: 'grid' },
          field('Volumes', this.area('volumes', '/srv/data:/data\n/srv/conf:/etc/app:ro'), 'one host:container[:ro] per line'),
          field('Environment', this.area('env_vars', 'MODE=production\nDB_HOST=db'), 'one KEY=VALUE per line'),
          field('Ports', this.area('ports', '8080:80\n127.0.0.1:5353:53/udp'), 'one [ip:]host:container[/proto] per line'),
          field('Labels', this.area('labels', 'team=web'), 'one key=value per line'),
          field('Restart policy', restart),
          field('Max retries', this.input('max_retries', { type: 'number', min: 0, placeholder: '3' }), 'for on-failure'),
          field('Health check command', this.input('hc_command', { placeholder: 'wget -q -O- localhost:80 || exit 1' })),
          field('Interval (s)', this.input('hc_interval', { type: 'number', min: 1, placeholder: '30' })),
          field('Timeout (s)', this.input('hc_timeout', { type: 'number', min: 1, placeholder: '5' })),
          field('Retries', this.input('hc_retries', { type: 'number', min: 1, placeholder: '3' })))),
      h('label', { class: 'check' }, this.input('start', { type: 'checkbox', checked: true }), ' Start it right away'),
      h('div', { class: 'form-buttons' },
        h('button', { class: 'btn btn-primary', type: 'submit', id: 'create-submit' }, 'Create container'),
        h('button', { class: 'btn', type: 'reset', onclick: () => { this.error.hidden = true; } }, 'Reset')));
    this.fileInput = h('input', { type: 'file', accept: 'application/json,.json', id: 'import-file', onchange: () => this.importFile() });
    this.importName = h('input', { id: 'import-name', placeholder: 'keep the exported name', autocomplete: 'off' });
    return h('section', { class: 'view', 'aria-labelledby': 'create-title' },
      h('div', { class: 'view-head' }, h('h2', { id: 'create-title' }, 'Create a container')),
      this.images, this.form,
      h('section', { class: 'card import', 'aria-labelledby': 'import-title' },
        h('h3', { id: 'import-title' }, 'Import a container'),
        h('p', { class: 'muted' }, 'Upload a file made with a container\'s Export button: the container is created again with the same configuration.'),
        h('div', { class: 'grid' }, field('New name', this.importName), field('Config file (JSON)', this.fileInput))));
  }

  async refreshImages() {
    try {
      const imgs = await get('/images/json');
      clear(this.images, ...imgs.flatMap((i) => i.RepoTags || []).filter((t) => t !== '<none>:<none>').map((t) => h('option', { value: t })));
    } catch { /* the list is a convenience; typing works without it */ }
  }

  val(name) { return this.form.elements[name].value.trim(); }

  // The request body from the form; throws Error naming the field on bad input (the
  // server checks too, this only saves a round trip for obvious slips).
  body() {
    const b = { image: this.val('image') || 'busybox', start: this.form.elements.start.checked };
    if (this.val('name')) b.name = this.val('name');
    if (this.val('command')) b.command = this.val('command');
    const mem = this.val('mem_limit');
    if (mem) {
      if (Number.isNaN(parseSize(mem))) throw new Error(`Memory limit: “${mem}” is not a size like 64m or 1g`);
      b.mem_limit = mem;
    }
    if (this.val('cpu_limit')) b.cpu_limit = Number(this.val('cpu_limit'));
    if (this.val('pids_limit')) b.pids_limit = Number(this.val('pids_limit'));
    const vols = lines(this.val('volumes'));
    if (vols.length) b.volumes = vols;
    const env = lines(this.val('env_vars'));
    if (env.length) {
      b.env_vars = {};
      for (const l of env) {
        const i = l.indexOf('=');
        if (i <= 0) throw new Error(`Environment: “${l}” is not KEY=VALUE`);
        b.env_vars[l.slice(0, i)] = l.slice(i + 1);
      }
    }
    const ports = lines(this.val('ports'));
    if (ports.length) b.ports = ports;
    const labels = lines(this.val('labels'));
    if (labels.length) {
      b.labels = {};
      for (const l of labels) {
        const i = l.indexOf('=');
        b.labels[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1);
      }
    }
    const rp = this.form.elements.restart_policy.value;
    if (rp !== 'no') b.restart_policy = rp === 'on-failure' && this.val('max_retries') ? `on-failure:${this.val('max_retries')}` : rp;
    if (this.val('hc_command')) {
      b.health_check = { command: this.val('hc_command') };
      for (const k of ['interval', 'timeout', 'retries']) if (this.val(`hc_${k}`)) b.health_check[k] = Number(this.val(`hc_${k}`));
    }
    return b;
  }

  // Fills the form from a config object (template, export): the inverse of body().
  fill(cfg) {
    this.form.reset();
    const set = (n, v) => { if (v !== undefined && v !== null && v !== '') this.form.elements[n].value = v; };
    set('name', cfg.name);
    set('image', cfg.image);
    set('command', Array.isArray(cfg.command) ? cfg.command.join(' ') : cfg.command);
    set('mem_limit', cfg.mem_limit || '');
    set('cpu_limit', cfg.cpu_limit || '');
    set('pids_limit', cfg.pids_limit || '');
    set('volumes', (cfg.volumes || []).join('\n'));
    const env = Array.isArray(cfg.env_vars) ? cfg.env_vars : Object.entries(cfg.env_vars || {}).map(([k, v]) => `${k}=${v}`);
    set('env_vars', env.join('\n'));
    set('ports', (cfg.ports || []).map((p) => (typeof p === 'string' ? p : `${p.host_ip ? p.host_ip + ':' : ''}${p.host_port}:${p.container_port}/${p.protocol || 'tcp'}`)).join('\n'));
    set('labels', Object.entries(cfg.labels || {}).map(([k, v]) => `${k}=${v}`).join('\n'));
    const rp = String(cfg.restart_policy || 'no');
    const [policy, retries] = rp.split(':');
    set('restart_policy', policy);
    set('max_retries', retries);
    if (cfg.health_check) {
      set('hc_command', cfg.health_check.command);
      set('hc_interval', cfg.health_check.interval);
      set('hc_timeout', cfg.health_check.timeout);
      set('hc_retries', cfg.health_check.retries);
    }
    const adv = this.form.querySelector('details');
    adv.open = Boolean(cfg.volumes?.length || cfg.ports?.length || cfg.health_check || env.length || rp !== 'no');
  }

  showError(msg) {
    this.error.textContent = msg;
    this.error.hidden = false;
    this.error.scrollIntoView({ block: 'nearest' });
  }

  async submit() {
    this.error.hidden = true;
    let body;
    try { body = this.body(); } catch (e) { this.showError(e.message); return; }
    const btn = this.form.querySelector('#create-submit');
    btn.disabled = true;
    store.creating++;
    try {
      const c = await post('/api/containers', body);
      store.upsert(c);
      toast(`Created ${c.name}${c.status === 'running' ? ' and started it' : ''}`);
      this.form.reset();
      this.onCreated(c);
    } catch (e) {
      this.showError(`Could not create the container: ${e.message}`);
      toast(`Create failed: ${e.message}`, 'error');
    } finally {
      btn.disabled = false;
      store.creating--;
    }
  }

  async importFile() {
    const f = this.fileInput.files[0];
    if (!f) return;
    let cfg;
    try {
      cfg = JSON.parse(await f.text());
      if (!cfg || typeof cfg !== 'object' || Array.isArray(cfg)) throw new Error('not a JSON object');
    } catch (e) {
      toast(`${f.name} is not an exported container config: ${e.message}`, 'error');
      this.fileInput.value = '';
      return;
    }
    if (this.importName.value.trim()) cfg.name = this.importName.value.trim();
    store.creating++;
    try {
      const c = await post('/api/containers/import', cfg);
      store.upsert(c);
      toast(`Imported ${c.name}`);
      this.onCreated(c);
    } catch (e) {
      toast(`Import failed: ${e.message}`, 'error');
    } finally {
      this.fileInput.value = '';
      store.creating--;
    }
  }
}

// Templates (GET /api/templates): "Use" fills the create form, "Create" asks for a name
// and creates at once.
export class TemplatesView {
  constructor(form, go) {
    this.form = form;
    this.go = go;
    this.list = h('div', { class: 'cards' });
    this.el = h('section', { class: 'view', 'aria-labelledby': 'templates-title' },
      h('div', { class: 'view-head' }, h('h2', { id: 'templates-title' }, 'Templates')),
      h('p', { class: 'muted' }, 'Ready-made container configurations. Use one to fill the create form, or create a container from it directly.'),
      this.list);
  }

  async refresh() {
    clear(this.list, h('p', { class: 'muted' }, 'Loading…'));
    let templates;
    try {
      templates = await get('/api/templates');
    } catch (e) {
      clear(this.list, h('p', { class: 'form-error', role: 'alert' }, e.status === 404 ? 'This server has no templates.' : `Cannot load templates: ${e.message}`));
      return;
    }
    if (!templates.length) { clear(this.list, h('p', { class: 'empty' }, 'No templates defined.')); return; }
    clear(this.list, ...templates.map((t) => {
      const name = h('input', { 'aria-label': `Name for a container from ${t.name}`, placeholder: `${t.name}-1`, autocomplete: 'off' });
      return h('article', { class: 'card template', 'data-template': t.name },
        h('h3', {}, t.name),
        h('p', {}, t.description || ''),
        h('pre', { class: 'mono small' }, JSON.stringify(t.config, null, 2)),
        h('div', { class: 'row' }, name,
          h('button', { class: 'btn', type: 'button', onclick: () => { this.form.fill({ ...t.config, name: name.value.trim() || undefined }); this.go('#/create'); } }, 'Use in form'),
          h('button', { class: 'btn btn-primary', type: 'button', onclick: async () => {
            store.creating++;
            try {
              const c = await post(`/api/templates/${encodeURIComponent(t.name)}/create`, name.value.trim() ? { name: name.value.trim() } : {});
              store.upsert(c);
              toast(`Created ${c.name} from ${t.name}`);
              this.go(`#/c/${encodeURIComponent(c.name)}`);
            } catch (e) { toast(`Cannot create from ${t.name}: ${e.message}`, 'error'); } finally { store.creating--; }
          } }, 'Create')));
    }));
  }
}
