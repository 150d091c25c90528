import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';

import { Spinner } from '@/components/ui/spinner';
import { paths } from '@/config/paths';
import { useUser } from '@/lib/auth';
import type { User } from '@/types/api';

/** Renders `children(user)` for a signed-in user; sends anyone else to the login page. */
export function RequireUser({ children }: { children: (user: User) => ReactNode }) {
  const { data: user, isPending } = useUser();
  const location = useLocation();
  if (isPending) {
    return (
      <div className="flex justify-center py-16">
        <Spinner label="Checking your session" />
      </div>
    );
  }
  if (!user) return <Navigate to={paths.login.getHref(`${location.pathname}${location.search}`)} replace />;
  return <>{children(user)}</>;
}
