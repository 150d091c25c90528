import { queryOptions, useQuery } from '@tanstack/react-query';

import { body, client } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';

export const EARNINGS_DAYS = 30;

/** `GET /api/users/me/earnings?days=N`: what the caller earned, by day and by source. */
export const getEarnings = (days: number, signal?: AbortSignal) =>
  body(client.GET('/api/users/me/earnings', { params: { query: { days } }, signal }));

export const earningsQueryOptions = (days: number = EARNINGS_DAYS) =>
  queryOptions({
    queryKey: queryKeys.earnings(days),
    queryFn: ({ signal }) => getEarnings(days, signal),
  });

export function useEarnings(days: number = EARNINGS_DAYS) {
  return useQuery(earningsQueryOptions(days));
}
