import { queryOptions, useQuery, type QueryClient } from '@tanstack/react-query';

import { privateKeys } from '@/features/private/api/keys';
import { body, client } from '@/lib/api-client';
import type { PrivateSession } from '@/types/api';

/** `GET /api/private/sessions/{id}`: either party only (404 for anyone else). */
export const getSession = (id: string, signal?: AbortSignal) =>
  body(client.GET('/api/private/sessions/{id}', { params: { path: { id } }, signal }));

export const sessionQueryOptions = (id: string) =>
  queryOptions({
    queryKey: privateKeys.session(id),
    queryFn: ({ signal }) => getSession(id, signal),
    // `private:update` keeps it current; a reconnect reads it again.
    staleTime: Infinity,
  });

export function usePrivateSession(id: string | null) {
  return useQuery({ ...sessionQueryOptions(id ?? ''), enabled: Boolean(id) });
}

/** Ordered by the server's clock: a late, older copy never replaces a newer one. */
function isNewer(next: PrivateSession, current: PrivateSession | undefined): boolean {
  if (!current) return true;
  const rank = (s: PrivateSession) => (s.state === 'requested' ? 0 : s.state === 'active' ? 1 : 2);
  if (rank(next) !== rank(current)) return rank(next) > rank(current);
  // Within a state the billed seconds only grow.
  return next.seconds >= current.seconds;
}

/** A session the server sent (an answer or a push) becomes the cached one. */
export function setSessionInCache(queryClient: QueryClient, session: PrivateSession): void {
  queryClient.setQueryData<PrivateSession>(privateKeys.session(session.id), (current) =>
    isNewer(session, current) ? session : current,
  );
}
