import { useId, useRef, useState, type FormEvent } from 'react';
import { Link, useLocation } from 'react-router';

import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { paths } from '@/config/paths';
import { TIP_MAX, TIP_MESSAGE_MAX, TIP_PRESETS, tipErrorMessage, useSendTip } from '@/features/room/api/send-tip';
import { useBalance } from '@/lib/balance';
import { formatCoins } from '@/lib/format';
import { newIdempotencyKey } from '@/lib/ids';

/**
 * "Tip" in a room the viewer is in: a preset or custom amount, an optional
 * message, checked against the balance before anything is sent. Each attempt
 * has its own `Idempotency-Key`; it changes when the amount or message does
 * and after a tip went through, and stays for a retry of the same tip.
 */
export function TipButton({ roomId }: { roomId: string }) {
  const [open, setOpen] = useState(false);
  const [amount, setAmount] = useState<string>(String(TIP_PRESETS[0]));
  const [message, setMessage] = useState('');
  const [sent, setSent] = useState<number | null>(null);
  const key = useRef(newIdempotencyKey());
  const tip = useSendTip();
  const balance = useBalance();
  const location = useLocation();
  const formId = useId();

  const value = Number(amount);
  const wholeAmount = amount !== '' && Number.isInteger(value);
  const inRange = wholeAmount && value >= 1 && value <= TIP_MAX;
  const short = inRange && balance !== undefined && value > balance;
  const canSend = inRange && !short && message.length <= TIP_MESSAGE_MAX;

  const changed = () => {
    key.current = newIdempotencyKey();
    if (tip.isError) tip.reset();
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (!canSend) return;
    const text = message.trim();
    tip.mutate(
      { input: { roomId, amount: value, message: text || undefined }, idempotencyKey: key.current },
      {
        onSuccess: () => {
          key.current = newIdempotencyKey();
          setSent(value);
          setMessage('');
          setOpen(false);
        },
      },
    );
  };

  let amountProblem: string | null = null;
  if (amount !== '' && !inRange) amountProblem = `A tip is a whole number of coins from 1 to ${formatCoins(TIP_MAX)}.`;

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
                    setAmount(String(preset));
                    changed();
                  }}
                >
                  {formatCoins(preset)}
                </Button>
              ))}
              <label className="flex items-center gap-1 text-sm">
                <span>Other</span>
                <input
                  type="number"
                  inputMode="numeric"
                  min={1}
                  max={TIP_MAX}
                  step={1}
                  value={amount}
                  aria-label="Tip amount in coins"
                  aria-invalid={amountProblem !== null || short}
                  onChange={(e) => {
                    setAmount(e.target.value);
                    changed();
                  }}
                  className="h-8 w-24 rounded-lg border border-zinc-300 bg-white px-2 text-sm dark:border-zinc-700 dark:bg-zinc-900"
                />
              </label>
            </div>
          </fieldset>
          <label className="block space-y-1 text-sm">
            <span className="font-medium">Message (optional)</span>
            <input
              value={message}
              maxLength={TIP_MESSAGE_MAX}
              onChange={(e) => {
                setMessage(e.target.value);
                changed();
              }}
              placeholder="Say something with your tip"
              className="h-9 w-full rounded-lg border border-zinc-300 bg-white px-3 text-sm dark:border-zinc-700 dark:bg-zinc-900"
            />
          </label>
          {amountProblem && <p className="text-sm text-red-700 dark:text-red-300">{amountProblem}</p>}
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
              {inRange ? `Send ${formatCoins(value)}` : 'Send tip'}
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
