import type { ReactNode } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router';

import { Card } from '@/components/ui/card';
import { Link } from '@/components/ui/link';
import { paths } from '@/config/paths';
import { LoginForm } from '@/features/auth/components/login-form';
import { RegisterForm } from '@/features/auth/components/register-form';
import { useUser } from '@/lib/auth';
import { useDocumentTitle } from '@/lib/hooks';

/** Only same-site paths: `?redirectTo=https://evil.example` is ignored. */
function safeRedirect(value: string | null): string {
  return value && value.startsWith('/') && !value.startsWith('//') ? value : paths.home.getHref();
}

function AuthPage({ title, children, footer }: { title: string; children: ReactNode; footer: ReactNode }) {
  return (
    <div className="mx-auto max-w-sm py-6">
      <Card>
        <h1 className="mb-4 text-xl font-bold">{title}</h1>
        {children}
        <p className="mt-4 text-center text-sm text-zinc-600 dark:text-zinc-400">{footer}</p>
      </Card>
    </div>
  );
}

export function LoginRoute() {
  useDocumentTitle('Log in');
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const { data: user } = useUser();
  const redirectTo = safeRedirect(params.get('redirectTo'));
  if (user) return <Navigate to={redirectTo} replace />;
  return (
    <AuthPage
      title="Log in"
      footer={
        <>
          New here? <Link to={paths.register.getHref(params.get('redirectTo'))}>Create an account</Link>
        </>
      }
    >
      <LoginForm onSuccess={() => void navigate(redirectTo, { replace: true })} />
    </AuthPage>
  );
}

export function RegisterRoute() {
  useDocumentTitle('Sign up');
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const { data: user } = useUser();
  const redirectTo = safeRedirect(params.get('redirectTo'));
  if (user) return <Navigate to={redirectTo} replace />;
  return (
    <AuthPage
      title="Create your account"
      footer={
        <>
          Have an account? <Link to={paths.login.getHref(params.get('redirectTo'))}>Log in</Link>
        </>
      }
    >
      <RegisterForm onSuccess={() => void navigate(redirectTo, { replace: true })} />
    </AuthPage>
  );
}
