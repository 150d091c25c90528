import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

import { SelectField, TextField } from '@/components/ui/form';
import { ApiError } from '@/lib/api-client';
import { useServerError, useZodForm } from '@/lib/form';

describe('TextField', () => {
  it('names the control by its label and describes it by the hint', () => {
    render(<TextField label="Username" hint="3–32 characters." />);
    const input = screen.getByRole('textbox', { name: 'Username' });
    expect(input).toHaveAccessibleDescription('3–32 characters.');
    expect(input).toHaveAttribute('aria-invalid', 'false');
  });

  it('shows an error in place of the hint, marks the control invalid and describes it by the error', () => {
    render(<TextField label="Username" hint="3–32 characters." error="That username is taken." />);
    const input = screen.getByRole('textbox', { name: 'Username' });
    expect(input).toHaveAttribute('aria-invalid', 'true');
    expect(input).toHaveAccessibleDescription('That username is taken.');
    expect(screen.queryByText('3–32 characters.')).not.toBeInTheDocument();
  });

  it('is a textarea when multiline, and a select field is wired the same way', () => {
    render(
      <>
        <TextField label="Description" multiline error="Too long." />
        <SelectField label="Camera" hint="Pick one.">
          <option value="">Default camera</option>
        </SelectField>
      </>,
    );
    const area = screen.getByRole('textbox', { name: 'Description' });
    expect(area.tagName).toBe('TEXTAREA');
    expect(area).toHaveAccessibleDescription('Too long.');
    expect(screen.getByRole('combobox', { name: 'Camera' })).toHaveAccessibleDescription('Pick one.');
  });
});

const schema = z.object({ title: z.string().trim().min(1, 'Give the room a title.') });

function Form({ serverError }: { serverError: unknown }) {
  const form = useZodForm(schema, { defaultValues: { title: '' } });
  const formError = useServerError(form, serverError, ['title'], { title_taken: 'title' });
  return (
    <form onSubmit={form.handleSubmit(() => undefined)} noValidate>
      {formError && <p role="alert">{formError}</p>}
      <TextField label="Title" error={form.formState.errors.title?.message} {...form.register('title')} />
      <button type="submit">Save</button>
    </form>
  );
}

describe('forms (react-hook-form + zod) with TextField', () => {
  it("shows the schema's message on the field when submitted empty", async () => {
    render(<Form serverError={null} />);
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByRole('textbox', { name: 'Title' })).toHaveAccessibleDescription('Give the room a title.');
  });

  it('puts a 422 naming a field on that field, and focuses it', async () => {
    render(<Form serverError={new ApiError(422, 'validation_failed', 'At most 100 characters.', { field: 'title' })} />);
    const input = screen.getByRole('textbox', { name: 'Title' });
    expect(await screen.findByText('At most 100 characters.')).toBeInTheDocument();
    expect(input).toHaveAttribute('aria-invalid', 'true');
    expect(input).toHaveFocus();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('puts a refusal code that belongs to a field on it, and anything else above the form', async () => {
    const { unmount } = render(<Form serverError={new ApiError(409, 'title_taken', 'That title is taken.')} />);
    expect(await screen.findByRole('textbox', { name: 'Title' })).toHaveAccessibleDescription('That title is taken.');
    unmount();
    render(<Form serverError={new ApiError(429, 'rate_limited', 'Slow down.')} />);
    expect(screen.getByRole('alert')).toHaveTextContent('Slow down.');
    expect(screen.getByRole('textbox', { name: 'Title' })).toHaveAttribute('aria-invalid', 'false');
  });
});
