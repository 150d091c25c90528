import { useId, useRef, useState, type FormEvent } from 'react';
import { Link, useLocation } from 'react-router';
import { z } from 'zod';

import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { TextField } from '@/components/ui/form';
import { paths } from '@/config/paths';
import { TIP_MAX, TIP_MESSAGE_MAX, TIP_PRESETS, tipErrorMessage, useSendTip } from '@/features/room/api/send-tip';
import { useBalance } from '@/lib/balance';
import { formatCoins } from '@/lib/format';
import { useZodForm } from '@/lib/form';
import { newIdempotencyKey } from '@/lib/ids';

const amountError = `A tip is a whole number of coins from 1 to ${formatCoins(TIP_MAX)}.`;

// The server's rules (docs/openapi.yaml POST /api/tips): 1–TIP_MAX coins, a message of at most TIP_MESSAGE_MAX.
const schema = z.object({
  amount: z
    .string()
    .trim()
    .regex(/^\d+$/, amountError)
    .transform(Number)
    .refine((n) => n >= 1 && n <= TIP_MAX, amountError),
  message: z
    .string()
    .trim()
    .max(TIP_MESSAGE_MAX, `At most ${TIP_MESSAGE_MAX} characters.`)
    .transform((m) => m || undefined),
});

/**
 * "Tip" in a room the viewer is in: a preset or custom amount, an optional
 * message, checked against the balance before anything is sent. Each attempt
 * has its own `Idempotency-Key`; it changes when the amount or message does
 * and after a tip went through, and stays for a retry of the same tip.
 */
export function TipButton({ roomId }: { roomId: string }) {
  const [open, setOpen] = useState(false);
  const [sent, setSent] = useState<number | null>(null);
  const form = useZodForm(schema, { mode: 'onChange', defaultValues: { amount: String(TIP_PRESETS[0]), message: '' } });
  const key = useRef(newIdempotencyKey());
  const tip = useSendTip();
  const balance = useBalance();
  const location = useLocation();
  const formId = useId();

  // Decided from the values themselves, so the button is right from the first render.
  const parsed = schema.safeParse(form.watch());
  const value = parsed.success ? parsed.data.amount : null;
  const short = value !== null && balance !== undefined && value > balance;
  const canSend = value !== null && !short;

  const changed = () => {
    key.current = newIdempotencyKey();
    if (tip.isError) tip.reset();
  };

  // Called from the submit event, not during render: the callback reads the key ref.
  const onSubmit = (event: FormEvent) =>
    void form.handleSubmit(({ amount, message }) => {
    if (short) return;
    tip.mutate(
      { input: { roomId, amount, message }, idempotencyKey: key.current },
      {
        onSuccess: () => {
          key.current = newIdempotencyKey();
          setSent(amount);
          form.setValue('message', '');
          setOpen(false);
        },
      },
    );
  })(event);
  const errors = form.formState.errors;

  return (
    <div className="space-y-2">
      <div className="flex flex-wrap items-center gap-2">
        <Button
          variant="secondary"
          size="sm"
          aria-expanded={open}
          aria-controls={open ? formId : undefined}
          onClick={() => {
            setOpen((o) => !o);
            setSent(null);
          }}
        >
          Tip the creator
        </Button>
        {sent !== null && !open && (
          <p role="status" className="text-sm text-emerald-700 dark:text-emerald-300">
            You tipped {formatCoins(sent)}. Thank you!
          </p>
        )}
      </div>
      {open && (
        <form
          id={formId}
          onSubmit={onSubmit}
          // Any edit (typed; the presets call it themselves) starts a new attempt with a new key.
          onChange={changed}
          aria-label="Send a tip"
          className="space-y-3 rounded-xl border border-amber-300 bg-amber-50/60 p-3 dark:border-amber-800 dark:bg-amber-950/30"
        >
          <fieldset className="space-y-2">
            <legend className="text-sm font-medium">Amount</legend>
            <div className="flex flex-wrap items-center gap-2">
              {TIP_PRESETS.map((preset) => (
                <Button
                  key={preset}
                  size="sm"
                  variant={value === preset ? 'primary' : 'secondary'}
                  aria-pressed={value === preset}
                  onClick={() => {
                    form.setValue('amount', String(preset), { shouldValidate: true });
                    changed();
                  }}
                >
                  {formatCoins(preset)}
                </Button>
              ))}
              <TextField
                label="Other amount (coins)"
                className="flex items-center gap-2 space-y-0"
                inputClassName="h-8 w-24 px-2"
                type="number"
                inputMode="numeric"
                min={1}
                max={TIP_MAX}
                step={1}
                error={errors.amount?.message}
                {...form.register('amount')}
              />
            </div>
          </fieldset>
          <TextField
            label="Message (optional)"
            maxLength={TIP_MESSAGE_MAX}
            placeholder="Say something with your tip"
            inputClassName="h-9"
            error={errors.message?.message}
            {...form.register('message')}
          />
          {short && balance !== undefined && (
            <p className="text-sm text-amber-900 dark:text-amber-200" data-testid="tip-short">
              Your balance is {formatCoins(balance)}.{' '}
              <Link to={paths.wallet.getHref(`${location.pathname}${location.search}`)} className="font-semibold underline">
                Get coins
              </Link>
            </p>
          )}
          <div className="flex flex-wrap gap-2">
            <Button type="submit" size="sm" isLoading={tip.isPending} disabled={!canSend}>
              {value !== null ? `Send ${formatCoins(value)}` : 'Send tip'}
            </Button>
            <Button size="sm" variant="ghost" onClick={() => setOpen(false)}>
              Cancel
            </Button>
          </div>
          {tip.isError && <Alert tone="error">{tipErrorMessage(tip.error)}</Alert>}
        </form>
      )}
    </div>
  );
}
