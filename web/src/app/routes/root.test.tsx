import { act, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { RootLayout } from '@/app/routes/root';
import { getAccessToken, setAccessToken } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
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

  it('catches up on every connect, the first one too, when updates may have been missed', async () => {
    const requests = renderHeader();
    // A payment made before the (lazily loaded) socket first connected.
    requests.coins = 90;
    act(() => fakeSocket().serverEmit('connect', undefined));
    await waitFor(() => expect(headerBalance()).toHaveAccessibleName('Balance: 90 coins. Open wallet'));
    expect(requests.count).toBe(1);

    requests.coins = 80;
    act(() => fakeSocket().serverEmit('connect', undefined));
    await waitFor(() => expect(headerBalance()).toHaveAccessibleName('Balance: 80 coins. Open wallet'));
    expect(requests.count).toBe(2);
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

describe('The root layout', () => {
  it('asks a user whose sign-up coins wait to confirm the e-mail address', () => {
    setAccessToken('token');
    const pending = aUser({ coins: 0, emailVerified: false, grantPending: true });
    renderWithApp(<RootLayout />, { user: pending, realtime: true });
    expect(screen.getByText('Confirm your e-mail address to receive your sign-up coins.')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Send the link again' })).toBeInTheDocument();
  });

  it('signs a suspended account out and says why, in place of the page, when the socket is refused', async () => {
    setAccessToken('token');
    const { queryClient } = renderWithApp(<RootLayout />, { user: me, realtime: true });
    const socket = fakeSocket();
    socket.active = false;
    act(() => socket.serverEmit('connect_error', new Error('account_suspended: This account is suspended.')));

    expect(await screen.findByRole('alert')).toHaveTextContent('This account is suspended.');
    expect(getAccessToken()).toBeNull();
    expect(queryClient.getQueryData(queryKeys.me)).toBeNull();
    expect(screen.getByRole('link', { name: 'Log in' })).toBeInTheDocument();

    await userEvent.click(screen.getByRole('button', { name: 'Continue without an account' }));
    expect(screen.queryByText('This account is suspended.')).not.toBeInTheDocument();
  });

  it('signs a deleted account out when an API call answers 401 account_closed', async () => {
    setAccessToken('token');
    server.use(
      http.get('/api/users/balance', () =>
        HttpResponse.json({ error: { code: 'account_closed', message: 'This account no longer exists.' } }, { status: 401 }),
      ),
    );
    const { queryClient } = renderWithApp(<RootLayout />, { user: me, realtime: true });
    act(() => void queryClient.invalidateQueries({ queryKey: queryKeys.balance }));

    expect(await screen.findByRole('alert')).toHaveTextContent('This account no longer exists.');
    expect(queryClient.getQueryData(queryKeys.me)).toBeNull();
  });
});
