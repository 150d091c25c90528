import { useId, useState, type FormEvent } from 'react';

import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { Field, Input, Textarea } from '@/components/ui/form';
import { CATEGORIES, PRICE_MAX } from '@/config/constants';
import type { RoomInput } from '@/features/studio/api/room-input';
import { isApiError } from '@/lib/api-client';

type Errors = Partial<Record<keyof RoomInput, string>>;

type RoomFormProps = {
  initial?: RoomInput;
  submitLabel: string;
  isPending: boolean;
  error: unknown;
  onSubmit: (input: RoomInput) => void;
  onCancel?: () => void;
  /** Why encryption cannot be changed now (the room is live), if it cannot. */
  e2eeLockedReason?: string | undefined;
};

const EMPTY: RoomInput = { title: '', description: '', category: '', price: 0, e2ee: false };

function validate(input: RoomInput, priceText: string): Errors {
  const errors: Errors = {};
  if (!input.title.trim()) errors.title = 'Give the room a title.';
  else if (input.title.trim().length > 100) errors.title = 'At most 100 characters.';
  if (input.description.length > 2000) errors.description = 'At most 2000 characters.';
  if (input.category.trim().length > 32) errors.category = 'At most 32 characters.';
  if (!/^\d+$/.test(priceText.trim()) || input.price > PRICE_MAX) {
    errors.price = `A whole number of coins from 0 to ${PRICE_MAX.toLocaleString()}.`;
  }
  return errors;
}

/** Create or edit a room: title, description, category, price and end-to-end encryption. */
export function RoomForm({ initial = EMPTY, submitLabel, isPending, error, onSubmit, onCancel, e2eeLockedReason }: RoomFormProps) {
  const [values, setValues] = useState<RoomInput>(initial);
  const [priceText, setPriceText] = useState(String(initial.price));
  const [errors, setErrors] = useState<Errors>({});
  const listId = useId();
  const e2eeHintId = useId();

  const serverField = isApiError(error) ? (error.field as keyof RoomInput | undefined) : undefined;
  const shown: Errors = { ...errors };
  if (serverField && serverField in EMPTY && isApiError(error)) shown[serverField] ??= error.message;
  const formError = error && !serverField ? (error instanceof Error ? error.message : 'Saving failed.') : null;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const input: RoomInput = {
      title: values.title.trim(),
      description: values.description.trim(),
      category: values.category.trim().toLowerCase(),
      price: Number(priceText.trim()),
      e2ee: values.e2ee,
    };
    const found = validate(input, priceText);
    setErrors(found);
    if (Object.keys(found).length === 0) onSubmit(input);
  };

  const set = <K extends keyof RoomInput>(key: K, value: RoomInput[K]) => {
    setValues((v) => ({ ...v, [key]: value }));
    setErrors((e) => ({ ...e, [key]: undefined }));
  };

  return (
    <form onSubmit={submit} className="space-y-4" noValidate>
      {formError && <Alert tone="error">{formError}</Alert>}
      <Field label="Title" error={shown.title}>
        {({ id, describedBy, invalid }) => (
          <Input id={id} aria-describedby={describedBy} aria-invalid={invalid} maxLength={100} value={values.title} onChange={(e) => set('title', e.target.value)} />
        )}
      </Field>
      <Field label="Description" error={shown.description}>
        {({ id, describedBy, invalid }) => (
          <Textarea id={id} aria-describedby={describedBy} aria-invalid={invalid} maxLength={2000} rows={3} value={values.description} onChange={(e) => set('description', e.target.value)} />
        )}
      </Field>
      <div className="grid gap-4 sm:grid-cols-2">
        <Field label="Category" error={shown.category} hint="Pick one or type your own.">
          {({ id, describedBy, invalid }) => (
            <>
              <Input id={id} aria-describedby={describedBy} aria-invalid={invalid} list={listId} maxLength={32} value={values.category} onChange={(e) => set('category', e.target.value)} />
              <datalist id={listId}>
                {CATEGORIES.map((c) => (
                  <option key={c} value={c} />
                ))}
              </datalist>
            </>
          )}
        </Field>
        <Field label="Price (coins)" error={shown.price} hint="0 makes the room free.">
          {({ id, describedBy, invalid }) => (
            <Input
              id={id}
              aria-describedby={describedBy}
              aria-invalid={invalid}
              inputMode="numeric"
              value={priceText}
              onChange={(e) => {
                setPriceText(e.target.value);
                setErrors((er) => ({ ...er, price: undefined }));
              }}
            />
          )}
        </Field>
      </div>
      <div className="space-y-1">
        <label className="flex items-center gap-2 text-sm font-medium text-zinc-700 dark:text-zinc-300">
          <input
            type="checkbox"
            className="size-4 accent-brand-600"
            checked={values.e2ee}
            disabled={e2eeLockedReason !== undefined}
            aria-describedby={e2eeHintId}
            onChange={(e) => set('e2ee', e.target.checked)}
          />
          End-to-end encrypted
        </label>
        {shown.e2ee && <p className="text-xs text-red-600 dark:text-red-400">{shown.e2ee}</p>}
        <p id={e2eeHintId} className="text-xs text-zinc-500 dark:text-zinc-400">
          {e2eeLockedReason ??
            'Only paying viewers’ browsers can see and hear the stream, not the server. Go live from the browser (OBS cannot encrypt); video is sent as VP8.'}
        </p>
      </div>
      <div className="flex gap-2">
        <Button type="submit" isLoading={isPending}>
          {submitLabel}
        </Button>
        {onCancel && (
          <Button variant="ghost" onClick={onCancel}>
            Cancel
          </Button>
        )}
      </div>
    </form>
  );
}
