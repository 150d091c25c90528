import { infiniteQueryOptions, useInfiniteQuery } from '@tanstack/react-query';

import { body, client } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';

/** `GET /api/coins/purchases`: the caller's purchases, newest first. */
export const getPurchases = (cursor: string | null, signal?: AbortSignal) =>
  body(client.GET('/api/coins/purchases', { params: { query: { cursor: cursor ?? undefined } }, signal }));

export function usePurchases() {
  return useInfiniteQuery(
    infiniteQueryOptions({
      queryKey: queryKeys.purchases.list(),
      queryFn: ({ pageParam, signal }) => getPurchases(pageParam, signal),
      initialPageParam: null as string | null,
      getNextPageParam: (last) => last.nextCursor,
    }),
  );
}
