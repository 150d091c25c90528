import { Outlet, isRouteErrorResponse, useNavigation, useRouteError } from 'react-router';

import { MainLayout } from '@/components/layouts/main-layout';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { Spinner } from '@/components/ui/spinner';
import { AccountMenu } from '@/features/auth/components/account-menu';
import { useUser } from '@/lib/auth';

export function RootLayout() {
  const { data: user } = useUser();
  const navigation = useNavigation();
  return (
    <MainLayout account={<AccountMenu user={user} />} signedIn={Boolean(user)}>
      {navigation.state === 'loading' && (
        <div className="fixed inset-x-0 top-0 z-50 h-0.5 animate-pulse bg-brand-500" aria-hidden="true" />
      )}
      <Outlet />
    </MainLayout>
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
