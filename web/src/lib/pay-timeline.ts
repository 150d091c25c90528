/**
 * The Pay click → first picture timeline (issue 23): one `performance.mark`
 * per step of the way, and the whole timeline on `window.__ssPayTimeline`
 * for the end-to-end journey to read. Measures, never changes behaviour.
 *
 * Steps, in order: the click; the payment's answer; the server's `media:view`
 * offer; the browser's answer made and sent (`setRemoteDescription`,
 * `createAnswer`, `setLocalDescription`); `media:answer` acknowledged; ICE
 * connected; in an end-to-end encrypted room, the first media key unwrapped
 * (`e2eeKey`, docs/e2ee.md); the first decoded frame presented by the `<video>`.
 */

export const PAY_STEPS = ['click', 'paid', 'offer', 'answerSent', 'answered', 'iceConnected', 'firstFrame'] as const;
/** `e2eeKey` happens in end-to-end encrypted rooms only. */
export type PayStep = (typeof PAY_STEPS)[number] | 'e2eeKey';
const ALL_STEPS: readonly PayStep[] = [...PAY_STEPS, 'e2eeKey'];

export type PayTimeline = {
  roomId: string;
  /** `performance.now()` of each step that happened (the marks' `startTime`). */
  at: Partial<Record<PayStep, number>>;
  /** Milliseconds from the click to each step, rounded to 0.1 ms. */
  sinceClick: Partial<Record<PayStep, number>>;
};

declare global {
  interface Window {
    __ssPayTimeline?: PayTimeline;
  }
}

const MARK_PREFIX = 'streamshare:pay:';

let current: PayTimeline | null = null;

function stamp(step: PayStep): number {
  try {
    return performance.mark(`${MARK_PREFIX}${step}`).startTime;
  } catch {
    // A browser without User Timing level 3 (`mark` returning the entry).
    return performance.now();
  }
}

/** A Pay click in `roomId`: starts a new timeline (a second click starts over). */
export function startPayTimeline(roomId: string): void {
  for (const step of ALL_STEPS) performance.clearMarks?.(`${MARK_PREFIX}${step}`);
  current = { roomId, at: {}, sinceClick: {} };
  markPayStep(roomId, 'click');
}

/**
 * Records `step` for `roomId`, once: a step seen again (a renegotiation, a
 * retry) keeps its first time, and without a Pay click in that room nothing
 * is recorded (a viewer who had already paid, the studio).
 */
export function markPayStep(roomId: string, step: PayStep): void {
  if (!current || current.roomId !== roomId || current.at[step] !== undefined) return;
  const at = stamp(step);
  current.at[step] = at;
  const click = current.at.click ?? at;
  current.sinceClick[step] = Math.round((at - click) * 10) / 10;
  if (typeof window !== 'undefined') {
    window.__ssPayTimeline = { roomId, at: { ...current.at }, sinceClick: { ...current.sinceClick } };
  }
}

/** The current timeline (a copy), or `null` before any Pay click. */
export function getPayTimeline(): PayTimeline | null {
  return current ? { roomId: current.roomId, at: { ...current.at }, sinceClick: { ...current.sinceClick } } : null;
}

/** Tests start from nothing. */
export function resetPayTimelineForTesting(): void {
  current = null;
  if (typeof window !== 'undefined') delete window.__ssPayTimeline;
}
