// Issue 22: WHIP and WHEP that every client speaks. Third-party clients in
// Debian's Chromium against the real server, SecantusDB and coturn:
// Medooze's whip-whep (WHIPClient, WHEPClient) and Eyevinn's
// webrtc-player, loaded from another origin's site (lib/third-party.mjs)
// and, for the same-origin case, inside the app's origin. They publish and
// play cross-origin (CORS), take TURN from the Link headers, trickle
// candidates over PATCH, recover through an ICE restart, and stop with a
// DELETE that answers 200. The steps build on each other.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before } from 'node:test';

import { uniqueName } from './lib/app.mjs';
import { launchBrowser, newPerson, screenshot, webrtcStats } from './lib/browser.mjs';
import { ARTIFACTS, startStack } from './lib/services.mjs';
import { startPlayerSite } from './lib/third-party.mjs';
import { steps } from './lib/steps.mjs';
import { until } from './lib/wait.mjs';

const PRICE = 10;

let stack;
let site;
let browser;
const people = {};
const state = {};
/** Every WHIP/WHEP request the pages made: {who, method, url, status, headers}. */
const mediaCalls = [];
const step = steps({
  people,
  prefix: 'interop-',
  extra: (slug) =>
    fs.writeFileSync(path.join(ARTIFACTS, `FAILED-${slug}-media-calls.json`), JSON.stringify(mediaCalls, null, 2)),
});

async function api(method, url, { token, body } = {}) {
  const res = await fetch(`${stack.baseUrl}${url}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text}`);
  return json;
}

async function signUp(prefix) {
  const username = uniqueName(prefix);
  const { user, accessToken } = await api('POST', '/api/auth/register', {
    body: { username, email: `${username}@example.test`, password: 'correct horse battery' },
  });
  return { user, token: accessToken };
}

/**
 * A person whose page is on `origin` (the player site, or the app with
 * `bypassCSP`), with their WHIP/WHEP calls recorded.
 */
async function person(who, origin, options = {}) {
  const p = await newPerson(browser, stack.baseUrl, options);
  p.page.on('response', async (response) => {
    const request = response.request();
    if (!request.url().includes('/api/media/wh')) return;
    const call = { who, method: request.method(), url: request.url(), status: response.status(), headers: null };
    mediaCalls.push(call);
    call.headers = await response.allHeaders().catch(() => ({}));
  });
  await p.page.goto(origin === 'app' ? '/' : `${origin}/`);
  people[who] = p;
  return p;
}

function calls(who, method) {
  return mediaCalls.filter((c) => c.who === who && c.method === method);
}

/** Waits until `who` made a `method` call (with its headers read); returns the last. */
function called(who, method) {
  return until(`a ${method} from ${who}`, () => {
    const all = calls(who, method);
    return all.length > 0 && all.every((c) => c.headers) ? all.at(-1) : null;
  });
}

/** The page's video counters (the newest receiving connection). */
async function framesDecoded(page) {
  const all = await webrtcStats(page);
  return all.filter((e) => e.video).at(-1)?.video?.framesDecoded ?? 0;
}

async function expectFramesRising(page, what, more = 15) {
  const first = await until(`${what}: decoded frames`, async () => {
    const n = await framesDecoded(page);
    return n > 0 ? n : null;
  }, { timeoutMs: 30_000 });
  await until(`${what}: decoded frames keep rising`, async () => (await framesDecoded(page)) > first + more, {
    timeoutMs: 30_000,
  });
}

/** Starts WHEPClient on the page; resolves once `view()` did. */
function whepView(page, { lib, url, token }) {
  return page.evaluate(
    async ({ lib, url, token }) => {
      const { WHEPClient } = await import(lib);
      const pc = new RTCPeerConnection();
      pc.addTransceiver('video', { direction: 'recvonly' });
      pc.addTransceiver('audio', { direction: 'recvonly' });
      const video = document.createElement('video');
      Object.assign(video, { autoplay: true, muted: true, playsInline: true });
      document.body.append(video);
      pc.ontrack = (event) => {
        video.srcObject = event.streams[0] ?? new MediaStream([event.track]);
      };
      const whep = new WHEPClient();
      window.__whep = { whep, pc };
      try {
        await whep.view(pc, url, token);
        return 'ok';
      } catch (error) {
        return String(error.message ?? error);
      }
    },
    { lib, url, token },
  );
}

/**
 * The selected ICE candidate pair of the page's connection `handle`: its
 * id, state, STUN responses received, and the remote candidate's ufrag.
 */
