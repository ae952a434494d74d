#!/usr/bin/env node
// Browser tests of the dashboard (docs/dashboard.md): a real `minidocker serve --web` on a
// root of its own (tmpfs, busybox imported, its own bridge and subnet), driven through
// Debian's chromium by playwright-core. No test framework: each test is an async function;
// the runner prints one line per test and exits 0 (all passed), 1 (a failure) or 77
// (skipped: not root, no chromium, no node_modules — CTest SKIP_RETURN_CODE).
//
// Environment:
//   MD_CLI              the minidocker binary (default: ../../build/minidocker)
//   MD_TEST_ROOTFS      busybox rootfs dir (built with scripts/build-busybox-rootfs.sh if missing)
//   MD_WEB_SCREENSHOTS  where screenshots go (default: <dir of MD_CLI>/web-screenshots)
//   MD_WEB_ONLY         run only the tests whose name contains this
//   MD_KEEP_TMP         keep the root (still stops everything in it)
//
// Everything it starts is stopped and removed in cleanup(), which also runs on a
// failure, an exception, SIGINT and SIGTERM.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const SKIP = 77;

function skip(why) {
  console.log(`SKIP: ${why}`);
  process.exit(SKIP);
}

// ------------------------------------------------------------------ prerequisites
if (process.geteuid() !== 0) skip('needs root (containers)');
if (!fs.existsSync('/usr/bin/chromium')) skip('no /usr/bin/chromium (scripts/setup-web.sh installs it)');
let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch {
  skip('tests/web/node_modules is missing: run scripts/setup-web.sh (npm ci --prefix tests/web)');
}
const cli = process.env.MD_CLI || path.join(repo, 'build/minidocker');
if (!fs.existsSync(cli)) skip(`no minidocker binary at ${cli} (set MD_CLI)`);
const shots = process.env.MD_WEB_SCREENSHOTS || path.join(path.dirname(cli), 'web-screenshots');
fs.mkdirSync(shots, { recursive: true });

// ------------------------------------------------------------------ helpers
function run(argv, opts = {}) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: opts.timeout || 60000, input: opts.input });
  return { code: r.status, out: r.stdout || '', err: (r.stderr || '') + (r.error ? String(r.error) : '') };
}

let root = '';
const md = (...args) => run([cli, '--root', root, ...args]);
function mdOk(...args) {
  const r = md(...args);
  if (r.code !== 0) throw new Error(`minidocker ${args.join(' ')} failed (${r.code}): ${r.err || r.out}`);
  return r.out.trim();
}

