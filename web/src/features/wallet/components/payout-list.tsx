import { Badge } from '@/components/ui/badge';
import { EmptyState } from '@/components/ui/empty-state';
import { InfiniteList } from '@/components/ui/infinite-list';
import { usePayouts } from '@/features/wallet/api/get-payouts';
import { formatCoins, formatDateTime } from '@/lib/format';
import type { Payout, PayoutState } from '@/types/api';

const labels: Record<PayoutState, string> = { requested: 'Requested', paid: 'Paid out', rejected: 'Rejected' };
const tones = { requested: 'warning', paid: 'brand', rejected: 'neutral' } as const;

function PayoutRow({ payout }: { payout: Payout }) {
  return (
    <li className="flex flex-wrap items-center gap-x-3 gap-y-1 px-4 py-3" data-state={payout.state}>
      <div className="min-w-0 flex-1">
        <p className="text-sm font-medium">{formatCoins(payout.coins)}</p>
        <p className="text-xs text-zinc-500 dark:text-zinc-400">
          Requested <time dateTime={payout.createdAt}>{formatDateTime(payout.createdAt)}</time>
          {payout.settledAt && (
            <>
              {' · settled '}
              <time dateTime={payout.settledAt}>{formatDateTime(payout.settledAt)}</time>
            </>
          )}
          {payout.state === 'rejected' && ' · the coins are back in your balance'}
        </p>
        {payout.note && <p className="text-xs text-zinc-600 dark:text-zinc-300">Note: {payout.note}</p>}
      </div>
      <Badge tone={tones[payout.state]}>
        <span data-testid="payout-state">{labels[payout.state]}</span>
      </Badge>
    </li>
  );
}

/** The creator's payout requests, kept live by `payout:update`. */
export function PayoutList() {
  const query = usePayouts();
  return (
    <InfiniteList
      query={query}
      getKey={(p) => p.id}
      renderItem={(p) => <PayoutRow payout={p} />}
      label="Payouts"
      loadingLabel="Loading payouts"
      errorTitle="Payouts could not be loaded."
      empty={<EmptyState title="No payouts yet">Payouts you request show up here.</EmptyState>}
    />
  );
}
