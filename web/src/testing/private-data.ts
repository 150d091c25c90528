/** Factories for private-session objects in tests (issue 17). */
import type { PrivateOffer, PrivateSession } from '@/types/api';

export const anOffer = (over: Partial<PrivateOffer> = {}): PrivateOffer => ({
  creatorId: 'u-creator',
  pricePerMinute: 10,
  accepting: true,
  pauseRoom: true,
  ...over,
});

/** A session requested a moment ago by Vera Viewer from Cleo Creator, expiring in a minute. */
export const aPrivateSession = (over: Partial<PrivateSession> = {}): PrivateSession => ({
  id: 'p-1',
  creator: { id: 'u-creator', username: 'creator', displayName: 'Cleo Creator' },
  viewer: { id: 'u-viewer', username: 'viewer', displayName: 'Vera Viewer' },
  pricePerMinute: 10,
  periodSeconds: 60,
  state: 'requested',
  requestedAt: new Date(Date.now() - 1_000).toISOString(),
  expiresAt: new Date(Date.now() + 60_000).toISOString(),
  startedAt: null,
  endedAt: null,
  endReason: null,
  seconds: 0,
  coins: 0,
  held: 0,
  paidThrough: null,
  ...over,
});

/** The same session, accepted `startedSecondsAgo` seconds ago with its first minute held. */
export const anActiveSession = (startedSecondsAgo = 5, over: Partial<PrivateSession> = {}): PrivateSession => {
  const startedAt = Date.now() - startedSecondsAgo * 1_000;
  return aPrivateSession({
    state: 'active',
    startedAt: new Date(startedAt).toISOString(),
    held: 10,
    paidThrough: new Date(startedAt + 60_000).toISOString(),
    ...over,
  });
};
