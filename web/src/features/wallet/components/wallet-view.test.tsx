import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { WalletView } from '@/features/wallet/components/wallet-view';
import { setAccessToken } from '@/lib/api-client';
import { aTransaction, aUser } from '@/testing/data';
import { renderWithApp } from '@/testing/render';
import { server } from '@/testing/server';

const me = aUser({ id: 'u-me', coins: 75 });

describe('WalletView', () => {
  it('shows the balance and each entry as a debit or a credit relative to me', async () => {
    setAccessToken('token');
    server.use(
      http.get('/api/users/balance', () => HttpResponse.json({ coins: 75 })),
      http.get('/api/transactions', () =>
        HttpResponse.json({
          items: [
            // I paid to watch someone: a debit.
            aTransaction({ id: 't3', fromUserId: 'u-me', toUserId: 'u-creator', amount: 40, roomTitle: 'Speedrun night' }),
            // Someone paid to watch me: a credit.
            aTransaction({ id: 't2', fromUserId: 'u-fan', toUserId: 'u-me', amount: 15, roomTitle: 'My cooking show', roomId: 'r-9' }),
            // The signup grant: a credit with no payer.
            aTransaction({ id: 't1', kind: 'grant', fromUserId: null, toUserId: 'u-me', amount: 100, roomId: null, roomTitle: null, liveSessionId: null }),
          ],
          nextCursor: null,
        }),
      ),
    );
    renderWithApp(<WalletView user={me} />, { user: me });

    expect(screen.getByTestId('wallet-balance')).toHaveTextContent('75');
    const rows = await screen.findAllByRole('listitem');
    expect(rows).toHaveLength(3);
    const [debit, credit, grant] = rows as [HTMLElement, HTMLElement, HTMLElement];

    expect(debit).toHaveAttribute('data-direction', 'debit');
    expect(debit).toHaveTextContent('Debit −40 coins');
    expect(within(debit).getByRole('link', { name: 'Speedrun night' })).toHaveAttribute('href', '/rooms/r-1');

    expect(credit).toHaveAttribute('data-direction', 'credit');
    expect(credit).toHaveTextContent('Credit +15 coins');
    expect(credit).toHaveTextContent('My cooking show');

    expect(grant).toHaveAttribute('data-direction', 'credit');
    expect(grant).toHaveTextContent('Welcome coins');
    expect(grant).toHaveTextContent('+100');
  });

  it('loads older entries with the cursor on "Load more"', async () => {
    setAccessToken('token');
    const cursors: Array<string | null> = [];
    server.use(
      http.get('/api/users/balance', () => HttpResponse.json({ coins: 75 })),
      http.get('/api/transactions', ({ request }) => {
        const cursor = new URL(request.url).searchParams.get('cursor');
        cursors.push(cursor);
        return cursor === 'page-2'
          ? HttpResponse.json({ items: [aTransaction({ id: 'old', roomTitle: 'Older room' })], nextCursor: null })
          : HttpResponse.json({ items: [aTransaction({ id: 'new', roomTitle: 'Newer room' })], nextCursor: 'page-2' });
      }),
    );
    renderWithApp(<WalletView user={me} />, { user: me });

    await screen.findByText('Newer room');
    await userEvent.click(screen.getByRole('button', { name: 'Load more' }));
    expect(await screen.findByText('Older room')).toBeInTheDocument();
    expect(cursors).toEqual([null, 'page-2']);
    expect(screen.queryByRole('button', { name: 'Load more' })).not.toBeInTheDocument();
  });

  it('has an empty state', async () => {
    setAccessToken('token');
    server.use(
      http.get('/api/users/balance', () => HttpResponse.json({ coins: 75 })),
      http.get('/api/transactions', () => HttpResponse.json({ items: [], nextCursor: null })),
    );
    renderWithApp(<WalletView user={me} />, { user: me });
    expect(await screen.findByText('No transactions yet')).toBeInTheDocument();
  });
});
