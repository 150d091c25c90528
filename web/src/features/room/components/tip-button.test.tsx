import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { RoomView } from '@/features/room/components/room-view';
import { setAccessToken } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import { aRoom, aTransaction, aUser } from '@/testing/data';
import { fakeSocket, renderWithApp } from '@/testing/render';
import { server } from '@/testing/server';
import type { Room } from '@/types/api';

type TipRequest = { body: unknown; key: string | null };

function renderRoom({ coins = 100, access = 'paid' }: { coins?: number; access?: Room['access'] } = {}) {
  setAccessToken('token');
  const viewer = aUser({ coins });
  server.use(
    http.get('/api/rooms/r-1', () => HttpResponse.json(aRoom({ price: 10, access }))),
    http.get('/api/users/me', () => HttpResponse.json(viewer)),
    http.get('/api/transactions', () => HttpResponse.json({ items: [], nextCursor: null })),
  );
  fakeSocket().onEmit('room:join', () => ({ ok: true, role: access === 'creator' ? 'creator' : 'viewer', viewerCount: 2, messages: [] }));
  return renderWithApp(<RoomView roomId="r-1" user={viewer} />, { url: '/rooms/r-1', path: '/rooms/:id', user: viewer });
}

function recordTips(answer: (n: number) => Response): TipRequest[] {
  const requests: TipRequest[] = [];
  server.use(
    http.post('/api/transactions/tip', async ({ request }) => {
      requests.push({ body: await request.json(), key: request.headers.get('Idempotency-Key') });
      return answer(requests.length);
    }),
  );
  return requests;
}

describe('TipButton', () => {
  it('tips a preset amount with a message and an idempotency key, and shows the new balance', async () => {
    const requests = recordTips(() =>
      HttpResponse.json({ transaction: aTransaction({ kind: 'tip', amount: 50 }), balance: 50 }),
    );
    const { queryClient } = renderRoom();

    await userEvent.click(await screen.findByRole('button', { name: 'Tip the creator' }));
    await userEvent.click(screen.getByRole('button', { name: '50 coins' }));
    await userEvent.type(screen.getByLabelText('Message (optional)'), 'Great run!');
    await userEvent.click(screen.getByRole('button', { name: 'Send 50 coins' }));

    expect(await screen.findByText('You tipped 50 coins. Thank you!')).toBeInTheDocument();
    expect(requests).toEqual([
      { body: { roomId: 'r-1', amount: 50, message: 'Great run!' }, key: expect.stringMatching(/^[0-9a-f-]{36}$/) as string },
    ]);
    expect(queryClient.getQueryData(queryKeys.balance)).toEqual({ coins: 50 });
  });

  it('checks the balance first: a tip above it is not sent, and the wallet is offered', async () => {
    const requests = recordTips(() => HttpResponse.json({ transaction: aTransaction({ kind: 'tip' }), balance: 5 }));
    renderRoom({ coins: 20 });
    await userEvent.click(await screen.findByRole('button', { name: 'Tip the creator' }));
    await userEvent.click(screen.getByRole('button', { name: '50 coins' }));

    expect(screen.getByTestId('tip-short')).toHaveTextContent('Your balance is 20 coins.');
    expect(screen.getByRole('link', { name: 'Get coins' })).toHaveAttribute('href', '/wallet?returnTo=%2Frooms%2Fr-1');
    expect(screen.getByRole('button', { name: 'Send 50 coins' })).toBeDisabled();

    const custom = screen.getByLabelText('Other amount (coins)');
    await userEvent.clear(custom);
    await userEvent.type(custom, '15');
    await userEvent.click(screen.getByRole('button', { name: 'Send 15 coins' }));
    await waitFor(() => expect(requests).toHaveLength(1));
    expect(requests[0]?.body).toEqual({ roomId: 'r-1', amount: 15 });
  });

  it('keeps the key for a retry of the same tip, and takes a new one for a different tip', async () => {
    const requests = recordTips((n) =>
      n === 1
        ? HttpResponse.error()
        : HttpResponse.json({ transaction: aTransaction({ kind: 'tip', amount: 10 }), balance: 90 }),
    );
    renderRoom();
    await userEvent.click(await screen.findByRole('button', { name: 'Tip the creator' }));
    await userEvent.click(screen.getByRole('button', { name: 'Send 10 coins' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Cannot reach StreamShare.');
    await userEvent.click(screen.getByRole('button', { name: 'Send 10 coins' }));
    expect(await screen.findByText('You tipped 10 coins. Thank you!')).toBeInTheDocument();
    expect(requests[1]?.key).toBe(requests[0]?.key);

    await userEvent.click(screen.getByRole('button', { name: 'Tip the creator' }));
    await userEvent.click(screen.getByRole('button', { name: 'Send 10 coins' }));
    await waitFor(() => expect(requests).toHaveLength(3));
    expect(requests[2]?.key).not.toBe(requests[1]?.key);
  });

  it('explains a refusal from the server', async () => {
    recordTips(() =>
      HttpResponse.json({ error: { code: 'rate_limited', message: 'Too many tips.' } }, { status: 429 }),
    );
    renderRoom();
    await userEvent.click(await screen.findByRole('button', { name: 'Tip the creator' }));
    await userEvent.click(screen.getByRole('button', { name: 'Send 10 coins' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('You are tipping too fast. Wait a moment and try again.');
  });

  it('says what to do when a timed-out viewer adds a message (403 timed_out)', async () => {
    recordTips(() =>
      HttpResponse.json({ error: { code: 'timed_out', message: 'You are timed out.' } }, { status: 403 }),
    );
    renderRoom();
    await userEvent.click(await screen.findByRole('button', { name: 'Tip the creator' }));
    await userEvent.type(screen.getByLabelText('Message (optional)'), 'hey');
    await userEvent.click(screen.getByRole('button', { name: 'Send 10 coins' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'You are timed out of the chat: send the tip without a message, or wait until the timeout ends.',
    );
  });

  it('is not offered to the creator in their own room', async () => {
    renderRoom({ access: 'creator' });
    await waitFor(() => expect(fakeSocket().emitsOf('room:join')).toHaveLength(1));
    await screen.findByTestId('room-viewer-count');
    expect(screen.queryByRole('button', { name: 'Tip the creator' })).not.toBeInTheDocument();
  });
});
