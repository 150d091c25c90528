import type { UseMutationResult } from '@tanstack/react-query';
import type { Path } from 'react-hook-form';
import { z } from 'zod';

import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { TextField } from '@/components/ui/form';
import { useLogin, type LoginInput } from '@/features/auth/api/login';
import { useRegister, type RegisterInput } from '@/features/auth/api/register';
import { useServerError, useZodForm } from '@/lib/form';

// The server's rules (docs/openapi.yaml RegisterRequest), so most mistakes show before a round trip.
const registerSchema = z.object({
  username: z
    .string()
    .trim()
    .regex(/^[a-z0-9_]{3,32}$/, '3–32 characters: lowercase letters, digits and _.'),
  displayName: z
    .string()
    .trim()
    .max(64, 'At most 64 characters.')
    .transform((v) => v || undefined),
  email: z
    .string()
    .trim()
    .max(254, 'At most 254 characters.')
    .regex(/^[^\s@]+@[^\s@]+$/, 'Enter an e-mail address.'),
  password: z.string().min(8, 'At least 8 characters.').max(256, 'At most 256 characters.'),
});

const loginSchema = z.object({
  login: z.string().trim().min(1, 'Enter your username or e-mail.'),
  password: z.string().min(1, 'Enter your password.'),
});

type FieldSpec<In> = {
  name: Path<In>;
  label: string;
  type?: 'text' | 'email' | 'password';
  autoComplete: string;
  hint?: string;
};

type AuthFormProps<In extends Record<string, string>, Out> = {
  schema: z.ZodType<Out, In>;
  defaults: In;
  fields: ReadonlyArray<FieldSpec<In>>;
  /** Refusal codes that belong to a field (`username_taken` → `username`). */
  aliases?: Partial<Record<string, Path<In>>>;
  mutation: Pick<UseMutationResult<unknown, Error, Out>, 'mutate' | 'isPending' | 'error'>;
  submitLabel: string;
};

/** The one shape of the sign-in and sign-up forms: fields from a list, zod rules, server errors on their field. */
function AuthForm<In extends Record<string, string>, Out>({
  schema,
  defaults,
  fields,
  aliases,
  mutation,
  submitLabel,
}: AuthFormProps<In, Out>) {
  const form = useZodForm(schema as z.ZodType<Out & Record<string, unknown>, In>, {
    defaultValues: defaults as never,
  });
  const {
    register,
    formState: { errors },
  } = form;
  const formError = useServerError(
    form,
    mutation.error,
    fields.map((f) => f.name),
    aliases,
  );
  return (
    <form onSubmit={form.handleSubmit((input) => mutation.mutate(input))} className="space-y-4" noValidate>
      {formError && <Alert tone="error">{formError}</Alert>}
      {fields.map((f) => (
        <TextField
          key={f.name}
          label={f.label}
          type={f.type ?? 'text'}
          autoComplete={f.autoComplete}
          autoCapitalize={f.type === 'password' ? undefined : 'none'}
          hint={f.hint}
          error={errors[f.name]?.message as string | undefined}
          {...register(f.name)}
        />
      ))}
      <Button type="submit" className="w-full" isLoading={mutation.isPending}>
        {submitLabel}
      </Button>
    </form>
  );
}

export function LoginForm({ onSuccess }: { onSuccess: () => void }) {
  const mutation = useLogin({ onSuccess });
  return (
    <AuthForm<LoginInput, LoginInput>
      schema={loginSchema}
      defaults={{ login: '', password: '' }}
      fields={[
        { name: 'login', label: 'Username or e-mail', autoComplete: 'username' },
        { name: 'password', label: 'Password', type: 'password', autoComplete: 'current-password' },
      ]}
      mutation={mutation}
      submitLabel="Log in"
    />
  );
}

type RegisterText = { username: string; displayName: string; email: string; password: string };

export function RegisterForm({ onSuccess }: { onSuccess: () => void }) {
  const mutation = useRegister({ onSuccess });
  return (
    <AuthForm<RegisterText, RegisterInput>
      schema={registerSchema}
      defaults={{ username: '', displayName: '', email: '', password: '' }}
      fields={[
        { name: 'username', label: 'Username', autoComplete: 'username', hint: 'Lowercase letters, digits and _ (3–32).' },
        { name: 'displayName', label: 'Display name (optional)', autoComplete: 'nickname' },
        { name: 'email', label: 'E-mail', type: 'email', autoComplete: 'email' },
        { name: 'password', label: 'Password', type: 'password', autoComplete: 'new-password', hint: 'At least 8 characters.' },
      ]}
      aliases={{ username_taken: 'username', email_taken: 'email' }}
      mutation={mutation}
      submitLabel="Create account"
    />
  );
}