function fnv1a(s) {
  let h = 2166136261;
  for (const ch of Buffer.from(s)) h = Math.imul(h ^ ch, 16777619) >>> 0;
  return h >>> 0;
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls `fn` until it returns something truthy; throws `what` after `ms`.
async function until(what, fn, ms = 15000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
}

function assert(cond, msg) { if (!cond) throw new Error(`assertion failed: ${msg}`); }

// ------------------------------------------------------------------ the root and server
let server = null;
let serverLog = '';
let bridge = '';
let base = '';
let browser = null;

async function setup() {
  root = fs.mkdtempSync('/tmp/mdw-');
  let r = run(['mount', '-t', 'tmpfs', '-o', 'mode=0711', 'tmpfs', root]);
  if (r.code !== 0) throw new Error(`mount tmpfs: ${r.err}`);
  // A bridge and subnet of its own, as tests/cli/cli_harness.cc: parallel tests and the
  // host's networks never collide with ours.
  bridge = `mdw${(fnv1a(root) & 0xffffff).toString(16).padStart(6, '0')}`;
  const addrs = run(['ip', '-4', '-o', 'addr', 'show']).out;
  let n = (process.pid % 250) + 1;
  for (let i = 0; i < 250 && addrs.includes(` 10.203.${n}.`); i++) n = (n % 250) + 1;
  fs.writeFileSync(path.join(root, 'daemon.json'), JSON.stringify({
    bridge, bip: `10.203.${n}.1/24`, 'default-address-pools': [{ base: '10.204.0.0/16', size: 24 }],
  }, null, 2) + '\n');
  // busybox:latest from the test rootfs.
  const rootfs = process.env.MD_TEST_ROOTFS || path.join(path.dirname(cli), 'rootfs');
  if (!fs.existsSync(path.join(rootfs, 'bin/busybox'))) {
    r = run(['sh', path.join(repo, 'scripts/build-busybox-rootfs.sh'), rootfs], { timeout: 120000 });
    if (r.code !== 0) throw new Error(`building the busybox rootfs: ${r.err}`);
  }
  const tar = path.join(root, 'busybox.tar');
  r = run(['tar', '-C', rootfs, '--numeric-owner', '--owner=0', '--group=0', '-cf', tar, '.']);
  if (r.code !== 0) throw new Error(`tar: ${r.err}`);
  mdOk('import', '--change', 'CMD ["sh"]', tar, 'busybox:latest');
  fs.unlinkSync(tar);

  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(cli, ['--root', root, 'serve', '--web', `127.0.0.1:${port}`, '-H', `unix://${root}/api.sock`], { stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout.on('data', (d) => { serverLog += d; });
  server.stderr.on('data', (d) => { serverLog += d; });
  await until('the server to answer GET /api/health', async () => {
    if (server.exitCode !== null) throw new Error(`server exited with ${server.exitCode}: ${serverLog}`);
    const res = await fetch(`${base}/api/health`);
    return res.ok;
  }, 20000);

  // Our own signal handlers clean up (playwright's would exit before the root is cleaned).
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'], handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false });
}

// Once, whoever asks first (the end of the run or a signal); everyone else waits for
// the same cleanup to finish rather than exiting in the middle of it.
let cleaning = null;
const cleanup = () => (cleaning ||= doCleanup());
let interrupted = false;

async function doCleanup() {
  try { await browser?.close(); } catch { /* already gone */ }
  if (!root) return;
  // Containers through the CLI (the normal path)…
  const ids = md('ps', '-aq', '--no-trunc').out.split('\n').filter(Boolean);
  for (const id of ids) md('rm', '-f', id);
  // …the server…
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    for (let i = 0; i < 50 && server.exitCode === null; i++) await sleep(100);
    if (server.exitCode === null) server.kill('SIGKILL');
  }
  // …then whatever a failure left: monitors of this root, cgroups, mounts, the bridge and
  // the nftables table.
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmd = '';
    try { cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '); } catch { continue; }
    if (/minidocker-(monitor|dns)/.test(cmd) && cmd.includes(`${root}/`)) { try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ } }
  }
  let dirs = [];
  try { dirs = fs.readdirSync(path.join(root, 'containers')); } catch { /* none */ }
  for (const id of dirs) {
    run(['sh', '-c', `for d in /sys/fs/cgroup/minidocker-${id} /sys/fs/cgroup/*/minidocker-${id}; do [ -d "$d" ] || continue; ` +
      `for p in $(cat $d/cgroup.procs 2>/dev/null); do kill -9 $p; done; sleep 0.1; rmdir "$d"; done; true`]);
  }
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4])
    .filter((m) => m && m.startsWith(`${root}/`)).sort((a, b) => b.length - a.length);
  for (const m of mounts) run(['umount', '-l', m]);
  if (bridge) run(['ip', 'link', 'del', bridge]);
  run(['nft', 'delete', 'table', 'ip', `minidocker_${fnv1a(root).toString(16).padStart(8, '0')}`]);
  if (process.env.MD_KEEP_TMP) { console.log(`kept ${root}`); return; }
  run(['umount', '-l', root]);
  try { fs.rmdirSync(root); } catch { /* not empty: leave it for a look */ }
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    interrupted = true;
    console.log(`${sig}: cleaning up`);
    await cleanup();
    process.exit(130);
  });
}

// ------------------------------------------------------------------ page helpers
const uniq = () => Math.random().toString(36).slice(2, 8);

