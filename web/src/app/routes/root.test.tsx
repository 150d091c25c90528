import { act, screen, waitFor } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { RootLayout } from '@/app/routes/root';
import { setAccessToken } from '@/lib/api-client';
import { aUser } from '@/testing/data';
import { fakeSocket, renderWithApp } from '@/testing/render';
import { server } from '@/testing/server';

const me = aUser({ coins: 100 });

function renderHeader() {
  setAccessToken('token');
  const balanceRequests = { count: 0, coins: 100 };
  server.use(
    http.get('/api/users/balance', () => {
      balanceRequests.count += 1;
      return HttpResponse.json({ coins: balanceRequests.coins });
    }),
  );
  renderWithApp(<RootLayout />, { user: me, realtime: true });
  return balanceRequests;
}

const headerBalance = () => screen.getByRole('link', { name: /^Balance:/ });

describe('The header balance', () => {
  it('shows the balance pushed by balance:update, without asking the API again', async () => {
    const requests = renderHeader();
    expect(headerBalance()).toHaveAccessibleName('Balance: 100 coins. Open wallet');
    expect(headerBalance()).toHaveAttribute('href', '/wallet');

    act(() => fakeSocket().serverEmit('balance:update', { coins: 1250 }));
    await waitFor(() => expect(headerBalance()).toHaveAccessibleName('Balance: 1,250 coins. Open wallet'));
    act(() => fakeSocket().serverEmit('balance:update', { coins: 1240 }));
    await waitFor(() => expect(headerBalance()).toHaveAccessibleName('Balance: 1,240 coins. Open wallet'));

    // Let any refetch the event might have started run: there is none.
    await act(() => new Promise((r) => setTimeout(r, 50)));
    expect(requests.count).toBe(0);
    expect(headerBalance()).toHaveTextContent('1,240');
    expect(screen.getByRole('button', { name: `Account menu for ${me.displayName}` })).toBeInTheDocument();
  });

  it('catches up after a socket reconnect, when updates may have been missed', async () => {
    const requests = renderHeader();
    act(() => fakeSocket().serverEmit('connect', undefined));
    // The first connect is not a catch-up.
    await act(() => new Promise((r) => setTimeout(r, 20)));
    expect(requests.count).toBe(0);

    requests.coins = 80;
    act(() => fakeSocket().serverEmit('connect', undefined));
    await waitFor(() => expect(headerBalance()).toHaveAccessibleName('Balance: 80 coins. Open wallet'));
    expect(requests.count).toBe(1);
  });

  it('has no balance for an anonymous visitor', async () => {
    renderWithApp(<RootLayout />, { user: null, realtime: true });
    expect(screen.queryByRole('link', { name: /^Balance:/ })).not.toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Log in' })).toBeInTheDocument();
    act(() => fakeSocket().serverEmit('balance:update', { coins: 5 }));
    await act(() => new Promise((r) => setTimeout(r, 20)));
    expect(screen.queryByRole('link', { name: /^Balance:/ })).not.toBeInTheDocument();
  });
});
