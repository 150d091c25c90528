import { useMemo, useRef, useState, type FormEvent } from 'react';
import { z } from 'zod';

import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { TextField } from '@/components/ui/form';
import { useRequestPayout } from '@/features/wallet/api/request-payout';
import { isApiError } from '@/lib/api-client';
import { formatCoins } from '@/lib/format';
import { useServerError, useZodForm } from '@/lib/form';
import { newIdempotencyKey } from '@/lib/ids';
import type { Earnings } from '@/types/api';

/** The server's rule: a whole number of coins from `payoutMin` to `payable`. */
function payoutSchema(payoutMin: number, payable: number) {
  return z.object({
    coins: z
      .string()
      .trim()
      .regex(/^\d+$/, 'Enter a whole number of coins.')
      .transform(Number)
      .refine((n) => n >= payoutMin, `The minimum payout is ${formatCoins(payoutMin)}.`)
      .refine((n) => n <= payable, `You can request at most ${formatCoins(payable)}.`),
  });
}

/**
 * Asks for a payout of earned coins: at least `payoutMin`, at most
 * `payable`. One `Idempotency-Key` per attempt: a retry of the same request
 * after a network failure reuses it (one payout), a new amount gets a new one.
 */
export function PayoutRequest({ earnings }: { earnings: Earnings }) {
  const { payable, payoutMin, held } = earnings;
  const schema = useMemo(() => payoutSchema(payoutMin, payable), [payoutMin, payable]);
  const form = useZodForm(schema, { mode: 'onChange', defaultValues: { coins: String(payable) } });
  const key = useRef(newIdempotencyKey());
  const request = useRequestPayout();
  const [done, setDone] = useState<number | null>(null);
  const canRequest = payable >= payoutMin;
  // Decided from the value itself, so the button is right from the first render.
  const valid = schema.safeParse({ coins: form.watch('coins') }).success;
  const formError = useServerError(form, request.error, ['coins']);

  // Called from the submit event, not during render: the callback reads the key ref.
  const onSubmit = (event: FormEvent) =>
    void form.handleSubmit(({ coins }) => {
    setDone(null);
    request.mutate(
      { coins, idempotencyKey: key.current },
      {
        onSuccess: (payout) => {
          key.current = newIdempotencyKey();
          form.reset({ coins: '' });
          setDone(payout.coins);
        },
      },
    );
  })(event);

  return (
    <form
      onSubmit={onSubmit}
      // A new amount is a new attempt: a new key, and the last refusal no longer applies.
      onChange={() => {
        key.current = newIdempotencyKey();
        if (request.isError) request.reset();
      }}
      className="space-y-3"
      aria-label="Request a payout"
    >
      {!canRequest ? (
        <p className="text-sm text-zinc-600 dark:text-zinc-400" data-testid="payout-below-min">
          Payouts start at {formatCoins(payoutMin)}; you can request {formatCoins(payable)} now.
          {held > 0 && ` ${formatCoins(held)} are held for a request in progress.`}
        </p>
      ) : (
        <div className="flex flex-wrap items-end gap-2">
          <TextField
            label="Coins to pay out"
            hint={`Minimum ${formatCoins(payoutMin)}, up to ${formatCoins(payable)}.`}
            error={form.formState.errors.coins?.message}
            className="w-56"
            type="number"
            inputMode="numeric"
            min={payoutMin}
            max={payable}
            step={1}
            {...form.register('coins')}
          />
          <Button type="submit" isLoading={request.isPending} disabled={!valid}>
            Request payout
          </Button>
        </div>
      )}
      {formError && (
        <Alert tone="error">
          {isApiError(request.error, 'payout_pending')
            ? 'A payout request of yours is still open: wait until it is settled.'
            : formError}
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
