import { useMutation, useQueryClient } from '@tanstack/react-query';

import { body, client } from '@/lib/api-client';
import { setBalanceInCache } from '@/lib/balance';
import { queryKeys } from '@/lib/query-keys';
import type { Purchase } from '@/types/api';

/** `POST /api/coins/purchases/{id}/test-confirm`: the test provider pays (test money). */
export const confirmTestPayment = (id: string) =>
  body(client.POST('/api/coins/purchases/{id}/test-confirm', { params: { path: { id } } }));

/** `POST /api/coins/purchases/{id}/test-cancel`: the purchase ends `expired`. */
export const cancelTestPayment = (id: string) =>
  body(client.POST('/api/coins/purchases/{id}/test-cancel', { params: { path: { id } } }));

export function useTestPayment(id: string) {
  const queryClient = useQueryClient();
  const settled = (purchase: Purchase) => {
    queryClient.setQueryData(queryKeys.purchases.detail(id), purchase);
    void queryClient.invalidateQueries({ queryKey: queryKeys.purchases.list() });
    void queryClient.invalidateQueries({ queryKey: queryKeys.transactions.all });
  };
  const confirm = useMutation({
    mutationFn: () => confirmTestPayment(id),
    onSuccess: ({ purchase, balance }) => {
      settled(purchase);
      setBalanceInCache(queryClient, balance);
    },
  });
  const cancel = useMutation({
    mutationFn: () => cancelTestPayment(id),
    onSuccess: ({ purchase }) => settled(purchase),
  });
  return { confirm, cancel };
}
