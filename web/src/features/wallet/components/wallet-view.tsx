import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { Skeleton } from '@/components/ui/skeleton';
import { useTransactions } from '@/features/wallet/api/get-transactions';
import { TransactionRow } from '@/features/wallet/components/transaction-row';
import { errorMessage } from '@/lib/api-client';
import { useBalance } from '@/lib/balance';
import { formatNumber } from '@/lib/format';
import type { User } from '@/types/api';

/** The balance and the ledger entries of the signed-in user, newest first. */
export function WalletView({ user }: { user: User }) {
  const balance = useBalance() ?? user.coins;
  // `bonusCoins` comes with the user, the balance live over the socket: never
  // show more bonus than there are coins while the user catches up.
  const bonus = Math.min(user.bonusCoins, balance);
  const query = useTransactions();
  const items = query.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <div className="mx-auto max-w-3xl space-y-6">
      <h1 className="text-2xl font-bold tracking-tight">Wallet</h1>
      <Card>
        <p className="text-sm text-zinc-600 dark:text-zinc-400">Balance</p>
        <p className="text-4xl font-bold tabular-nums" data-testid="wallet-balance-line">
          <span data-testid="wallet-balance">{formatNumber(balance)}</span>{' '}
          <span className="text-lg font-medium text-zinc-500">coins</span>
          {bonus > 0 && (
            <span className="text-lg font-medium text-zinc-500">
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
      <section aria-labelledby="tx-heading" className="space-y-3">
        <h2 id="tx-heading" className="text-lg font-semibold">
          Transactions
        </h2>
        {query.isPending ? (
          <div className="space-y-2" aria-busy="true" aria-label="Loading transactions">
            {Array.from({ length: 4 }, (_, i) => (
              <Skeleton key={i} className="h-14 w-full" />
            ))}
          </div>
        ) : query.isError && items.length === 0 ? (
          <Alert
            tone="error"
            title="Transactions could not be loaded."
            action={
              <Button size="sm" variant="secondary" onClick={() => void query.refetch()}>
                Try again
              </Button>
            }
          >
            {errorMessage(query.error)}
          </Alert>
        ) : items.length === 0 ? (
          <EmptyState title="No transactions yet">Coins you spend and earn show up here.</EmptyState>
        ) : (
          <>
            <ul className="divide-y divide-zinc-200 rounded-xl border border-zinc-200 bg-white dark:divide-zinc-800 dark:border-zinc-800 dark:bg-zinc-900">
              {items.map((tx) => (
                <TransactionRow key={tx.id} tx={tx} meId={user.id} />
              ))}
            </ul>
            {query.hasNextPage && (
              <div className="flex justify-center">
                <Button variant="secondary" isLoading={query.isFetchingNextPage} onClick={() => void query.fetchNextPage()}>
                  Load more
                </Button>
              </div>
            )}
            {query.isFetchNextPageError && <Alert tone="error">{errorMessage(query.error)}</Alert>}
          </>
        )}
      </section>
    </div>
  );
}
