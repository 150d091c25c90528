import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { EmailVerificationNotice } from '@/features/auth/components/email-verification-notice';
import { setAccessToken } from '@/lib/api-client';
import { useUser } from '@/lib/auth';
import { aUser } from '@/testing/data';
import { renderWithApp } from '@/testing/render';
import { server } from '@/testing/server';
import type { User } from '@/types/api';

const pending = aUser({ coins: 0, emailVerified: false, grantPending: true });

/** As the root layout mounts it: for the cached user, keyed by id. */
function Notice() {
  const { data: user } = useUser();
  return user ? <EmailVerificationNotice key={user.id} user={user} /> : null;
}

function renderNotice(user: User = pending) {
  setAccessToken('token');
  return renderWithApp(<Notice />, { user });
}

const title = 'Confirm your e-mail address to receive your sign-up coins.';
const resendButton = () => screen.getByRole('button', { name: 'Send the link again' });

describe('EmailVerificationNotice', () => {
  it('asks to confirm the address while the sign-up coins wait, and sends a new link (202)', async () => {
    const auth: Array<string | null> = [];
    server.use(
      http.post('/api/auth/verify-email/resend', ({ request }) => {
        auth.push(request.headers.get('Authorization'));
        return new HttpResponse(null, { status: 202 });
      }),
    );
    renderNotice();

    expect(screen.getByText(title)).toBeInTheDocument();
    await userEvent.click(resendButton());
    expect(await screen.findByText('A new link is on its way. Check your inbox (and the spam folder).')).toBeInTheDocument();
    expect(auth).toEqual(['Bearer token']);
  });

  it("shows the server's words when a link went out moments ago (429)", async () => {
    server.use(
      http.post('/api/auth/verify-email/resend', () =>
        HttpResponse.json(
          {
            error: {
              code: 'rate_limited',
              message: 'A link was sent a moment ago; ask again in 42 s.',
              retryAfterSeconds: 42,
            },
          },
          { status: 429, headers: { 'Retry-After': '42' } },
        ),
      ),
    );
    renderNotice();
    await userEvent.click(resendButton());
    expect(await screen.findByRole('alert')).toHaveTextContent('A link was sent a moment ago; ask again in 42 s.');
  });

  it('says so when the address was verified meanwhile (409), and catches the user up', async () => {
    let meRequests = 0;
    server.use(
      http.post('/api/auth/verify-email/resend', () =>
        HttpResponse.json(
          { error: { code: 'already_verified', message: 'Your e-mail address is already verified.' } },
          { status: 409 },
        ),
      ),
      http.get('/api/users/me', () => {
        meRequests += 1;
        return HttpResponse.json({ ...pending, coins: 100, bonusCoins: 100, emailVerified: true, grantPending: false });
      }),
      http.get('/api/users/balance', () => HttpResponse.json({ coins: 100 })),
    );
    renderNotice();
    await userEvent.click(resendButton());

    expect(await screen.findByText('Your e-mail address is already verified.')).toBeInTheDocument();
    await waitFor(() => expect(meRequests).toBe(1));
    // The answer stays in view although the user no longer waits for coins.
    expect(screen.getByText('Your e-mail address is already verified.')).toBeInTheDocument();
  });

  it('goes away when dismissed, for the rest of the tab session', async () => {
    const { unmount } = renderNotice();
    await userEvent.click(screen.getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByText(title)).not.toBeInTheDocument();
    unmount();

    renderNotice();
    expect(screen.queryByText(title)).not.toBeInTheDocument();
  });

  it('is not shown when no coins wait for the address', () => {
    renderNotice(aUser({ emailVerified: false, grantPending: false }));
    expect(screen.queryByText(title)).not.toBeInTheDocument();
  });
});
