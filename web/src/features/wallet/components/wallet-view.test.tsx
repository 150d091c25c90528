import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { beforeEach, describe, expect, it } from 'vitest';

import { WalletView } from '@/features/wallet/components/wallet-view';
import { setAccessToken } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import { aTransaction, aUser } from '@/testing/data';
import { renderWithApp } from '@/testing/render';
import { server } from '@/testing/server';

const me = aUser({ id: 'u-me', coins: 75 });

/** The wallet's money sections, quiet: no provider, no purchases. */
beforeEach(() => {
  server.use(
    http.get('/api/coins/packs', () => HttpResponse.json({ items: [], provider: null })),
    http.get('/api/coins/purchases', () => HttpResponse.json({ items: [], nextCursor: null })),
  );
});

/** The entries of the Transactions list. */
async function transactionRows() {
  return within(await screen.findByRole('list', { name: 'Transactions' })).getAllByRole('listitem');
}

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
    const rows = await transactionRows();
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

  it('shows how much of the balance is sign-up bonus, and what that means', async () => {
    setAccessToken('token');
    const fresh = aUser({ id: 'u-me', coins: 100, bonusCoins: 100 });
    server.use(
      http.get('/api/users/balance', () => HttpResponse.json({ coins: 100 })),
      http.get('/api/transactions', () => HttpResponse.json({ items: [], nextCursor: null })),
    );
    renderWithApp(<WalletView user={fresh} />, { user: fresh });

    expect(screen.getByTestId('wallet-balance-line')).toHaveTextContent('100 coins, of which 100 sign-up bonus');
    expect(screen.getByTestId('wallet-bonus')).toHaveTextContent('100');
    expect(screen.getByText(/Sign-up bonus coins are spent first/)).toHaveTextContent(
      "They can't be used in the rooms of a creator who signed up from the same network as you.",
    );
    await screen.findByText('No transactions yet');
  });

  it('never shows more bonus than the balance holds, and no bonus line without bonus', async () => {
    setAccessToken('token');
    const spent = aUser({ id: 'u-me', coins: 100, bonusCoins: 100 });
    server.use(http.get('/api/transactions', () => HttpResponse.json({ items: [], nextCursor: null })));
    const { unmount, queryClient } = renderWithApp(<WalletView user={spent} />, { user: spent });
    // A live balance (40, from the socket) newer than the user's `bonusCoins` (100).
    act(() => {
      queryClient.setQueryData(queryKeys.balance, { coins: 40 });
    });
    await waitFor(() => expect(screen.getByTestId('wallet-balance')).toHaveTextContent('40'));
    expect(screen.getByTestId('wallet-bonus')).toHaveTextContent('40');
    unmount();

    renderWithApp(<WalletView user={me} />, { user: me });
    await screen.findByText('No transactions yet');
    expect(screen.queryByTestId('wallet-bonus')).not.toBeInTheDocument();
    expect(screen.queryByText(/Sign-up bonus coins are spent first/)).not.toBeInTheDocument();
  });

  it('says the sign-up coins wait for the e-mail address', async () => {
    setAccessToken('token');
    const pending = aUser({ id: 'u-me', coins: 0, emailVerified: false, grantPending: true });
    server.use(
      http.get('/api/users/balance', () => HttpResponse.json({ coins: 0 })),
      http.get('/api/transactions', () => HttpResponse.json({ items: [], nextCursor: null })),
    );
    renderWithApp(<WalletView user={pending} />, { user: pending });
    expect(screen.getByText('Your sign-up coins arrive once you confirm your e-mail address.')).toBeInTheDocument();
    await screen.findByText('No transactions yet');
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

  it('shows a refund as a credit for the viewer and a debit for the creator', async () => {
    setAccessToken('token');
    server.use(
      http.get('/api/users/balance', () => HttpResponse.json({ coins: 75 })),
      http.get('/api/transactions', () =>
        HttpResponse.json({
          items: [
            // My payment, given back: the creator pays it back to me.
            aTransaction({ id: 'r1', kind: 'refund', refundOf: 't1', fromUserId: 'u-creator', toUserId: 'u-me', amount: 10, roomTitle: 'Speedrun night' }),
            // A viewer's payment to me, given back.
            aTransaction({ id: 'r2', kind: 'refund', refundOf: 't7', fromUserId: 'u-me', toUserId: 'u-fan', amount: 15, roomTitle: 'My cooking show', roomId: 'r-9' }),
          ],
          nextCursor: null,
        }),
      ),
    );
    renderWithApp(<WalletView user={me} />, { user: me });

    const [mine, theirs] = (await transactionRows()) as [HTMLElement, HTMLElement];
    expect(mine).toHaveAttribute('data-direction', 'credit');
    expect(mine).toHaveTextContent('Refund · Speedrun night');
    expect(mine).toHaveTextContent('The stream ended before you saw it');
    expect(mine).toHaveTextContent('Credit +10 coins');

    expect(theirs).toHaveAttribute('data-direction', 'debit');
    expect(theirs).toHaveTextContent('Refund to a viewer · My cooking show');
    expect(theirs).toHaveTextContent("A viewer's entry, given back");
    expect(theirs).toHaveTextContent('Debit −15 coins');
  });

  it('leads back to the page that sent the user here (?returnTo), and says when a checkout was cancelled', async () => {
    setAccessToken('token');
    server.use(http.get('/api/transactions', () => HttpResponse.json({ items: [], nextCursor: null })));
    const { unmount } = renderWithApp(<WalletView user={me} />, {
      url: '/wallet?returnTo=%2Frooms%2Fr-1',
      path: '/wallet',
      user: me,
    });
    expect(screen.getByRole('link', { name: 'Go back without buying' })).toHaveAttribute('href', '/rooms/r-1');
    expect(screen.queryByText('The checkout was cancelled.')).not.toBeInTheDocument();
    unmount();

    // Another site as the way back: ignored.
    renderWithApp(<WalletView user={me} />, {
      url: '/wallet?cancelled=p-1&returnTo=https%3A%2F%2Fevil.example%2F',
      path: '/wallet',
      user: me,
    });
    expect(screen.getByText('The checkout was cancelled.')).toBeInTheDocument();
    expect(screen.queryByRole('link', { name: 'Go back without buying' })).not.toBeInTheDocument();
    await screen.findByText('No transactions yet');
  });
});
