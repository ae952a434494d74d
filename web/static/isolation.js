// The isolation panel: what the kernel does to keep this container apart, read live from
// GET /api/containers/<name>/isolation (namespaces of its process vs the host's, its
// cgroup limits, mounts, capabilities, seccomp, no_new_privs, id maps), each with one line
// on what the mechanism is for. Only for running containers (the server answers 409).
import { get, cpath } from './api.js';
import { h, clear, fmtBytes } from './util.js';

const NS_TEXT = {
  pid: 'Process IDs: the container has its own process tree — its first process is PID 1 and the host\'s processes are invisible to it.',
  mnt: 'Mounts: its own mount table, so its root filesystem and volumes are invisible on the host and the host\'s mounts invisible inside.',
  net: 'Network: its own interfaces, addresses, routes, ports and firewall; it reaches out through a veth pair plugged into a bridge.',
  uts: 'Hostname: it can have its own host and domain name without renaming the host.',
  ipc: 'Inter-process communication: System V shared memory, semaphores and POSIX message queues are private to it.',
  user: 'User and group IDs: when separate, root inside maps to an unprivileged user outside. Shared means root inside is root on the host, held back by capabilities and seccomp.',
  cgroup: 'Cgroup view: /proc/self/cgroup and /sys/fs/cgroup show its own cgroup as the root, hiding the host\'s hierarchy.',
  time: 'Clocks: its monotonic and boot-time clocks may be offset from the host\'s (rarely used; usually shared).',
};
const NS_NAME = { pid: 'PID', mnt: 'Mount', net: 'Network', uts: 'UTS', ipc: 'IPC', user: 'User', cgroup: 'Cgroup', time: 'Time' };

// "50000 100000" (cgroup v2 cpu.max) → "0.5 CPU"
function cpuText(max) {
  if (!max) return 'no limit';
  const [quota, period] = String(max).split(/\s+/);
  if (quota === 'max' || !period) return 'no limit';
  return `${(Number(quota) / Number(period)).toFixed(2).replace(/\.?0+$/, '')} CPU (${quota} µs every ${period} µs)`;
}

function limitText(v, fmt = String) {
  return v === undefined || v === null || v === 'max' || v === 0 || v === -1 ? 'no limit' : fmt(v);
}

function section(title, explain, ...content) {
  return h('section', { class: 'iso-section' }, h('h3', {}, title), explain ? h('p', { class: 'explain' }, explain) : null, ...content);
}

