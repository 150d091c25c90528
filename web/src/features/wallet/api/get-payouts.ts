import { infiniteQueryOptions, useInfiniteQuery } from '@tanstack/react-query';

import { body, client } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';

/** `GET /api/payouts`: the caller's payout requests, newest first (kept live by `payout:update`). */
export const getPayouts = (cursor: string | null, signal?: AbortSignal) =>
  body(client.GET('/api/payouts', { params: { query: { cursor: cursor ?? undefined } }, signal }));

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
