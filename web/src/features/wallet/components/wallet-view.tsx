import { Link, useSearchParams } from 'react-router';

import { Alert } from '@/components/ui/alert';
import { Card } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { InfiniteList } from '@/components/ui/infinite-list';
import { paths } from '@/config/paths';
import { useTransactions } from '@/features/wallet/api/get-transactions';
import { CoinPacks } from '@/features/wallet/components/coin-packs';
import { PurchaseList } from '@/features/wallet/components/purchase-list';
import { TransactionRow } from '@/features/wallet/components/transaction-row';
import { useBalance } from '@/lib/balance';
import { formatNumber } from '@/lib/format';
import { readReturnTo, safeReturnPath } from '@/lib/return-to';
import type { User } from '@/types/api';

/**
 * The balance, coin packs to buy, purchases and the ledger entries of the
 * signed-in user, newest first. `?returnTo=/rooms/…` (the pay gate's "Get
 * coins") is where a purchase leads back to; `?cancelled=ID` is a checkout
 * the person cancelled.
 */
export function WalletView({ user }: { user: User }) {
  const [search] = useSearchParams();
  // From the link, or kept from before a cancelled checkout.
  const returnTo = safeReturnPath(search.get('returnTo')) ?? (search.has('cancelled') ? readReturnTo() : null);
  const cancelled = search.get('cancelled');
  const balance = useBalance() ?? user.coins;
  // `bonusCoins` comes with the user, the balance live over the socket: never
  // show more bonus than there are coins while the user catches up.
  const bonus = Math.min(user.bonusCoins, balance);
  const query = useTransactions();

  return (
    <div className="mx-auto max-w-3xl space-y-6">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h1 className="text-2xl font-bold tracking-tight">Wallet</h1>
        <Link to={paths.earnings.getHref()} className="text-sm font-medium text-brand-700 underline dark:text-brand-100">
          Earnings and payouts
        </Link>
      </div>
      {cancelled && (
        <Alert tone="info" title="The checkout was cancelled.">
          Nothing was charged.
        </Alert>
      )}
      {returnTo && (
        <Alert
          tone="info"
          title="Buy coins, then you go straight back."
          action={
            <Link to={returnTo} className="text-sm font-medium underline">
              Go back without buying
            </Link>
          }
        />
      )}
      <Card>
        <p className="text-sm text-zinc-600 dark:text-zinc-400">Balance</p>
        <p className="text-4xl font-bold tabular-nums" data-testid="wallet-balance-line">
          <span data-testid="wallet-balance">{formatNumber(balance)}</span>{' '}
          <span className="text-lg font-medium text-zinc-500 dark:text-zinc-400">coins</span>
          {bonus > 0 && (
            <span className="text-lg font-medium text-zinc-500 dark:text-zinc-400">
              , of which <span data-testid="wallet-bonus">{formatNumber(bonus)}</span> sign-up bonus
            </span>
          )}
        </p>
        {bonus > 0 && (
          <p className="mt-2 text-sm text-zinc-600 dark:text-zinc-400">
            Sign-up bonus coins are spent first. They can't be used in the rooms of a creator who signed up from
            the same network as you.
          </p>
        )}
        {user.grantPending && (
          <p className="mt-2 text-sm text-amber-800 dark:text-amber-200">
            Your sign-up coins arrive once you confirm your e-mail address.
          </p>
        )}
      </Card>
      <CoinPacks returnTo={returnTo} />
      <PurchaseList />
      <section aria-labelledby="tx-heading" className="space-y-3">
        <h2 id="tx-heading" className="text-lg font-semibold">
          Transactions
        </h2>
        <InfiniteList
          query={query}
          getKey={(tx) => tx.id}
          renderItem={(tx) => <TransactionRow tx={tx} meId={user.id} />}
          label="Transactions"
          loadingLabel="Loading transactions"
          errorTitle="Transactions could not be loaded."
          empty={<EmptyState title="No transactions yet">Coins you spend and earn show up here.</EmptyState>}
        />
      </section>
    </div>
  );
}