function kv(rows) {
  return h('dl', { class: 'kv' }, ...rows.filter(Boolean).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

export class IsolationPanel {
  constructor() {
    this.body = h('div', { class: 'isolation' });
    this.el = h('div', { class: 'panel' },
      h('div', { class: 'toolbar' }, h('button', { class: 'btn btn-small', type: 'button', onclick: () => this.load() }, 'Refresh')),
      this.body);
  }

  mount(c) {
    this.c = c;
    return this.load();
  }

  unmount() {}

  async load() {
    clear(this.body, h('p', { class: 'muted' }, 'Reading /proc…'));
    let d;
    try {
      d = await get(cpath(this.c.name, '/isolation'));
    } catch (e) {
      clear(this.body, h('p', { class: e.status === 409 ? 'notice' : 'form-error', role: 'alert' },
        e.status === 409 ? `${e.message} — namespaces and cgroups exist only while the container\'s processes run: start it to see them.` : `Cannot read the isolation details: ${e.message}`));
      return;
    }
    const ns = d.namespaces || [];
    // host_inode is null when the server could not read the host's namespace: then we
    // do not know, and say so rather than claim isolation.
    const known = (n) => n.host_inode !== null && n.host_inode !== undefined;
    const isolated = ns.filter((n) => known(n) && !n.shared_with_host).length;
    const badge = (n) => !known(n) ? h('span', { class: 'badge badge-unknown', title: 'The server could not read the host\'s namespace to compare' }, 'host unknown')
      : n.shared_with_host ? h('span', { class: 'badge badge-warn' }, 'shared with host') : h('span', { class: 'badge badge-ok' }, 'isolated');
    clear(this.body,
      section(ns.every(known) ? `Namespaces — ${isolated} of ${ns.length} separate from the host` : `Namespaces — ${ns.length}`,
        'A namespace gives a process its own copy of one kind of kernel resource. Two processes share a namespace exactly when the inode numbers of their /proc/<pid>/ns/<type> links are equal.',
        h('div', { class: 'table-wrap' }, h('table', { class: 'ns' },
          h('thead', {}, h('tr', {}, ...['Namespace', 'Container inode', 'Host inode', '', 'What it isolates'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, ...ns.map((n) => h('tr', { 'data-ns': n.type },
            h('th', { scope: 'row' }, NS_NAME[n.type] || n.type, h('div', { class: 'muted mono small' }, n.path || '')),
            h('td', { class: 'mono' }, String(n.inode ?? '–')),
            h('td', { class: 'mono' }, String(n.host_inode ?? '–')),
            h('td', {}, badge(n)),
            h('td', { class: 'explain' }, NS_TEXT[n.type] || ''))))))),
      d.cgroup ? section('Control group (resource limits)',
        'Namespaces decide what a process can see; its cgroup decides how much it can use. The kernel counts the memory, CPU time and processes of the whole group and enforces the limits below.',
        kv([
          ['Path', h('span', { class: 'mono' }, d.cgroup.path || '–')],
          ['Version', d.cgroup.version || '–'],
          ['Memory', limitText(d.cgroup.memory_max, fmtBytes) + ' — above it the kernel reclaims, then the OOM killer ends a process'],
          ['CPU', cpuText(d.cgroup.cpu_max) + ' — the group is throttled once it used its quota in a period'],
          ['Processes', limitText(d.cgroup.pids_max) + ' — fork() fails beyond it (stops fork bombs)'],
        ])) : null,
      d.capabilities ? section(`Capabilities — ${(d.capabilities.effective || []).length} kept`,
        'Root\'s powers are split into about 41 capabilities. A container keeps a short list; without e.g. CAP_SYS_ADMIN or CAP_SYS_MODULE, root inside cannot mount filesystems or load kernel modules.',
        kv([
          ['Effective', h('div', { class: 'caps' }, ...(d.capabilities.effective || []).map((c) => h('code', {}, c)))],
          ['Bounding set', h('div', { class: 'caps' }, ...(d.capabilities.bounding || []).map((c) => h('code', {}, c)))],
        ])) : null,
      section('System call filter and privileges', null,
        kv([
          d.seccomp ? ['Seccomp', h('span', {}, h('span', { class: d.seccomp.mode === 'filter' ? 'badge badge-ok' : 'badge badge-warn' }, d.seccomp.mode || '–'),
            d.seccomp.filters ? ` ${d.seccomp.filters} filter${d.seccomp.filters > 1 ? 's' : ''}` : '',
            h('div', { class: 'explain' }, 'A BPF program checks every system call the container makes and refuses the dangerous ones (kexec_load, open_by_handle_at, new keyrings…).'))] : null,
          ['no_new_privs', h('span', {}, h('span', { class: d.no_new_privs ? 'badge badge-ok' : 'badge badge-warn' }, d.no_new_privs ? 'set' : 'not set'),
            h('div', { class: 'explain' }, 'When set, execve() can never grant more privileges: setuid binaries and file capabilities are ignored.'))],
          d.user ? ['UID map', h('span', { class: 'mono' }, d.user.uid_map || '–')] : null,
          d.user ? ['GID map', h('span', { class: 'mono' }, d.user.gid_map || '–')] : null,
        ])),
      d.rootfs || d.masked_paths ? section('Filesystem',
        'The container\'s / is an overlay: the image\'s read-only layers below, a writable layer of its own on top. Sensitive /proc and /sys files are masked (replaced by empty ones) or made read-only.',
        kv([
          d.rootfs ? ['Root filesystem', h('span', { class: 'mono' }, `${d.rootfs.path || '–'} (${d.rootfs.driver || '?'})`)] : null,
          d.masked_paths ? ['Masked', h('div', { class: 'caps' }, ...d.masked_paths.map((p) => h('code', {}, p)))] : null,
          d.readonly_paths ? ['Read-only', h('div', { class: 'caps' }, ...d.readonly_paths.map((p) => h('code', {}, p)))] : null,
        ])) : null,
      d.mounts ? section(`Mounts — ${d.mounts.length}`, 'The mount table inside the container\'s mount namespace (/proc/<pid>/mountinfo).',
        h('details', {}, h('summary', {}, 'Show all mounts'),
          h('div', { class: 'table-wrap' }, h('table', { class: 'mounts mono small' },
            h('thead', {}, h('tr', {}, ...['Target', 'Type', 'Source', 'Options'].map((t) => h('th', { scope: 'col' }, t)))),
            h('tbody', {}, ...d.mounts.map((m) => h('tr', {}, h('td', {}, m.target), h('td', {}, m.fstype), h('td', {}, m.source), h('td', {}, m.options)))))))) : null);
  }
}
