import { infiniteQueryOptions, useInfiniteQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import type { Page, Payout } from '@/types/api';

/** `GET /api/payouts`: the caller's payout requests, newest first (kept live by `payout:update`). */
export const getPayouts = (cursor: string | null, signal?: AbortSignal) =>
  api.get<Page<Payout>>('/payouts', { params: { cursor }, signal });

export function usePayouts() {
  return useInfiniteQuery(
    infiniteQueryOptions({
      queryKey: queryKeys.payouts,
      queryFn: ({ pageParam, signal }) => getPayouts(pageParam, signal),
      initialPageParam: null as string | null,
      getNextPageParam: (last) => last.nextCursor,
    }),
  );
}
