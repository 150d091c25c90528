// Waiting on conditions, never on the clock: `until` polls a check until it
// gives a truthy value (returned) or the time is up (an error that shows the
// last value seen).

import { inspect } from 'node:util';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export async function until(what, check, { timeoutMs = 20_000, intervalMs = 150 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  let lastError;
  for (;;) {
    try {
      last = await check();
      lastError = undefined;
      if (last) return last;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const seen = lastError ? `error: ${lastError.message}` : `last value: ${inspect(last, { depth: 4, breakLength: 120 })}`;
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what} (${seen})`);
    }
    await sleep(intervalMs);
  }
}
