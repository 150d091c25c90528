/** Small React hooks with no feature of their own. */
import { useEffect, useState, useSyncExternalStore } from 'react';

/** Sets the tab title while the component is mounted. */
export function useDocumentTitle(title: string): void {
  useEffect(() => {
    const previous = document.title;
    document.title = title ? `${title} · StreamShare` : 'StreamShare';
    return () => {
      document.title = previous;
    };
  }, [title]);
}

/** `value`, once it has stopped changing for `delayMs`. */
export function useDebouncedValue<T>(value: T, delayMs: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return debounced;
}

// One clock for every countdown on the page, ticking while someone needs it.
let clockNow = Date.now();
const clockListeners = new Set<() => void>();
let clockTimer: ReturnType<typeof setInterval> | undefined;

function subscribeClock(listener: () => void): () => void {
  if (clockListeners.size === 0) {
    clockNow = Date.now();
    clockTimer = setInterval(() => {
      clockNow = Date.now();
      for (const l of clockListeners) l();
    }, 1_000);
  }
  clockListeners.add(listener);
  return () => {
    clockListeners.delete(listener);
    if (clockListeners.size === 0) clearInterval(clockTimer);
  };
}

const noSubscription = () => () => undefined;

/** Whole seconds left until `until` (an RFC 3339 time), never below 0; `null` without one. */
export function useSecondsLeft(until: string | null): number | null {
  const now = useSyncExternalStore(until ? subscribeClock : noSubscription, () => clockNow);
  if (!until) return null;
  const end = new Date(until).getTime();
  if (Number.isNaN(end)) return null;
  return Math.max(0, Math.ceil((end - now) / 1_000));
}

/** Whole seconds since `since` (an RFC 3339 time), ticking; never below 0; `null` without one. */
export function useSecondsSince(since: string | null): number | null {
  const now = useSyncExternalStore(since ? subscribeClock : noSubscription, () => clockNow);
  if (!since) return null;
  const start = new Date(since).getTime();
  if (Number.isNaN(start)) return null;
  return Math.max(0, Math.floor((now - start) / 1_000));
}
