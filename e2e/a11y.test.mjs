// Accessibility (issue 19 part 6): axe-core over the home, room (as a paying
// viewer), studio (live), wallet and login pages, at desktop and phone sizes,
// in the dark (default) and the light theme: no serious or critical
// violation. axe runs inside the page (evaluated over the DevTools protocol,
// which the pages' Content-Security-Policy does not govern, so the app runs
// under its real policy). The theme is switched with the header's toggle.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';

import { createRoom, goLiveWithCamera, openRoomFromHome, register, uniqueName, waitForBalance } from './lib/app.mjs';
import { expectVideoPlays, launchBrowser, newPerson, screenshot } from './lib/browser.mjs';
import { ARTIFACTS, startStack } from './lib/services.mjs';
import { steps } from './lib/steps.mjs';
import { until } from './lib/wait.mjs';

/** axe-core's browser build: the e2e package's, else the web app's copy. */
const AXE = [
  fileURLToPath(new URL('./node_modules/axe-core/axe.min.js', import.meta.url)),
  fileURLToPath(new URL('../web/node_modules/axe-core/axe.min.js', import.meta.url)),
].find((file) => fs.existsSync(file));

const TITLE = `A11y room ${Date.now().toString(36)}`;
const SIZES = {
  desktop: { width: 1280, height: 900 },
  phone: { width: 390, height: 844 },
};

let stack;
let browser;
const people = {};
const state = {};
const step = steps({ people, prefix: 'a11y-' });

/** Runs axe on the page as it is; answers its serious and critical violations, one line each. */
async function seriousViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.evaluate(fs.readFileSync(AXE, 'utf8'));
  }
  const result = await page.evaluate(() =>
    window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
      resultTypes: ['violations'],
    }),
  );
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ')}`);
}

/** Switches the theme with the header's toggle (a no-op when it already is `theme`). */
async function useTheme(page, theme) {
  const current = await page.evaluate(() => (document.documentElement.classList.contains('dark') ? 'dark' : 'light'));
  if (current !== theme) await page.getByRole('button', { name: `Switch to the ${theme} theme` }).click();
  await until(`the ${theme} theme`, async () =>
    (await page.evaluate(() => (document.documentElement.classList.contains('dark') ? 'dark' : 'light'))) === theme,
  );
}

/** Checks the page in both themes at both sizes; `ready` waits for what the page shows. */
async function checkPage(page, name, ready) {
  const found = [];
  for (const theme of ['dark', 'light']) {
    await useTheme(page, theme);
    for (const [sizeName, size] of Object.entries(SIZES)) {
      await page.setViewportSize(size);
      await ready();
      // Transitions (colours after the theme switch) settle first.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const violations = await seriousViolations(page);
      await screenshot(page, `a11y-${name}-${theme}-${sizeName}`);
      for (const v of violations) found.push(`[${name} ${theme} ${sizeName}] ${v}`);
    }
  }
  await page.setViewportSize(SIZES.desktop);
  if (found.length > 0) {
    fs.writeFileSync(path.join(ARTIFACTS, `a11y-${name}-violations.txt`), `${found.join('\n')}\n`);
  }
  assert.deepEqual(found, [], `axe found serious or critical violations on ${name}`);
}

before(async () => {
  assert.ok(AXE, 'axe-core is not installed (e2e/node_modules or web/node_modules)');
  stack = await startStack({ name: 'a11y' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await stack?.stop();
});

step('0. a creator is live and a viewer has paid (the pages as people see them)', async () => {
  people.creator = await newPerson(browser, stack.baseUrl);
  const creator = people.creator.page;
  // The studio asks before leaving while live; these pages are only reloaded by the test.
  creator.on('dialog', (dialog) => dialog.accept().catch(() => undefined));
  await register(creator, uniqueName('a11y_creator'));
  state.roomId = await createRoom(creator, { title: TITLE, price: 5 });
  await goLiveWithCamera(creator);

  people.viewer = await newPerson(browser, stack.baseUrl);
  const viewer = people.viewer.page;
  await register(viewer, uniqueName('a11y_viewer'));
  await openRoomFromHome(viewer, TITLE);
  await viewer.getByRole('button', { name: 'Pay 5 coins' }).click();
  await waitForBalance(viewer, 95);
  await expectVideoPlays(viewer, `Live video: ${TITLE}`, 'viewer');
});

step('1. home page', async () => {
  const page = people.viewer.page;
  await page.goto('/');
  await checkPage(page, 'home', () => page.getByRole('link', { name: TITLE, exact: true }).first().waitFor());
}, { standalone: true });

step('2. room page, as a paying viewer', async () => {
  const page = people.viewer.page;
  await page.goto(`/rooms/${state.roomId}`);
  await checkPage(page, 'room', () => page.getByRole('group', { name: 'Player controls' }).waitFor({ timeout: 30_000 }));
}, { standalone: true });

step('3. studio, live', async () => {
  const page = people.creator.page;
  await checkPage(page, 'studio', () => page.getByRole('group', { name: 'Broadcast controls' }).waitFor());
}, { standalone: true });

step('4. wallet', async () => {
  const page = people.viewer.page;
  await page.goto('/wallet');
  await checkPage(page, 'wallet', () => page.getByRole('heading', { level: 1 }).first().waitFor());
}, { standalone: true });

step('5. login page, signed out', async () => {
  people.visitor = await newPerson(browser, stack.baseUrl);
  const page = people.visitor.page;
  await page.goto('/login');
  await checkPage(page, 'login', () => page.getByRole('button', { name: 'Log in' }).waitFor());
}, { standalone: true });

step('6. the theme is kept across visits and applied before the first paint', async () => {
  const { page, context } = people.visitor;
  // What <html> carries when <body> first appears: after the <head>'s
  // scripts, before the app's module has run or anything was painted.
  await context.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (!document.body) return;
      window.__themeAtBody = document.documentElement.classList.contains('dark') ? 'dark' : 'light';
      observer.disconnect();
    }).observe(document, { childList: true, subtree: true });
  });
  await useTheme(page, 'light');
  await page.reload();
  assert.equal(await page.evaluate(() => window.__themeAtBody), 'light', 'the saved light theme, from the start');
  await useTheme(page, 'dark');
  await page.reload();
  assert.equal(await page.evaluate(() => window.__themeAtBody), 'dark');

  // A first visit (nothing saved) is dark from the start.
  people.newVisitor = await newPerson(browser, stack.baseUrl);
  await people.newVisitor.context.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (!document.body) return;
      window.__themeAtBody = document.documentElement.classList.contains('dark') ? 'dark' : 'light';
      observer.disconnect();
    }).observe(document, { childList: true, subtree: true });
  });
  await people.newVisitor.page.goto('/');
  assert.equal(await people.newVisitor.page.evaluate(() => window.__themeAtBody), 'dark');
});
