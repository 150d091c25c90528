import { infiniteQueryOptions, useInfiniteQuery } from '@tanstack/react-query';

import { body, client } from '@/lib/api-client';
import { queryKeys, type TransactionListParams } from '@/lib/query-keys';

/** `GET /api/transactions`: entries where the caller paid or was paid, newest first. */
export const getTransactions = (
  { cursor, ...params }: TransactionListParams & { cursor?: string | null },
  signal?: AbortSignal,
) => body(client.GET('/api/transactions', { params: { query: { ...params, cursor: cursor ?? undefined } }, signal }));

export const transactionsQueryOptions = (params: TransactionListParams = {}) =>
  infiniteQueryOptions({
    queryKey: queryKeys.transactions.list(params),
    queryFn: ({ pageParam, signal }) => getTransactions({ ...params, cursor: pageParam }, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
  });

export function useTransactions(params: TransactionListParams = {}) {
  return useInfiniteQuery(transactionsQueryOptions(params));
}
