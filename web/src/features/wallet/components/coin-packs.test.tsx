import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { CoinPacks } from '@/features/wallet/components/coin-packs';
import { setAccessToken } from '@/lib/api-client';
import { readReturnTo } from '@/lib/return-to';
import { aPurchase, aUser } from '@/testing/data';
import { renderWithApp } from '@/testing/render';
import { server } from '@/testing/server';

const me = aUser({ coins: 20 });
const packs = [
  { id: 'small', coins: 100, price: 199, currency: 'usd' },
  { id: 'large', coins: 1200, price: 1999, currency: 'usd' },
];

function renderPacks(returnTo: string | null = '/rooms/r-1') {
  setAccessToken('token');
  return renderWithApp(<CoinPacks returnTo={returnTo} />, { url: '/wallet', path: '/wallet', user: me });
}

describe('CoinPacks', () => {
  it('buys a pack: a checkout with an idempotency key, the way back kept, then the test provider page', async () => {
    const requests: Array<{ body: unknown; key: string | null }> = [];
    server.use(
      http.get('/api/coins/packs', () => HttpResponse.json({ items: packs, provider: 'test' })),
      http.post('/api/coins/checkout', async ({ request }) => {
        requests.push({ body: await request.json(), key: request.headers.get('Idempotency-Key') });
        return HttpResponse.json(
          { purchase: aPurchase({ id: 'p-9' }), url: `${window.location.origin}/wallet/test-checkout/p-9` },
          { status: 201 },
        );
      }),
    );
    const { router } = renderPacks();

    const list = await screen.findByRole('list', { name: 'Coin packs' });
    expect(within(list).getAllByRole('listitem')).toHaveLength(2);
    expect(screen.getByText('Test payments: no real money.')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Buy 100 coins for $1.99' }));

    await waitFor(() => expect(router.state.location.pathname).toBe('/wallet/test-checkout/p-9'));
    expect(requests).toEqual([{ body: { packId: 'small' }, key: expect.stringMatching(/^[0-9a-f-]{36}$/) as string }]);
    expect(readReturnTo()).toBe('/rooms/r-1');
  });

  it('says purchases are not set up, and how an operator sets them up, when there is no provider', async () => {
    server.use(http.get('/api/coins/packs', () => HttpResponse.json({ items: packs, provider: null })));
    renderPacks();
    expect(await screen.findByText('Purchases are not set up on this server.')).toBeInTheDocument();
    expect(screen.getByText('STREAMSHARE_STRIPE_SECRET_KEY')).toBeInTheDocument();
    expect(screen.getByText('STREAMSHARE_TEST_PAYMENTS=1')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /^Buy/ })).not.toBeInTheDocument();
  });

  it("shows the server's refusal and stays on the page when the checkout fails", async () => {
    server.use(
      http.get('/api/coins/packs', () => HttpResponse.json({ items: packs, provider: 'stripe' })),
      http.post('/api/coins/checkout', () =>
        HttpResponse.json(
          { error: { code: 'payment_provider_error', message: 'The payment provider is not reachable right now.' } },
          { status: 502 },
        ),
      ),
    );
    const { router } = renderPacks();
    await userEvent.click(await screen.findByRole('button', { name: 'Buy 1,200 coins for $19.99' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('The payment provider is not reachable right now.');
    expect(router.state.location.pathname).toBe('/wallet');
    expect(screen.queryByText('Test payments: no real money.')).not.toBeInTheDocument();
  });

  it('offers to try again when the packs cannot be loaded', async () => {
    let calls = 0;
    server.use(
      http.get('/api/coins/packs', () => {
        calls += 1;
        return calls === 1
          ? HttpResponse.json({ error: { code: 'internal', message: 'Database unavailable.' } }, { status: 500 })
          : HttpResponse.json({ items: packs, provider: 'stripe' });
      }),
    );
    renderPacks();
    expect(await screen.findByRole('alert')).toHaveTextContent('Database unavailable.');
    await userEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByRole('button', { name: 'Buy 100 coins for $1.99' })).toBeInTheDocument();
  });
});
