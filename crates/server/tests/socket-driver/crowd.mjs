// Drives a crowd of official socket.io-client connections for the Rust
// tests: many viewers, some with several tabs, spread over instances.
// Usage: node crowd.mjs <plan.json>
//   plan: {"roomId", "viewers": [{"token", "urls": [one per tab]}]}
// stdin:  {"op": "join"}                       every tab joins, all at once
//         {"op": "close", "tabs": [[i, j], ...]}  those tabs (viewer i, tab j) close
//         {"op": "close_all"}                  every open tab closes
// stdout: {"type": "connected", "count"}
//         {"type": "joined", "ok", "errors": [...]}
//         {"type": "closed", "count"}
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { io } from 'socket.io-client';

const plan = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const out = (msg) => process.stdout.write(JSON.stringify(msg) + '\n');

const connect = (url, token) =>
  new Promise((resolve, reject) => {
    const socket = io(url, {
      path: '/socket.io',
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: { token },
    });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => reject(err));
  });

const tabs = await Promise.all(
  plan.viewers.map((viewer) => Promise.all(viewer.urls.map((url) => connect(url, viewer.token)))),
);
out({ type: 'connected', count: tabs.flat().length });

const closeTab = (socket) =>
  new Promise((resolve) => {
    if (!socket.connected) return resolve();
    socket.once('disconnect', () => resolve());
    socket.disconnect();
  });

createInterface({ input: process.stdin }).on('line', async (line) => {
  const cmd = JSON.parse(line);
  if (cmd.op === 'join') {
    const acks = await Promise.all(
      tabs.flat().map((socket) =>
        socket
          .timeout(20000)
          .emitWithAck('room:join', { roomId: plan.roomId })
          .catch((err) => ({ ok: false, error: { code: 'timeout', message: String(err) } })),
      ),
    );
    const errors = acks.filter((a) => !a.ok).map((a) => a.error);
    out({ type: 'joined', ok: acks.length - errors.length, errors: errors.slice(0, 5) });
  } else if (cmd.op === 'close') {
    await Promise.all(cmd.tabs.map(([i, j]) => closeTab(tabs[i][j])));
    out({ type: 'closed', count: cmd.tabs.length });
  } else if (cmd.op === 'close_all') {
    const open = tabs.flat().filter((s) => s.connected);
    await Promise.all(open.map(closeTab));
    out({ type: 'closed', count: open.length });
  }
});
process.stdin.on('end', () => process.exit(0));