function selectedPair(page, handle) {
  return page.evaluate(async (h) => {
    const stats = await window[h].pc.getStats();
    const byId = new Map();
    stats.forEach((s) => byId.set(s.id, s));
    for (const s of byId.values()) {
      if (s.type !== 'transport' || !s.selectedCandidatePairId) continue;
      const pair = byId.get(s.selectedCandidatePairId);
      const remote = byId.get(pair?.remoteCandidateId);
      return { id: pair?.id, state: pair?.state, responsesReceived: pair?.responsesReceived ?? 0, remoteUfrag: remote?.usernameFragment ?? null };
    }
    return null;
  }, handle);
}

/** Waits until the connection's selected pair is one of the new ICE generation and answered checks. */
async function expectNewPair(page, handle, newUfrag) {
  return until('a candidate pair of the new ICE generation, its checks answered', async () => {
    const pair = await selectedPair(page, handle);
    return pair?.remoteUfrag === newUfrag && pair.state === 'succeeded' && pair.responsesReceived > 0 ? pair : null;
  }, { timeoutMs: 30_000 });
}

/**
 * Samples the connection's decoded frames every 20 ms until stopped, so the
 * longest gap between two new frames around an ICE restart can be told
 * (reported, not asserted).
 */
function startFrameSampler(page, handle) {
  return page.evaluate((h) => {
    const sampler = { times: [], last: 0, timer: null, restartAt: null };
    sampler.timer = setInterval(async () => {
      const stats = await window[h].pc.getStats();
      stats.forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video' && s.framesDecoded > sampler.last) {
          sampler.last = s.framesDecoded;
          sampler.times.push(performance.now());
        }
      });
    }, 20);
    window.__sampler = sampler;
  }, handle);
}

/** Stops the sampler; returns the longest frame gap after the restart began, in ms. */
function stopFrameSampler(page) {
  return page.evaluate(() => {
    const s = window.__sampler;
    clearInterval(s.timer);
    let gap = 0;
    for (let i = 1; i < s.times.length; i += 1) {
      if (s.times[i] >= s.restartAt) gap = Math.max(gap, s.times[i] - Math.max(s.times[i - 1], s.restartAt));
    }
    return Math.round(gap);
  });
}

/** The ICE ufrag of the page's WHEP connection's remote description. */
function remoteUfrag(page, handle) {
  return page.evaluate((h) => /a=ice-ufrag:(.*)\r\n/.exec(window[h].pc.remoteDescription.sdp)[1], handle);
}

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  stack = await startStack({ name: 'interop' });
  site = await startPlayerSite();
  browser = await launchBrowser();

  state.creator = await signUp('whip');
  const room = await api('POST', '/api/rooms', {
    token: state.creator.token,
    body: { title: `Interop ${Date.now().toString(36)}`, price: PRICE },
  });
  state.roomId = room.id;
  state.key = (await api('GET', `/api/rooms/${room.id}/stream-key`, { token: state.creator.token })).streamKey;
  state.whipUrl = `${stack.baseUrl}/api/media/whip/${room.id}`;
  state.whepUrl = `${stack.baseUrl}/api/media/whep/${room.id}`;
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await site?.stop();
  await stack?.stop();
});

step('1. WHIPClient publishes from another origin with the stream key, relayed by the TURN server it learned from Link headers', async () => {
  // Relay only: with no ICE servers of its own, the page can only connect
  // through the TURN server the WHIP answer's Link headers name.
  const { page } = await person('publisher', site.origin, { icePolicy: 'relay' });
  const result = await page.evaluate(
    async ({ lib, url, key }) => {
      const { WHIPClient } = await import(lib);
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 360 } });
      const pc = new RTCPeerConnection();
      for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
      const whip = new WHIPClient();
      window.__whip = { whip, pc };
      try {
        await whip.publish(pc, url, key);
        return { ok: true, iceServers: pc.getConfiguration().iceServers };
      } catch (error) {
        return { ok: false, error: String(error.message ?? error) };
      }
    },
    { lib: site.modules.whip, url: state.whipUrl, key: state.key },
  );
  assert.ok(result.ok, result.error);
  const post = await called('publisher', 'POST');
  assert.equal(post.status, 201);
  assert.match(post.headers.link ?? '', /rel="ice-server"/, 'the answer names ICE servers');
  assert.ok(post.headers.etag, 'the answer has an ETag');
  assert.match([result.iceServers[0].urls].flat()[0], new RegExp(`^turn:127\\.0\\.0\\.1:${stack.turnPort}`));
  assert.ok(result.iceServers[0].username?.endsWith(`:${state.creator.user.id}`), 'the creator’s TURN credentials');

  await until('the publisher to send video through the relay', async () => {
    const [pc] = await webrtcStats(page);
    return pc?.connectionState === 'connected' && pc.outboundVideo?.framesEncoded > 0 && pc.localCandidateType === 'relay' ? pc : null;
  }, { timeoutMs: 30_000 });
  await until('the room to be live', async () => (await api('GET', `/api/rooms/${state.roomId}`)).status === 'live');
  // Its relay candidates went up as trickle ICE (If-Match: the ETag).
  await until('a trickle PATCH answered 204', () => calls('publisher', 'PATCH').some((c) => c.status === 204));
  await screenshot(page, 'interop-whip-publisher');

  // Two paying viewers and one who does not pay.
  for (const who of ['alice', 'bob']) {
    state[who] = await signUp(who);
    await api('POST', '/api/transactions/stream-join', {
      token: state[who].token,
      body: { creatorId: state.creator.user.id, roomId: state.roomId, amount: PRICE },
    });
  }
  state.mallory = await signUp('mallory');
});

