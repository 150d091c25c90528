/**
 * Reference counts for server subscriptions that several components share
 * (a room join, a room watch, the lobby): the first holder subscribes, and
 * the last one out unsubscribes after a short delay, so a remount (React
 * StrictMode, a navigation between pages that both need it) keeps it.
 */
import { useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';

/** Leaving waits a moment, so a remount keeps the subscription. */
export const LEAVE_DELAY_MS = 300;

export type Holders = {
  hold(key: string): void;
  /** `leave` runs once the last holder of `key` has been gone for the delay. */
  release(key: string, leave: () => void): void;
};

export function createHolders(delayMs = LEAVE_DELAY_MS): Holders {
  const counts = new Map<string, number>();
  const pendingLeaves = new Map<string, ReturnType<typeof setTimeout>>();
  return {
    hold(key) {
      clearTimeout(pendingLeaves.get(key));
      pendingLeaves.delete(key);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    },
    release(key, leave) {
      const left = (counts.get(key) ?? 1) - 1;
      if (left > 0) {
        counts.set(key, left);
        return;
      }
      counts.delete(key);
      pendingLeaves.set(
        key,
        setTimeout(() => {
          pendingLeaves.delete(key);
          leave();
        }, delayMs),
      );
    },
  };
}

/**
 * Holds `key` in `holders` while `active` and the component is mounted;
 * `leave` (a module-level function) unsubscribes once nobody holds it.
 */
export function useHold(
  holders: Holders,
  key: string,
  active: boolean,
  leave: (key: string, queryClient: QueryClient) => void,
): void {
  const queryClient = useQueryClient();
  useEffect(() => {
    if (!active) return;
    holders.hold(key);
    return () => holders.release(key, () => leave(key, queryClient));
  }, [holders, key, active, leave, queryClient]);
}
