import { useState, type FormEvent } from 'react';

import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { Field, Input } from '@/components/ui/form';
import { useLogin } from '@/features/auth/api/login';
import { errorMessage } from '@/lib/api-client';

export function LoginForm({ onSuccess }: { onSuccess: () => void }) {
  const [loginValue, setLoginValue] = useState('');
  const [password, setPassword] = useState('');
  const mutation = useLogin({ onSuccess });

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    mutation.mutate({ login: loginValue.trim(), password });
  };

  return (
    <form onSubmit={onSubmit} className="space-y-4" noValidate>
      {mutation.isError && <Alert tone="error">{errorMessage(mutation.error)}</Alert>}
      <Field label="Username or e-mail">
        {({ id, describedBy }) => (
          <Input
            id={id}
            aria-describedby={describedBy}
            autoComplete="username"
            required
            value={loginValue}
            onChange={(e) => setLoginValue(e.target.value)}
          />
        )}
      </Field>
      <Field label="Password">
        {({ id, describedBy }) => (
          <Input
            id={id}
            aria-describedby={describedBy}
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        )}
      </Field>
      <Button type="submit" className="w-full" isLoading={mutation.isPending} disabled={!loginValue || !password}>
        Log in
      </Button>
    </form>
  );
}
