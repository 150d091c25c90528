import { infiniteQueryOptions, useInfiniteQuery } from '@tanstack/react-query';

import { body, client } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';

/** `GET /api/users/me/history`: the rooms the user watched, newest first. */
export const getHistory = (cursor: string | null, signal?: AbortSignal) =>
  body(client.GET('/api/users/me/history', { params: { query: { cursor: cursor ?? undefined } }, signal }));

export const historyQueryOptions = () =>
  infiniteQueryOptions({
    queryKey: queryKeys.history,
    queryFn: ({ pageParam, signal }) => getHistory(pageParam, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
  });

export function useHistory() {
  return useInfiniteQuery(historyQueryOptions());
}
