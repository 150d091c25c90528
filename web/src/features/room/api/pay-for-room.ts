import { useMutation, useQueryClient } from '@tanstack/react-query';

import { api, isApiError } from '@/lib/api-client';
import { setBalanceInCache } from '@/lib/balance';
import { queryKeys } from '@/lib/query-keys';
import type { Room, Transaction } from '@/types/api';

export type StreamJoinInput = { creatorId: string; roomId: string; amount: number };
export type StreamJoinResult = { transaction: Transaction | null; balance: number; alreadyPaid: boolean };

/**
 * `POST /api/transactions/stream-join`. Each click gets its own
 * `Idempotency-Key`, so a retried request (a flaky network resending it) is
 * charged once, while a deliberate second click is a new payment attempt.
 */
export const payForRoom = (input: StreamJoinInput, idempotencyKey: string = crypto.randomUUID()) =>
  api.post<StreamJoinResult>('/transactions/stream-join', input, {
    headers: { 'Idempotency-Key': idempotencyKey },
  });

export function usePayForRoom(roomId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: StreamJoinInput) => payForRoom(input),
    onSuccess: (result) => {
      setBalanceInCache(queryClient, result.balance);
      // Access is what the payment bought: watch without waiting for a refetch.
      queryClient.setQueryData<Room>(queryKeys.rooms.detail(roomId), (room) =>
        room ? { ...room, access: 'paid' } : room,
      );
      void queryClient.invalidateQueries({ queryKey: queryKeys.rooms.detail(roomId) });
      void queryClient.invalidateQueries({ queryKey: queryKeys.transactions.all });
    },
    onError: (error) => {
      // The server's price wins: show it, so the next click pays that.
      const price = isApiError(error, 'price_mismatch') ? error.number('price') : undefined;
      if (price !== undefined) {
        queryClient.setQueryData<Room>(queryKeys.rooms.detail(roomId), (room) => (room ? { ...room, price } : room));
      }
      if (isApiError(error, 'insufficient_funds')) {
        const balance = error.number('balance');
        if (balance !== undefined) setBalanceInCache(queryClient, balance);
      }
      if (isApiError(error, 'room_not_live')) {
        void queryClient.invalidateQueries({ queryKey: queryKeys.rooms.detail(roomId) });
      }
    },
  });
}
