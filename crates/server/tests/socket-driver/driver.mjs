// Drives one official socket.io-client connection for the Rust tests.
// Usage: node driver.mjs <baseUrl> <token, "-" (none) or "guest" (auth: {guest: true})>
// stdin:  {"id": n, "event": "...", "data": {...}}  emit with an ack
//         {"op": "close"}                           disconnect and exit
// stdout: {"type": "connect"} | {"type": "connect_error", "message"}
//         {"type": "ack", "id", "data"} | {"type": "event", "event", "data"}
//         {"type": "disconnect", "reason"}
import { createInterface } from 'node:readline';
import { io } from 'socket.io-client';

const [url, token] = process.argv.slice(2);
const out = (msg) => process.stdout.write(JSON.stringify(msg) + '\n');

const socket = io(url, {
  path: '/socket.io',
  transports: ['websocket'],
  reconnection: false,
  auth: token === '-' ? {} : token === 'guest' ? { guest: true } : { token },
});
socket.on('connect', () => out({ type: 'connect' }));
socket.on('connect_error', (err) => out({ type: 'connect_error', message: err.message }));
socket.on('disconnect', (reason) => out({ type: 'disconnect', reason }));
socket.onAny((event, data) => out({ type: 'event', event, data }));

createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = JSON.parse(line);
  if (cmd.op === 'close') {
    socket.disconnect();
    setTimeout(() => process.exit(0), 50);
    return;
  }
  socket.timeout(10000).emit(cmd.event, cmd.data, (err, data) => {
    out(err ? { type: 'ack', id: cmd.id, error: String(err) } : { type: 'ack', id: cmd.id, data });
  });
});
process.stdin.on('end', () => process.exit(0));
