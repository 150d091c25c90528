import type { ReactNode } from 'react';
import { Link, NavLink } from 'react-router';

import { ThemeToggle } from '@/components/theme-toggle';
import { paths } from '@/config/paths';
import { cn } from '@/utils/cn';

type MainLayoutProps = {
  /** Balance, user menu or sign-in links, on the right of the header. */
  account: ReactNode;
  /** Whether to show the links that need an account. */
  signedIn: boolean;
  children: ReactNode;
};

const navClass = ({ isActive }: { isActive: boolean }) =>
  cn(
    'rounded-md px-3 py-2 text-sm font-medium',
    isActive
      ? 'bg-zinc-200 text-zinc-900 dark:bg-zinc-800 dark:text-white'
      : 'text-zinc-600 hover:bg-zinc-200/60 hover:text-zinc-900 dark:text-zinc-400 dark:hover:bg-zinc-800 dark:hover:text-white',
  );

export function MainLayout({ account, signedIn, children }: MainLayoutProps) {
  return (
    <div className="flex min-h-dvh flex-col">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2 focus:text-sm dark:focus:bg-zinc-900"
      >
        Skip to content
      </a>
      <header className="sticky top-0 z-20 border-b border-zinc-200 bg-white/90 backdrop-blur dark:border-zinc-800 dark:bg-zinc-950/90">
        <div className="mx-auto flex h-14 max-w-7xl items-center gap-2 px-3 sm:gap-4 sm:px-6">
          <Link to={paths.home.getHref()} className="flex items-center gap-2 rounded-md font-bold tracking-tight">
            <svg viewBox="0 0 32 32" className="size-7" aria-hidden="true">
              <rect width="32" height="32" rx="8" className="fill-brand-600" />
              <path d="M12 9v14l11-7z" fill="#fff" />
            </svg>
            <span className="sr-only sm:not-sr-only">StreamShare</span>
          </Link>
          <nav aria-label="Main" className="hidden items-center gap-1 md:flex">
            <NavLink to={paths.home.getHref()} end className={navClass}>
              Browse
            </NavLink>
            {signedIn && (
              <>
                <NavLink to={paths.studio.getHref()} className={navClass}>
                  Studio
                </NavLink>
                <NavLink to={paths.wallet.getHref()} className={navClass}>
                  Wallet
                </NavLink>
                <NavLink to={paths.history.getHref()} className={navClass}>
                  History
                </NavLink>
              </>
            )}
          </nav>
          <div className="ml-auto flex items-center gap-2">
            <ThemeToggle />
            {account}
          </div>
        </div>
      </header>
      <main id="main" tabIndex={-1} className="mx-auto w-full max-w-7xl flex-1 px-3 py-6 focus:outline-none sm:px-6">
        {children}
      </main>
    </div>
  );
}
