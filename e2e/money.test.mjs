// Money in and out in a real browser (issue 16): a viewer with too few coins
// for a paid room buys coins through the labelled test provider without
// leaving the flow, pays and watches; then tips, and the tip shows
// highlighted in both chats; the creator sees the earnings. Debian's
// Chromium, the real server (STREAMSHARE_TEST_PAYMENTS=1), SecantusDB and
// coturn, as in journey.test.mjs. The steps build on each other.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  PASSWORD,
  createRoom,
  goLiveWithCamera,
  headerBalance,
  openRoomFromHome,
  register,
  uniqueName,
  waitForBalance,
} from './lib/app.mjs';
import { allConsoleLines, expectVideoPlays, launchBrowser, newPerson, screenshot, videoState } from './lib/browser.mjs';
import { startStack } from './lib/services.mjs';
import { steps } from './lib/steps.mjs';
import { until } from './lib/wait.mjs';

// The stack's processes inherit this environment (lib/services.mjs): the
// test provider on, and known packs. Sign-up grants stay at 100 coins.
process.env.STREAMSHARE_TEST_PAYMENTS = '1';
process.env.STREAMSHARE_COIN_PACKS = 'small:100:199:usd,medium:550:999:usd';
process.env.STREAMSHARE_PUBLISHER_GRACE_SECS ??= '120';

const GRANT = 100;
/** Above the sign-up grant: the viewer must buy coins to enter. */
const PRICE = 150;
const PACK_COINS = 100;
const TIP = 10;
const TIP_MESSAGE = 'Thanks for the stream!';
const TITLE = `E2E money ${Date.now().toString(36)}`;
const VIDEO_LABEL = `Live video: ${TITLE}`;

let stack;
let browser;
const people = {};
const state = {};
const step = steps({ people, prefix: 'money-' });
const shot = (page, name) => screenshot(page, `money-${name}`);

