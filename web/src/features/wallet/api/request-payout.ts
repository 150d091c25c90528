import { useMutation, useQueryClient } from '@tanstack/react-query';

import { body, client } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';

/**
 * `POST /api/payouts {coins}`: the coins leave the balance at once, held
 * until an operator settles the request. The caller keeps the attempt's
 * `Idempotency-Key` (see `PayoutRequest`).
 */
export const requestPayout = (coins: number, idempotencyKey: string) =>
  body(client.POST('/api/payouts', { body: { coins }, headers: { 'Idempotency-Key': idempotencyKey } }));

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
