import { Link, useLocation, useNavigate } from 'react-router';

import { CoinBalance } from '@/components/coin-balance';
import { Menu } from '@/components/ui/menu';
import { paths } from '@/config/paths';
import { useLogout } from '@/features/auth/api/logout';
import type { User } from '@/types/api';

function Avatar({ user }: { user: User }) {
  return (
    // The initial is drawn by CSS, not text: the menu button's visible text is
    // then the name alone, part of its accessible name (WCAG 2.5.3 Label in Name).
    <span
      aria-hidden="true"
      data-initial={(user.displayName || user.username).slice(0, 1)}
      className="flex size-7 items-center justify-center rounded-full bg-brand-600 text-xs font-bold text-white uppercase before:content-[attr(data-initial)]"
    />
  );
}

/** The header's right side: balance and user menu, or sign-in links. */
export function AccountMenu({ user }: { user: User | null | undefined }) {
  const navigate = useNavigate();
  const location = useLocation();
  const logout = useLogout({ onSuccess: () => void navigate(paths.home.getHref()) });

  if (user === undefined) return null;

  if (user === null) {
    const here = location.pathname === paths.login.path || location.pathname === paths.register.path
      ? null
      : `${location.pathname}${location.search}`;
    return (
      <>
        <Link
          to={paths.login.getHref(here)}
          className="rounded-md px-3 py-2 text-sm font-medium text-zinc-700 hover:bg-zinc-200/60 dark:text-zinc-300 dark:hover:bg-zinc-800"
        >
          Log in
        </Link>
        <Link
          to={paths.register.getHref(here)}
          className="rounded-lg bg-brand-600 px-3 py-2 text-sm font-medium text-white hover:bg-brand-700"
        >
          Sign up
        </Link>
      </>
    );
  }

  return (
    <>
      <CoinBalance />
      <Menu
        accessibleLabel={`Account menu for ${user.displayName}`}
        label={
          <>
            <Avatar user={user} />
            <span className="hidden max-w-32 truncate sm:inline">{user.displayName}</span>
          </>
        }
        header={
          <div className="text-sm">
            <p className="truncate font-semibold">{user.displayName}</p>
            <p className="truncate text-zinc-500 dark:text-zinc-400">@{user.username}</p>
          </div>
        }
        items={[
          { kind: 'link', label: 'Browse', to: paths.home.getHref() },
          { kind: 'link', label: 'Creator studio', to: paths.studio.getHref() },
          { kind: 'link', label: 'Wallet', to: paths.wallet.getHref() },
          { kind: 'link', label: 'Watch history', to: paths.history.getHref() },
          { kind: 'button', label: 'Log out', onSelect: () => logout.mutate() },
        ]}
      />
    </>
  );
}
