import { Link } from 'react-router';

import { EmptyState } from '@/components/ui/empty-state';
import { InfiniteList } from '@/components/ui/infinite-list';
import { paths } from '@/config/paths';
import { usePurchases } from '@/features/wallet/api/get-purchases';
import { PurchaseStateBadges } from '@/features/wallet/components/purchase-state';
import { formatCoins, formatDateTime, formatMoney } from '@/lib/format';
import type { Purchase } from '@/types/api';

function PurchaseRow({ purchase }: { purchase: Purchase }) {
  return (
    <li className="flex flex-wrap items-center gap-x-3 gap-y-1 px-4 py-3" data-state={purchase.state}>
      <div className="min-w-0 flex-1">
        <p className="text-sm font-medium">
          {formatCoins(purchase.coins)} · {formatMoney(purchase.price, purchase.currency)}
        </p>
        <p className="text-xs text-zinc-500 dark:text-zinc-400">
          <time dateTime={purchase.createdAt}>{formatDateTime(purchase.createdAt)}</time>
          {purchase.state === 'pending' && (
            <>
              {' · '}
              <Link to={paths.walletReturn.getHref(purchase.id)} className="underline">
                Check the payment
              </Link>
            </>
          )}
        </p>
      </div>
      <PurchaseStateBadges purchase={purchase} />
    </li>
  );
}

/** The user's purchases, newest first, with their states. */
export function PurchaseList() {
  const query = usePurchases();
  return (
    <section aria-labelledby="purchases-heading" className="space-y-3">
      <h2 id="purchases-heading" className="text-lg font-semibold">
        Purchases
      </h2>
      <InfiniteList
        query={query}
        getKey={(p) => p.id}
        renderItem={(p) => <PurchaseRow purchase={p} />}
        label="Purchases"
        loadingLabel="Loading purchases"
        errorTitle="Purchases could not be loaded."
        empty={<EmptyState title="No purchases yet">Coins you buy show up here.</EmptyState>}
      />
    </section>
  );
}
