import { infiniteQueryOptions, useInfiniteQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import type { Page, Purchase } from '@/types/api';

/** `GET /api/coins/purchases`: the caller's purchases, newest first. */
export const getPurchases = (cursor: string | null, signal?: AbortSignal) =>
  api.get<Page<Purchase>>('/coins/purchases', { params: { cursor }, signal });

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
