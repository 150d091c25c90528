import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { TestCheckout } from '@/features/wallet/components/test-checkout';
import { setAccessToken } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import { aPurchase, aUser } from '@/testing/data';
import { renderWithApp } from '@/testing/render';
import { server } from '@/testing/server';

const me = aUser({ coins: 20 });

function renderCheckout() {
  setAccessToken('token');
  return renderWithApp(<TestCheckout purchaseId="p-1" />, {
    url: '/wallet/test-checkout/p-1',
    path: '/wallet/test-checkout/:purchaseId',
    user: me,
  });
}

describe('TestCheckout', () => {
  it('is labelled as test money; Confirm credits the coins and goes to the return page', async () => {
    let confirms = 0;
    server.use(
      http.get('/api/coins/purchases/p-1', () => HttpResponse.json(aPurchase())),
      http.post('/api/coins/purchases/p-1/test-confirm', () => {
        confirms += 1;
        return HttpResponse.json({ purchase: aPurchase({ state: 'paid' }), balance: 120 });
      }),
    );
    const { router, queryClient } = renderCheckout();

    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('Test payment — no real money');
    expect(await screen.findByTestId('test-checkout-coins')).toHaveTextContent('100 coins');
    await userEvent.click(screen.getByRole('button', { name: 'Confirm test payment' }));

    await waitFor(() => expect(router.state.location.pathname).toBe('/wallet/return'));
    expect(router.state.location.search).toBe('?purchase=p-1');
    expect(confirms).toBe(1);
    expect(queryClient.getQueryData(queryKeys.balance)).toEqual({ coins: 120 });
  });

  it('Cancel ends the purchase and goes back to the wallet, saying it was cancelled', async () => {
    let cancels = 0;
    server.use(
      http.get('/api/coins/purchases/p-1', () => HttpResponse.json(aPurchase())),
      http.post('/api/coins/purchases/p-1/test-cancel', () => {
        cancels += 1;
        return HttpResponse.json({ purchase: aPurchase({ state: 'expired' }) });
      }),
    );
    const { router } = renderCheckout();
    await userEvent.click(await screen.findByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/wallet'));
    expect(router.state.location.search).toBe('?cancelled=p-1');
    expect(cancels).toBe(1);
  });

  it('offers nothing to confirm for a purchase that is no longer pending, or not a test one', async () => {
    server.use(http.get('/api/coins/purchases/p-1', () => HttpResponse.json(aPurchase({ state: 'paid' }))));
    const { unmount } = renderCheckout();
    expect(await screen.findByText('This purchase is no longer waiting for a payment.')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Confirm test payment' })).not.toBeInTheDocument();
    unmount();

    server.use(
      http.get('/api/coins/purchases/p-1', () => HttpResponse.json(aPurchase({ provider: 'stripe', test: false }))),
    );
    renderCheckout();
    expect(await screen.findByText('This purchase is not a test purchase.')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Confirm test payment' })).not.toBeInTheDocument();
  });
});
