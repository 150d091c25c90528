import { queryOptions, useQuery } from '@tanstack/react-query';

import { body, client } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';

/** `GET /api/coins/packs`: what can be bought, and through which provider (`null`: none set up). */
export const getCoinPacks = (signal?: AbortSignal) => body(client.GET('/api/coins/packs', { signal }));

export const coinPacksQueryOptions = () =>
  queryOptions({
    queryKey: queryKeys.coinPacks,
    queryFn: ({ signal }) => getCoinPacks(signal),
    staleTime: 5 * 60_000,
  });

export function useCoinPacks() {
  return useQuery(coinPacksQueryOptions());
}
