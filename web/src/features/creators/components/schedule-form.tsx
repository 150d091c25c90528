import { z } from 'zod';

import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { TextField } from '@/components/ui/form';
import { useUpdateSchedule } from '@/features/creators/api/update-schedule';
import { useServerError, useZodForm } from '@/lib/form';

// The server's rule (docs/openapi.yaml, PUT /api/users/me/profile).
const schema = z.object({
  schedule: z.string().trim().max(500, 'At most 500 characters.'),
});
type ScheduleInput = z.input<typeof schema>;
type ScheduleOutput = z.output<typeof schema>;
const FIELDS = ['schedule'] as const;

/** The creator's own page: edit the schedule text viewers see. */
export function ScheduleForm({ username, schedule, onDone }: { username: string; schedule: string; onDone: () => void }) {
  const update = useUpdateSchedule(username);
  const form = useZodForm<ScheduleInput, ScheduleOutput>(schema, { defaultValues: { schedule } });
  const formError = useServerError(form, update.error, FIELDS);
  return (
    <form
      noValidate
      className="space-y-3"
      onSubmit={form.handleSubmit(({ schedule: next }) => update.mutate(next, { onSuccess: onDone }))}
    >
      {formError && <Alert tone="error">{formError}</Alert>}
      <TextField
        label="Your schedule"
        hint="When you usually stream, e.g. “Weeknights 8–11 pm CET”."
        multiline
        rows={3}
        maxLength={500}
        error={form.formState.errors.schedule?.message}
        {...form.register('schedule')}
      />
      <div className="flex gap-2">
        <Button type="submit" size="sm" isLoading={update.isPending}>
          Save schedule
        </Button>
        <Button type="button" size="sm" variant="ghost" onClick={onDone}>
          Cancel
        </Button>
      </div>
    </form>
  );
}
