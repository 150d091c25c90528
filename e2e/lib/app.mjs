// What people do in StreamShare, as UI steps on a Playwright page.

import assert from 'node:assert/strict';

import { until } from './wait.mjs';

let userSeq = 0;

/** A fresh, valid username (3–32 of [a-z0-9_]). */
export function uniqueName(prefix) {
  userSeq += 1;
  return `${prefix}_${Date.now().toString(36)}${userSeq}`.slice(0, 32);
}

export const PASSWORD = 'correct horse battery';

/** The header's coin balance as a number, or null while it is not shown. */
export async function headerBalance(page) {
  const badge = page.getByTestId('coin-balance');
  if ((await badge.count()) === 0) return null;
  const text = (await badge.first().textContent()) ?? '';
  const digits = text.replace(/[^\d]/g, '');
  return digits === '' ? null : Number(digits);
}

export async function waitForBalance(page, coins, timeoutMs = 15_000) {
  await until(`the header balance to show ${coins}`, async () => (await headerBalance(page)) === coins, { timeoutMs });
}

/** Signs up through the register page; returns once the header shows the balance. */
export async function register(page, username) {
  await page.goto('/register');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('E-mail').fill(`${username}@example.test`);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await until('the signed-in header', async () => (await headerBalance(page)) !== null);
  return { username };
}

/** Creates a room from the studio (`e2ee`: end-to-end encrypted); returns its id (the studio page is open). */
export async function createRoom(page, { title, price, e2ee = false }) {
  await page.goto('/studio');
  await page.getByRole('button', { name: 'New room' }).click();
  await page.getByLabel('Title').fill(title);
  await page.getByLabel('Price (coins)').fill(String(price));
  if (e2ee) await page.getByLabel('End-to-end encrypted').check();
  await page.getByRole('button', { name: 'Create room' }).click();
  await page.waitForURL(/\/studio\/[0-9a-f]{24}$/);
  const roomId = new URL(page.url()).pathname.split('/').pop();
  await page.getByRole('heading', { level: 1, name: title }).waitFor();
  return roomId;
}

/** Turns the (fake) camera on and goes live from the studio; waits for "Publishing". */
export async function goLiveWithCamera(page) {
  await page.getByRole('button', { name: 'Turn on camera' }).click();
  await until('the camera preview', () =>
    page.evaluate(() => {
      const video = document.querySelector('video[aria-label="Your camera preview"]');
      return Boolean(video && video.srcObject && video.videoWidth > 0);
    }),
  );
  await page.getByRole('button', { name: 'Go live', exact: true }).click();
  await until('the studio to say "Publishing"', async () => {
    const text = await page.getByRole('status').filter({ hasText: /Publishing|failed|Stopped|Connect/ }).first().textContent();
    if (/failed/i.test(text ?? '')) throw new Error(`publishing failed: ${text}`);
    return text?.startsWith('Publishing');
  }, { timeoutMs: 30_000 });
}

/** The number in the studio's "Watching now" tile. */
export async function studioViewerCount(page) {
  const text = (await page.getByTestId('studio-viewer-count').textContent()) ?? '';
  return /^\d+$/.test(text.trim()) ? Number(text.trim()) : null;
}

/** The room page's viewer count badge ("2 viewers"), as a number. */
export async function roomViewerCount(page) {
  const badge = page.getByTestId('room-viewer-count');
  if ((await badge.count()) === 0) return null;
  const match = /(\d+)/.exec((await badge.textContent()) ?? '');
  return match ? Number(match[1]) : null;
}

/** Sends a chat message from the chat panel of the open page. */
export async function sendChat(page, text) {
  const input = page.getByLabel('Message', { exact: true });
  await until('the chat input to open', () => input.isEnabled());
  await input.fill(text);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await until(`"${text}" in the sender's chat`, () => chatHas(page, text));
}

export async function chatHas(page, text) {
  const log = page.getByRole('log', { name: 'Chat messages' });
  if ((await log.count()) === 0) return false;
  return ((await log.textContent()) ?? '').includes(text);
}

/** Opens a live room from the home page's card. */
export async function openRoomFromHome(page, title) {
  await page.goto('/');
  const card = page.getByRole('link', { name: title, exact: true });
  await until(`the live card "${title}" on the home page`, async () => (await card.count()) > 0, { timeoutMs: 15_000 });
  const article = page.locator('article', { has: card });
  assert.match((await article.textContent()) ?? '', /LIVE/i, 'the card is marked live');
  await card.click();
  await page.waitForURL(/\/rooms\/[0-9a-f]{24}$/);
}

/**
 * Reloads the studio page, accepting the "leave this page?" prompt: a hard
 * navigation ends this browser's publishing peer, so the server marks the
 * room away (`room:away`). Moving elsewhere inside the app does not (the
 * broadcast lives above the pages, issue 19). Answers whether the prompt
 * (`beforeunload`) was shown.
 */
export async function reloadStudio(page) {
  let asked = false;
  const onDialog = (dialog) => {
    if (dialog.type() === 'beforeunload') asked = true;
    dialog.accept().catch(() => undefined);
  };
  page.on('dialog', onDialog);
  try {
    await page.reload();
  } finally {
    page.off('dialog', onDialog);
  }
  await page.waitForURL(/\/studio\/[0-9a-f]{24}$/);
  await page.getByRole('button', { name: 'Turn on camera' }).waitFor();
  return asked;
}
