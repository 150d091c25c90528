import { useMutation, useQueryClient } from '@tanstack/react-query';

import { prepareViewerSession } from '@/features/room/api/viewer-session';
import { body, client, isApiError, type ApiError } from '@/lib/api-client';
import { setBalanceInCache } from '@/lib/balance';
import { formatCoins, formatNumber, formatPrice } from '@/lib/format';
import { newIdempotencyKey } from '@/lib/ids';
import { markPayStep } from '@/lib/pay-timeline';
import { queryKeys } from '@/lib/query-keys';
import { setRoomAway } from '@/lib/room-cache';
import { roomChannelQueryOptions } from '@/lib/room-channel';
import { isWebRtcSupported } from '@/lib/webrtc';
import type { Room, StreamJoinResult } from '@/types/api';

export type StreamJoinInput = { creatorId: string; roomId: string; amount: number };
export type { StreamJoinResult };

/**
 * `POST /api/transactions/stream-join`. Each click gets its own
 * `Idempotency-Key`, so a retried request (a flaky network resending it) is
 * charged once, while a deliberate second click is a new payment attempt.
 */
export const payForRoom = (input: StreamJoinInput, idempotencyKey: string = newIdempotencyKey()) =>
  body(client.POST('/api/transactions/stream-join', { body: input, headers: { 'Idempotency-Key': idempotencyKey }, }));

export function usePayForRoom(roomId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: StreamJoinInput) => payForRoom(input),
    onSuccess: (result) => {
      markPayStep(roomId, 'paid');
      // Straight to the picture (issue 23): join the room and start the
      // stream now, both at once, rather than after the page re-rendered and
      // the join answered. The page's channel query finds this join in
      // flight; the player adopts the viewer session.
      void queryClient.prefetchQuery(roomChannelQueryOptions(roomId));
      if (isWebRtcSupported()) prepareViewerSession(roomId, queryClient);
      setBalanceInCache(queryClient, result.balance);
      // Access is what the payment bought: watch without waiting for a refetch.
      queryClient.setQueryData<Room>(queryKeys.rooms.detail(roomId), (room) =>
        room ? { ...room, access: 'paid' } : room,
      );
      void queryClient.invalidateQueries({ queryKey: queryKeys.rooms.detail(roomId) });
      void queryClient.invalidateQueries({ queryKey: queryKeys.transactions.all });
      // Sign-up coins are spent first: the user's `bonusCoins` changed too.
      void queryClient.invalidateQueries({ queryKey: queryKeys.me });
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
      // The creator's media is gone: the gate waits for `room:back`.
      if (isApiError(error, 'publisher_away')) {
        const awayUntil = awayUntilOf(error);
        if (awayUntil) setRoomAway(queryClient, roomId, awayUntil);
        else void queryClient.invalidateQueries({ queryKey: queryKeys.rooms.detail(roomId) });
      }
    },
  });
}

/** When a `publisher_away` refusal says the session ends: `awayUntil`, else now + `graceSecondsLeft`. */
function awayUntilOf(error: ApiError): string | null {
  const until = error.details.awayUntil;
  if (typeof until === 'string' && !Number.isNaN(new Date(until).getTime())) return until;
  const seconds = error.number('graceSecondsLeft');
  return seconds === undefined ? null : new Date(Date.now() + seconds * 1_000).toISOString();
}

/** The pay gate's sentence while the creator's media is gone. */
export const AWAY_PAY_MESSAGE = 'The creator is reconnecting; you can pay as soon as the picture is back.';

export type PayProblem = {
  title: string;
  detail?: string;
  /** Why part of the balance does not count here (sign-up coins in a linked creator's room). */
  bonusNote?: string;
};

/** What went wrong with a payment, for a person. */
export function payErrorMessage(error: unknown): PayProblem {
  if (isApiError(error, 'insufficient_funds')) {
    const required = error.number('required');
    const balance = error.number('balance');
    // Sign-up coins that do not count in this room: its creator signed up
    // from the viewer's network (the server's anti-farming rule).
    const excluded = error.number('bonusCoinsExcluded') ?? 0;
    const bonusNote =
      excluded > 0
        ? `Sign-up bonus coins can't be used in this room, because its creator signed up from the same network as you: ${formatCoins(excluded)} of your balance ${excluded === 1 ? 'does' : 'do'} not count here.`
        : undefined;
    // The server's sentence counts what really is spendable here; ours is
    // for a refusal that came without one.
    let title = error.message !== error.code ? error.message : 'You do not have enough coins to enter this room.';
    if (error.message === error.code && required !== undefined && balance !== undefined) {
      const missing = Math.max(required - (balance - excluded), 1);
      title = `You need ${formatNumber(missing)} more ${missing === 1 ? 'coin' : 'coins'} to enter this room.`;
    }
    return {
      title,
      detail:
        required !== undefined && balance !== undefined
          ? `Your balance is ${formatCoins(balance)}; entry costs ${formatCoins(required)}.`
          : undefined,
      bonusNote,
    };
  }
  if (isApiError(error, 'price_mismatch')) {
    const price = error.number('price');
    return {
      title:
        price === undefined
          ? 'The price of this room has changed.'
          : `The price changed to ${formatPrice(price)}.`,
      detail: 'Nothing was charged. Check the new price and pay again.',
    };
  }
  if (isApiError(error, 'room_not_live')) {
    return { title: 'This stream is not live any more.', detail: 'Nothing was charged.' };
  }
  if (isApiError(error, 'publisher_away')) {
    return { title: AWAY_PAY_MESSAGE, detail: 'Nothing was charged.' };
  }
  if (isApiError(error, 'self_payment')) {
    return { title: 'This is your own room: you watch it free.' };
  }
  return { title: 'The payment did not go through.', detail: error instanceof Error ? error.message : undefined };
}