step('2. WHEPClient plays from another origin and trickles its candidates', async () => {
  const { page } = await person('alice', site.origin);
  const result = await whepView(page, { lib: site.modules.whep, url: state.whepUrl, token: state.alice.token });
  assert.equal(result, 'ok');
  assert.equal((await called('alice', 'POST')).status, 201);
  await expectFramesRising(page, 'WHEPClient (cross-origin)');
  await until('a trickle PATCH answered 204', () => calls('alice', 'PATCH').some((c) => c.status === 204));
  assert.ok(!calls('alice', 'PATCH').some((c) => c.status >= 400), JSON.stringify(calls('alice', 'PATCH')));
  await screenshot(page, 'interop-whep-cross-origin');
});

step('3. Eyevinn’s player plays from another origin', async () => {
  const { page } = await person('bob', site.origin);
  await page.evaluate(
    async ({ lib, url, token }) => {
      const { WebRTCPlayer } = await import(lib);
      const player = new WebRTCPlayer({ video: document.getElementById('video'), type: 'whep', iceServers: [] });
      window.__eyevinn = player;
      await player.load(new URL(url), `Bearer ${token}`);
    },
    { lib: site.modules.eyevinn, url: state.whepUrl, token: state.bob.token },
  );
  await expectFramesRising(page, 'Eyevinn player (cross-origin)');
  assert.equal((await called('bob', 'POST')).status, 201);
  await screenshot(page, 'interop-eyevinn-cross-origin');
});

step('4. both clients also play inside the app’s own origin, and stop with DELETE 200', async () => {
  const { page } = await person('bob-app', 'app', { bypassCSP: true });
  await page.evaluate(
    async ({ lib, url, token }) => {
      const { WebRTCPlayer } = await import(lib);
      const video = document.createElement('video');
      Object.assign(video, { autoplay: true, muted: true, playsInline: true });
      document.body.append(video);
      const player = new WebRTCPlayer({ video, type: 'whep', iceServers: [] });
      window.__eyevinn = player;
      await player.load(new URL(url), `Bearer ${token}`);
    },
    // The app's origin: the page and the WHEP door are the same origin.
    { lib: site.modules.eyevinn, url: state.whepUrl, token: state.bob.token },
  );
  await expectFramesRising(page, 'Eyevinn player (same origin)');
  await page.evaluate(() => window.__eyevinn.unload());
  await until('Eyevinn’s DELETE', () => calls('bob-app', 'DELETE').length > 0);
  assert.deepEqual(calls('bob-app', 'DELETE').map((c) => c.status), [200]);

  const alice = await person('alice-app', 'app', { bypassCSP: true });
  assert.equal(await whepView(alice.page, { lib: site.modules.whep, url: state.whepUrl, token: state.alice.token }), 'ok');
  await expectFramesRising(alice.page, 'WHEPClient (same origin)');
  await alice.page.evaluate(() => window.__whep.whep.stop());
  await until('WHEPClient’s DELETE', () => calls('alice-app', 'DELETE').length > 0);
  assert.deepEqual(calls('alice-app', 'DELETE').map((c) => c.status), [200]);
  await alice.page.close();
  await page.close();
});

