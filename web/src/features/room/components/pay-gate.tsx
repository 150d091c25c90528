import { Link } from 'react-router';

import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { paths } from '@/config/paths';
import { isApiError } from '@/lib/api-client';
import { formatCoins, formatNumber, formatPrice } from '@/lib/format';
import type { Room } from '@/types/api';

/** What went wrong with a payment, for a person. */
export function payErrorMessage(error: unknown): { title: string; detail?: string; toWallet?: boolean } {
  if (isApiError(error, 'insufficient_funds')) {
    const required = error.number('required');
    const balance = error.number('balance');
    if (required !== undefined && balance !== undefined) {
      const missing = Math.max(required - balance, 1);
      return {
        title: `You need ${formatNumber(missing)} more ${missing === 1 ? 'coin' : 'coins'} to enter this room.`,
        detail: `Your balance is ${formatCoins(balance)}; entry costs ${formatCoins(required)}.`,
        toWallet: true,
      };
    }
    return { title: 'You do not have enough coins to enter this room.', toWallet: true };
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
  if (isApiError(error, 'self_payment')) {
    return { title: 'This is your own room: you watch it free.' };
  }
  return { title: 'The payment did not go through.', detail: error instanceof Error ? error.message : undefined };
}

type PayGateProps = {
  room: Room;
  balance: number | undefined;
  onPay: () => void;
  isPaying: boolean;
  error: unknown;
};

/** A locked live room: its price, the viewer's balance and the Pay button. */
export function PayGate({ room, balance, onPay, isPaying, error }: PayGateProps) {
  const problem = error ? payErrorMessage(error) : null;
  const short = balance !== undefined && balance < room.price;
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
      <Button size="lg" onClick={onPay} isLoading={isPaying} className="min-w-40">
        {isPaying ? 'Paying…' : `Pay ${formatCoins(room.price)}`}
      </Button>
      {short && !problem && (
        <p className="text-sm text-amber-200">
          You need {formatNumber(room.price - balance)} more coins for this room.
        </p>
      )}
      {problem && (
        <Alert tone="error" title={problem.title} className="max-w-md text-left">
          {problem.detail}
          {problem.toWallet && (
            <>
              {' '}
              <Link to={paths.wallet.getHref()} className="font-semibold underline">
                Open your wallet
              </Link>
            </>
          )}
        </Alert>
      )}
    </div>
  );
}
