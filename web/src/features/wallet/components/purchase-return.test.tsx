import { act, screen, waitFor } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { PurchaseReturn } from '@/features/wallet/components/purchase-return';
import { setAccessToken } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import { rememberReturnTo } from '@/lib/return-to';
import { aPurchase, aUser } from '@/testing/data';
import { fakeSocket, renderWithApp } from '@/testing/render';
import { server } from '@/testing/server';
import type { Purchase } from '@/types/api';

const me = aUser({ coins: 20 });

function servePurchase(purchase: () => Purchase) {
  let reads = 0;
  server.use(
    http.get('/api/coins/purchases/p-1', () => {
      reads += 1;
      return HttpResponse.json(purchase());
    }),
  );
  return () => reads;
}

function renderReturn(purchaseId: string | null = 'p-1') {
  setAccessToken('token');
  return renderWithApp(<PurchaseReturn purchaseId={purchaseId} returnDelayMs={0} />, {
    url: `/wallet/return${purchaseId ? `?purchase=${purchaseId}` : ''}`,
    path: '/wallet/return',
    user: me,
    realtime: true,
  });
}

describe('PurchaseReturn', () => {
  it('says clearly that the purchase is pending, then goes back to the room once purchase:update says paid', async () => {
    rememberReturnTo('/rooms/r-1');
    servePurchase(() => aPurchase({ state: 'pending' }));
    const { router, queryClient } = renderReturn();

    expect(await screen.findByText('Waiting for the payment to be confirmed…')).toBeInTheDocument();
    expect(screen.getByTestId('purchase-pending')).toHaveTextContent('Your purchase is still pending');
    expect(router.state.location.pathname).toBe('/wallet/return');

    // The webhook credited the coins: the server pushes both events.
    act(() => {
      fakeSocket().serverEmit('balance:update', { coins: 120 });
      fakeSocket().serverEmit('purchase:update', { purchase: aPurchase({ state: 'paid', paidAt: '2025-01-03T09:00:05Z' }) });
    });
    await waitFor(() => expect(router.state.location.pathname).toBe('/rooms/r-1'));
    expect(queryClient.getQueryData(queryKeys.balance)).toEqual({ coins: 120 });
    // The way back is used once.
    expect(sessionStorage.getItem('streamshare.returnTo')).toBeNull();
  });

  it('reads the purchase again when the socket (re)connects, in case the push was missed', async () => {
    let state: Purchase['state'] = 'pending';
    const reads = servePurchase(() => aPurchase({ state }));
    server.use(http.get('/api/users/balance', () => HttpResponse.json({ coins: 120 })));
    renderReturn();
    await screen.findByText('Waiting for the payment to be confirmed…');
    const before = reads();

    state = 'paid';
    act(() => fakeSocket().serverEmit('connect', undefined));
    expect(await screen.findByText('Payment received: 100 coins added to your wallet.')).toBeInTheDocument();
    expect(reads()).toBeGreaterThan(before);
    expect(await screen.findByTestId('purchase-paid')).toHaveTextContent('Your balance is now 120 coins.');
    // Nowhere to go back to: the wallet is offered.
    expect(screen.getByRole('link', { name: 'Open your wallet' })).toHaveAttribute('href', '/wallet');
  });

  it('never follows a way back that is not a path of this app', async () => {
    sessionStorage.setItem('streamshare.returnTo', '//evil.example/steal');
    servePurchase(() => aPurchase({ state: 'paid' }));
    const { router } = renderReturn();
    expect(await screen.findByText('Payment received: 100 coins added to your wallet.')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Open your wallet' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/wallet/return');
  });

  it('says when the purchase expired, and when it does not exist', async () => {
    servePurchase(() => aPurchase({ state: 'expired' }));
    const { unmount } = renderReturn();
    expect(await screen.findByText('This purchase was cancelled or expired. Nothing was charged.')).toBeInTheDocument();
    unmount();

    server.use(
      http.get('/api/coins/purchases/p-2', () =>
        HttpResponse.json({ error: { code: 'not_found', message: 'No such purchase.' } }, { status: 404 }),
      ),
    );
    setAccessToken('token');
    renderWithApp(<PurchaseReturn purchaseId="p-2" />, { user: me });
    expect(await screen.findByText('This purchase was not found.')).toBeInTheDocument();
  });
});
