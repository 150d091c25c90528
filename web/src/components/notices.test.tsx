import { act, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import { Notices } from '@/components/notices';
import { queryKeys } from '@/lib/query-keys';
import { aUser } from '@/testing/data';
import { fakeSocket, renderWithApp } from '@/testing/render';

const refund = { roomId: 'r-1', amount: 10, transactionId: 'tx-refund', roomTitle: 'Speedrun night' };

describe('Notices', () => {
  it('says why coins came back when payment:refunded arrives, and refreshes the wallet', async () => {
    const { queryClient } = renderWithApp(<Notices />, { user: aUser(), realtime: true });
    queryClient.setQueryData(queryKeys.transactions.list({}), { pages: [], pageParams: [] });
    expect(screen.queryByRole('region', { name: 'Notifications' })).not.toBeInTheDocument();

    act(() => fakeSocket().serverEmit('payment:refunded', refund));
    expect(await screen.findByTestId('notice-text')).toHaveTextContent(
      'Refunded 10 coins for Speedrun night: the stream ended before you saw it.',
    );
    expect(screen.getByRole('link', { name: 'Open your wallet' })).toHaveAttribute('href', '/wallet');
    expect(queryClient.getQueryState(queryKeys.transactions.list({}))?.isInvalidated).toBe(true);

    // The same refund pushed twice (two tabs' worth) shows once.
    act(() => fakeSocket().serverEmit('payment:refunded', refund));
    expect(screen.getAllByTestId('notice-text')).toHaveLength(1);

    await userEvent.click(screen.getByRole('button', { name: 'Dismiss' }));
    await waitFor(() => expect(screen.queryByTestId('notice-text')).not.toBeInTheDocument());
  });

  it('says "1 coin" for one coin', async () => {
    renderWithApp(<Notices />, { user: aUser(), realtime: true });
    act(() => fakeSocket().serverEmit('payment:refunded', { ...refund, amount: 1 }));
    expect(await screen.findByTestId('notice-text')).toHaveTextContent('Refunded 1 coin for Speedrun night');
  });
});
