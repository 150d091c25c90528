import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { Link, useLocation } from 'react-router';

import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { paths } from '@/config/paths';
import { AWAY_PAY_MESSAGE, payErrorMessage } from '@/features/room/api/pay-for-room';
import { isApiError } from '@/lib/api-client';
import { formatCoins, formatCountdown, formatNumber, formatPrice } from '@/lib/format';
import { useSecondsLeft } from '@/lib/hooks';
import { roomAwayUntil } from '@/lib/room-cache';
import { useRoomWatch } from '@/lib/room-watch';
import { iceServersQueryOptions } from '@/lib/webrtc';
import type { Room } from '@/types/api';

type PayGateProps = {
  room: Room;
  balance: number | undefined;
  onPay: () => void;
  isPaying: boolean;
  error: unknown;
};

/**
 * A locked live room: its price, the viewer's balance and the Pay button.
 * It watches the room (`room:watch`, no payment needed) so it hears the
 * creator's media go and come back, and the end of the session: nothing can
 * be paid for a picture that isn't there.
 *
 * While it is shown, the player is made ready (issue 23): the socket is up
 * (signed in) and the ICE servers are loaded, so the click only pays, then
 * asks for the stream.
 */
export function PayGate({ room, balance, onPay, isPaying, error }: PayGateProps) {
  useRoomWatch(room.id, true);
  const queryClient = useQueryClient();
  useEffect(() => {
    void queryClient.prefetchQuery(iceServersQueryOptions());
  }, [queryClient]);
  const awayUntil = roomAwayUntil(room);
  const away = awayUntil !== null;
  const secondsLeft = useSecondsLeft(awayUntil);
  // While away the away sentence says it; once back, that refusal is stale.
  const problem = error && !isApiError(error, 'publisher_away') ? payErrorMessage(error) : null;
  const short = balance !== undefined && balance < room.price;
  // Short of coins (as far as we know, or as the server said): no Pay button
  // that can only fail with a 402, but the way to the wallet and back here.
  const needsCoins = short || isApiError(error, 'insufficient_funds');
  const location = useLocation();
  const walletHref = paths.wallet.getHref(`${location.pathname}${location.search}`);
  return (
    <div className="flex aspect-video w-full flex-col items-center justify-center gap-4 rounded-xl bg-gradient-to-br from-zinc-800 to-zinc-950 p-4 text-center text-white sm:p-8">
      <div className="space-y-1">
        <p className="text-sm text-zinc-300">Entry to this live session</p>
        <p className="text-3xl font-bold" data-testid="room-price">
          {formatPrice(room.price)}
        </p>
        {balance !== undefined && (
          <p className="text-sm text-zinc-300">
            Your balance: <span className="font-semibold text-white">{formatCoins(balance)}</span>
          </p>
        )}
      </div>
      {needsCoins ? (
        <Link
          to={walletHref}
          className="inline-flex h-12 min-w-40 items-center justify-center rounded-lg bg-brand-600 px-6 text-base font-medium text-white hover:bg-brand-700"
        >
          Get coins
        </Link>
      ) : (
        <Button size="lg" onClick={onPay} isLoading={isPaying} disabled={away} className="min-w-40">
          {isPaying ? 'Paying…' : `Pay ${formatCoins(room.price)}`}
        </Button>
      )}
      {away && (
        <div role="status" className="max-w-md space-y-1 text-sm text-amber-200">
          <p data-testid="pay-away">{AWAY_PAY_MESSAGE}</p>
          {secondsLeft !== null && secondsLeft > 0 && (
            <p className="text-zinc-300">The session ends in {formatCountdown(secondsLeft)} if it does not come back.</p>
          )}
        </div>
      )}
      {short && !problem && (
        <p className="text-sm text-amber-200">
          You need {formatNumber(room.price - balance)} more coins for this room.
        </p>
      )}
      {problem && (
        <Alert tone="error" title={problem.title} className="max-w-md text-left">
          {problem.detail}
          {problem.bonusNote && (
            <p className="mt-2" data-testid="pay-bonus-note">
              {problem.bonusNote}
            </p>
          )}
        </Alert>
      )}
    </div>
  );
}
