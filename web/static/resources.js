// Images, networks and volumes: read-only tables from the Docker API paths
// (GET /images/json, /networks, /volumes) the same server answers.
import { get } from './api.js';
import { h, clear, fmtBytes, shortId } from './util.js';

function table(headers, rows, empty) {
  if (!rows.length) return h('p', { class: 'empty' }, empty);
  return h('div', { class: 'table-wrap' }, h('table', {},
    h('thead', {}, h('tr', {}, ...headers.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, ...rows.map((cells) => h('tr', {}, ...cells.map((c, i) => h('td', { 'data-label': headers[i] }, c)))))));
}

class ResourceView {
  constructor(id, title, intro) {
    this.body = h('div');
    this.el = h('section', { class: 'view', 'aria-labelledby': `${id}-title` },
      h('div', { class: 'view-head' },
        h('h2', { id: `${id}-title` }, title),
        h('button', { class: 'btn btn-small', type: 'button', onclick: () => this.refresh() }, 'Refresh')),
      h('p', { class: 'muted' }, intro),
      this.body);
  }

  async refresh() {
    clear(this.body, h('p', { class: 'muted' }, 'Loading…'));
    try {
      clear(this.body, await this.render());
    } catch (e) {
      clear(this.body, h('p', { class: 'form-error', role: 'alert' }, `Cannot load: ${e.message}`));
    }
  }
}

export class ImagesView extends ResourceView {
  constructor(useImage) {
    super('images', 'Images', 'Read-only filesystem templates containers start from (minidocker image import / load / pull).');
    this.useImage = useImage;
  }

  async render() {
    const imgs = await get('/images/json');
    return table(['Repository:tag', 'ID', 'Size', 'Created', ''],
      imgs.map((i) => {
        const tag = (i.RepoTags || []).find((t) => t !== '<none>:<none>') || shortId(i.Id);
        return [
          (i.RepoTags || ['<none>']).join(', '),
          h('span', { class: 'mono' }, shortId(i.Id)),
          fmtBytes(i.Size),
          i.Created ? new Date(i.Created * 1000).toLocaleString() : '–',
          h('button', { class: 'btn btn-small', type: 'button', onclick: () => this.useImage(tag) }, 'Create container'),
        ];
      }), 'No images. Import one: minidocker image import rootfs.tar busybox');
  }
}

export class NetworksView extends ResourceView {
  constructor() {
    super('networks', 'Networks', 'Each bridge network is a Linux bridge with a subnet; containers join it through veth pairs (see Topology).');
  }

  async render() {
    const nets = await get('/networks');
    return table(['Name', 'ID', 'Driver', 'Subnet', 'Gateway', 'Containers'],
      nets.map((n) => {
        const cfg = (n.IPAM && n.IPAM.Config && n.IPAM.Config[0]) || {};
        return [n.Name, h('span', { class: 'mono' }, shortId(n.Id)), n.Driver || '', h('span', { class: 'mono' }, cfg.Subnet || '–'),
          h('span', { class: 'mono' }, cfg.Gateway || '–'), String(Object.keys(n.Containers || {}).length)];
      }), 'No networks.');
  }
}

export class VolumesView extends ResourceView {
  constructor() {
    super('volumes', 'Volumes', 'Named volumes: directories the engine manages, mounted into containers and kept when they are deleted.');
  }

  async render() {
    const r = await get('/volumes');
    const vols = r.Volumes || [];
    return table(['Name', 'Driver', 'Mountpoint', 'Created'],
      vols.map((v) => [v.Name, v.Driver || 'local', h('span', { class: 'mono small' }, v.Mountpoint || ''), v.CreatedAt ? new Date(v.CreatedAt).toLocaleString() : '–']),
      'No volumes. Create one with minidocker volume create <name>, or use -v name:/path.');
  }
}
