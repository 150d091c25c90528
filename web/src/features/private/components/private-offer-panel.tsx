import { useState, type FormEvent, type ReactNode } from 'react';

import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { Field, Input } from '@/components/ui/form';
import { Skeleton } from '@/components/ui/skeleton';
import { PRIVATE_PRICE_MAX } from '@/features/private/constants';
import { useMyOffer } from '@/features/private/api/get-offer';
import { useUpdateOffer } from '@/features/private/api/update-offer';
import { errorMessage, isApiError } from '@/lib/api-client';
import { formatCoins } from '@/lib/format';
import type { PrivateOffer } from '@/types/api';

function Toggle({
  checked,
  onChange,
  label,
  hint,
}: {
  checked: boolean;
  onChange: (checked: boolean) => void;
  label: string;
  hint: ReactNode;
}) {
  return (
    <label className="flex items-start gap-3 text-sm">
      <input
        type="checkbox"
        className="mt-0.5 size-4 accent-brand-600"
        checked={checked}
        onChange={(e) => onChange(e.target.checked)}
      />
      <span>
        <span className="block font-medium text-zinc-800 dark:text-zinc-200">{label}</span>
        <span className="block text-xs text-zinc-500 dark:text-zinc-400">{hint}</span>
      </span>
    </label>
  );
}

function OfferForm({ offer }: { offer: PrivateOffer }) {
  const update = useUpdateOffer();
  const [priceText, setPriceText] = useState(offer.pricePerMinute > 0 ? String(offer.pricePerMinute) : '');
  const [accepting, setAccepting] = useState(offer.accepting);
  const [pauseRoom, setPauseRoom] = useState(offer.pauseRoom);
  const [priceError, setPriceError] = useState<string | null>(null);

  const serverPriceError =
    isApiError(update.error) && update.error.field === 'pricePerMinute' ? update.error.message : null;
  const formError = update.error && !serverPriceError ? errorMessage(update.error) : null;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const text = priceText.trim();
    const price = text === '' ? 0 : Number(text);
    const valid = /^\d+$/.test(text) && price >= 1 && price <= PRIVATE_PRICE_MAX;
    // A price is needed only to accept requests; switched off, an empty one is kept as 0.
    if (accepting ? !valid : text !== '' && !valid) {
      setPriceError(`A whole number of coins from 1 to ${PRIVATE_PRICE_MAX.toLocaleString()}.`);
      return;
    }
    setPriceError(null);
    update.mutate({ pricePerMinute: price, accepting, pauseRoom });
  };

  const saved = update.isSuccess && update.data;
  return (
    <form onSubmit={submit} className="space-y-4" noValidate>
      <p className="text-sm text-zinc-600 dark:text-zinc-400">
        A viewer asks for you alone: you both see and hear each other, and their coins come to you by the minute.
      </p>
      {formError && <Alert tone="error">{formError}</Alert>}
      <Field
        label="Price per minute (coins)"
        error={priceError ?? serverPriceError ?? undefined}
        hint="Viewers pay this at the start of every minute; the last minute to the second."
        className="max-w-xs"
      >
        {({ id, describedBy, invalid }) => (
          <Input
            id={id}
            inputMode="numeric"
            aria-describedby={describedBy}
            aria-invalid={invalid}
            value={priceText}
            onChange={(e) => {
              setPriceText(e.target.value);
              setPriceError(null);
              update.reset();
            }}
          />
        )}
      </Field>
      <Toggle
        checked={accepting}
        onChange={(value) => {
          setAccepting(value);
          update.reset();
        }}
        label="Accept private requests now"
        hint="Viewers see a request button on your rooms while this is on."
      />
      <Toggle
        checked={pauseRoom}
        onChange={(value) => {
          setPauseRoom(value);
          update.reset();
        }}
        label="Pause my live rooms during a private session"
        hint="Their viewers see that you are in a private session. Off: your rooms keep running."
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
        <Alert
          tone="error"
          title="Your private-session settings could not be loaded."
          action={
            <Button size="sm" variant="secondary" onClick={() => void offer.refetch()}>
              Try again
            </Button>
          }
        >
          {errorMessage(offer.error)}
        </Alert>
      ) : (
        <OfferForm offer={offer.data} />
      )}
    </Card>
  );
}
