// A studio that keeps broadcasting and the viewer's player (issue 19 parts
// 4 and 5), in Debian's Chromium with a fake camera against the real server:
// the creator goes live, a viewer pays and plays; the creator browses the
// app (home, wallet) while the viewer's picture keeps coming and never says
// "reconnecting"; back to the studio through the "you are live" bar; mute
// and camera off reach the viewer; the player's controls; a phone-sized
// viewport. The steps build on each other.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { createRoom, goLiveWithCamera, openRoomFromHome, register, uniqueName, waitForBalance } from './lib/app.mjs';
import { allConsoleLines, expectVideoPlays as expectVideoPlaysIn, launchBrowser, newPerson, screenshot, viewerStats, webrtcStats } from './lib/browser.mjs';
import { startStack } from './lib/services.mjs';
import { steps } from './lib/steps.mjs';
import { until } from './lib/wait.mjs';

const PRICE = 10;
const TITLE = `Studio player ${Date.now().toString(36)}`;
const VIDEO_LABEL = `Live video: ${TITLE}`;

let stack;
let browser;
const people = {};
const state = {};
const step = steps({ people, prefix: 'studio-player-' });

const expectVideoPlays = (page, what) => expectVideoPlaysIn(page, VIDEO_LABEL, what);

/** Mean brightness (0–255) of the viewer's current video frame, drawn on a canvas. */
function videoBrightness(page) {
  return page.evaluate((label) => {
    const video = document.querySelector(`video[aria-label="${CSS.escape(label)}"]`);
    if (!video || video.videoWidth === 0) return null;
    const canvas = document.createElement('canvas');
    canvas.width = 64;
    canvas.height = 36;
    const context = canvas.getContext('2d');
    context.drawImage(video, 0, 0, canvas.width, canvas.height);
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    let sum = 0;
    for (let i = 0; i < data.length; i += 4) sum += (data[i] + data[i + 1] + data[i + 2]) / 3;
    return sum / (data.length / 4);
  }, VIDEO_LABEL);
}

/** The viewer's received audio energy (webrtc-stats `totalAudioEnergy`) gained over `ms`. */
async function audioEnergyOver(page, ms) {
  const energy = () =>
    page.evaluate(async () => {
      let total = 0;
      for (const pc of window.__e2e?.pcs ?? []) {
        if (pc.connectionState === 'closed') continue;
        (await pc.getStats()).forEach((s) => {
          if (s.type === 'inbound-rtp' && s.kind === 'audio') total += s.totalAudioEnergy ?? 0;
        });
      }
      return total;
    });
  const start = await energy();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return (await energy()) - start;
}

/** The publishing connections of the creator's page that are not closed. */
async function openPublishers(page) {
  return (await webrtcStats(page)).filter((pc) => pc.connectionState !== 'closed');
}

/** Waits until the viewer's decoded-frame count has risen by `frames` (the picture keeps coming). */
async function framesKeepRising(page, what, frames = 30) {
  const first = (await viewerStats(page))?.video?.framesDecoded ?? 0;
  await until(`${what}: framesDecoded to rise by ${frames}`, async () => ((await viewerStats(page))?.video?.framesDecoded ?? 0) > first + frames, {
    timeoutMs: 30_000,
  });
}

