import { screen, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { PurchaseList } from '@/features/wallet/components/purchase-list';
import { setAccessToken } from '@/lib/api-client';
import { aPurchase, aUser } from '@/testing/data';
import { renderWithApp } from '@/testing/render';
import { server } from '@/testing/server';

describe('PurchaseList', () => {
  it('lists purchases with their states, test money labelled, and a way to a pending one', async () => {
    setAccessToken('token');
    server.use(
      http.get('/api/coins/purchases', () =>
        HttpResponse.json({
          items: [
            aPurchase({ id: 'p4', state: 'pending' }),
            aPurchase({ id: 'p3', state: 'paid', test: false, provider: 'stripe', coins: 550, price: 999 }),
            aPurchase({ id: 'p2', state: 'expired', test: false, provider: 'stripe' }),
            aPurchase({ id: 'p1', state: 'refunded', test: false, provider: 'stripe' }),
          ],
          nextCursor: null,
        }),
      ),
    );
    renderWithApp(<PurchaseList />, { user: aUser() });
    const rows = within(await screen.findByRole('list', { name: 'Purchases' })).getAllByRole('listitem');
    expect(rows.map((r) => within(r).getByTestId('purchase-state').textContent)).toEqual([
      'Pending',
      'Paid',
      'Expired',
      'Refunded',
    ]);
    const [pending, paid] = rows as [HTMLElement, HTMLElement];
    expect(pending).toHaveTextContent('100 coins · $1.99');
    expect(pending).toHaveTextContent('Test money');
    expect(within(pending).getByRole('link', { name: 'Check the payment' })).toHaveAttribute(
      'href',
      '/wallet/return?purchase=p4',
    );
    expect(paid).toHaveTextContent('550 coins · $9.99');
    expect(paid).not.toHaveTextContent('Test money');
  });

  it('has an empty state', async () => {
    setAccessToken('token');
    server.use(http.get('/api/coins/purchases', () => HttpResponse.json({ items: [], nextCursor: null })));
    renderWithApp(<PurchaseList />, { user: aUser() });
    expect(await screen.findByText('No purchases yet')).toBeInTheDocument();
  });
});