step('5. an ICE restart mid-stream: the cross-origin WHEP viewer’s frames resume', async () => {
  const { page } = people.alice;
  const oldUfrag = await remoteUfrag(page, '__whep');
  const before = await framesDecoded(page);
  await startFrameSampler(page, '__whep');
  const started = Date.now();
  await page.evaluate(() => {
    window.__sampler.restartAt = performance.now();
    return window.__whep.whep.restart();
  });
  const restart = await until('the restart PATCH answered 200', () => calls('alice', 'PATCH').find((c) => c.status === 200 && c.headers));
  assert.equal(restart.headers['content-type'], 'application/trickle-ice-sdpfrag');
  const newUfrag = await remoteUfrag(page, '__whep');
  assert.notEqual(newUfrag, oldUfrag, 'the server answered with new ICE credentials');
  // Chrome checks the server on the new credentials, and the server answers.
  await expectNewPair(page, '__whep', newUfrag);
  state.viewerPairMs = Date.now() - started;
  await until('frames to resume after the restart', async () => (await framesDecoded(page)) > before + 30, { timeoutMs: 30_000 });
  state.viewerRestartMs = Date.now() - started;
  state.viewerGapMs = await stopFrameSampler(page);
  await until('the connection to stay connected', async () => (await webrtcStats(page)).at(-1)?.connectionState === 'connected');
  assert.equal(calls('alice', 'POST').length, 1, 'no new session, no new payment');
  console.log(
    `# ICE restart (WHEPClient): restart() to a checked pair of the new generation in ${state.viewerPairMs} ms, to 30 more decoded frames in ${state.viewerRestartMs} ms; longest gap between decoded frames after restart(): ${state.viewerGapMs} ms`,
  );
});

step('6. an ICE restart of the WHIP publisher: viewers keep playing', async () => {
  const publisher = people.publisher.page;
  const oldUfrag = await remoteUfrag(publisher, '__whip');
  const viewer = people.alice.page;
  await startFrameSampler(viewer, '__whep');
  await viewer.evaluate(() => {
    window.__sampler.restartAt = performance.now();
  });
  const started = Date.now();
  await publisher.evaluate(() => window.__whip.whip.restart());
  await until('the restart PATCH answered 200', () => calls('publisher', 'PATCH').some((c) => c.status === 200));
  const newUfrag = await remoteUfrag(publisher, '__whip');
  assert.notEqual(newUfrag, oldUfrag);
  await expectNewPair(publisher, '__whip', newUfrag);
  state.publisherPairMs = Date.now() - started;
  const before = await framesDecoded(viewer);
  await until('the viewer’s frames to keep rising after the publisher’s restart', async () => (await framesDecoded(viewer)) > before + 30, {
    timeoutMs: 30_000,
  });
  state.publisherRestartMs = Date.now() - started;
  state.publisherGapMs = await stopFrameSampler(viewer);
  await until('the publisher to stay connected through the relay', async () => {
    const [pc] = await webrtcStats(publisher);
    return pc?.connectionState === 'connected' && pc.localCandidateType === 'relay';
  });
  console.log(
    `# ICE restart (WHIPClient, relayed): restart() to a checked pair of the new generation in ${state.publisherPairMs} ms, to 30 more decoded frames at a viewer in ${state.publisherRestartMs} ms; longest gap between the viewer's decoded frames: ${state.publisherGapMs} ms`,
  );
});

step('7. a viewer who has not paid is refused, from any origin', async () => {
  const { page } = await person('mallory', site.origin);
  const result = await whepView(page, { lib: site.modules.whep, url: state.whepUrl, token: state.mallory.token });
  assert.match(result, /403/);
  const post = await called('mallory', 'POST');
  assert.equal(post.status, 403);
  const refusal = await page.evaluate(async (url) => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp', authorization: 'Bearer x' }, body: 'v=0' });
    return { status: res.status, body: await res.json() };
  }, state.whepUrl);
  assert.equal(refusal.status, 401, 'a bad token is readable as 401 across origins');
  assert.equal(refusal.body.error.code, 'unauthorized');
  const stats = await webrtcStats(page);
  assert.ok(stats.every((s) => s.connectionState !== 'connected'), 'no media for an unpaid viewer');
});

step('8. stopping ends every session cleanly: DELETE answers 200, never 404', async () => {
  await people.bob.page.evaluate(() => window.__eyevinn.unload());
  await people.alice.page.evaluate(() => window.__whep.whep.stop());
  await people.publisher.page.evaluate(() => window.__whip.whip.stop());
  await until('three DELETEs', () => ['bob', 'alice', 'publisher'].every((who) => calls(who, 'DELETE').length > 0));
  for (const who of ['bob', 'alice', 'publisher']) {
    assert.deepEqual(calls(who, 'DELETE').map((c) => c.status), [200], who);
  }
  // Nothing the clients did was answered with an error, and no client threw.
  const errors = mediaCalls.filter((c) => c.status >= 400 && c.who !== 'mallory');
  assert.deepEqual(errors, []);
  for (const who of ['publisher', 'alice', 'bob']) {
    const thrown = people[who].consoleLines.filter((l) => l.startsWith('[pageerror]'));
    assert.deepEqual(thrown, [], who);
  }
});
