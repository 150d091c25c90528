import { Link, useNavigate } from 'react-router';

import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { Spinner } from '@/components/ui/spinner';
import { paths } from '@/config/paths';
import { usePurchase } from '@/features/wallet/api/get-purchase';
import { useTestPayment } from '@/features/wallet/api/test-payment';
import { errorMessage, isApiError } from '@/lib/api-client';
import { formatCoins, formatMoney } from '@/lib/format';

/**
 * The test provider's checkout page (`STREAMSHARE_TEST_PAYMENTS=1`): stands in
 * for Stripe's page, clearly labelled, with Confirm (credits the coins as
 * test money) and Cancel (the purchase expires).
 */
export function TestCheckout({ purchaseId }: { purchaseId: string }) {
  const query = usePurchase(purchaseId);
  const { confirm, cancel } = useTestPayment(purchaseId);
  const navigate = useNavigate();
  const purchase = query.data;
  const busy = confirm.isPending || cancel.isPending;
  const failure = confirm.error ?? cancel.error;

  let body;
  if (query.isPending) {
    body = (
      <div className="flex justify-center py-8">
        <Spinner label="Loading the purchase" />
      </div>
    );
  } else if (query.isError) {
    body = (
      <Alert tone="error" title={isApiError(query.error) && query.error.status === 404 ? 'This purchase was not found.' : 'The purchase could not be loaded.'}>
        {errorMessage(query.error)}{' '}
        <Link to={paths.wallet.getHref()} className="underline">
          Open your wallet
        </Link>
      </Alert>
    );
  } else if (purchase && purchase.provider !== 'test') {
    body = <Alert tone="error" title="This purchase is not a test purchase." />;
  } else if (purchase && purchase.state !== 'pending') {
    body = (
      <Alert tone="info" title="This purchase is no longer waiting for a payment.">
        <Link to={paths.walletReturn.getHref(purchaseId)} className="underline">
          See the purchase
        </Link>
      </Alert>
    );
  } else if (purchase) {
    body = (
      <div className="space-y-4">
        <dl className="grid grid-cols-2 gap-2 text-sm">
          <dt className="text-zinc-600 dark:text-zinc-400">Coins</dt>
          <dd className="font-semibold" data-testid="test-checkout-coins">
            {formatCoins(purchase.coins)}
          </dd>
          <dt className="text-zinc-600 dark:text-zinc-400">Price (not charged)</dt>
          <dd className="font-semibold">{formatMoney(purchase.price, purchase.currency)}</dd>
        </dl>
        <div className="flex flex-wrap gap-2">
          <Button
            isLoading={confirm.isPending}
            disabled={busy}
            onClick={() =>
              confirm.mutate(undefined, {
                onSuccess: () => void navigate(paths.walletReturn.getHref(purchaseId), { replace: true }),
              })
            }
          >
            Confirm test payment
          </Button>
          <Button
            variant="secondary"
            isLoading={cancel.isPending}
            disabled={busy}
            onClick={() =>
              cancel.mutate(undefined, {
                onSuccess: () => void navigate(`${paths.wallet.getHref()}?cancelled=${encodeURIComponent(purchaseId)}`, { replace: true }),
              })
            }
          >
            Cancel
          </Button>
        </div>
        {failure && <Alert tone="error">{errorMessage(failure)}</Alert>}
      </div>
    );
  }

  return (
    <div className="mx-auto max-w-xl space-y-4">
      <div className="rounded-xl border-2 border-dashed border-amber-500 bg-amber-50 p-4 text-amber-950 dark:bg-amber-950/40 dark:text-amber-100">
        <h1 className="text-2xl font-bold tracking-tight">Test payment — no real money</h1>
        <p className="mt-1 text-sm">
          This server uses a test payment provider. Confirming adds the coins to your wallet, marked as test money;
          no card is asked for and nothing is charged.
        </p>
      </div>
      {body}
    </div>
  );
}
