import { infiniteQueryOptions, queryOptions, useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import { newIdempotencyKey } from '@/lib/ids';
import { queryKeys } from '@/lib/query-keys';
import type { Earnings, Page, Payout } from '@/types/api';

export const EARNINGS_DAYS = 30;

/** `GET /api/users/me/earnings?days=N`: what the caller earned, by day and by source. */
export const getEarnings = (days: number, signal?: AbortSignal) =>
  api.get<Earnings>('/users/me/earnings', { params: { days }, signal });

export const earningsQueryOptions = (days: number = EARNINGS_DAYS) =>
  queryOptions({
    queryKey: queryKeys.earnings(days),
    queryFn: ({ signal }) => getEarnings(days, signal),
  });

export function useEarnings(days: number = EARNINGS_DAYS) {
  return useQuery(earningsQueryOptions(days));
}

/** `GET /api/payouts`: the caller's payout requests, newest first. */
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

/** `POST /api/payouts {coins}`: the coins leave the balance at once (held until settled). */
export const requestPayout = (coins: number, idempotencyKey: string = newIdempotencyKey()) =>
  api.post<Payout>('/payouts', { coins }, { headers: { 'Idempotency-Key': idempotencyKey } });

export function useRequestPayout() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ coins, idempotencyKey }: { coins: number; idempotencyKey: string }) =>
      requestPayout(coins, idempotencyKey),
    onSuccess: () => {
      // The held coins left the balance (`balance:update` says so too).
      void queryClient.invalidateQueries({ queryKey: queryKeys.payouts });
      void queryClient.invalidateQueries({ queryKey: queryKeys.earningsAll });
      void queryClient.invalidateQueries({ queryKey: queryKeys.balance });
      void queryClient.invalidateQueries({ queryKey: queryKeys.transactions.all });
    },
  });
}
