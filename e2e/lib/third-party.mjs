// A stand-in for someone else's website that uses StreamShare's WHIP/WHEP
// doors with third-party clients: Medooze's `whip-whep` (WHIPClient,
// WHEPClient; plain ES modules, served as they are) and Eyevinn's
// `@eyevinn/webrtc-player` (CommonJS only, so bundled into one ES module
// with esbuild when the site starts). It listens on `localhost`, another
// origin than the app's `127.0.0.1`, and lets any origin import its
// modules, so the same clients also run inside the app's own origin.

import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';

import { build } from 'esbuild';

const require = createRequire(import.meta.url);
const WHIP_WHEP_DIR = path.dirname(require.resolve('whip-whep/package.json'));

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Player site</title></head>
<body><h1>Player site</h1><video id="video" autoplay muted playsinline width="320"></video></body></html>`;

async function eyevinnModule() {
  const result = await build({
    stdin: {
      contents: "export { WebRTCPlayer } from '@eyevinn/webrtc-player';",
      resolveDir: path.dirname(new URL(import.meta.url).pathname),
    },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

/** Starts the site; returns its origin, module URLs and `stop()`. */
export async function startPlayerSite() {
  const modules = {
    '/whip.js': fs.readFileSync(path.join(WHIP_WHEP_DIR, 'whip.js'), 'utf8'),
    '/whep.js': fs.readFileSync(path.join(WHIP_WHEP_DIR, 'whep.js'), 'utf8'),
    '/eyevinn.js': await eyevinnModule(),
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const js = modules[url.pathname];
    if (js !== undefined) {
      res.writeHead(200, {
        'content-type': 'text/javascript; charset=utf-8',
        // Module scripts from another origin need CORS to load.
        'access-control-allow-origin': '*',
      });
      res.end(js);
    } else if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(PAGE);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const origin = `http://localhost:${server.address().port}`;
  return {
    origin,
    modules: {
      whip: `${origin}/whip.js`,
      whep: `${origin}/whep.js`,
      eyevinn: `${origin}/eyevinn.js`,
    },
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
