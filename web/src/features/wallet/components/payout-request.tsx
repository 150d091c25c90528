import { useRef, useState, type FormEvent } from 'react';

import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { Field, Input } from '@/components/ui/form';
import { useRequestPayout } from '@/features/wallet/api/request-payout';
import { errorMessage, isApiError } from '@/lib/api-client';
import { formatCoins } from '@/lib/format';
import { newIdempotencyKey } from '@/lib/ids';
import type { Earnings } from '@/types/api';

/**
 * Asks for a payout of earned coins: at least `payoutMin`, at most
 * `payable`. One `Idempotency-Key` per attempt: a retry of the same request
 * after a network failure reuses it (one payout), a new amount gets a new one.
 */
export function PayoutRequest({ earnings }: { earnings: Earnings }) {
  const { payable, payoutMin, held } = earnings;
  const [coins, setCoins] = useState(String(payable));
  const key = useRef(newIdempotencyKey());
  const request = useRequestPayout();
  const [done, setDone] = useState<number | null>(null);

  const amount = Number(coins);
  const valid = Number.isInteger(amount) && amount >= payoutMin && amount <= payable;
  const canRequest = payable >= payoutMin;

  let fieldError: string | undefined;
  if (coins !== '' && Number.isInteger(amount)) {
    if (amount < payoutMin) fieldError = `The minimum payout is ${formatCoins(payoutMin)}.`;
    else if (amount > payable) fieldError = `You can request at most ${formatCoins(payable)}.`;
  } else if (coins !== '') {
    fieldError = 'Enter a whole number of coins.';
  }
  if (!fieldError && request.isError && isApiError(request.error) && request.error.field === 'coins') {
    fieldError = request.error.message;
  }

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (!valid) return;
    setDone(null);
    request.mutate(
      { coins: amount, idempotencyKey: key.current },
      {
        onSuccess: (payout) => {
          key.current = newIdempotencyKey();
          setCoins('');
          setDone(payout.coins);
        },
      },
    );
  };

  return (
    <form onSubmit={onSubmit} className="space-y-3" aria-label="Request a payout">
      {!canRequest ? (
        <p className="text-sm text-zinc-600 dark:text-zinc-400" data-testid="payout-below-min">
          Payouts start at {formatCoins(payoutMin)}; you can request {formatCoins(payable)} now.
          {held > 0 && ` ${formatCoins(held)} are held for a request in progress.`}
        </p>
      ) : (
        <div className="flex flex-wrap items-end gap-2">
          <Field
            label="Coins to pay out"
            hint={`Minimum ${formatCoins(payoutMin)}, up to ${formatCoins(payable)}.`}
            error={fieldError}
            className="w-56"
          >
            {({ id, describedBy, invalid }) => (
              <Input
                id={id}
                type="number"
                inputMode="numeric"
                min={payoutMin}
                max={payable}
                step={1}
                value={coins}
                aria-describedby={describedBy}
                aria-invalid={invalid}
                onChange={(e) => {
                  setCoins(e.target.value);
                  key.current = newIdempotencyKey();
                  if (request.isError) request.reset();
                }}
              />
            )}
          </Field>
          <Button type="submit" isLoading={request.isPending} disabled={!valid}>
            Request payout
          </Button>
        </div>
      )}
      {request.isError && !(isApiError(request.error) && request.error.field === 'coins') && (
        <Alert tone="error">
          {isApiError(request.error, 'payout_pending')
            ? 'A payout request of yours is still open: wait until it is settled.'
            : errorMessage(request.error)}
        </Alert>
      )}
      {done !== null && (
        <Alert tone="success">
          Payout of {formatCoins(done)} requested. The coins are held until an operator settles it.
        </Alert>
      )}
    </form>
  );
}
