import { act, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { RoomView } from '@/features/room/components/room-view';
import { setAccessToken } from '@/lib/api-client';
import { aRoom, aTransaction, aUser } from '@/testing/data';
import { fakeSocket, renderWithApp } from '@/testing/render';
import { server } from '@/testing/server';
import type { Room } from '@/types/api';

function renderRoom(coins: number) {
  setAccessToken('token');
  const viewer = aUser({ coins });
  return renderWithApp(<RoomView roomId="r-1" user={viewer} />, {
    url: '/rooms/r-1',
    path: '/rooms/:id',
    user: viewer,
    realtime: true,
  });
}

describe('PayGate when the balance is short (issue 16)', () => {
  it('offers "Get coins" to the wallet and back instead of a Pay that can only fail, then Pay once coins arrive', async () => {
    let access: Room['access'] = 'locked';
    server.use(
      http.get('/api/rooms/r-1', () => HttpResponse.json(aRoom({ price: 50, access }))),
      http.get('/api/users/me', () => HttpResponse.json(aUser({ coins: 100 }))),
    );
    const payments: unknown[] = [];
    server.use(
      http.post('/api/transactions/stream-join', async ({ request }) => {
        payments.push(await request.json());
        access = 'paid';
        return HttpResponse.json({ transaction: aTransaction({ amount: 50 }), balance: 100, alreadyPaid: false });
      }),
    );
    fakeSocket().onEmit('room:watch', () => ({ ok: true, room: aRoom({ price: 50 }) }));
    fakeSocket().onEmit('room:join', () => ({ ok: true, role: 'viewer', viewerCount: 2, messages: [] }));
    renderRoom(20);

    const getCoins = await screen.findByRole('link', { name: 'Get coins' });
    expect(getCoins).toHaveAttribute('href', '/wallet?returnTo=%2Frooms%2Fr-1');
    expect(screen.queryByRole('button', { name: /^Pay/ })).not.toBeInTheDocument();
    expect(screen.getByText('You need 30 more coins for this room.')).toBeInTheDocument();

    // Coins bought (the purchase's balance:update): Pay is back, and pays.
    act(() => fakeSocket().serverEmit('balance:update', { coins: 150 }));
    await userEvent.click(await screen.findByRole('button', { name: 'Pay 50 coins' }));
    expect(await screen.findByText('Paid 50 coins. Your balance is now 100 coins.')).toBeInTheDocument();
    expect(payments).toEqual([{ creatorId: 'u-creator', roomId: 'r-1', amount: 50 }]);
    expect(screen.queryByRole('link', { name: 'Get coins' })).not.toBeInTheDocument();
  });

  it('turns Pay into "Get coins" when the server says the coins that count here are short', async () => {
    server.use(
      http.get('/api/rooms/r-1', () => HttpResponse.json(aRoom({ price: 50, access: 'locked' }))),
      http.post('/api/transactions/stream-join', () =>
        HttpResponse.json(
          {
            error: {
              code: 'insufficient_funds',
              message: 'You need 30 more coins to enter this room.',
              balance: 120,
              required: 50,
              bonusCoinsExcluded: 100,
            },
          },
          { status: 402 },
        ),
      ),
    );
    renderRoom(120);
    await userEvent.click(await screen.findByRole('button', { name: 'Pay 50 coins' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('You need 30 more coins to enter this room.');
    await waitFor(() =>
      expect(screen.getByRole('link', { name: 'Get coins' })).toHaveAttribute('href', '/wallet?returnTo=%2Frooms%2Fr-1'),
    );
    expect(screen.queryByRole('button', { name: /^Pay/ })).not.toBeInTheDocument();
  });
});
