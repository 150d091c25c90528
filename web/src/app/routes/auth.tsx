import { Navigate, useNavigate, useSearchParams } from 'react-router';

import { Card } from '@/components/ui/card';
import { Link } from '@/components/ui/link';
import { paths } from '@/config/paths';
import { LoginForm, RegisterForm } from '@/features/auth/components/auth-form';
import { useUser } from '@/lib/auth';
import { useDocumentTitle } from '@/lib/hooks';

/** Only same-site paths: `?redirectTo=https://evil.example` is ignored. */
function safeRedirect(value: string | null): string {
  return value && value.startsWith('/') && !value.startsWith('//') ? value : paths.home.getHref();
}

const pages = {
  login: {
    documentTitle: 'Log in',
    title: 'Log in',
    Form: LoginForm,
    other: 'New here?',
    otherLink: 'Create an account',
    otherHref: paths.register.getHref,
  },
  register: {
    documentTitle: 'Sign up',
    title: 'Create your account',
    Form: RegisterForm,
    other: 'Have an account?',
    otherLink: 'Log in',
    otherHref: paths.login.getHref,
  },
} as const;

/** The log-in and sign-up pages: a signed-in visitor goes on to `?redirectTo`, and so does a new session. */
function AuthRoute({ mode }: { mode: keyof typeof pages }) {
  const page = pages[mode];
  useDocumentTitle(page.documentTitle);
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const { data: user } = useUser();
  const redirectTo = safeRedirect(params.get('redirectTo'));
  if (user) return <Navigate to={redirectTo} replace />;
  return (
    <div className="mx-auto max-w-sm py-6">
      <Card>
        <h1 className="mb-4 text-xl font-bold">{page.title}</h1>
        <page.Form onSuccess={() => void navigate(redirectTo, { replace: true })} />
        <p className="mt-4 text-center text-sm text-zinc-600 dark:text-zinc-400">
          {page.other} <Link to={page.otherHref(params.get('redirectTo'))}>{page.otherLink}</Link>
        </p>
      </Card>
    </div>
  );
}

export const LoginRoute = () => <AuthRoute mode="login" />;
export const RegisterRoute = () => <AuthRoute mode="register" />;
