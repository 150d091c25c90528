import { useState, type FormEvent } from 'react';

import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { Field, Input } from '@/components/ui/form';
import { useRegister, type RegisterInput } from '@/features/auth/api/register';
import { isApiError } from '@/lib/api-client';

type Fields = 'username' | 'email' | 'password' | 'displayName';
type Errors = Partial<Record<Fields, string>>;

const USERNAME = /^[a-z0-9_]{3,32}$/;

/** Mirrors the server's rules so most mistakes show before a round trip. */
function validate(input: RegisterInput): Errors {
  const errors: Errors = {};
  if (!USERNAME.test(input.username)) {
    errors.username = '3–32 characters: lowercase letters, digits and _.';
  }
  if (!/^[^\s@]+@[^\s@]+$/.test(input.email)) errors.email = 'Enter an e-mail address.';
  if (input.password.length < 8) errors.password = 'At least 8 characters.';
  if ((input.displayName ?? '').length > 64) errors.displayName = 'At most 64 characters.';
  return errors;
}

/** Where a server refusal belongs: next to its field, or above the form. */
function serverErrors(error: unknown): { fields: Errors; form?: string } {
  if (!isApiError(error)) return { fields: {}, form: error instanceof Error ? error.message : undefined };
  if (error.code === 'username_taken') return { fields: { username: error.message } };
  if (error.code === 'email_taken') return { fields: { email: error.message } };
  const field = error.field as Fields | undefined;
  if (field && ['username', 'email', 'password', 'displayName'].includes(field)) {
    return { fields: { [field]: error.message } };
  }
  return { fields: {}, form: error.message };
}

export function RegisterForm({ onSuccess }: { onSuccess: () => void }) {
  const [values, setValues] = useState<RegisterInput>({ username: '', email: '', password: '', displayName: '' });
  const [errors, setErrors] = useState<Errors>({});
  const mutation = useRegister({ onSuccess });
  const server = mutation.isError ? serverErrors(mutation.error) : { fields: {} };
  const shown: Errors = { ...server.fields, ...errors };

  const set = (field: Fields) => (event: { target: { value: string } }) => {
    setValues((v) => ({ ...v, [field]: event.target.value }));
    setErrors((e) => ({ ...e, [field]: undefined }));
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const input: RegisterInput = {
      username: values.username.trim(),
      email: values.email.trim(),
      password: values.password,
      ...(values.displayName?.trim() ? { displayName: values.displayName.trim() } : {}),
    };
    const found = validate(input);
    setErrors(found);
    if (Object.keys(found).length === 0) mutation.mutate(input);
  };

  return (
    <form onSubmit={onSubmit} className="space-y-4" noValidate>
      {server.form && <Alert tone="error">{server.form}</Alert>}
      <Field label="Username" error={shown.username} hint="Lowercase letters, digits and _ (3–32).">
        {({ id, describedBy, invalid }) => (
          <Input
            id={id}
            aria-describedby={describedBy}
            aria-invalid={invalid}
            autoComplete="username"
            autoCapitalize="none"
            value={values.username}
            onChange={set('username')}
          />
        )}
      </Field>
      <Field label="Display name (optional)" error={shown.displayName}>
        {({ id, describedBy, invalid }) => (
          <Input
            id={id}
            aria-describedby={describedBy}
            aria-invalid={invalid}
            autoComplete="nickname"
            value={values.displayName}
            onChange={set('displayName')}
          />
        )}
      </Field>
      <Field label="E-mail" error={shown.email}>
        {({ id, describedBy, invalid }) => (
          <Input
            id={id}
            aria-describedby={describedBy}
            aria-invalid={invalid}
            type="email"
            autoComplete="email"
            value={values.email}
            onChange={set('email')}
          />
        )}
      </Field>
      <Field label="Password" error={shown.password} hint="At least 8 characters.">
        {({ id, describedBy, invalid }) => (
          <Input
            id={id}
            aria-describedby={describedBy}
            aria-invalid={invalid}
            type="password"
            autoComplete="new-password"
            value={values.password}
            onChange={set('password')}
          />
        )}
      </Field>
      <Button type="submit" className="w-full" isLoading={mutation.isPending}>
        Create account
      </Button>
    </form>
  );
}
