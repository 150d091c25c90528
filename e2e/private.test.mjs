// One-to-one private sessions in a real browser (issue 17): Debian's
// Chromium with fake cameras, a context per person, against the real
// server, SecantusDB and coturn. The server bills in 4-second "minutes"
// (STREAMSHARE_PRIVATE_PERIOD_SECS=4), so a couple of periods pass in
// seconds. The steps build on each other: a failed step skips the rest.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { createRoom, headerBalance, register, uniqueName, waitForBalance } from './lib/app.mjs';
import { allConsoleLines, expectVideoPlays, launchBrowser, newPerson, screenshot } from './lib/browser.mjs';
import { ARTIFACTS, startStack } from './lib/services.mjs';
import { steps } from './lib/steps.mjs';
import { until } from './lib/wait.mjs';

// Short billing periods, so charges show within seconds; a grace long enough
// for a page to open on a busy machine. The stack inherits this environment.
process.env.STREAMSHARE_PRIVATE_PERIOD_SECS ??= '4';
process.env.STREAMSHARE_PRIVATE_WARN_SECS ??= '2';
process.env.STREAMSHARE_PRIVATE_GRACE_SECS ??= '8';
const PERIOD_SECS = Number(process.env.STREAMSHARE_PRIVATE_PERIOD_SECS);

/** Coins per period ("minute"): odd, so the last part's rounding shows. */
const PRICE = 7;
const SIGNUP_COINS = 100;
/** The official client's browser bundle (the package's exports do not list it). */
const SOCKET_IO_BUNDLE = fileURLToPath(new URL('./node_modules/socket.io-client/dist/socket.io.min.js', import.meta.url));

let stack;
let browser;
const people = {};
const state = {};
const step = steps({ people, prefix: 'private-' });

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  stack = await startStack({ name: 'private' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await stack?.stop();
});

