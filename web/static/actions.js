// Container actions (start, stop, pause, resume, restart, delete), one at a time or on a
// selection. Each answer (the container object) goes into the store at once; failures are
// shown with the server's own message.
import { post, del, cpath } from './api.js';
import { store } from './store.js';
import { toast, confirmDialog } from './util.js';

// Which actions make sense in which state (the server would answer the others with an
// error; the buttons for them are not offered).
export const ACTIONS = {
  start: { label: 'Start', states: ['created', 'exited', 'dead'], done: 'started' },
  stop: { label: 'Stop', states: ['running', 'paused', 'restarting'], done: 'stopped' },
  pause: { label: 'Pause', states: ['running'], done: 'paused' },
  resume: { label: 'Resume', states: ['paused'], done: 'resumed' },
  restart: { label: 'Restart', states: ['running', 'exited', 'created', 'dead'], done: 'restarted' },
  delete: { label: 'Delete', states: null, done: 'deleted' },
};

export function allowed(action, c) {
  const a = ACTIONS[action];
  return !a.states || a.states.includes(c.status);
}

async function run(action, c) {
  if (action === 'delete') {
    await del(cpath(c.name, '?force=1'));
    store.remove(c.id);
    return;
  }
  const updated = await post(cpath(c.name, `/${action}`));
  if (updated && updated.id) store.upsert(updated);
}

export async function act(action, c) {
  if (action === 'delete') {
    const up = ['running', 'paused', 'restarting'].includes(c.status);
    const ok = await confirmDialog(`Delete container “${c.name}”?${up ? ' It is running and will be killed.' : ''} Its logs and filesystem are removed.`, 'Delete', true);
    if (!ok) return false;
  }
  try {
    await run(action, c);
    toast(`${c.name} ${ACTIONS[action].done}`);
    return true;
  } catch (e) {
    toast(`Cannot ${action} ${c.name}: ${e.message}`, 'error');
    return false;
  }
}

// Runs `action` on every container of `list` it applies to, a few at a time; one toast
// sums it up (and one per failure, with the server's message).
export async function actOnMany(action, list) {
  const todo = list.filter((c) => allowed(action, c));
  const skipped = list.length - todo.length;
  if (!todo.length) {
    toast(`Nothing to ${action}: none of the selected containers is in a state that allows it`, 'error');
    return;
  }
  if (action === 'delete') {
    const ok = await confirmDialog(`Delete ${todo.length} container${todo.length > 1 ? 's' : ''} (${todo.map((c) => c.name).join(', ')})? Running ones are killed.`, 'Delete', true);
    if (!ok) return;
  }
  let okCount = 0;
  const queue = [...todo];
  const worker = async () => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      try { await run(action, c); okCount++; } catch (e) { toast(`Cannot ${action} ${c.name}: ${e.message}`, 'error'); }
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  const parts = [`${okCount} ${ACTIONS[action].done}`];
  if (skipped) parts.push(`${skipped} skipped (state does not allow ${action})`);
  toast(parts.join(', '));
}
