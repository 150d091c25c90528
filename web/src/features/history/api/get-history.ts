import { infiniteQueryOptions, useInfiniteQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import type { HistoryEntry, Page } from '@/types/api';

/** `GET /api/users/me/history`: the rooms the user watched, newest first. */
export const getHistory = (cursor: string | null, signal?: AbortSignal) =>
  api.get<Page<HistoryEntry>>('/users/me/history', { params: { cursor }, signal });

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
