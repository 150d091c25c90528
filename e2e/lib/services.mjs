// Starts and stops everything the browser tests need: SecantusDB, coturn and
// the real `streamshare` server (which serves the built web app), each in its
// own process group on free loopback ports, with logs in test-artifacts/e2e.
//
// Everything is torn down by `stop()`, and — should a test crash or the run
// be interrupted — by exit and signal handlers that kill the process groups.

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ARTIFACTS = process.env.STREAMSHARE_E2E_ARTIFACTS ?? path.join(ROOT, 'test-artifacts', 'e2e');

const children = new Set();

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

function killAllNow() {
  for (const child of children) killGroup(child, 'SIGKILL');
  children.clear();
}

process.once('exit', killAllNow);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    killAllNow();
    process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
  });
}

/** Starts `command` in its own process group, output appended to `logFile`. */
function start(name, command, args, { env = {}, logFile } = {}) {
  const out = fs.openSync(logFile, 'a');
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', out, out],
    detached: true,
  });
  fs.closeSync(out);
  child.name = name;
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.once('error', (error) => fs.appendFileSync(logFile, `\n[e2e] could not start ${name}: ${error.message}\n`));
  children.add(child);
  return child;
}

/** SIGTERM, then SIGKILL after `graceMs`, to the whole process group. */
async function stopChild(child, graceMs = 5_000) {
  if (!children.has(child)) return;
  children.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  killGroup(child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
  killGroup(child, 'SIGKILL'); // anything it left behind in its group
}

export function freeTcpPort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export function freeUdpPort() {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function tail(file, lines = 30) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function waitFor(what, check, { timeoutMs, child, logFile }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`${what}: the process exited (${child.exitCode ?? child.signalCode}); log ${logFile}:\n${tail(logFile)}`);
    }
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${timeoutMs} ms; log ${logFile}:\n${tail(logFile)}`);
    await sleep(200);
  }
}

function tcpOpen(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function findSecantus() {
  if (process.env.STREAMSHARE_TEST_SECANTUSD) return process.env.STREAMSHARE_TEST_SECANTUSD;
  const local = path.join(ROOT, '.tools', 'venv', 'bin', 'secantusd-py');
  return fs.existsSync(local) ? local : 'secantusd-py';
}

/**
 * The server binary: `STREAMSHARE_E2E_SERVER_BIN`, or a debug build made
 * (or found up to date) by cargo here.
 */
function serverBinary(logDir) {
  if (process.env.STREAMSHARE_E2E_SERVER_BIN) return process.env.STREAMSHARE_E2E_SERVER_BIN;
  const build = spawnSync('cargo', ['build', '--quiet', '--bin', 'streamshare'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (build.status !== 0) {
    fs.writeFileSync(path.join(logDir, 'cargo-build.log'), `${build.stdout ?? ''}${build.stderr ?? ''}`);
    throw new Error(`cargo build --bin streamshare failed:\n${(build.stderr ?? '').slice(-3000)}`);
  }
  const targetDir = process.env.CARGO_TARGET_DIR ?? path.join(ROOT, 'target');
  return path.join(targetDir, 'debug', 'streamshare');
}

/**
 * The addresses the SFU announces: the machine's first external IPv4
 * address, then 127.0.0.1.
 *
 * Why both: Chromium gathers host candidates on non-loopback interfaces
 * only, and the SFU's socket is bound to 0.0.0.0, so the kernel picks the
 * source address of its answers. A browser checking 192.0.2.2 → 127.0.0.1
 * gets its answer from 192.0.2.2 and drops it; so direct (host) viewers need
 * the external address. Coturn (deploy/turnserver-test.conf) relays from
 * 127.0.0.1; the SFU's answers to a relay reach it from 127.0.0.1 only when
 * the peer address is 127.0.0.1 (coturn's permission is per peer IP); so
 * relayed viewers need 127.0.0.1.
 */
function mediaAddresses() {
  if (process.env.STREAMSHARE_E2E_MEDIA_IP) return process.env.STREAMSHARE_E2E_MEDIA_IP;
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family === 'IPv4' && !a.internal) return `${a.address},127.0.0.1`;
    }
  }
  return '127.0.0.1';
}

/**
 * Starts SecantusDB, coturn and the server. Returns the base URL, the TURN
 * details and `stop()`.
 */
export async function startStack({ name = 'e2e' } = {}) {
  const webDir = process.env.STREAMSHARE_WEB_DIR ?? path.join(ROOT, 'web', 'dist');
  if (!fs.existsSync(path.join(webDir, 'index.html'))) {
    throw new Error(`No built web app in ${webDir}: run \`cd web && npm run build\` first.`);
  }
  const logDir = path.join(ARTIFACTS, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `streamshare-${name}-`));
  const started = [];
  const stop = async () => {
    for (const child of started.reverse()) await stopChild(child);
    fs.rmSync(tmp, { recursive: true, force: true });
  };

  try {
    const binary = serverBinary(logDir);

    // Database.
    const dbPort = await freeTcpPort();
    const dbLog = path.join(logDir, `${name}-secantus.log`);
    fs.writeFileSync(dbLog, '');
    const db = start(
      'secantus',
      findSecantus(),
      ['--host', '127.0.0.1', '--port', String(dbPort), '--storage-path', path.join(tmp, 'db'), '--log-level', 'WARNING'],
      { logFile: dbLog },
    );
    started.push(db);

    // Coturn: loopback only (deploy/turnserver-test.conf), a random relay range.
    const turnPort = await freeTcpPort();
    const turnSecret = randomBytes(16).toString('hex');
    const relayBase = 40_000 + Math.floor(Math.random() * 200) * 100;
    const turnLog = path.join(logDir, `${name}-turn.log`);
    fs.writeFileSync(turnLog, '');
    const turn = start(
      'coturn',
      'turnserver',
      [
        '-c', path.join(ROOT, 'deploy', 'turnserver-test.conf'),
        '--listening-port', String(turnPort),
        '--static-auth-secret', turnSecret,
        '--min-port', String(relayBase),
        '--max-port', String(relayBase + 99),
        '--pidfile', path.join(tmp, 'turn.pid'),
        '--log-file', turnLog,
      ],
      { logFile: turnLog },
    );
    started.push(turn);

    await waitFor('SecantusDB', () => tcpOpen(dbPort), { timeoutMs: 60_000, child: db, logFile: dbLog });
    await waitFor('coturn', () => tcpOpen(turnPort), { timeoutMs: 20_000, child: turn, logFile: turnLog });

    // The server.
    const httpPort = await freeTcpPort();
    const mediaPort = await freeUdpPort();
    const mediaIp = mediaAddresses();
    const serverLog = path.join(logDir, `${name}-server.log`);
    fs.writeFileSync(serverLog, '');
    const server = start('streamshare', binary, ['serve'], {
      logFile: serverLog,
      env: {
        STREAMSHARE_HTTP_ADDR: `127.0.0.1:${httpPort}`,
        STREAMSHARE_MONGODB_URI: `mongodb://127.0.0.1:${dbPort}`,
        STREAMSHARE_DB_NAME: 'e2e',
        STREAMSHARE_JWT_SECRET: randomBytes(32).toString('hex'),
        STREAMSHARE_WEB_DIR: webDir,
        STREAMSHARE_DATA_DIR: path.join(tmp, 'data'),
        STREAMSHARE_MEDIA_UDP_PORT: String(mediaPort),
        STREAMSHARE_MEDIA_PUBLIC_IP: mediaIp,
        STREAMSHARE_TURN_URLS: `turn:127.0.0.1:${turnPort}?transport=udp`,
        STREAMSHARE_TURN_SECRET: turnSecret,
        STREAMSHARE_SIGNUP_COINS: '100',
        // Everyone in the journey signs up from loopback.
        STREAMSHARE_SIGNUP_BURST_PER_IP: '1000',
        STREAMSHARE_SIGNUP_BURST_PER_NETWORK: '1000',
        RUST_LOG: process.env.STREAMSHARE_E2E_RUST_LOG ?? 'info,streamshare_sfu=debug',
        NO_COLOR: '1',
      },
    });
    started.push(server);
    const baseUrl = `http://127.0.0.1:${httpPort}`;
    await waitFor(
      'streamshare',
      async () => {
        const res = await fetch(`${baseUrl}/api/health`);
        if (res.status !== 200) return false;
        const body = await res.json();
        return body.indexesReady === true;
      },
      { timeoutMs: 60_000, child: server, logFile: serverLog },
    );

    return {
      baseUrl,
      turnPort,
      mediaPort,
      mediaIp,
      logs: { db: dbLog, turn: turnLog, server: serverLog },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
