// The web benchmark (issue 23, docs/benchmarks.md "Web"): cold loads of the
// home page in Debian's Chromium against the real server, with rooms and
// thumbnails on it. Prints a JSON report; asserts nothing.
//
//   node web-perf.mjs [--runs 5] [--base http://127.0.0.1:8080]
//
// Without --base it starts its own stack (SecantusDB, coturn, the server
// from STREAMSHARE_E2E_SERVER_BIN or a debug build, web/dist) and seeds it.

import { deflateSync, crc32 } from 'node:zlib';

import { launchBrowser } from './lib/browser.mjs';
import { coldLoads } from './lib/perf.mjs';
import { startStack } from './lib/services.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const runs = Number(option('--runs', '5'));

/** A solid-colour PNG thumbnail, `w`×`h`. */
function png(w, h, [r, g, b]) {
  const chunk = (type, data) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'ascii');
    data.copy(out, 8);
    out.writeUInt32BE(crc32(Buffer.concat([Buffer.from(type, 'ascii'), data])), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(w, 0);
  header.writeUInt32BE(h, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(w * 3, Buffer.from([r, g, b]))]);
  const pixels = deflateSync(Buffer.concat(Array.from({ length: h }, () => row)));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', pixels),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Eight rooms, six of them live, each with a thumbnail. */
async function seed(base) {
  const api = async (method, path, token, body, type = 'application/json') => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': type, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: type === 'application/json' ? JSON.stringify(body) : body,
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? null : res.json();
  };
  const name = `perf_${Date.now().toString(36)}`;
  const { accessToken } = await api('POST', '/api/auth/register', null, {
    username: name,
    email: `${name}@example.com`,
    password: 'correct horse battery',
  });
  for (let i = 0; i < 8; i += 1) {
    const room = await api('POST', '/api/rooms', accessToken, { title: `Benchmark room ${i + 1}`, price: i % 3 === 0 ? 0 : 10 });
    await api('PUT', `/api/rooms/${room.id}/thumbnail`, accessToken, png(640, 360, [40 + i * 20, 80, 160]), 'image/png');
    if (i < 6) await api('POST', `/api/rooms/${room.id}/live`, accessToken, {});
  }
}

const ownStack = !option('--base');
const stack = ownStack ? await startStack({ name: 'web-perf' }) : null;
const base = option('--base', stack?.baseUrl);
const browser = await launchBrowser();
try {
  if (ownStack) await seed(base);
  const home = await coldLoads(browser, base, '/', runs);
  process.stdout.write(`${JSON.stringify({ when: new Date().toISOString(), base, home }, null, 2)}\n`);
} finally {
  await browser.close();
  await stack?.stop();
}
