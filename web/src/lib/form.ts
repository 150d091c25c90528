/**
 * Forms: react-hook-form with a zod schema, and the API's refusals placed on
 * the field they name (`error.field` of a 422, or a code such as
 * `username_taken`) or, when they name none, returned for the form's alert.
 */
import { zodResolver } from '@hookform/resolvers/zod';
import { useEffect } from 'react';
import { useForm, type FieldValues, type Path, type UseFormProps, type UseFormReturn } from 'react-hook-form';
import type { z } from 'zod';

import { errorMessage, isApiError } from '@/lib/api-client';

/** `useForm` validated by `schema`; the submit handler gets the schema's output (trimmed, converted). */
export function useZodForm<In extends FieldValues, Out extends FieldValues>(
  schema: z.ZodType<Out, In>,
  options: Omit<UseFormProps<In, unknown, Out>, 'resolver'> = {},
): UseFormReturn<In, unknown, Out> {
  return useForm<In, unknown, Out>({ mode: 'onTouched', ...options, resolver: zodResolver(schema) });
}

/**
 * Which form field a server refusal belongs to, if any: the 422's `field`
 * when the form has it, or through `aliases`, keyed by a refusal code
 * (`username_taken`) or a server field name that the form calls otherwise.
 */
export function serverErrorField<T extends FieldValues>(
  error: unknown,
  fields: readonly Path<T>[],
  aliases: Partial<Record<string, Path<T>>> = {},
): Path<T> | undefined {
  if (!isApiError(error)) return undefined;
  const byCode = aliases[error.code];
  if (byCode) return byCode;
  if (error.field === undefined) return undefined;
  return aliases[error.field] ?? fields.find((f) => f === error.field);
}

/**
 * Puts a server refusal on its field (and focuses it) whenever `error`
 * changes; returns the message for the form's own alert when it names no
 * field of this form, else null.
 */
export function useServerError<T extends FieldValues>(
  form: Pick<UseFormReturn<T, unknown, FieldValues>, 'setError'>,
  error: unknown,
  fields: readonly Path<T>[],
  aliases: Partial<Record<string, Path<T>>> = {},
): string | null {
  const field = serverErrorField(error, fields, aliases);
  const { setError } = form;
  useEffect(() => {
    if (field && error instanceof Error) setError(field, { type: 'server', message: error.message }, { shouldFocus: true });
  }, [error, field, setError]);
  if (!error || field) return null;
  return errorMessage(error);
}

