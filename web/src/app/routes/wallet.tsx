import { useParams, useSearchParams } from 'react-router';

import { RequireUser } from '@/app/routes/require-user';
import { EarningsView } from '@/features/wallet/components/earnings-view';
import { PurchaseReturn } from '@/features/wallet/components/purchase-return';
import { TestCheckout } from '@/features/wallet/components/test-checkout';
import { WalletView } from '@/features/wallet/components/wallet-view';
import { useDocumentTitle } from '@/lib/hooks';

export function WalletRoute() {
  useDocumentTitle('Wallet');
  return <RequireUser>{(user) => <WalletView user={user} />}</RequireUser>;
}

export function WalletReturnRoute() {
  useDocumentTitle('Your purchase');
  const [search] = useSearchParams();
  return <RequireUser>{() => <PurchaseReturn purchaseId={search.get('purchase')} />}</RequireUser>;
}

export function WalletTestCheckoutRoute() {
  useDocumentTitle('Test payment');
  const { purchaseId = '' } = useParams();
  return <RequireUser>{() => <TestCheckout key={purchaseId} purchaseId={purchaseId} />}</RequireUser>;
}

export function EarningsRoute() {
  useDocumentTitle('Earnings and payouts');
  return <RequireUser>{() => <EarningsView />}</RequireUser>;
}
