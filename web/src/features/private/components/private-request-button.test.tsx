import { act, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { PrivateRequestButton } from '@/features/private/components/private-request-button';
import { PrivateSessionHost } from '@/features/private/components/private-session-host';
import { setAccessToken } from '@/lib/api-client';
import { aUser } from '@/testing/data';
import { aPrivateSession, anActiveSession, anOffer } from '@/testing/private-data';
import { fakeSocket, renderWithApp } from '@/testing/render';
import { server } from '@/testing/server';
import type { User } from '@/types/api';

const viewer = aUser({ coins: 45 });
const creatorRef = { id: 'u-creator', username: 'creator', displayName: 'Cleo Creator' };

function serve(offer = anOffer({ pricePerMinute: 10 })) {
  const requests: unknown[] = [];
  const cancels: string[] = [];
  server.use(
    http.get('/api/private/offers/u-creator', () => HttpResponse.json(offer)),
    http.get('/api/private/sessions', () => HttpResponse.json({ items: [], nextCursor: null })),
    http.post('/api/private/sessions', async ({ request }) => {
      requests.push(await request.json());
      return HttpResponse.json(aPrivateSession(), { status: 201 });
    }),
    http.post('/api/private/sessions/:id/cancel', ({ params }) => {
      cancels.push(params.id as string);
      return HttpResponse.json(aPrivateSession({ state: 'cancelled' }));
    }),
  );
  return { requests, cancels };
}

/** The button as the room page composes it, with the app-wide host that hears `private:update`. */
function renderButton(user: User | null = viewer) {
  setAccessToken('token');
  return renderWithApp(
    <>
      {user && <PrivateSessionHost user={user} />}
      <PrivateRequestButton creator={creatorRef} user={user} />
    </>,
    { user, url: '/rooms/r-1', path: '/rooms/:id' },
  );
}

const requestButton = () => screen.findByRole('button', { name: 'Private session · 10 coins/min' });

describe('PrivateRequestButton', () => {
  it('shows the price per minute, and a confirmation with the balance in minutes', async () => {
    serve();
    renderButton();
    await userEvent.click(await requestButton());
    const dialog = screen.getByRole('dialog', { name: 'A private session with Cleo Creator' });
    expect(dialog).toHaveTextContent('10 coins per minute');
    expect(screen.getByTestId('private-confirm-balance')).toHaveTextContent(
      'Your balance: 45 coins · enough for about 4 minutes',
    );
    await userEvent.click(screen.getByRole('button', { name: 'Not now' }));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  });

  it('requests, waits with a visible expiry, and opens the session page once the creator accepts', async () => {
    const { requests } = serve();
    const { router } = renderButton();
    await userEvent.click(await requestButton());
    await userEvent.click(screen.getByRole('button', { name: 'Send request' }));

    const waiting = await screen.findByTestId('private-waiting');
    expect(waiting).toHaveTextContent(/Waiting for Cleo Creator to accept your private session \(the request expires in (0:59|1:00)\)/);
    expect(requests).toEqual([{ creatorId: 'u-creator' }]);

    act(() => fakeSocket().serverEmit('private:update', { session: anActiveSession(0) }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/private/p-1'));
  });

  it('cancels a waiting request', async () => {
    const { cancels } = serve();
    renderButton();
    await userEvent.click(await requestButton());
    await userEvent.click(screen.getByRole('button', { name: 'Send request' }));
    await userEvent.click(await screen.findByRole('button', { name: 'Cancel request' }));
    await waitFor(() => expect(screen.queryByTestId('private-waiting')).not.toBeInTheDocument());
    expect(cancels).toEqual(['p-1']);
    expect(await requestButton()).toBeInTheDocument();
  });

  it('says so when the creator declines, and that no coins were taken', async () => {
    serve();
    renderButton();
    await userEvent.click(await requestButton());
    await userEvent.click(screen.getByRole('button', { name: 'Send request' }));
    await screen.findByTestId('private-waiting');
    act(() => fakeSocket().serverEmit('private:update', { session: aPrivateSession({ state: 'declined' }) }));
    expect(await screen.findByText('Cleo Creator declined your private session. No coins were taken.')).toBeInTheDocument();
  });

  it('picks up the request already waiting (another tab, a reload) when the server says one is pending', async () => {
    serve();
    const pending = aPrivateSession({ id: 'p-9' });
    server.use(
      http.post('/api/private/sessions', () =>
        HttpResponse.json(
          { error: { code: 'request_pending', message: 'You already have a private session request.' } },
          { status: 409 },
        ),
      ),
      http.get('/api/private/sessions', () => HttpResponse.json({ items: [pending], nextCursor: null })),
    );
    renderButton();
    await userEvent.click(await requestButton());
    await userEvent.click(screen.getByRole('button', { name: 'Send request' }));
    expect(await screen.findByTestId('private-waiting')).toHaveTextContent('Waiting for Cleo Creator');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  });

  it('cannot send a request without the first minute, and shows the refusal of the server', async () => {
    serve(anOffer({ pricePerMinute: 50 }));
    renderButton();
    await userEvent.click(await screen.findByRole('button', { name: 'Private session · 50 coins/min' }));
    expect(screen.getByText(/You need at least 50 coins for the first minute\./)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Send request' })).toBeDisabled();
  });

  it("explains a 402 with the server's numbers", async () => {
    serve();
    server.use(
      http.post('/api/private/sessions', () =>
        HttpResponse.json(
          { error: { code: 'insufficient_funds', message: 'Not enough coins.', balance: 5, required: 10 } },
          { status: 402 },
        ),
      ),
    );
    renderButton();
    await userEvent.click(await requestButton());
    await userEvent.click(screen.getByRole('button', { name: 'Send request' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'You need at least 10 coins for the first minute; you have 5 coins.',
    );
  });

  it('shows nothing while the creator does not accept requests, to the creator, or to a visitor', async () => {
    let asked = 0;
    server.use(
      http.get('/api/private/offers/u-creator', () => {
        asked += 1;
        return HttpResponse.json(anOffer({ accepting: false }));
      }),
      http.get('/api/private/sessions', () => HttpResponse.json({ items: [], nextCursor: null })),
    );
    const first = renderButton();
    await waitFor(() => expect(asked).toBe(1));
    expect(screen.queryByRole('button', { name: /Private session/ })).not.toBeInTheDocument();
    first.unmount();

    renderButton(aUser({ id: 'u-creator' }));
    renderButton(null);
    await act(() => new Promise((r) => setTimeout(r, 30)));
    expect(asked).toBe(1);
    expect(screen.queryByRole('button', { name: /Private session/ })).not.toBeInTheDocument();
  });
});
