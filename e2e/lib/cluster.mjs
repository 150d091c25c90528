// A StreamShare cluster for the browser tests: `scripts/cluster.sh` itself
// (Redis, SecantusDB, instances a, b, c and the load balancer, nginx or
// HAProxy, from deploy/), on free loopback ports, in its own process group,
// with its logs in test-artifacts. Stopped by `stop()` (SIGTERM to the
// script, which stops its parts in order), and killed as a group should the
// test crash or be interrupted.
//
// The load balancer routes a browser by its `ss_lb` cookie; which instance
// answered is in a response header: the server's own
// `X-StreamShare-Instance` when it sends one, else the load balancer's
// `X-StreamShare-Upstream` (both deploy/ files add it). `cookiesByInstance`
// finds a cookie value for each instance, so a test can put two people on
// two different instances.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ARTIFACTS, ROOT, freeTcpPort, freeUdpPort } from './services.mjs';
import { until } from './wait.mjs';

export const STICKY_COOKIE = 'ss_lb';

const groups = new Set();
const dataDirs = new Set();
function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}
process.once('exit', () => {
  for (const pid of groups) killGroup(pid, 'SIGKILL');
  for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tail(file, lines = 40) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** The instance that answered a response, or null. */
export function answeringInstance(headers) {
  const get = (name) => (typeof headers.get === 'function' ? headers.get(name) : headers[name]);
  return get('x-streamshare-instance') ?? get('x-streamshare-upstream') ?? null;
}

/**
 * Starts `scripts/cluster.sh --no-web-build` (the web app must be built) with
 * `lb` ('nginx' or 'haproxy'). Serves `STREAMSHARE_E2E_SERVER_BIN` when set,
 * else a debug build that the script makes (a no-op when up to date).
 * Returns `{baseUrl, instances: {a: port, ...}, logs, stop}`.
 */
export async function startCluster({ lb = 'nginx', name = 'cluster', env = {} } = {}) {
  const webDir = process.env.STREAMSHARE_WEB_DIR ?? path.join(ROOT, 'web', 'dist');
  if (!fs.existsSync(path.join(webDir, 'index.html'))) {
    throw new Error(`No built web app in ${webDir}: run \`cd web && npm run build\` first.`);
  }
  const logDir = path.join(ARTIFACTS, 'logs', name);
  fs.rmSync(logDir, { recursive: true, force: true });
  fs.mkdirSync(logDir, { recursive: true });
  const data = fs.mkdtempSync(path.join(os.tmpdir(), `streamshare-${name}-`));
  dataDirs.add(data);

  const ports = async (n, free) => {
    const out = [];
    while (out.length < n) {
      const port = await free();
      if (!out.includes(port)) out.push(port);
    }
    return out;
  };
  const [lbPort, redisPort, dbPort, ...http] = await ports(9, freeTcpPort);
  const metrics = http.splice(3);
  const media = await ports(3, freeUdpPort);

  const scriptLog = path.join(logDir, 'cluster.sh.log');
  const out = fs.openSync(scriptLog, 'a');
  const args = [path.join(ROOT, 'scripts', 'cluster.sh'), '--lb', lb, '--no-web-build'];
  if (!process.env.STREAMSHARE_E2E_SERVER_BIN) args.push('--debug');
  const child = spawn('bash', args, {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', out, out],
    env: {
      ...process.env,
      STREAMSHARE_CLUSTER_LISTEN: `127.0.0.1:${lbPort}`,
      STREAMSHARE_CLUSTER_HTTP_PORTS: http.join(','),
      STREAMSHARE_CLUSTER_METRICS_PORTS: metrics.join(','),
      STREAMSHARE_CLUSTER_MEDIA_PORTS: media.join(','),
      STREAMSHARE_CLUSTER_REDIS_PORT: String(redisPort),
      STREAMSHARE_CLUSTER_DB_PORT: String(dbPort),
      STREAMSHARE_CLUSTER_DATA: data,
      STREAMSHARE_CLUSTER_LOGS: logDir,
      ...(process.env.STREAMSHARE_E2E_SERVER_BIN ? { STREAMSHARE_CLUSTER_BIN: process.env.STREAMSHARE_E2E_SERVER_BIN } : {}),
      ...(process.env.STREAMSHARE_E2E_MEDIA_IP ? { STREAMSHARE_MEDIA_PUBLIC_IP: process.env.STREAMSHARE_E2E_MEDIA_IP } : {}),
      STREAMSHARE_WEB_DIR: webDir,
      // Everyone in the test signs up from loopback.
      STREAMSHARE_SIGNUP_BURST_PER_IP: '1000',
      STREAMSHARE_SIGNUP_BURST_PER_NETWORK: '1000',
      STREAMSHARE_SIGNUP_COINS: '100',
      RUST_LOG: process.env.STREAMSHARE_E2E_RUST_LOG ?? 'info,streamshare_sfu=debug',
      NO_COLOR: '1',
      ...env,
    },
  });
  fs.closeSync(out);
  groups.add(child.pid);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let gone = null;
  void exited.then((result) => {
    gone = result;
  });

  const stop = async () => {
    if (!groups.has(child.pid)) return;
    if (gone === null) {
      // The script stops the load balancer, the instances (each within
      // 10 s), Redis and the database in that order.
      try {
        process.kill(child.pid, 'SIGTERM');
      } catch {
        // gone
      }
      const timer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), 45_000);
      await exited;
      clearTimeout(timer);
    }
    killGroup(child.pid, 'SIGKILL'); // anything left in its group
    groups.delete(child.pid);
    fs.rmSync(data, { recursive: true, force: true });
    dataDirs.delete(data);
  };

  const baseUrl = `http://127.0.0.1:${lbPort}`;
  try {
    // The script prints this line once every part answers (a debug build
    // may have to be made first).
    await until(
      'scripts/cluster.sh to say "cluster ready"',
      () => {
        if (gone !== null) {
          throw new Error(`scripts/cluster.sh exited (${gone.code ?? gone.signal}); ${scriptLog}:\n${tail(scriptLog)}`);
        }
        return fs.readFileSync(scriptLog, 'utf8').includes(`cluster ready ${baseUrl}`);
      },
      { timeoutMs: 15 * 60_000, intervalMs: 300 },
    ).catch((error) => {
      throw new Error(`${error.message}\n${scriptLog}:\n${tail(scriptLog)}`);
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    baseUrl,
    lb,
    instances: { a: http[0], b: http[1], c: http[2] },
    metricsPorts: { a: metrics[0], b: metrics[1], c: metrics[2] },
    logDir,
    logs: {
      script: scriptLog,
      lb: path.join(logDir, 'lb.log'),
      a: path.join(logDir, 'instance-a.log'),
      b: path.join(logDir, 'instance-b.log'),
      c: path.join(logDir, 'instance-c.log'),
    },
    stop,
  };
}

/**
 * A `ss_lb` cookie value for each instance the load balancer reaches, found
 * by asking: HAProxy answers a cookie it does not know with its own choice
 * (Set-Cookie), nginx hashes whatever it gets. Returns `{a: value, ...}`.
 */
export async function cookiesByInstance(baseUrl, { want = 3, tries = 64 } = {}) {
  const found = {};
  const candidates = ['a', 'b', 'c', ...Array.from({ length: tries }, (_, i) => `e2e-${i}`)];
  for (const candidate of candidates) {
    const res = await fetch(`${baseUrl}/api/health/ready`, { headers: { cookie: `${STICKY_COOKIE}=${candidate}` } });
    await res.arrayBuffer();
    const instance = answeringInstance(res.headers);
    if (!instance) {
      throw new Error(`${baseUrl} names no instance (no X-StreamShare-Instance or X-StreamShare-Upstream header)`);
    }
    const set = res.headers.getSetCookie().find((c) => c.startsWith(`${STICKY_COOKIE}=`));
    const value = set ? set.slice(STICKY_COOKIE.length + 1).split(';')[0] : candidate;
    found[instance] ??= value;
    if (Object.keys(found).length >= want) break;
  }
  return found;
}

/** Puts a browser context on the instance its cookie value leads to. */
export async function pinContext(context, baseUrl, value) {
  await context.addCookies([{ name: STICKY_COOKIE, value, url: baseUrl }]);
}

/**
 * Records which instance answered each Socket.IO request of a page (the
 * WebSocket handshake through DevTools, long-polling through responses).
 * Returns `{instances: Set, handshakes: number}`, filled as they come.
 */
export async function watchSocketInstances(page) {
  const seen = { instances: new Set(), handshakes: 0, unnamed: 0 };
  const note = (headers) => {
    const lower = Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    const instance = answeringInstance(lower);
    if (instance) seen.instances.add(instance);
    else seen.unnamed += 1;
  };
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  cdp.on('Network.webSocketHandshakeResponseReceived', (event) => {
    seen.handshakes += 1;
    note(event.response.headers);
  });
  page.on('response', (response) => {
    if (new URL(response.url()).pathname.startsWith('/socket.io/')) note(response.headers());
  });
  return seen;
}