async function api(method, url, { token, body } = {}) {
  const res = await fetch(`${stack.baseUrl}/api${url}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** The number a `data-testid` element shows ("1,234" or "16 coins"), or null. */
async function numberIn(page, testId) {
  const el = page.getByTestId(testId);
  if ((await el.count()) === 0) return null;
  const digits = ((await el.first().textContent()) ?? '').replace(/[^\d]/g, '');
  return digits === '' ? null : Number(digits);
}

/** The label of the other party's video on a session page ("Video of <name>"). */
const remoteLabel = (name) => `Video of ${name}`;

step('1. a creator registers, creates a room and offers private sessions from the studio', async () => {
  people.creator = await newPerson(browser, stack.baseUrl);
  const { page } = people.creator;
  state.creatorName = uniqueName('pcreator');
  await register(page, state.creatorName);
  state.roomId = await createRoom(page, { title: `Private e2e ${Date.now().toString(36)}`, price: 10 });

  await page.goto('/studio');
  const panel = page.locator('section', { has: page.getByRole('heading', { name: 'Private sessions' }) });
  await panel.getByLabel('Price per minute (coins)').fill(String(PRICE));
  await panel.getByRole('checkbox', { name: /Accept private requests now/ }).check();
  await panel.getByRole('button', { name: 'Save private sessions' }).click();
  await page.getByText(`Saved: accepting requests at ${PRICE} coins per minute.`).waitFor();
  await screenshot(page, 'private-offer-saved');
});

step('2. a viewer asks from the room page: the confirmation shows the balance in minutes, then waiting', async () => {
  people.viewer = await newPerson(browser, stack.baseUrl);
  const { page } = people.viewer;
  state.viewerName = uniqueName('pviewer');
  await register(page, state.viewerName);
  await page.goto(`/rooms/${state.roomId}`);
  await page.getByRole('button', { name: `Private session · ${PRICE} coins/min` }).click();
  const balanceLine = page.getByTestId('private-confirm-balance');
  await balanceLine.waitFor();
  assert.equal(
    (await balanceLine.textContent())?.trim(),
    `Your balance: ${SIGNUP_COINS} coins · enough for about ${Math.floor(SIGNUP_COINS / PRICE)} minutes`,
  );
  await screenshot(page, 'private-confirm');
  await page.getByRole('button', { name: 'Send request' }).click();
  await page.getByTestId('private-waiting').waitFor();
  assert.match((await page.getByTestId('private-waiting').textContent()) ?? '', /Waiting for .+ to accept your private session/);
  assert.equal(await headerBalance(page), SIGNUP_COINS, 'asking costs nothing');
});

step('3. the creator gets the toast with the name and price, accepts, and both land on the session page', async () => {
  const creator = people.creator.page;
  const toast = creator.getByRole('alertdialog', { name: `${state.viewerName} asks for a private session` });
  await toast.waitFor({ timeout: 15_000 });
  assert.match((await toast.textContent()) ?? '', new RegExp(`${PRICE} coins per minute · expires in \\d:\\d\\d`));
  await screenshot(creator, 'private-toast');
  await toast.getByRole('button', { name: 'Accept' }).click();
  await creator.waitForURL(/\/private\/[0-9a-f]{24}$/);
  state.sessionId = new URL(creator.url()).pathname.split('/').pop();
  // The viewer's page follows `private:update` (active) to the same session.
  await people.viewer.page.waitForURL(`**/private/${state.sessionId}`, { timeout: 15_000 });
});

step('4. both see and hear each other: the other party\'s video plays on each page', async (t) => {
  const creatorStats = await expectVideoPlays(people.creator.page, remoteLabel(state.viewerName), 'creator sees the viewer');
  const viewerStats = await expectVideoPlays(people.viewer.page, remoteLabel(state.creatorName), 'viewer sees the creator');
  t.diagnostic(`creator receives ${creatorStats.video.codec}, viewer receives ${viewerStats.video.codec}`);
  await screenshot(people.creator.page, 'private-creator-call');
  await screenshot(people.viewer.page, 'private-viewer-call');
});

step('5. after a couple of periods: the same coins on both pages, the viewer charged and the creator paid', async (t) => {
  const viewer = people.viewer.page;
  const creator = people.creator.page;
  // Two whole periods charged, seen alike by both (the server's numbers, pushed by private:update).
  const coins = await until(
    'both pages to show the same coins, at least two periods',
    async () => {
      const [v, c] = [await numberIn(viewer, 'private-coins'), await numberIn(creator, 'private-coins')];
      return v !== null && v === c && v >= 2 * PRICE ? v : null;
    },
    { timeoutMs: 10 * PERIOD_SECS * 1000 },
  );
  assert.equal(coins % PRICE, 0, 'whole periods only while it runs');
  // The viewer's balance: what was charged and the period held now are gone;
  // the creator's: what was charged arrived. Read together, as a charge may land between two reads.
  await until('the balances to match the charged coins', async () => {
    const charged = await numberIn(viewer, 'private-coins');
    const held = await numberIn(viewer, 'private-held');
    const v = await headerBalance(viewer);
    const c = await headerBalance(creator);
    return charged !== null && held === PRICE && v === SIGNUP_COINS - charged - held && c === SIGNUP_COINS + charged;
  });
  const timer = (await viewer.getByTestId('private-timer').textContent())?.trim() ?? '';
  const [m, s] = timer.split(':').map(Number);
  assert.ok(m * 60 + s >= 2 * PERIOD_SECS, `the timer runs from startedAt (${timer})`);
  t.diagnostic(`charged ${coins} coins after ${timer}`);
  await screenshot(viewer, 'private-viewer-charged');
});

step('6. a third user is refused at every door: the page, REST and each socket event', async () => {
  people.third = await newPerson(browser, stack.baseUrl);
  const { page } = people.third;
  state.thirdName = uniqueName('pthird');
  await register(page, state.thirdName);
  await page.goto(`/private/${state.sessionId}`);
  await page.getByText('This private session does not exist, or it is not yours.').waitFor();
  assert.equal(await page.locator('video').count(), 0, 'no video on the page');

  const login = await api('POST', '/auth/login', { body: { login: state.thirdName, password: 'correct horse battery' } });
  assert.equal(login.status, 200);
  const token = login.body.accessToken;
  const rest = await api('GET', `/private/sessions/${state.sessionId}`, { token });
  assert.equal(rest.status, 404, JSON.stringify(rest.body));

  // As from the devtools console, with the third user's own token.
  await page.evaluate(fs.readFileSync(SOCKET_IO_BUNDLE, 'utf8'));
  const direct = await page.evaluate(
    async ({ token, sessionId }) => {
      const socket = window.io({ path: '/socket.io', auth: { token }, transports: ['websocket'], forceNew: true });
      await new Promise((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      const received = [];
      socket.onAny((event) => received.push(event));
      const ask = (event, payload) => socket.timeout(10_000).emitWithAck(event, payload);
      const pc = new RTCPeerConnection();
      pc.addTransceiver('video', { direction: 'sendonly' });
      await pc.setLocalDescription(await pc.createOffer());
      const join = await ask('private:join', { sessionId });
      const view = await ask('private:view', { sessionId });
      const publish = await ask('private:publish', { sessionId, sdp: pc.localDescription.sdp });
      const answer = await ask('private:answer', { sessionId, sdp: pc.localDescription.sdp });
      pc.close();
      await new Promise((resolve) => setTimeout(resolve, 500));
      socket.close();
      return { join, view, publish, answer, received };
    },
    { token, sessionId: state.sessionId },
  );
  for (const event of ['join', 'view', 'publish', 'answer']) {
    assert.equal(direct[event].ok, false, `${event}: ${JSON.stringify(direct[event])}`);
    assert.equal(direct[event].error.code, 'not_found', `${event}: ${JSON.stringify(direct[event])}`);
    assert.equal(direct[event].sdp, undefined, `${event}: no SDP`);
  }
  assert.deepEqual(direct.received.filter((e) => e.startsWith('private:')), [], 'no private events reach a third user');
  await screenshot(page, 'private-third-refused');
});

step('7. the viewer ends: both end screens show the same total, the balances settle to it exactly', async (t) => {
  const viewer = people.viewer.page;
  const creator = people.creator.page;
  await viewer.getByRole('button', { name: 'End session' }).click();
  await viewer.getByRole('heading', { name: 'The private session has ended' }).waitFor();
  await creator.getByRole('heading', { name: 'The private session has ended' }).waitFor({ timeout: 15_000 });
  assert.equal((await viewer.getByText('You ended the session.').count()), 1);
  assert.equal((await creator.getByText(`${state.viewerName} ended the session.`).count()), 1);

  const total = await numberIn(viewer, 'private-end-coins');
  assert.equal(await numberIn(creator, 'private-end-coins'), total, 'both see the same total');
  assert.ok(total >= 2 * PRICE, `at least the two periods seen (${total})`);
  const duration = (await viewer.getByTestId('private-end-duration').textContent())?.trim();
  assert.equal((await creator.getByTestId('private-end-duration').textContent())?.trim(), duration);
  // Settled: the held rest went back, the last part charged to the second.
  await waitForBalance(viewer, SIGNUP_COINS - total);
  await waitForBalance(creator, SIGNUP_COINS + total);
  t.diagnostic(`ended after ${duration}: ${total} coins`);
  await screenshot(viewer, 'private-viewer-ended');
  await screenshot(creator, 'private-creator-ended');

  // The history shows it to both, with its duration and coins.
  for (const page of [viewer, creator]) {
    await page.goto('/history');
    const row = page.getByTestId('private-session-row').first();
    await row.waitFor();
    assert.equal(await numberIn(row, 'private-session-coins'), total);
    assert.equal((await row.getByTestId('private-session-duration').textContent())?.trim(), duration);
  }
});

test('no page broke its Content-Security-Policy, threw, or warned', async () => {
  const bad = allConsoleLines.filter(
    (line) =>
      (line.startsWith('[error]') || line.startsWith('[warning]') || line.startsWith('[pageerror]')) &&
      // The third user's refused GET of the session (404), on purpose.
      !/Failed to load resource: the server responded with a status of 404/.test(line),
  );
  assert.deepEqual(bad, []);
});