// A fresh page with every console error, page error and failed request recorded: a test
// fails if the dashboard logged an error it did not expect.
async function openPage(hash = '#/containers') {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.problems = [];
  page.expected = [];
  page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') page.problems.push(`console: ${m.text()}`); });
  page.on('requestfailed', (r) => page.problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  await page.goto(`${base}/${hash}`);
  await page.waitForSelector('#conn[data-state="open"]', { timeout: 15000 });
  return page;
}

async function closePage(page) {
  const problems = page.problems.filter((p) => !page.expected.some((re) => re.test(p)));
  await page.close();
  if (problems.length) throw new Error(`the page reported:\n  ${problems.join('\n  ')}`);
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

async function apiJson(method, p, body) {
  const res = await fetch(`${base}${p}`, { method, headers: body ? { 'Content-Type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const row = (page, name) => page.locator(`tr[data-name="${name}"]`);

// ------------------------------------------------------------------ tests
const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test('serving: index, files, headers, 404', async () => {
  const res = await fetch(`${base}/`);
  assert(res.status === 200, `GET / is ${res.status}`);
  assert(res.headers.get('content-type').startsWith('text/html'), `content-type ${res.headers.get('content-type')}`);
  const csp = res.headers.get('content-security-policy') || '';
  assert(csp.includes("default-src 'self'") && !/https?:/.test(csp), `CSP allows only self: ${csp}`);
  assert(res.headers.get('cache-control'), 'Cache-Control set');
  const html = await res.text();
  assert(!/(src|href)="(https?:)?\/\//.test(html), 'index.html references no external origin');
  for (const [p, type] of [['/static/app.js', 'text/javascript'], ['/static/app.css', 'text/css'], ['/vendor/chart.umd.js', 'text/javascript'], ['/vendor/xterm.css', 'text/css']]) {
    const r = await fetch(`${base}${p}`);
    assert(r.status === 200 && r.headers.get('content-type').startsWith(type), `${p}: ${r.status} ${r.headers.get('content-type')}`);
    const etag = r.headers.get('etag');
    const again = await fetch(`${base}${p}`, { headers: { 'If-None-Match': etag } });
    assert(again.status === 304, `${p} with If-None-Match is ${again.status}`);
  }
  const missing = await fetch(`${base}/static/no-such-file.js`);
  assert(missing.status === 404, `unknown /static file is ${missing.status}`);
  assert((await missing.json()).message.includes('no-such-file.js'), 'the 404 names the file');
});

test('create → start → live logs → stats → stop → delete', async () => {
  const page = await openPage('#/create');
  const name = `web-life-${uniq()}`;
  await page.fill('#f-name', name);
  await page.fill('#f-command', 'i=0; while true; do echo tick-$i; i=$((i+1)); sleep 1; done');
  await page.fill('#f-mem_limit', '64m');
  await page.click('#create-submit');
  await page.waitForSelector(`#detail-title:text-is("${name}")`);
  await page.waitForSelector('.view-head .state-running');
  await shot(page, 'lifecycle-1-overview');

  await page.click('#tab-logs');
  await page.waitForSelector('.logs .line:has-text("tick-")');
  // Live: lines keep arriving over the WebSocket without any reload.
  const first = await page.locator('.logs .line').count();
  await page.waitForFunction((n) => document.querySelectorAll('.logs .line').length >= n + 2, first, { timeout: 15000 });
  const texts = await page.locator('.logs .line span').allTextContents();
  const ticks = texts.filter((t) => /^tick-\d+$/.test(t)).map((t) => Number(t.slice(5)));
  assert(ticks.length >= 3, `at least 3 tick lines: ${texts.join(' | ')}`);
  assert(ticks.every((v, i) => i === 0 || v === ticks[i - 1] + 1), `ticks in order, none twice or missing: ${ticks.join(',')}`);
  await shot(page, 'lifecycle-2-logs');

  await page.click('#tab-stats');
  await page.waitForSelector('dd[data-stat="Memory"]');
  const mem = await page.textContent('dd[data-stat="Memory"]');
  assert(/of 64(\.0)? MiB/.test(mem), `memory shows the 64m limit: ${mem}`);
  // Two status_update samples (2 s apart) draw a line.
  const points = () => page.evaluate(() => window.Chart && Object.values(window.Chart.instances).map((c) => c.data.datasets[0].data.length));
  await page.waitForFunction(() => window.Chart && Object.values(window.Chart.instances).length >= 2 &&
    Object.values(window.Chart.instances).every((c) => c.data.datasets[0].data.length >= 2), null, { timeout: 15000 })
    .catch(async () => { throw new Error(`both charts should get 2+ points: ${JSON.stringify(await points())}`); });
  const cpu = await page.evaluate(() => Object.values(window.Chart.instances)[0].data.datasets[0].data);
  assert(cpu.every((v) => typeof v === 'number' && v >= 0), `CPU samples are numbers: ${JSON.stringify(cpu)}`);
  assert(/\d+ samples/.test(await page.textContent('.stats > p.muted')), 'the note counts the samples');
  await shot(page, 'lifecycle-3-stats');

  await page.click('.view-head button[data-action="stop"]');
  await page.waitForSelector('.view-head .state-exited, .view-head .state-error', { timeout: 20000 });
  await page.click('.view-head button[data-action="delete"]');
  await page.click('dialog.confirm .btn-danger');
  await page.waitForURL(/#\/containers$/);
  await page.waitForSelector('table.containers');
  assert(await row(page, name).count() === 0, 'the row is gone');
  const gone = await apiJson('GET', `/api/containers/${name}`);
  assert(gone.status === 404, `GET after delete is ${gone.status}`);
  await closePage(page);
});

test('bulk: select several, stop them, delete them', async () => {
  const names = [0, 1, 2].map((i) => `web-bulk-${i}-${uniq()}`);
  for (const name of names) {
    const r = await apiJson('POST', '/api/containers', { name, image: 'busybox', command: 'sleep 300' });
    assert(r.status === 201, `create ${name}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  const page = await openPage('#/containers');
  for (const name of names) {
    await row(page, name).locator('.state-running').waitFor();
    await row(page, name).locator('td.sel input').check();
  }
  await page.waitForSelector('.toolbar span:has-text("3 selected")');
  await shot(page, 'bulk-1-selected');
  // One row's own buttons: pause, then resume.
  await row(page, names[0]).locator('button[data-action="pause"]').click();
  await row(page, names[0]).locator('.state-paused').waitFor();
  assert((await apiJson('GET', `/api/containers/${names[0]}`)).body.status === 'paused', 'paused on the server');
  await row(page, names[0]).locator('button[data-action="resume"]').click();
  await row(page, names[0]).locator('.state-running').waitFor();
  await page.click('.toolbar button[data-bulk="stop"]');
  for (const name of names) await row(page, name).locator('.state-exited, .state-error').waitFor({ timeout: 30000 });
  for (const name of names) {
    const r = await apiJson('GET', `/api/containers/${name}`);
    assert(r.body.status === 'exited', `${name} is ${r.body.status} on the server`);
  }
  await page.click('.toolbar button[data-bulk="delete"]');
  await page.click('dialog.confirm .btn-danger');
  for (const name of names) await row(page, name).waitFor({ state: 'detached', timeout: 30000 });
  for (const name of names) assert((await apiJson('GET', `/api/containers/${name}`)).status === 404, `${name} deleted on the server`);
  await shot(page, 'bulk-2-deleted');
  await closePage(page);
});

test('a container run from the CLI appears without a reload', async () => {
  const page = await openPage('#/containers');
  let reloaded = false;
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) reloaded = true; });
  const name = `web-cli-${uniq()}`;
  mdOk('run', '-d', '--name', name, 'busybox', 'sleep', '300');
  await row(page, name).locator('.state-running').waitFor({ timeout: 15000 });
  assert(!reloaded, 'the page did not navigate');
  await shot(page, 'cli-created');
  mdOk('rm', '-f', name);
  await row(page, name).waitFor({ state: 'detached', timeout: 15000 });
  await closePage(page);
});

test('terminal: a shell in the container', async () => {
  const name = `web-term-${uniq()}`;
  mdOk('run', '-d', '--name', name, 'busybox', 'sleep', '300');
  const page = await openPage(`#/c/${name}/terminal`);
  await page.waitForSelector('.panel .toolbar span:has-text("connected")', { timeout: 15000 });
  await page.waitForSelector('.xterm-rows');
  const token = uniq();
  await page.click('.terminal-box');
  // The shell computes 6*7: the echo of what was typed alone cannot contain "-42".
  await page.keyboard.type(`echo hi-${token}-$((6*7))`);
  await page.keyboard.press('Enter');
  await page.waitForFunction((t) => document.querySelector('.xterm-rows').textContent.includes(`hi-${t}-42`), token, { timeout: 15000 });
  await shot(page, 'terminal');
  await page.keyboard.type('exit');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.panel .toolbar span:has-text("session ended")', { timeout: 15000 });
  await closePage(page);
  mdOk('rm', '-f', name);
});

test('isolation panel: 7+ namespaces, cgroup limits', async () => {
  const name = `web-iso-${uniq()}`;
  mdOk('run', '-d', '--name', name, '--memory', '32m', '--pids-limit', '50', 'busybox', 'sleep', '300');
  const page = await openPage(`#/c/${name}/isolation`);
  await page.waitForSelector('tr[data-ns]', { timeout: 15000 });
  const types = await page.locator('tr[data-ns]').evaluateAll((rows) => rows.map((r) => r.dataset.ns));
  assert(types.length >= 7, `7+ namespaces: ${types.join(',')}`);
  for (const t of ['pid', 'mnt', 'net', 'uts', 'ipc']) assert(types.includes(t), `${t} listed`);
  // The container's pid and mount namespaces are not ours (this process runs in the host's).
  for (const t of ['pid', 'mnt', 'net']) {
    const shown = (await page.textContent(`tr[data-ns="${t}"] td.mono`)).trim();
    const host = String(fs.statSync(`/proc/self/ns/${t}`).ino);
    assert(/^\d+$/.test(shown) && shown !== host, `${t} namespace inode ${shown} differs from the host's ${host}`);
    assert(!(await page.textContent(`tr[data-ns="${t}"]`)).includes('shared with host'), `${t} not marked shared`);
  }
  const body = await page.textContent('.isolation');
  assert(body.includes('32 MiB') && body.includes('50'), 'cgroup limits shown');
  await shot(page, 'isolation');
  await closePage(page);
  mdOk('rm', '-f', name);
});

test('errors: a bad image shows the server\'s message', async () => {
  const page = await openPage('#/create');
  const image = 'no-such-image-' + uniq();
  // The server's own words for this request.
  const direct = await apiJson('POST', '/api/containers', { name: `web-err-${uniq()}`, image });
  assert(direct.status >= 400 && direct.body.message, `the API refuses it: ${direct.status}`);
  page.expected.push(/status of 4\d\d/);
  await page.fill('#f-name', `web-err-${uniq()}`);
  await page.fill('#f-image', image);
  await page.click('#create-submit');
  await page.waitForSelector('.form-error:not([hidden])');
  const shown = await page.textContent('.form-error');
  assert(shown.includes(direct.body.message), `form shows "${direct.body.message}": ${shown}`);
  await page.waitForSelector('.toast-error');
  await shot(page, 'error-bad-image');
  // Nothing half-created.
  const list = await apiJson('GET', '/api/containers');
  assert(!list.body.some((c) => c.image === image), 'no container with that image');
  await closePage(page);
});

test('images, networks, volumes and topology views', async () => {
  const name = `web-topo-${uniq()}`;
  mdOk('run', '-d', '--name', name, 'busybox', 'sleep', '300');
  const page = await openPage('#/images');
  await page.waitForSelector('td:has-text("busybox:latest")');
  await shot(page, 'images');
  await page.click('nav a[data-view="networks"]');
  await page.waitForSelector('#networks-title');
  await page.waitForSelector('td:text-is("bridge")');
  await shot(page, 'networks');
  await page.click('nav a[data-view="volumes"]');
  await page.waitForSelector('#volumes-title');
  await page.waitForSelector('#volumes-title >> xpath=../.. >> table, p.empty');
  await page.click('nav a[data-view="topology"]');
  await page.waitForSelector(`.topo-svg g.node[data-container="${name}"]`);
  await page.waitForSelector('.topo-svg g.net[data-network="bridge"]');
  const label = await page.locator('.topo-svg .edge-label').allTextContents();
  assert(label.some((l) => l.startsWith('10.203.')), `the container's address on our bridge: ${label.join(',')}`);
  await shot(page, 'topology');
  await closePage(page);
  mdOk('rm', '-f', name);
});

test('overview: open rootfs, exec; export the config, import it under a new name', async () => {
  const name = `web-exp-${uniq()}`;
  const copy = `${name}-copy`;
  const made = await apiJson('POST', '/api/containers', { name, image: 'busybox', command: 'echo exported; sleep 300', env_vars: { MODE: 'test' }, mem_limit: '48m' });
  assert(made.status === 201, `create: ${made.status} ${JSON.stringify(made.body)}`);
  const page = await openPage(`#/c/${name}`);
  // Open rootfs: the host path of its root filesystem, under our root.
  await page.click('button:text-is("Open rootfs")');
  const rootfs = (await page.textContent('#rootfs-path')).trim();
  assert(rootfs.startsWith(`${root}/`) && fs.existsSync(path.join(rootfs, 'bin/busybox')), `rootfs path ${rootfs} is on the host`);
  // A one-off exec: the output is the shell's (5), not the command's text.
  await page.fill('.exec input', 'echo exec-$((2+3))');
  await page.click('.exec button');
  await page.waitForSelector('.exec-out:not([hidden])');
  const out = await page.textContent('.exec-out');
  assert(out.includes('exec-5') && out.includes('[exit code 0]'), `exec output: ${out}`);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('button:text-is("Export config")')]);
  assert(download.suggestedFilename() === `${name}.json`, `file name ${download.suggestedFilename()}`);
  const file = path.join(root, `${name}.json`);
  await download.saveAs(file);
  const cfg = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert(cfg.image && JSON.stringify(cfg).includes('exported'), `the export has the image and command: ${JSON.stringify(cfg)}`);
  await page.goto(`${base}/#/create`);
  await page.fill('#import-name', copy);
  await page.setInputFiles('#import-file', file);
  await page.waitForSelector(`#detail-title:text-is("${copy}")`, { timeout: 20000 });
  const got = await apiJson('GET', `/api/containers/${copy}`);
  assert(got.status === 200, `imported container exists: ${got.status}`);
  assert(got.body.env_vars.MODE === 'test' && got.body.mem_limit === 48 * 1048576, `same config: ${JSON.stringify(got.body)}`);
  assert(JSON.stringify(got.body.command).includes('exported'), `same command: ${JSON.stringify(got.body.command)}`);
  await shot(page, 'imported');
  await closePage(page);
  mdOk('rm', '-f', name, copy);
});

test('token: the page opened once with ?token= works through its cookie', async () => {
  const port = await freePort();
  const token = `t0k-${uniq()}${uniq()}`;
  const secured = `http://127.0.0.1:${port}`;
  const second = spawn(cli, ['--root', root, 'serve', '--web', `127.0.0.1:${port}`, '--token', token, '-H', `unix://${root}/api-token.sock`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  second.stderr.on('data', (d) => { log += d; });
  try {
    await until('the token server', async () => {
      if (second.exitCode !== null) throw new Error(`exited ${second.exitCode}: ${log}`);
      return (await fetch(`${secured}/api/health`, { headers: { Authorization: `Bearer ${token}` } })).ok;
    });
    const denied = await fetch(`${secured}/api/containers`);
    assert(denied.status === 401, `no token → ${denied.status}`);
    const name = `web-tok-${uniq()}`;
    mdOk('create', '--name', name, 'busybox', 'true');
    const page = await browser.newPage();
    page.problems = [];
    page.expected = [];
    page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') page.problems.push(`console: ${m.text()}`); });
    await page.goto(`${secured}/?token=${token}#/containers`);
    await page.waitForSelector('#conn[data-state="open"]', { timeout: 15000 });
    await row(page, name).waitFor();
    assert(!page.url().includes('token='), `the token left the address bar: ${page.url()}`);
    const cookie = (await page.context().cookies(secured)).find((c) => c.name === 'md_token');
    assert(cookie && cookie.httpOnly && cookie.sameSite === 'Strict', `HttpOnly SameSite=Strict cookie: ${JSON.stringify(cookie)}`);
    // A reload without ?token= still works (the cookie).
    await page.goto(`${secured}/#/containers`);
    await row(page, name).waitFor();
    await closePage(page);
    mdOk('rm', '-f', name);
  } finally {
    second.kill('SIGTERM');
    for (let i = 0; i < 50 && second.exitCode === null; i++) await sleep(100);
    if (second.exitCode === null) second.kill('SIGKILL');
  }
});

test('templates: fill the form from one, create from one', async () => {
  const dir = path.join(root, 'templates');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'webtest.json'), JSON.stringify({
    description: 'A template of the browser tests', image: 'busybox', command: 'echo from-template; sleep 300', env_vars: { FROM: 'template' },
  }));
  const name = `web-tpl-${uniq()}`;
  try {
    const page = await openPage('#/templates');
    const card = page.locator('article[data-template="webtest"]');
    await card.waitFor();
    assert((await card.textContent()).includes('A template of the browser tests'), 'the description is shown');
    await card.locator('button:text-is("Use in form")').click();
    await page.waitForSelector('#create-title');
    assert((await page.inputValue('#f-command')).includes('from-template'), 'the form has the template\'s command');
    assert((await page.inputValue('#f-env_vars')).includes('FROM=template'), 'and its environment');
    await page.goto(`${base}/#/templates`);
    await card.locator('input').fill(name);
    await card.locator('button:text-is("Create")').click();
    await page.waitForSelector(`#detail-title:text-is("${name}")`);
    const got = await apiJson('GET', `/api/containers/${name}`);
    assert(got.status === 200 && got.body.env_vars.FROM === 'template', `created from the template: ${JSON.stringify(got.body)}`);
    await shot(page, 'template-created');
    await closePage(page);
  } finally {
    md('rm', '-f', name);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('narrow screen: no sideways scrolling, rows become cards', async () => {
  const name = `web-narrow-${uniq()}`;
  mdOk('run', '-d', '--name', name, '-p', '127.0.0.1::80', 'busybox', 'sleep', '300');
  const page = await openPage('#/containers');
  await page.setViewportSize({ width: 400, height: 860 });
  await row(page, name).waitFor();
  const overflow = await page.evaluate(() => document.scrollingElement.scrollWidth - window.innerWidth);
  assert(overflow <= 0, `page is ${overflow}px wider than the screen`);
  const hidden = await page.evaluate(() => [...document.querySelectorAll('.table-wrap')].map((w) => w.scrollWidth - w.clientWidth));
  assert(hidden.every((d) => d <= 0), `nothing cut off inside the list: ${hidden}`);
  const display = await row(page, name).evaluate((tr) => getComputedStyle(tr).display);
  assert(display === 'block', `rows are cards (display ${display})`);
  await shot(page, 'narrow');
  await closePage(page);
  mdOk('rm', '-f', name);
});

// ------------------------------------------------------------------ main
let failed = 0;
try {
  await setup();
  const only = process.env.MD_WEB_ONLY;
  for (const t of tests) {
    if (interrupted) break;
    if (only && !t.name.includes(only)) continue;
    const start = Date.now();
    try {
      await Promise.race([t.fn(), sleep(120000).then(() => { throw new Error('test timed out after 120 s'); })]);
      console.log(`ok    ${t.name} (${Date.now() - start} ms)`);
    } catch (e) {
      failed++;
      console.log(`FAIL  ${t.name}\n      ${String(e.stack || e).split('\n').join('\n      ')}`);
      for (const p of browser.contexts().flatMap((c) => c.pages())) {
        try { await p.screenshot({ path: path.join(shots, `FAIL-${t.name.replace(/\W+/g, '_')}.png`) }); } catch { /* closed */ }
        await p.close().catch(() => {});
      }
    }
  }
} catch (e) {
  failed++;
  console.log(`FAIL  setup: ${e.stack || e}`);
} finally {
  if (failed && serverLog) console.log(`--- server log (last 3000 bytes) ---\n${serverLog.slice(-3000)}`);
  await cleanup();
}
if (interrupted) await new Promise(() => {});  // the signal handler exits
console.log(failed ? `${failed} failed; screenshots in ${shots}` : `all passed; screenshots in ${shots}`);
process.exit(failed ? 1 : 0);
