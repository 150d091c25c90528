import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { EarningsView } from '@/features/wallet/components/earnings-view';
import { setAccessToken } from '@/lib/api-client';
import { aPayout, anEarnings, aUser } from '@/testing/data';
import { fakeSocket, renderWithApp } from '@/testing/render';
import { server } from '@/testing/server';
import type { Earnings, Payout } from '@/types/api';

const creator = aUser({ id: 'u-creator', coins: 1600 });

function serve({ earnings, payouts }: { earnings: () => Earnings; payouts: () => Payout[] }) {
  const earningsDays: Array<string | null> = [];
  server.use(
    http.get('/api/users/me/earnings', ({ request }) => {
      earningsDays.push(new URL(request.url).searchParams.get('days'));
      return HttpResponse.json(earnings());
    }),
    http.get('/api/payouts', () => HttpResponse.json({ items: payouts(), nextCursor: null })),
  );
  return earningsDays;
}

function renderEarnings() {
  setAccessToken('token');
  return renderWithApp(<EarningsView />, { user: creator, realtime: true });
}

describe('EarningsView', () => {
  it('shows payable, held and paid-out coins, totals by source and earnings by day, newest first', async () => {
    const days = serve({ earnings: () => anEarnings({ held: 0, paidOut: 2000 }), payouts: () => [] });
    renderEarnings();

    expect(await screen.findByTestId('earnings-payable')).toHaveTextContent('1,550');
    expect(screen.getByTestId('earnings-held')).toHaveTextContent('0');
    expect(screen.getByTestId('earnings-paid-out')).toHaveTextContent('2,000');
    expect(screen.getByTestId('earnings-stream-join')).toHaveTextContent('1,300');
    expect(screen.getByTestId('earnings-tip')).toHaveTextContent('250');
    expect(screen.getByTestId('earnings-total')).toHaveTextContent('1,550');
    expect(days).toEqual(['30']);

    const rows = within(screen.getByRole('table')).getAllByRole('row').slice(1);
    // The day without earnings is left out.
    expect(rows).toHaveLength(2);
    expect(rows[0]).toHaveTextContent(/Jan 4, 2025.*1,000.*200.*0.*1,200/);
    expect(rows[1]).toHaveTextContent(/Jan 2, 2025.*300.*50.*0.*350/);
    expect(await screen.findByText('No payouts yet')).toBeInTheDocument();
  });

  it('requests a payout with an idempotency key, the minimum shown, and lists it as requested', async () => {
    let earnings = anEarnings();
    let payouts: Payout[] = [];
    serve({ earnings: () => earnings, payouts: () => payouts });
    const requests: Array<{ body: unknown; key: string | null }> = [];
    server.use(
      http.post('/api/payouts', async ({ request }) => {
        requests.push({ body: await request.json(), key: request.headers.get('Idempotency-Key') });
        payouts = [aPayout({ coins: 1200 })];
        earnings = anEarnings({ payable: 350, held: 1200 });
        return HttpResponse.json(payouts[0], { status: 201 });
      }),
      http.get('/api/users/balance', () => HttpResponse.json({ coins: 400 })),
      http.get('/api/transactions', () => HttpResponse.json({ items: [], nextCursor: null })),
    );
    renderEarnings();

    const input = await screen.findByLabelText('Coins to pay out');
    expect(input).toHaveValue(1550);
    expect(screen.getByText('Minimum 1,000 coins, up to 1,550 coins.')).toBeInTheDocument();
    await userEvent.clear(input);
    await userEvent.type(input, '999');
    expect(screen.getByText('The minimum payout is 1,000 coins.')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Request payout' })).toBeDisabled();
    await userEvent.clear(input);
    await userEvent.type(input, '1200');
    await userEvent.click(screen.getByRole('button', { name: 'Request payout' }));

    expect(await screen.findByText(/Payout of 1,200 coins requested/)).toBeInTheDocument();
    expect(requests).toEqual([{ body: { coins: 1200 }, key: expect.stringMatching(/^[0-9a-f-]{36}$/) as string }]);
    await waitFor(() => expect(screen.getByTestId('earnings-held')).toHaveTextContent('1,200'));
    expect(await screen.findByTestId('payout-state')).toHaveTextContent('Requested');
    // What is left is below the minimum: said, and nothing to submit.
    expect(screen.getByTestId('payout-below-min')).toHaveTextContent(
      'Payouts start at 1,000 coins; you can request 350 coins now. 1,200 coins are held for a request in progress.',
    );
  });

  it('explains a refusal while another request is open', async () => {
    serve({ earnings: () => anEarnings(), payouts: () => [] });
    server.use(
      http.post('/api/payouts', () =>
        HttpResponse.json({ error: { code: 'payout_pending', message: 'A payout is pending.' } }, { status: 409 }),
      ),
    );
    renderEarnings();
    await userEvent.click(await screen.findByRole('button', { name: 'Request payout' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'A payout request of yours is still open: wait until it is settled.',
    );
  });

  it('updates a payout live when an operator settles it (payout:update)', async () => {
    let payouts = [aPayout({ id: 'po-1', state: 'requested' })];
    serve({ earnings: () => anEarnings({ payable: 350, held: 1500 }), payouts: () => payouts });
    renderEarnings();
    expect(await screen.findByTestId('payout-state')).toHaveTextContent('Requested');

    const paid = aPayout({ id: 'po-1', state: 'paid', note: 'Sent by bank transfer', settledAt: '2025-01-05T10:00:00Z' });
    payouts = [paid];
    act(() => fakeSocket().serverEmit('payout:update', { payout: paid }));
    await waitFor(() => expect(screen.getByTestId('payout-state')).toHaveTextContent('Paid out'));
    expect(screen.getByText('Note: Sent by bank transfer')).toBeInTheDocument();
  });
});
