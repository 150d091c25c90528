import { Badge } from '@/components/ui/badge';
import type { Purchase, PurchaseState } from '@/types/api';

const labels: Record<PurchaseState, string> = {
  pending: 'Pending',
  paid: 'Paid',
  expired: 'Expired',
  refunded: 'Refunded',
};

const tones = { pending: 'warning', paid: 'brand', expired: 'neutral', refunded: 'neutral' } as const;

/** A purchase's state, and "Test money" for the test provider's. */
export function PurchaseStateBadges({ purchase }: { purchase: Purchase }) {
  return (
    <span className="inline-flex gap-1">
      <Badge tone={tones[purchase.state]}>
        <span data-testid="purchase-state">{labels[purchase.state]}</span>
      </Badge>
      {purchase.test && <Badge tone="dark">Test money</Badge>}
    </span>
  );
}
