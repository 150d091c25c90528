import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { CoinBalance } from '@/components/coin-balance';
import { VerifyEmail } from '@/features/auth/components/verify-email';
import { setAccessToken } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import { aUser } from '@/testing/data';
import { renderWithApp } from '@/testing/render';
import { server } from '@/testing/server';
import type { User } from '@/types/api';

const pending = aUser({ id: 'u-new', coins: 0, bonusCoins: 0, emailVerified: false, grantPending: true });
const verified = { ...pending, coins: 100, bonusCoins: 100, emailVerified: true, grantPending: false };

const invalidToken = () =>
  HttpResponse.json(
    {
      error: {
        code: 'invalid_verification_token',
        message: 'This link is not valid or has expired; ask for a new one.',
        field: 'token',
      },
    },
    { status: 422 },
  );

/** The page under StrictMode like `main.tsx`, with the header's balance. */
function renderPage(token: string | null, user: User | null) {
  return renderWithApp(
    <>
      <CoinBalance />
      <VerifyEmail token={token} />
    </>,
    { user, url: '/verify-email', path: '/verify-email', strict: true },
  );
}

describe('VerifyEmail', () => {
  it('posts the token once, even under StrictMode, and puts the granted coins in the header', async () => {
    setAccessToken('token');
    const bodies: unknown[] = [];
    server.use(
      http.post('/api/auth/verify-email', async ({ request }) => {
        bodies.push(await request.json());
        return HttpResponse.json({ user: verified });
      }),
    );
    const { queryClient } = renderPage('tok-1', pending);

    expect(screen.getByText('Verifying your e-mail address')).toBeInTheDocument();
    expect(await screen.findByText('Your e-mail address is verified.')).toBeInTheDocument();
    expect(screen.getByTestId('verify-coins-added')).toHaveTextContent(
      '100 coins of sign-up bonus were added to your balance.',
    );
    expect(screen.getByTestId('coin-balance')).toHaveTextContent('100');
    expect(queryClient.getQueryData<User>(queryKeys.me)).toMatchObject({ grantPending: false, bonusCoins: 100 });
    expect(bodies).toEqual([{ token: 'tok-1' }]);
  });

  it('shows the refusal of a used or expired link, and sends a new one on request', async () => {
    setAccessToken('token');
    let resends = 0;
    server.use(
      http.post('/api/auth/verify-email', invalidToken),
      http.post('/api/auth/verify-email/resend', () => {
        resends += 1;
        return new HttpResponse(null, { status: 202 });
      }),
    );
    renderPage('used', pending);

    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Your e-mail address could not be verified.');
    expect(alert).toHaveTextContent('This link is not valid or has expired; ask for a new one.');
    expect(screen.getByTestId('coin-balance')).toHaveTextContent('0');

    await userEvent.click(screen.getByRole('button', { name: 'Send the link again' }));
    expect(await screen.findByText(/A new link is on its way/)).toBeInTheDocument();
    expect(resends).toBe(1);
  });

  it('works signed out, without making anyone signed in', async () => {
    server.use(http.post('/api/auth/verify-email', () => HttpResponse.json({ user: verified })));
    const { queryClient } = renderPage('tok-2', null);

    expect(await screen.findByText('Your e-mail address is verified.')).toBeInTheDocument();
    expect(screen.getByText(/Your account has 100 coins/)).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Log in' })).toHaveAttribute('href', '/login?redirectTo=%2Fwallet');
    expect(queryClient.getQueryData(queryKeys.me)).toBeNull();
  });

  it('asks a signed-out visitor with a bad link to log in for a new one', async () => {
    server.use(http.post('/api/auth/verify-email', invalidToken));
    renderPage('bad', null);

    expect(await screen.findByRole('alert')).toHaveTextContent('This link is not valid or has expired');
    expect(screen.getByText(/to ask for a new link/)).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Send the link again' })).not.toBeInTheDocument();
  });

  it('does not post a link without a token', async () => {
    let posts = 0;
    server.use(
      http.post('/api/auth/verify-email', () => {
        posts += 1;
        return invalidToken();
      }),
    );
    renderPage(null, null);
    expect(screen.getByRole('alert')).toHaveTextContent('This link is incomplete.');
    await new Promise((r) => setTimeout(r, 20));
    await waitFor(() => expect(posts).toBe(0));
  });
});
