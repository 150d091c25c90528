import { Link } from 'react-router';

import { paths } from '@/config/paths';
import { useBalance } from '@/lib/balance';
import { formatNumber } from '@/lib/format';

/** The signed-in user's balance, live; links to the wallet. */
export function CoinBalance() {
  const coins = useBalance();
  if (coins === undefined) return null;
  return (
    <Link
      to={paths.wallet.getHref()}
      className="inline-flex h-9 items-center gap-1.5 rounded-full bg-amber-100 px-3 text-sm font-semibold text-amber-900 hover:bg-amber-200 dark:bg-amber-900/40 dark:text-amber-100 dark:hover:bg-amber-900/60"
      aria-label={`Balance: ${formatNumber(coins)} coins. Open wallet`}
    >
      <svg viewBox="0 0 20 20" className="size-4" aria-hidden="true">
        <circle cx="10" cy="10" r="8" fill="currentColor" opacity="0.25" />
        <circle cx="10" cy="10" r="5" fill="currentColor" />
      </svg>
      <span data-testid="coin-balance">{formatNumber(coins)}</span>
    </Link>
  );
}
