import { useNavigate } from 'react-router';

import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { Skeleton } from '@/components/ui/skeleton';
import { QueryError } from '@/components/ui/query-error';
import { useCheckout } from '@/features/wallet/api/checkout';
import { useCoinPacks } from '@/features/wallet/api/get-coin-packs';
import { errorMessage } from '@/lib/api-client';
import { formatCoins, formatMoney } from '@/lib/format';
import { rememberReturnTo } from '@/lib/return-to';

/** How an operator turns purchases on (docs: README "Configuration", issue 16). */
export function PurchasesNotSetUp() {
  return (
    <Alert tone="warning" title="Purchases are not set up on this server.">
      <p>
        Coins come from the sign-up grant and from the operator for now. To sell coins, the operator of this server
        sets <code>STREAMSHARE_STRIPE_SECRET_KEY</code> and <code>STREAMSHARE_STRIPE_WEBHOOK_SECRET</code> (Stripe
        Checkout, with a webhook to <code>/api/payments/stripe/webhook</code>) and restarts it; or, to try the flow
        without real money, sets <code>STREAMSHARE_TEST_PAYMENTS=1</code>. The steps are in{' '}
        <code>docs/payments.md</code>.
      </p>
    </Alert>
  );
}

/**
 * The coin packs on sale with "Buy". A click starts a checkout and goes to
 * the provider's page (the test provider's is a page of this app), with
 * `returnTo` kept for the way back.
 */
export function CoinPacks({ returnTo }: { returnTo: string | null }) {
  const packs = useCoinPacks();
  const checkout = useCheckout();
  const navigate = useNavigate();

  const buy = (packId: string) => {
    checkout.mutate(packId, {
      onSuccess: ({ url }) => {
        rememberReturnTo(returnTo);
        const target = new URL(url, window.location.origin);
        if (target.origin === window.location.origin) {
          void navigate(`${target.pathname}${target.search}`);
        } else {
          window.location.assign(target.toString());
        }
      },
    });
  };

  return (
    <Card title="Buy coins">
      {packs.isPending ? (
        <div className="grid gap-3 sm:grid-cols-3" aria-busy="true" aria-label="Loading coin packs">
          {Array.from({ length: 3 }, (_, i) => (
            <Skeleton key={i} className="h-28" />
          ))}
        </div>
      ) : packs.isError ? (
        <QueryError title="Coin packs could not be loaded." error={packs.error} onRetry={packs.refetch} />
      ) : packs.data.provider === null ? (
        <PurchasesNotSetUp />
      ) : (
        <div className="space-y-3">
          {packs.data.provider === 'test' && (
            <Alert tone="warning" title="Test payments: no real money.">
              This server sells coins through a test provider. You confirm the payment on a test page; nothing is
              charged, and the coins are marked as test money.
            </Alert>
          )}
          <ul className="grid gap-3 sm:grid-cols-3" aria-label="Coin packs">
            {packs.data.items.map((pack) => {
              const price = formatMoney(pack.price, pack.currency);
              const busy = checkout.isPending && checkout.variables === pack.id;
              return (
                <li
                  key={pack.id}
                  className="flex flex-col items-center gap-2 rounded-xl border border-zinc-200 p-4 text-center dark:border-zinc-800"
                >
                  <p className="text-2xl font-bold tabular-nums">{formatCoins(pack.coins)}</p>
                  <p className="text-sm text-zinc-600 dark:text-zinc-400">{price}</p>
                  <Button
                    onClick={() => buy(pack.id)}
                    isLoading={busy}
                    disabled={checkout.isPending}
                    aria-label={`Buy ${formatCoins(pack.coins)} for ${price}`}
                  >
                    Buy
                  </Button>
                </li>
              );
            })}
          </ul>
          {checkout.isError && (
            <Alert tone="error" title="The checkout could not be started.">
              {errorMessage(checkout.error)}
            </Alert>
          )}
        </div>
      )}
    </Card>
  );
}
