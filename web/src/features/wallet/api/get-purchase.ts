import { queryOptions, useQuery } from '@tanstack/react-query';

import { body, client } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';

/** `GET /api/coins/purchases/{id}` (own purchases only; 404 otherwise). */
export const getPurchase = (id: string, signal?: AbortSignal) =>
  body(client.GET('/api/coins/purchases/{id}', { params: { path: { id } }, signal }));

/**
 * How often a pending purchase is read again: the socket's `purchase:update`
 * normally says it first; this is the fallback when the push is missed (the
 * socket reconnecting right after the provider's redirect).
 */
export const PURCHASE_POLL_MS = 3_000;

export const purchaseQueryOptions = (id: string) =>
  queryOptions({
    queryKey: queryKeys.purchases.detail(id),
    queryFn: ({ signal }) => getPurchase(id, signal),
    refetchInterval: (query) => (query.state.data?.state === 'pending' ? PURCHASE_POLL_MS : false),
  });

/** One purchase; `null` reads nothing. */
export function usePurchase(id: string | null) {
  return useQuery({ ...purchaseQueryOptions(id ?? ''), enabled: id !== null && id !== '' });
}
