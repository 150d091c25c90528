// Scenario steps that build on each other: once one fails, the later ones
// are skipped (unless standalone), and every open page's screenshot, WebRTC
// state and console are saved for the failed one.

import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { screenshot, webrtcStats } from './browser.mjs';
import { ARTIFACTS } from './services.mjs';

/**
 * A `step(name, fn, {timeoutMs, standalone})` for one scenario file.
 * `people` maps a name to `{page, consoleLines}`; `prefix` names the
 * artefacts; `extra(slug)` saves what else the scenario wants kept.
 */
export function steps({ people, prefix = '', extra = () => {} }) {
  let failed = null;
  const saveDiagnostics = async (name) => {
    const slug = `${prefix}${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`;
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    for (const [who, person] of Object.entries(people)) {
      if (person.page.isClosed()) continue;
      await screenshot(person.page, `FAILED-${slug}-${who}`);
      const stats = await webrtcStats(person.page).catch((e) => e.message);
      fs.writeFileSync(
        path.join(ARTIFACTS, `FAILED-${slug}-${who}.txt`),
        `url: ${person.page.url()}\nwebrtc: ${JSON.stringify(stats, null, 2)}\n\nconsole:\n${person.consoleLines.join('\n')}\n`,
      );
    }
    extra(slug);
  };
  return function step(name, fn, { timeoutMs = 90_000, standalone = false } = {}) {
    test(name, { timeout: timeoutMs }, async (t) => {
      if (failed && !standalone) {
        t.skip(`an earlier step failed: ${failed}`);
        return;
      }
      try {
        await fn(t);
      } catch (error) {
        failed = name;
        await saveDiagnostics(name).catch(() => undefined);
        throw error;
      }
    });
  };
}
