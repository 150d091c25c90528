import { act, screen, waitFor } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { CoinBalance } from '@/components/coin-balance';
import { setAccessToken } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import { aUser } from '@/testing/data';
import { fakeSocket, renderWithApp } from '@/testing/render';
import { server } from '@/testing/server';

describe('CoinBalance in the header', () => {
  it('follows balance:update from the socket without a reload', async () => {
    setAccessToken('token');
    server.use(http.get('/api/users/balance', () => HttpResponse.json({ coins: 100 })));
    const { queryClient } = renderWithApp(<CoinBalance />, { user: aUser({ coins: 100 }), realtime: true });
    expect(screen.getByTestId('coin-balance')).toHaveTextContent('100');

    act(() => fakeSocket().serverEmit('balance:update', { coins: 140 }));
    await waitFor(() => expect(screen.getByTestId('coin-balance')).toHaveTextContent('140'));
    expect(queryClient.getQueryData(queryKeys.me)).toMatchObject({ coins: 140 });
  });

  it('shows nothing for an anonymous visitor', () => {
    renderWithApp(<CoinBalance />, { user: null });
    expect(screen.queryByTestId('coin-balance')).not.toBeInTheDocument();
  });
});
