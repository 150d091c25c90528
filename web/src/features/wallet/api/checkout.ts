import { useMutation, useQueryClient } from '@tanstack/react-query';

import { body, client } from '@/lib/api-client';
import { newIdempotencyKey } from '@/lib/ids';
import { queryKeys } from '@/lib/query-keys';

/**
 * `POST /api/coins/checkout`: a pending purchase and the provider's page to
 * pay it on. Each click is its own attempt (its own `Idempotency-Key`), so a
 * request the network resends creates one purchase.
 */
export const startCheckout = (packId: string, idempotencyKey: string = newIdempotencyKey()) =>
  body(client.POST('/api/coins/checkout', { body: { packId }, headers: { 'Idempotency-Key': idempotencyKey } }));

export function useCheckout() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (packId: string) => startCheckout(packId),
    onSuccess: ({ purchase }) => {
      queryClient.setQueryData(queryKeys.purchases.detail(purchase.id), purchase);
      void queryClient.invalidateQueries({ queryKey: queryKeys.purchases.list() });
    },
  });
}