before(async () => {
  stack = await startStack({ name: 'studio-player' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await stack?.stop();
});

step('1. a creator goes live from the studio with the camera', async () => {
  people.creator = await newPerson(browser, stack.baseUrl);
  const { page } = people.creator;
  await register(page, uniqueName('sp_creator'));
  state.roomId = await createRoom(page, { title: TITLE, price: PRICE });
  await goLiveWithCamera(page);
  await page.getByRole('group', { name: 'Broadcast controls' }).waitFor();
  await screenshot(page, 'studio-player-creator-live');
});

step('2. a viewer pays and the video plays; the page watches for any "reconnecting"', async () => {
  people.viewer = await newPerson(browser, stack.baseUrl);
  const { page } = people.viewer;
  await register(page, uniqueName('sp_viewer'));
  await openRoomFromHome(page, TITLE);
  await page.getByRole('button', { name: `Pay ${PRICE} coins` }).click();
  await waitForBalance(page, 100 - PRICE);
  await expectVideoPlays(page, 'viewer');
  // From now on, any "reconnecting" the viewer would see (the away notice,
  // the badge, the player's own notice) is remembered.
  await page.evaluate(() => {
    window.__sawReconnecting = null;
    const look = () => {
      const text = document.querySelector('main')?.textContent ?? '';
      if (window.__sawReconnecting === null && /reconnecting/i.test(text)) window.__sawReconnecting = text.slice(0, 300);
    };
    new MutationObserver(look).observe(document.body, { subtree: true, childList: true, characterData: true });
    setInterval(look, 100);
  });
  await screenshot(page, 'studio-player-viewer-watching');
});

step("3. the creator browses home and wallet: the live bar shows and the viewer's picture keeps coming", async () => {
  const creator = people.creator.page;
  const viewer = people.viewer.page;
  const publishers = (await openPublishers(creator)).length;

  await creator.getByRole('link', { name: 'Browse', exact: true }).click();
  await creator.waitForURL((url) => url.pathname === '/');
  const bar = creator.getByRole('region', { name: 'Your broadcast' });
  await bar.waitFor();
  assert.match((await bar.textContent()) ?? '', new RegExp(`You are live in “${TITLE}”`));
  await until('the bar to count the viewer', async () => /\b1\s+viewer(?!s)/.test((await bar.textContent()) ?? ''));
  await framesKeepRising(viewer, 'viewer, the creator on the home page');
  await screenshot(creator, 'studio-player-creator-home-live-bar');

  await creator.getByRole('link', { name: 'Wallet', exact: true }).click();
  await creator.waitForURL(/\/wallet$/);
  await bar.waitFor();
  await framesKeepRising(viewer, 'viewer, the creator on the wallet page');
  await screenshot(creator, 'studio-player-creator-wallet-live-bar');

  const open = await openPublishers(creator);
  assert.equal(open.length, publishers, 'no publishing connection was closed or added');
  assert.ok(open.every((pc) => pc.connectionState === 'connected'), `still connected: ${JSON.stringify(open)}`);
  assert.equal(await viewer.evaluate(() => window.__sawReconnecting), null, 'the viewer never saw "reconnecting"');
});

step('4. back to the studio through the bar: still publishing, with its live figures', async () => {
  const creator = people.creator.page;
  await creator.getByRole('link', { name: 'Back to the studio' }).click();
  await creator.waitForURL(new RegExp(`/studio/${state.roomId}$`));
  await until('the studio to say "Publishing"', async () => (await creator.getByRole('status').filter({ hasText: /^Publishing/ }).count()) > 0);
  assert.equal(await creator.getByTestId('live-bar').count(), 0, 'no bar on the studio itself');
  assert.equal(await creator.getByRole('button', { name: 'Turn on camera' }).count(), 0, 'the camera is still on');
  await until('the outgoing bitrate and frame rate', async () => /\d+ kbps · \d+ fps/.test((await creator.getByTestId('studio-outgoing').textContent()) ?? ''), {
    timeoutMs: 15_000,
  });
  assert.equal((await creator.getByTestId('studio-viewer-count').textContent())?.trim(), '1');
  assert.equal((await creator.getByTestId('studio-peak-viewers').textContent())?.trim(), '1');
  await until('the session coins', async () => (await creator.getByTestId('studio-earnings').textContent())?.trim() === String(PRICE));
  await screenshot(creator, 'studio-player-creator-back-in-studio');
});

step('5. camera off blacks out the viewer\'s picture and mute silences it; both come back', async () => {
  const creator = people.creator.page;
  const viewer = people.viewer.page;
  const lit = await until('a picture with some light', async () => {
    const b = await videoBrightness(viewer);
    return b !== null && b > 20 ? b : null;
  });
  // The viewer listens (players start muted: autoplay rules).
  await viewer.getByRole('group', { name: 'Player controls' }).getByRole('button', { name: 'Unmute' }).click();
  await until('the fake microphone to be heard before muting', async () => (await audioEnergyOver(viewer, 1_500)) > 0, { timeoutMs: 15_000 });

  await creator.getByRole('button', { name: 'Hide camera' }).click();
  await until(`the viewer's picture to go black (it was ${lit.toFixed(0)})`, async () => (await videoBrightness(viewer)) < 5, { timeoutMs: 15_000 });
  await screenshot(viewer, 'studio-player-viewer-camera-off');
  await creator.getByRole('button', { name: 'Mute microphone' }).click();
  assert.equal(await creator.getByRole('button', { name: 'Unmute microphone' }).getAttribute('aria-pressed'), 'true');
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  assert.equal(await audioEnergyOver(viewer, 2_500), 0, 'nothing is heard while muted');
  await screenshot(creator, 'studio-player-creator-muted-camera-off');

  await creator.getByRole('button', { name: 'Turn camera back on' }).click();
  await creator.getByRole('button', { name: 'Unmute microphone' }).click();
  await until("the viewer's picture to come back", async () => (await videoBrightness(viewer)) > 20, { timeoutMs: 15_000 });
  await until('the microphone to be heard again', async () => (await audioEnergyOver(viewer, 1_500)) > 0, { timeoutMs: 15_000 });
});

step("6. the viewer's player: volume, theatre, fullscreen, uptime and viewer count", async () => {
  const page = people.viewer.page;
  const controls = page.getByRole('group', { name: 'Player controls' });
  await controls.waitFor();
  assert.match((await page.getByTestId('player-uptime').textContent()) ?? '', /\d+:\d{2}/);
  assert.match((await page.getByTestId('player-viewer-count').textContent()) ?? '', /^1\s+viewer$/);
  assert.equal(await controls.getByRole('button', { name: 'Fullscreen' }).count(), 1);

  // Unmuted in step 5.
  assert.equal(await controls.getByRole('button', { name: 'Mute', exact: true }).getAttribute('aria-pressed'), 'true');
  await controls.getByRole('slider', { name: 'Volume' }).fill('0.5');
  const video = await page.evaluate((label) => {
    const v = document.querySelector(`video[aria-label="${CSS.escape(label)}"]`);
    return { volume: v.volume, muted: v.muted };
  }, VIDEO_LABEL);
  assert.deepEqual(video, { volume: 0.5, muted: false });

  const width = async () => (await page.getByLabel(VIDEO_LABEL).boundingBox()).width;
  const before = await width();
  await controls.getByRole('button', { name: 'Theatre mode' }).click();
  await until('the picture to widen in theatre mode', async () => (await width()) > before + 100);
  await screenshot(page, 'studio-player-viewer-theatre');
  // `t` leaves it, but not while typing in the chat.
  await page.getByLabel('Message', { exact: true }).fill('typing t here');
  assert.ok((await width()) > before + 100, 'typing "t" in the chat is not a shortcut');
  await page.getByLabel('Message', { exact: true }).fill('');
  await page.evaluate(() => document.activeElement?.blur());
  await page.keyboard.press('t');
  await until('the picture back beside the chat', async () => Math.abs((await width()) - before) < 5);
  await framesKeepRising(page, 'viewer, after the player controls');
});

step('7. a phone-sized viewport (390×844): the player fits and plays', async () => {
  const page = people.viewer.page;
  await page.setViewportSize({ width: 390, height: 844 });
  const box = await page.getByLabel(VIDEO_LABEL).boundingBox();
  assert.ok(box.width <= 390 && box.width > 300, `the video fits the phone's width: ${JSON.stringify(box)}`);
  assert.equal(await page.getByRole('button', { name: 'Theatre mode' }).isVisible(), false, 'no theatre mode on a narrow screen');
  assert.equal(await page.getByRole('button', { name: 'Fullscreen' }).isVisible(), true);
  await framesKeepRising(page, 'viewer on a phone');
  await screenshot(page, 'studio-player-viewer-phone');

  const creator = people.creator.page;
  await creator.setViewportSize({ width: 390, height: 844 });
  await screenshot(creator, 'studio-player-creator-phone');
  await creator.setViewportSize({ width: 1280, height: 900 });
  assert.equal(await page.evaluate(() => window.__sawReconnecting), null, 'the viewer never saw "reconnecting"');
});

step('8. the creator ends the stream from the studio; the bar is gone', async () => {
  const creator = people.creator.page;
  await creator.getByRole('button', { name: 'End stream' }).click();
  await until('the studio to be offline', async () => (await creator.getByRole('status').filter({ hasText: /^Offline/ }).count()) > 0);
  await creator.getByRole('link', { name: 'Browse', exact: true }).click();
  await creator.waitForURL((url) => url.pathname === '/');
  assert.equal(await creator.getByTestId('live-bar').count(), 0);
  await until('the viewer to see the end', async () => ((await people.viewer.page.textContent('main')) ?? '').includes('The stream has ended'));
});

test('no page broke its Content-Security-Policy, threw, or warned', async () => {
  // The capture itself works: a warning written now must be seen.
  await people.creator.page.evaluate(() => console.warn('e2e-console-probe'));
  await until('the console probe', async () => allConsoleLines.some((l) => l.includes('e2e-console-probe')));
  const bad = allConsoleLines.filter(
    (line) =>
      (line.startsWith('[error]') || line.startsWith('[warning]') || line.startsWith('[pageerror]')) && !line.includes('e2e-console-probe'),
  );
  assert.deepEqual(bad, []);
});
