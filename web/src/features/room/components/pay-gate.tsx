import { Link } from 'react-router';

import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { paths } from '@/config/paths';
import { payErrorMessage } from '@/features/room/api/pay-for-room';
import { formatCoins, formatNumber, formatPrice } from '@/lib/format';
import type { Room } from '@/types/api';

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
