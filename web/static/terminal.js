// A shell in a running container: xterm.js (web/vendor) over the WebSocket
// /api/containers/<name>/terminal (an exec with a pty). Keystrokes go as binary frames
// (stdin, byte for byte); a resize goes as the text frame {"type":"resize"}; the server's
// binary frames are the pty's output; the socket closes when the shell exits.
import { get, wsUrl, cpath } from './api.js';
import { h, loadScript, loadStyle } from './util.js';

export class TerminalPanel {
  constructor() {
    this.box = h('div', { class: 'terminal-box', 'aria-label': 'Terminal' });
    this.status = h('span', { class: 'muted', role: 'status' });
    this.cmd = h('input', { value: 'sh', 'aria-label': 'Command to run', class: 'mono', size: 12 });
    this.el = h('div', { class: 'panel' },
      h('div', { class: 'toolbar' },
        h('label', {}, 'Command ', this.cmd),
        h('button', { class: 'btn btn-small', type: 'button', onclick: () => this.connect() }, 'Reconnect'),
        this.status),
      this.box);
    this.onResize = () => this.fit();
  }

  async mount(c) {
    this.c = c;
    this.term?.reset();
    if (c.status !== 'running') {
      this.status.textContent = `The container is ${c.status}: start it to open a terminal.`;
      return;
    }
    try {
      loadStyle('/vendor/xterm.css');
      await loadScript('/vendor/xterm.js');
      await loadScript('/vendor/addon-fit.js');
    } catch (e) {
      this.status.textContent = `Terminal unavailable: ${e.message}`;
      return;
    }
    if (!this.term) {
      this.term = new window.Terminal({ cursorBlink: true, fontSize: 14, convertEol: false, scrollback: 5000,
        fontFamily: 'ui-monospace, "DejaVu Sans Mono", monospace' });
      this.fitter = new window.FitAddon.FitAddon();
      this.term.loadAddon(this.fitter);
      this.term.open(this.box);
      this.term.onData((d) => this.send(new TextEncoder().encode(d)));
      this.term.onBinary((d) => this.send(Uint8Array.from(d, (ch) => ch.charCodeAt(0))));
      this.term.onResize(({ cols, rows }) => {
        if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: 'resize', cols, rows }));
      });
    }
    window.addEventListener('resize', this.onResize);
    this.fit();
    this.connect();
  }

  unmount() {
    window.removeEventListener('resize', this.onResize);
    const ws = this.ws;
    this.ws = null;
    ws?.close();
  }

  fit() {
    try { this.fitter?.fit(); } catch { /* not visible yet */ }
  }

  send(bytes) {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(bytes);
  }

  connect() {
    if (!this.term || !this.c) return;
    this.ws?.close();
    this.term.reset();
    const cmd = this.cmd.value.trim() || 'sh';
    const q = new URLSearchParams({ cmd, cols: this.term.cols, rows: this.term.rows });
    const ws = new WebSocket(wsUrl(cpath(this.c.name, `/terminal?${q}`)));
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    this.status.textContent = 'connecting…';
    let opened = false;
    ws.addEventListener('open', () => {
      opened = true;
      this.status.textContent = `connected: ${cmd}`;
      this.term.focus();
    });
    ws.addEventListener('message', (ev) => {
      this.term.write(typeof ev.data === 'string' ? ev.data : new Uint8Array(ev.data));
    });
    ws.addEventListener('close', async (ev) => {
      if (this.ws !== ws) return;
      // A refused upgrade reaches the page only as code 1006, without the server's
      // message: say what we can find out.
      if (!opened) {
        let why = 'the server refused the terminal';
        try {
          const now = await get(cpath(this.c.name));
          if (now.status !== 'running') why = `the container is ${now.status}`;
        } catch (e) { why = e.message; }
        this.status.textContent = `cannot open a terminal: ${why}`;
        return;
      }
      const why = ev.reason ? ` (exit code ${ev.reason})` : ev.code !== 1000 && ev.code !== 1005 ? ` (connection closed: ${ev.code})` : '';
      this.status.textContent = `session ended${why}`;
      this.term.write(`\r\n\x1b[2m[session ended${why}; press Reconnect for a new one]\x1b[0m\r\n`);
    });
  }
}
