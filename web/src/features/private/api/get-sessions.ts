import { infiniteQueryOptions, useInfiniteQuery } from '@tanstack/react-query';

import { privateKeys } from '@/features/private/api/keys';
import { body, client } from '@/lib/api-client';

/** `GET /api/private/sessions`: sessions where the caller is either party, newest first. */
export const getSessions = (cursor: string | null, signal?: AbortSignal) =>
  body(client.GET('/api/private/sessions', { params: { query: { cursor: cursor ?? undefined } }, signal }));

export const sessionsQueryOptions = () =>
  infiniteQueryOptions({
    queryKey: privateKeys.sessionList(),
    queryFn: ({ pageParam, signal }) => getSessions(pageParam, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
  });

export function usePrivateSessions(enabled = true) {
  return useInfiniteQuery({ ...sessionsQueryOptions(), enabled });
}
