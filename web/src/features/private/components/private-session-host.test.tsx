import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { PrivateSessionHost } from '@/features/private/components/private-session-host';
import { setAccessToken } from '@/lib/api-client';
import { aUser } from '@/testing/data';
import { deferred } from '@/testing/deferred';
import { aPrivateSession, anActiveSession } from '@/testing/private-data';
import { fakeSocket, renderWithApp } from '@/testing/render';
import { server } from '@/testing/server';
import type { PrivateSession } from '@/types/api';

const creator = aUser({ id: 'u-creator', username: 'creator', displayName: 'Cleo Creator' });

function serve(listed: PrivateSession[] = []) {
  const calls: string[] = [];
  server.use(
    http.get('/api/private/sessions', () => HttpResponse.json({ items: listed, nextCursor: null })),
    http.post('/api/private/sessions/:id/:action', ({ params }) => {
      calls.push(`${params.action as string} ${params.id as string}`);
      const state = params.action === 'accept' ? 'active' : 'declined';
      return HttpResponse.json(
        state === 'active' ? anActiveSession(0) : aPrivateSession({ id: params.id as string, state }),
      );
    }),
  );
  return calls;
}

async function renderHost(url = '/wallet') {
  setAccessToken('token');
  const result = renderWithApp(<PrivateSessionHost user={creator} />, { user: creator, url, path: '*' });
  // The router renders the page (and its socket listeners) after a tick.
  await act(() => new Promise((r) => setTimeout(r, 0)));
  return result;
}

const toast = () => screen.findByRole('alertdialog', { name: 'Vera Viewer asks for a private session' });

describe('PrivateSessionHost: the incoming-request toast', () => {
  it("shows the viewer's name, the price and the expiry, and opens the session on Accept", async () => {
    const calls = serve();
    const { router } = await renderHost();
    act(() => fakeSocket().serverEmit('private:request', { session: aPrivateSession({ pricePerMinute: 12 }) }));
    const request = await toast();
    expect(request).toHaveTextContent('12 coins per minute');
    expect(within(request).getByTestId('private-request-expiry')).toHaveTextContent(/expires in (0:59|1:00)/);

    await userEvent.click(within(request).getByRole('button', { name: 'Accept' }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/private/p-1'));
    expect(calls).toEqual(['accept p-1']);
    expect(screen.queryByRole('alertdialog')).not.toBeInTheDocument();
  });

  it("opens the session even when the push about it comes before Accept's answer", async () => {
    serve();
    const answer = deferred();
    server.use(
      http.post('/api/private/sessions/p-1/accept', async () => {
        await answer.promise;
        return HttpResponse.json(anActiveSession(0));
      }),
    );
    const { router } = await renderHost();
    act(() => fakeSocket().serverEmit('private:request', { session: aPrivateSession() }));
    await userEvent.click(within(await toast()).getByRole('button', { name: 'Accept' }));
    // The server tells both parties at once; the toast goes with it.
    act(() => fakeSocket().serverEmit('private:update', { session: anActiveSession(0) }));
    await waitFor(() => expect(screen.queryByRole('alertdialog')).not.toBeInTheDocument());
    answer.resolve();
    await waitFor(() => expect(router.state.location.pathname).toBe('/private/p-1'));
  });

  it('declines, and the toast goes', async () => {
    const calls = serve();
    await renderHost();
    act(() => fakeSocket().serverEmit('private:request', { session: aPrivateSession() }));
    await userEvent.click(within(await toast()).getByRole('button', { name: 'Decline' }));
    await waitFor(() => expect(screen.queryByRole('alertdialog')).not.toBeInTheDocument());
    expect(calls).toEqual(['decline p-1']);
  });

  it('says when a request has expired, with nothing left to answer', async () => {
    serve();
    await renderHost();
    const expired = aPrivateSession({ expiresAt: new Date(Date.now() - 1_000).toISOString() });
    act(() => fakeSocket().serverEmit('private:request', { session: expired }));
    const request = await toast();
    expect(within(request).getByTestId('private-request-expiry')).toHaveTextContent('The request expired.');
    expect(within(request).queryByRole('button', { name: 'Accept' })).not.toBeInTheDocument();
    await userEvent.click(within(request).getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByRole('alertdialog')).not.toBeInTheDocument();
  });

  it('takes a request away once the viewer cancels it (private:update)', async () => {
    serve();
    await renderHost();
    act(() => fakeSocket().serverEmit('private:request', { session: aPrivateSession() }));
    await toast();
    act(() => fakeSocket().serverEmit('private:update', { session: aPrivateSession({ state: 'cancelled' }) }));
    await waitFor(() => expect(screen.queryByRole('alertdialog')).not.toBeInTheDocument());
  });

  it("shows the server's refusal when the request closed meanwhile", async () => {
    serve();
    server.use(
      http.post('/api/private/sessions/p-1/accept', () =>
        HttpResponse.json({ error: { code: 'request_expired', message: 'The request has expired.' } }, { status: 409 }),
      ),
    );
    await renderHost();
    act(() => fakeSocket().serverEmit('private:request', { session: aPrivateSession() }));
    await userEvent.click(within(await toast()).getByRole('button', { name: 'Accept' }));
    expect(await within(await toast()).findByText('The request has expired.')).toBeInTheDocument();
  });

  it('finds open requests and a running session again on connect', async () => {
    serve([
      aPrivateSession({ id: 'p-2', viewer: { id: 'u-2', username: 'otto', displayName: 'Otto' } }),
      // Someone else's request to another creator, and an old expired one: not shown.
      aPrivateSession({ id: 'p-3', creator: { id: 'u-x', username: 'x', displayName: 'X' } }),
      aPrivateSession({ id: 'p-4', expiresAt: new Date(Date.now() - 5_000).toISOString() }),
      anActiveSession(30, { id: 'p-5' }),
    ]);
    await renderHost();
    act(() => fakeSocket().serverEmit('connect', undefined));
    expect(await screen.findByRole('alertdialog', { name: 'Otto asks for a private session' })).toBeInTheDocument();
    expect(screen.getAllByRole('alertdialog')).toHaveLength(1);
    expect(screen.getByText('Your private session with Vera Viewer is running.')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Return to it' })).toHaveAttribute('href', '/private/p-5');
  });
});
