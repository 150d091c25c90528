/**
 * The query keys of private sessions. Only this feature reads them; the
 * socket events of private sessions are written into them by this feature's
 * own hooks (`use-private-events.ts`).
 */
export const privateKeys = {
  all: ['private'] as const,
  /** The signed-in creator's own offer. */
  myOffer: ['private', 'offer', 'mine'] as const,
  /** A creator's public offer. */
  offer: (creatorId: string) => ['private', 'offer', creatorId] as const,
  sessions: ['private', 'sessions'] as const,
  /** The caller's sessions, newest first (history). */
  sessionList: () => ['private', 'sessions', 'list'] as const,
  session: (id: string) => ['private', 'sessions', 'detail', id] as const,
  /** Requests waiting for this creator's answer (pushed by `private:request`). */
  incoming: ['private', 'incoming'] as const,
  /** The caller's session that is active now, if any (the "return to it" banner). */
  live: ['private', 'live'] as const,
};
