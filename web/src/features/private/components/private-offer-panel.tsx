import type { InputHTMLAttributes, ReactNode } from 'react';
import { z } from 'zod';

import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { TextField } from '@/components/ui/form';
import { Skeleton } from '@/components/ui/skeleton';
import { QueryError } from '@/components/ui/query-error';
import { PRIVATE_PRICE_MAX } from '@/features/private/constants';
import { useMyOffer } from '@/features/private/api/get-offer';
import { useUpdateOffer } from '@/features/private/api/update-offer';
import { formatCoins } from '@/lib/format';
import { useServerError, useZodForm } from '@/lib/form';
import type { PrivateOffer } from '@/types/api';

function Toggle({ label, hint, ...input }: { label: string; hint: ReactNode } & InputHTMLAttributes<HTMLInputElement>) {
  return (
    <label className="flex items-start gap-3 text-sm">
      <input type="checkbox" className="mt-0.5 size-4 accent-brand-600" {...input} />
      <span>
        <span className="block font-medium text-zinc-800 dark:text-zinc-200">{label}</span>
        <span className="block text-xs text-zinc-500 dark:text-zinc-400">{hint}</span>
      </span>
    </label>
  );
}

const priceError = `A whole number of coins from 1 to ${PRIVATE_PRICE_MAX.toLocaleString()}.`;

// The server's rules (docs/openapi.yaml PUT /api/private/offer): 0–100000 coins, at least 1 while accepting.
// An empty price is kept as 0 while requests are off.
const schema = z
  .object({
    price: z.string().trim().regex(/^\d*$/, priceError).transform(Number),
    accepting: z.boolean(),
    pauseRoom: z.boolean(),
  })
  .superRefine(({ price, accepting }, ctx) => {
    if (price > PRIVATE_PRICE_MAX || (accepting && price < 1)) ctx.addIssue({ code: 'custom', path: ['price'], message: priceError });
  })
  .transform(({ price, accepting, pauseRoom }) => ({ pricePerMinute: price, accepting, pauseRoom }));

function OfferForm({ offer }: { offer: PrivateOffer }) {
  const update = useUpdateOffer();
  const form = useZodForm(schema, {
    defaultValues: {
      price: offer.pricePerMinute > 0 ? String(offer.pricePerMinute) : '',
      accepting: offer.accepting,
      pauseRoom: offer.pauseRoom,
    },
  });
  const {
    register,
    formState: { errors },
  } = form;
  const formError = useServerError(form, update.error, [], { pricePerMinute: 'price' });
  // A change after an answer clears it (a saved note or a refusal no longer applies).
  const changed = { onChange: () => update.reset() };

  const saved = update.isSuccess && update.data;
  return (
    <form onSubmit={form.handleSubmit((input) => update.mutate(input))} className="space-y-4" noValidate>
      <p className="text-sm text-zinc-600 dark:text-zinc-400">
        A viewer asks for you alone: you both see and hear each other, and their coins come to you by the minute.
      </p>
      {formError && <Alert tone="error">{formError}</Alert>}
      <TextField
        label="Price per minute (coins)"
        error={errors.price?.message}
        hint="Viewers pay this at the start of every minute; the last minute to the second."
        className="max-w-xs"
        inputMode="numeric"
        {...register('price', changed)}
      />
      <Toggle
        label="Accept private requests now"
        hint="Viewers see a request button on your rooms while this is on."
        {...register('accepting', changed)}
      />
      <Toggle
        label="Pause my live rooms during a private session"
        hint="Their viewers see that you are in a private session. Off: your rooms keep running."
        {...register('pauseRoom', changed)}
      />
      <div className="flex flex-wrap items-center gap-3">
        <Button type="submit" isLoading={update.isPending}>
          Save private sessions
        </Button>
        {saved && (
          <p role="status" className="text-sm text-emerald-700 dark:text-emerald-300">
            {saved.accepting
              ? `Saved: accepting requests at ${formatCoins(saved.pricePerMinute)} per minute.`
              : 'Saved: not accepting requests.'}
          </p>
        )}
      </div>
    </form>
  );
}

/** The studio's panel for the creator's private-session terms (`PUT /api/private/offer`). */
export function PrivateOfferPanel() {
  const offer = useMyOffer();
  return (
    <Card title="Private sessions">
      {offer.isPending ? (
        <div className="space-y-2" aria-busy="true" aria-label="Loading your private-session settings">
          <Skeleton className="h-10 w-48" />
          <Skeleton className="h-6 w-72" />
        </div>
      ) : offer.isError ? (
        <QueryError title="Your private-session settings could not be loaded." error={offer.error} onRetry={offer.refetch} />
      ) : (
        <OfferForm offer={offer.data} />
      )}
    </Card>
  );
}
