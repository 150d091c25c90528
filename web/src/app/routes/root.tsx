import { lazy, Suspense } from 'react';
import { Outlet, isRouteErrorResponse, useLocation, useNavigate, useNavigation, useRouteError } from 'react-router';

import { MainLayout } from '@/components/layouts/main-layout';
import { LiveBar } from '@/components/live-bar';
import { Notices } from '@/components/notices';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { Spinner } from '@/components/ui/spinner';
import { paths } from '@/config/paths';
import { AccountMenu } from '@/features/auth/components/account-menu';
import { EmailVerificationNotice } from '@/features/auth/components/email-verification-notice';
import { NotificationBell } from '@/features/notifications/components/notification-bell';
import { clearAccountRefusal, type AccountRefusal } from '@/lib/api-client';
import { useAccountRefusal, useUser } from '@/lib/auth';

// Signed-in users only: an anonymous visit does not download it. It reads
// open requests when it mounts, so none is lost while it loads.
const PrivateSessionHost = lazy(() =>
  import('@/features/private/components/private-session-host').then((m) => ({ default: m.PrivateSessionHost })),
);

export function RootLayout() {
  const { data: user } = useUser();
  const refusal = useAccountRefusal();
  const navigation = useNavigation();
  // The verification page says it all itself.
  const verifying = useLocation().pathname === paths.verifyEmail.path;
  return (
    <MainLayout
      account={
        <>
          {user && !refusal && <NotificationBell key={user.id} />}
          <AccountMenu user={user} />
        </>
      }
      signedIn={Boolean(user)}
    >
      {navigation.state === 'loading' && (
        <div className="fixed inset-x-0 top-0 z-50 h-0.5 animate-pulse bg-brand-500" aria-hidden="true" />
      )}
      {/* This browser's broadcast goes on while the creator browses: a way back to it. */}
      {user && !refusal && <LiveBar />}
      {refusal ? (
        <AccountRefused refusal={refusal} />
      ) : (
        <>
          {user && !verifying && <EmailVerificationNotice key={user.id} user={user} />}
          <Outlet />
        </>
      )}
      <Notices />
      {/* Incoming private-session requests reach a creator on any page. */}
      {user && !refusal && (
        <Suspense fallback={null}>
          <PrivateSessionHost key={user.id} user={user} />
        </Suspense>
      )}
    </MainLayout>
  );
}

/**
 * The server stopped this account (suspended or deleted) and the session has
 * ended: say so in place of the page, rather than leave it failing call by call.
 */
function AccountRefused({ refusal }: { refusal: AccountRefusal }) {
  const navigate = useNavigate();
  return (
    <div className="mx-auto max-w-xl py-10">
      <Alert
        tone="error"
        title={refusal.message}
        action={
          <Button
            size="sm"
            variant="secondary"
            onClick={() => {
              clearAccountRefusal();
              void navigate(paths.home.getHref());
            }}
          >
            Continue without an account
          </Button>
        }
      >
        {refusal.code === 'account_suspended'
          ? 'You have been signed out. If you think this is a mistake, contact StreamShare support.'
          : 'You have been signed out.'}
      </Alert>
    </div>
  );
}

export function RootErrorBoundary() {
  const error = useRouteError();
  const message = isRouteErrorResponse(error)
    ? `${error.status} ${error.statusText}`
    : error instanceof Error
      ? error.message
      : 'Unknown error';
  return (
    <div className="mx-auto max-w-xl p-6">
      <Alert
        tone="error"
        title="Something went wrong."
        action={
          <Button size="sm" variant="secondary" onClick={() => window.location.reload()}>
            Reload
          </Button>
        }
      >
        {message}
      </Alert>
    </div>
  );
}

export function PageLoading() {
  return (
    <div className="flex min-h-dvh items-center justify-center">
      <Spinner label="Loading StreamShare" />
    </div>
  );
}
