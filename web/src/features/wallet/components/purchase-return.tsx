import { useEffect } from 'react';
import { Link, useNavigate } from 'react-router';

import { Alert } from '@/components/ui/alert';
import { Card } from '@/components/ui/card';
import { Spinner } from '@/components/ui/spinner';
import { QueryError } from '@/components/ui/query-error';
import { paths } from '@/config/paths';
import { usePurchase } from '@/features/wallet/api/get-purchase';
import { PurchaseStateBadges } from '@/features/wallet/components/purchase-state';
import { isApiError } from '@/lib/api-client';
import { useBalance } from '@/lib/balance';
import { formatCoins, formatMoney } from '@/lib/format';
import { forgetReturnTo, readReturnTo } from '@/lib/return-to';
import { useSocketConnect } from '@/lib/socket';

/** How long the "paid" message shows before the page goes back to where the person came from. */
export const RETURN_DELAY_MS = 1_500;

type PurchaseReturnProps = {
  purchaseId: string | null;
  returnDelayMs?: number;
};

/**
 * Where a checkout comes back to (`/wallet/return?purchase=ID`). The
 * provider redirects here before its webhook may have reached the server,
 * so the page waits for the purchase to be paid: live through
 * `purchase:update` (and `balance:update`), with a periodic read as the
 * fallback. Once paid it goes back to the page kept in `returnTo` (the room).
 */
export function PurchaseReturn({ purchaseId, returnDelayMs = RETURN_DELAY_MS }: PurchaseReturnProps) {
  const query = usePurchase(purchaseId);
  const navigate = useNavigate();
  const balance = useBalance();
  const returnTo = readReturnTo();
  const purchase = purchaseId ? query.data : undefined;
  const paid = purchase?.state === 'paid';

  // Events missed while the socket was down (the page just loaded).
  useSocketConnect(() => {
    if (purchaseId) void query.refetch();
  });

  useEffect(() => {
    if (!paid || !returnTo) return;
    const timer = setTimeout(() => {
      forgetReturnTo();
      void navigate(returnTo, { replace: true });
    }, returnDelayMs);
    return () => clearTimeout(timer);
  }, [paid, returnTo, returnDelayMs, navigate]);

  const back = returnTo ? (
    <Link to={returnTo} onClick={forgetReturnTo} className="font-semibold underline">
      Back to where you were
    </Link>
  ) : (
    <Link to={paths.wallet.getHref()} className="font-semibold underline">
      Open your wallet
    </Link>
  );

  let body;
  if (!purchaseId || (query.isError && isApiError(query.error) && query.error.status === 404)) {
    body = (
      <Alert tone="error" title="This purchase was not found.">
        <Link to={paths.wallet.getHref()} className="underline">
          Open your wallet
        </Link>
      </Alert>
    );
  } else if (query.isPending) {
    body = (
      <div className="flex justify-center py-8">
        <Spinner label="Loading the purchase" />
      </div>
    );
  } else if (query.isError) {
    body = (
      <QueryError title="The purchase could not be loaded." error={query.error} onRetry={query.refetch} />
    );
  } else if (purchase?.state === 'pending') {
    body = (
      <div role="status" className="flex flex-col items-center gap-3 py-4 text-center" data-testid="purchase-pending">
        <Spinner label="Waiting for the payment" />
        <p className="text-lg font-semibold">Waiting for the payment to be confirmed…</p>
        <p className="max-w-md text-sm text-zinc-600 dark:text-zinc-400">
          Your purchase is still pending: the payment provider has not confirmed it yet. This usually takes a few
          seconds. You can leave this page; the coins arrive in your wallet as soon as the payment is confirmed.
        </p>
      </div>
    );
  } else if (purchase?.state === 'paid') {
    body = (
      <Alert tone="success" title={`Payment received: ${formatCoins(purchase.coins)} added to your wallet.`}>
        <p data-testid="purchase-paid">
          {balance !== undefined && <>Your balance is now {formatCoins(balance)}. </>}
          {returnTo ? 'Taking you back… ' : null}
          {back}
        </p>
      </Alert>
    );
  } else {
    body = (
      <Alert
        tone="warning"
        title={
          purchase?.state === 'refunded'
            ? 'This purchase was refunded.'
            : 'This purchase was cancelled or expired. Nothing was charged.'
        }
      >
        <Link to={paths.wallet.getHref(returnTo)} className="underline">
          Back to the wallet
        </Link>
      </Alert>
    );
  }

  return (
    <div className="mx-auto max-w-xl space-y-4">
      <h1 className="text-2xl font-bold tracking-tight">Your purchase</h1>
      {purchase && (
        <Card>
          <div className="flex flex-wrap items-center justify-between gap-2">
            <p className="font-medium">
              {formatCoins(purchase.coins)} · {formatMoney(purchase.price, purchase.currency)}
            </p>
            <PurchaseStateBadges purchase={purchase} />
          </div>
        </Card>
      )}
      {body}
    </div>
  );
}
