import { useId } from 'react';
import { z } from 'zod';

import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { TextField } from '@/components/ui/form';
import { CATEGORIES, PRICE_MAX } from '@/config/constants';
import type { RoomInput } from '@/features/studio/api/room-input';
import { useServerError, useZodForm } from '@/lib/form';

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
const priceError = `A whole number of coins from 0 to ${PRICE_MAX.toLocaleString()}.`;

// The server's rules (docs/openapi.yaml RoomCreate): lengths after trimming, the category stored lowercase.
const schema = z.object({
  title: z.string().trim().min(1, 'Give the room a title.').max(100, 'At most 100 characters.'),
  description: z.string().trim().max(2000, 'At most 2000 characters.'),
  category: z
    .string()
    .trim()
    .max(32, 'At most 32 characters.')
    .transform((c) => c.toLowerCase()),
  price: z
    .string()
    .trim()
    .regex(/^\d+$/, priceError)
    .transform(Number)
    .refine((p) => p <= PRICE_MAX, priceError),
  e2ee: z.boolean(),
});
type RoomText = z.input<typeof schema>;
const FIELDS = ['title', 'description', 'category', 'price', 'e2ee'] as const;

/** Create or edit a room: title, description, category, price and end-to-end encryption. */
export function RoomForm({ initial = EMPTY, submitLabel, isPending, error, onSubmit, onCancel, e2eeLockedReason }: RoomFormProps) {
  const form = useZodForm<RoomText, RoomInput>(schema, { defaultValues: { ...initial, price: String(initial.price) } });
  const {
    register,
    formState: { errors },
  } = form;
  const formError = useServerError(form, error, FIELDS);
  const listId = useId();
  const e2eeHintId = useId();

  return (
    <form onSubmit={form.handleSubmit(onSubmit)} className="space-y-4" noValidate>
      {formError && <Alert tone="error">{formError}</Alert>}
      <TextField label="Title" error={errors.title?.message} maxLength={100} {...register('title')} />
      <TextField label="Description" error={errors.description?.message} multiline maxLength={2000} rows={3} {...register('description')} />
      <div className="grid gap-4 sm:grid-cols-2">
        <TextField
          label="Category"
          error={errors.category?.message}
          hint="Pick one or type your own."
          list={listId}
          maxLength={32}
          {...register('category')}
          extra={
            <datalist id={listId}>
              {CATEGORIES.map((c) => (
                <option key={c} value={c} />
              ))}
            </datalist>
          }
        />
        <TextField label="Price (coins)" error={errors.price?.message} hint="0 makes the room free." inputMode="numeric" {...register('price')} />
      </div>
      <div className="space-y-1">
        <label className="flex items-center gap-2 text-sm font-medium text-zinc-700 dark:text-zinc-300">
          <input
            type="checkbox"
            className="size-4 accent-brand-600"
            disabled={e2eeLockedReason !== undefined}
            aria-describedby={e2eeHintId}
            // Not registered: a disabled registered input would submit no value at all.
            checked={form.watch('e2ee')}
            onChange={(e) => form.setValue('e2ee', e.target.checked)}
          />
          End-to-end encrypted
        </label>
        {errors.e2ee && <p className="text-xs text-red-600 dark:text-red-400">{errors.e2ee.message}</p>}
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
