import { RequireUser } from '@/app/routes/require-user';
import { WalletView } from '@/features/wallet/components/wallet-view';
import { useDocumentTitle } from '@/lib/hooks';

export function WalletRoute() {
  useDocumentTitle('Wallet');
  return <RequireUser>{(user) => <WalletView user={user} />}</RequireUser>;
}