before(async () => {
  stack = await startStack({ name: 'money' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await stack?.stop();
});

/** The API from node, as a user. */
async function api(method, url, { token, body } = {}) {
  const res = await fetch(`${stack.baseUrl}/api${url}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** The text of the chat line(s) marked as tips in the page's chat. */
async function tipLines(page) {
  return page.getByRole('log', { name: 'Chat messages' }).locator('[data-kind="tip"]').allTextContents();
}

step(`1. a creator goes live in a room priced ${PRICE} coins, above the sign-up grant`, async () => {
  people.creator = await newPerson(browser, stack.baseUrl);
  const { page } = people.creator;
  state.creatorName = uniqueName('mcreator');
  await register(page, state.creatorName);
  state.roomId = await createRoom(page, { title: TITLE, price: PRICE });
  await goLiveWithCamera(page);
  assert.equal(await headerBalance(page), GRANT);
  await shot(page, 'creator-live');
});

step('2. a viewer short of coins sees "Get coins" (no Pay, no 402) and is led to the wallet', async () => {
  people.viewer = await newPerson(browser, stack.baseUrl);
  const { page } = people.viewer;
  state.viewerName = uniqueName('mviewer');
  await register(page, state.viewerName);
  assert.equal(await headerBalance(page), GRANT);
  await openRoomFromHome(page, TITLE);
  await until('the shortfall notice', async () =>
    ((await page.textContent('main')) ?? '').includes(`You need ${PRICE - GRANT} more coins for this room.`),
  );
  assert.equal(await page.getByRole('button', { name: /^Pay / }).count(), 0, 'no Pay button that can only fail');
  await shot(page, 'viewer-get-coins');
  await page.getByRole('link', { name: 'Get coins', exact: true }).click();
  await page.waitForURL((url) => url.pathname === '/wallet' && url.searchParams.get('returnTo') === `/rooms/${state.roomId}`);
  await page.getByText('Test payments: no real money.').waitFor();
  await shot(page, 'viewer-wallet');
});

step('3. Buy → the test provider page, labelled → Confirm → the return page sees it paid → back in the room', async () => {
  const { page } = people.viewer;
  await page.getByRole('button', { name: `Buy ${PACK_COINS} coins for $1.99` }).click();
  await page.waitForURL(/\/wallet\/test-checkout\/[0-9a-f]{24}$/);
  state.purchaseId = new URL(page.url()).pathname.split('/').pop();
  await page.getByRole('heading', { level: 1, name: 'Test payment — no real money' }).waitFor();
  assert.equal((await page.getByTestId('test-checkout-coins').textContent())?.trim(), `${PACK_COINS} coins`);
  await shot(page, 'viewer-test-checkout');
  await page.getByRole('button', { name: 'Confirm test payment' }).click();

  await until('the return page to say the purchase is paid', async () =>
    ((await page.textContent('main')) ?? '').includes(`Payment received: ${PACK_COINS} coins added to your wallet.`),
  );
  assert.equal(new URL(page.url()).pathname, '/wallet/return');
  assert.equal(new URL(page.url()).searchParams.get('purchase'), state.purchaseId);
  await shot(page, 'viewer-return-paid');
  await page.waitForURL((url) => url.pathname === `/rooms/${state.roomId}`);
  await waitForBalance(page, GRANT + PACK_COINS);

  // The server's word: paid, test money.
  const login = await api('POST', '/auth/login', { body: { login: state.viewerName, password: PASSWORD } });
  assert.equal(login.status, 200);
  state.viewerToken = login.body.accessToken;
  const purchase = await api('GET', `/coins/purchases/${state.purchaseId}`, { token: state.viewerToken });
  assert.equal(purchase.status, 200);
  assert.equal(purchase.body.state, 'paid');
  assert.equal(purchase.body.test, true);
  assert.equal(purchase.body.coins, PACK_COINS);
});

step(`4. back in the room the viewer pays ${PRICE} coins and the video plays`, async () => {
  const { page } = people.viewer;
  const pay = page.getByRole('button', { name: `Pay ${PRICE} coins` });
  await pay.waitFor();
  assert.equal(await page.getByRole('link', { name: 'Get coins', exact: true }).count(), 0);
  await pay.click();
  await waitForBalance(page, GRANT + PACK_COINS - PRICE);
  await expectVideoPlays(page, VIDEO_LABEL, 'viewer after buying coins');
  const video = await videoState(page, VIDEO_LABEL);
  assert.ok(video.videoWidth > 0 && !video.paused, JSON.stringify(video));
  await waitForBalance(people.creator.page, GRANT + PRICE);
  await shot(page, 'viewer-watching');
});

step(`5. the viewer tips ${TIP} coins with a message: highlighted in the viewer's and the creator's chat`, async () => {
  const viewer = people.viewer.page;
  const creator = people.creator.page;
  await viewer.getByRole('button', { name: 'Tip the creator' }).click();
  await viewer.getByRole('button', { name: `${TIP} coins`, exact: true }).click();
  await viewer.getByLabel('Message (optional)').fill(TIP_MESSAGE);
  await viewer.getByRole('button', { name: `Send ${TIP} coins` }).click();
  await viewer.getByText(`You tipped ${TIP} coins. Thank you!`).waitFor();
  await waitForBalance(viewer, GRANT + PACK_COINS - PRICE - TIP);

  const expected = (lines) => lines.some((l) => l.includes(`${state.viewerName} tipped ${TIP} coins`) && l.includes(TIP_MESSAGE));
  await until("the tip, highlighted, in the viewer's chat", async () => expected(await tipLines(viewer)));
  await until("the tip, highlighted, in the creator's chat", async () => expected(await tipLines(creator)));
  await waitForBalance(creator, GRANT + PRICE + TIP);
  // The tip counts in the studio's "Coins earned" for the session.
  await until(`the studio's session earnings to show ${PRICE + TIP}`, async () =>
    (await creator.getByTestId('studio-earnings').textContent())?.trim() === String(PRICE + TIP),
  );
  await shot(viewer, 'viewer-tip-in-chat');
  await shot(creator, 'creator-tip-in-chat');
});

step("6. the creator's earnings show the entry and the tip, and the payout minimum", async () => {
  // A second tab of the creator's: the studio tab keeps publishing.
  const page = await people.creator.context.newPage();
  try {
    await page.goto('/wallet/earnings');
    await until('the earnings to load', async () => (await page.getByTestId('earnings-stream-join').count()) > 0);
    assert.equal((await page.getByTestId('earnings-stream-join').textContent())?.trim(), String(PRICE));
    assert.equal((await page.getByTestId('earnings-tip').textContent())?.trim(), String(TIP));
    assert.equal((await page.getByTestId('earnings-total').textContent())?.trim(), String(PRICE + TIP));
    // The viewer's sign-up coins were spent first (all 100 of them on the
    // entry): they are earnings but never payable; the bought coins are.
    assert.equal((await page.getByTestId('earnings-payable').textContent())?.trim(), String(PRICE - GRANT + TIP));
    assert.match((await page.getByTestId('payout-below-min').textContent()) ?? '', /^Payouts start at 1,000 coins/);
    await shot(page, 'creator-earnings');
  } finally {
    await page.close();
  }
});

step('7. the return page says clearly while a purchase is pending, and turns paid when the payment lands', async () => {
  // A checkout that is not confirmed yet, as when Stripe's webhook is late.
  const checkout = await api('POST', '/coins/checkout', { token: state.viewerToken, body: { packId: 'small' } });
  assert.equal(checkout.status, 201, JSON.stringify(checkout.body));
  const id = checkout.body.purchase.id;
  const page = await people.viewer.context.newPage();
  try {
    await page.goto(`/wallet/return?purchase=${id}`);
    await page.getByText('Waiting for the payment to be confirmed…').waitFor();
    assert.match((await page.textContent('main')) ?? '', /Your purchase is still pending/);
    await shot(page, 'viewer-return-pending');
    const confirmed = await api('POST', `/coins/purchases/${id}/test-confirm`, { token: state.viewerToken });
    assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
    // purchase:update over the socket (or the page's periodic read).
    await page.getByText(`Payment received: ${PACK_COINS} coins added to your wallet.`).waitFor();
    // This tab kept no way back: it offers the wallet and stays.
    await page.getByRole('link', { name: 'Open your wallet' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/wallet/return');
    await shot(page, 'viewer-return-paid-live');
  } finally {
    await page.close();
  }
});

test('no page logged an error or a warning (no 402 anywhere)', async () => {
  const bad = allConsoleLines.filter(
    (line) => line.startsWith('[error]') || line.startsWith('[warning]') || line.startsWith('[pageerror]'),
  );
  assert.deepEqual(bad, []);
  assert.deepEqual(
    allConsoleLines.filter((line) => line.includes('402')),
    [],
  );
});
