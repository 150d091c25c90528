import { useMutation, useQueryClient } from '@tanstack/react-query';

import { body, client, isApiError } from '@/lib/api-client';
import { setBalanceInCache } from '@/lib/balance';
import { queryKeys } from '@/lib/query-keys';

/** The server's bounds (docs/openapi.yaml, `POST /api/transactions/tip`). */
export const TIP_MAX = 10_000;
export const TIP_MESSAGE_MAX = 200;
export const TIP_PRESETS = [10, 50, 100] as const;

export type TipInput = { roomId: string; amount: number; message?: string };

/**
 * `POST /api/transactions/tip`: coins to the room's creator, shown in the
 * room's chat for everyone. The `Idempotency-Key` is the attempt's: the same
 * tip resent (a retry after a network failure) is charged once.
 */
export const sendTip = ({ roomId, amount, message }: TipInput, idempotencyKey: string) =>
  body(client.POST('/api/transactions/tip', { body: { roomId, amount, ...(message ? { message } : {}) }, headers: { 'Idempotency-Key': idempotencyKey } }));

export function useSendTip() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ input, idempotencyKey }: { input: TipInput; idempotencyKey: string }) => sendTip(input, idempotencyKey),
    onSuccess: ({ balance }) => {
      setBalanceInCache(queryClient, balance);
      void queryClient.invalidateQueries({ queryKey: queryKeys.transactions.all });
      void queryClient.invalidateQueries({ queryKey: queryKeys.me });
    },
    onError: (error) => {
      if (isApiError(error, 'insufficient_funds')) {
        const balance = error.number('balance');
        if (balance !== undefined) setBalanceInCache(queryClient, balance);
      }
    },
  });
}

/** A tip refusal, for a person. */
export function tipErrorMessage(error: unknown): string {
  if (isApiError(error, 'insufficient_funds')) return 'You do not have enough coins for this tip.';
  if (isApiError(error, 'room_not_live')) return 'This stream is not live any more; nothing was charged.';
  if (isApiError(error, 'rate_limited')) return 'You are tipping too fast. Wait a moment and try again.';
  if (isApiError(error, 'self_payment')) return 'You cannot tip yourself.';
  if (isApiError(error, 'timed_out')) {
    return 'You are timed out of the chat: send the tip without a message, or wait until the timeout ends.';
  }
  if (isApiError(error, 'payment_required')) return 'Pay for this session first to tip its creator.';
  if (isApiError(error, 'forbidden')) return 'You cannot tip in this room.';
  return error instanceof Error && error.message ? error.message : 'The tip did not go through.';
}
