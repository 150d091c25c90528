import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { StudioRoom } from '@/features/studio/components/studio-room';
import { setAccessToken } from '@/lib/api-client';
import { aRoom, aTransaction, aUser } from '@/testing/data';
import { deferred } from '@/testing/deferred';
import { fakeSocket, renderWithApp } from '@/testing/render';
import { server } from '@/testing/server';
import type { Room, Transaction } from '@/types/api';

// Without a camera (jsdom has no navigator.mediaDevices) the studio offers
// "Go live (OBS)": the whole go-live / end flow runs without WebRTC.

const creator = aUser({ id: 'u-creator', username: 'creator', displayName: 'Cleo Creator', coins: 0 });
const offlineRoom = aRoom({ status: 'offline', liveSessionId: null, startedAt: null, viewerCount: 0, access: 'creator' });
const liveRoom = aRoom({ status: 'live', liveSessionId: 's-1', viewerCount: 2, access: 'creator' });

/** The room as `GET /api/rooms/r-1` answers it; tests change `state.room`. */
function serveStudio(room: Room, { payments = [] as Transaction[] } = {}) {
  const state = { room, payments, earningsQueries: [] as string[] };
  server.use(
    http.get('/api/rooms/r-1', () => HttpResponse.json(state.room)),
    http.get('/api/rooms/r-1/stream-key', () =>
      HttpResponse.json({ error: { code: 'not_found', message: 'Not found.' } }, { status: 404 }),
    ),
    http.get('/api/transactions', ({ request }) => {
      state.earningsQueries.push(new URL(request.url).search);
      return HttpResponse.json({ items: state.payments, nextCursor: null });
    }),
  );
  fakeSocket().onEmit('room:join', () => ({ ok: true, role: 'creator', viewerCount: 2, messages: [] }));
  fakeSocket().onEmit('room:leave', () => ({ ok: true }));
  return state;
}

function renderStudioRoom(user = creator) {
  setAccessToken('token');
  return renderWithApp(
    <StudioRoom
      roomId="r-1"
      user={user}
      renderChat={({ joined, notice }) => <p data-testid="chat">{joined ? 'chat open' : notice}</p>}
    />,
    { url: '/studio/r-1', path: '/studio/:roomId', user, realtime: true },
  );
}

const viewerCount = () => screen.getByTestId('studio-viewer-count');
const earnings = () => screen.getByTestId('studio-earnings');
const publishStatus = () => screen.getAllByRole('status').find((el) => el.tagName === 'P')!;
const presence = (event: 'room:viewer_joined' | 'room:viewer_left', username: string, count: number, roomId = 'r-1') =>
  act(() => fakeSocket().serverEmit(event, { roomId, user: { id: `u-${username}`, username }, viewerCount: count }));

describe('StudioRoom go live and end', () => {
  it('goes live with POST /live, busy meanwhile, then joins the room and opens the chat', async () => {
    const state = serveStudio(offlineRoom);
    const answer = deferred();
    const posts: string[] = [];
    server.use(
      http.post('/api/rooms/r-1/live', async ({ request }) => {
        posts.push(request.headers.get('Authorization') ?? '');
        await answer.promise;
        state.room = { ...liveRoom, viewerCount: 0 };
        return HttpResponse.json(state.room);
      }),
    );
    renderStudioRoom();

    expect(await screen.findByRole('heading', { name: 'Speedrun night' })).toBeInTheDocument();
    expect(screen.getByText('Offline', { selector: 'span' })).toBeInTheDocument();
    expect(publishStatus()).toHaveTextContent('Offline');
    expect(screen.getByTestId('chat')).toHaveTextContent('The chat opens when you go live.');
    expect(viewerCount()).toHaveTextContent('—');
    expect(earnings()).toHaveTextContent('—');
    expect(screen.getByText(/You can still go live with OBS/)).toBeInTheDocument();

    const goLive = screen.getByRole('button', { name: 'Go live (OBS)' });
    await userEvent.click(goLive);
    // One request, and the button cannot be pressed again while it runs.
    await waitFor(() => expect(posts).toEqual(['Bearer token']));
    expect(goLive).toBeDisabled();
    expect(goLive).toHaveAttribute('aria-busy', 'true');
    expect(fakeSocket().emitsOf('room:join')).toEqual([]);

    answer.resolve();
    const end = await screen.findByRole('button', { name: 'End stream' });
    expect(end).toBeEnabled();
    expect(screen.queryByRole('button', { name: /Go live/ })).not.toBeInTheDocument();
    expect(screen.getByText('Live')).toBeInTheDocument();
    expect(publishStatus()).toHaveTextContent('Not publishing from this browser — waiting for OBS or a camera.');
    await waitFor(() => expect(fakeSocket().emitsOf('room:join')).toEqual([{ roomId: 'r-1' }]));
    // The count from the join answer, and the session's (empty) earnings.
    await waitFor(() => expect(viewerCount()).toHaveTextContent('2'));
    await waitFor(() => expect(earnings()).toHaveTextContent('0'));
    expect(state.earningsQueries.at(-1)).toContain('liveSessionId=s-1');
    expect(screen.getByTestId('chat')).toHaveTextContent('chat open');
    expect(posts).toHaveLength(1);
  });

  it('stays offline and says why when going live is refused', async () => {
    serveStudio(offlineRoom);
    server.use(
      http.post('/api/rooms/r-1/live', () =>
        HttpResponse.json({ error: { code: 'media_unavailable', message: 'Live streaming is paused for maintenance.' } }, { status: 503 }),
      ),
    );
    renderStudioRoom();

    await userEvent.click(await screen.findByRole('button', { name: 'Go live (OBS)' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Live streaming is paused for maintenance.');
    expect(screen.getByRole('button', { name: 'Go live (OBS)' })).toBeEnabled();
    expect(screen.queryByRole('button', { name: 'End stream' })).not.toBeInTheDocument();
    expect(fakeSocket().emitsOf('room:join')).toEqual([]);
  });

  it('ends with DELETE /live, busy meanwhile, then keeps the session earnings and leaves the room', async () => {
    const state = serveStudio(liveRoom, {
      payments: [aTransaction({ id: 't1', amount: 10 }), aTransaction({ id: 't2', amount: 15 })],
    });
    const answer = deferred();
    let deletes = 0;
    server.use(
      http.delete('/api/rooms/r-1/live', async () => {
        deletes += 1;
        await answer.promise;
        state.room = { ...offlineRoom };
        return HttpResponse.json(state.room);
      }),
    );
    renderStudioRoom();

    await waitFor(() => expect(earnings()).toHaveTextContent('25'));
    await waitFor(() => expect(fakeSocket().emitsOf('room:join')).toHaveLength(1));
    const end = screen.getByRole('button', { name: 'End stream' });
    await userEvent.click(end);
    await waitFor(() => expect(deletes).toBe(1));
    expect(end).toBeDisabled();
    expect(end).toHaveAttribute('aria-busy', 'true');

    answer.resolve();
    expect(await screen.findByRole('button', { name: 'Go live (OBS)' })).toBeEnabled();
    expect(screen.getByRole('heading', { name: 'Last session' })).toBeInTheDocument();
    expect(viewerCount()).toHaveTextContent('—');
    // What the session that just ended earned is still on screen.
    expect(earnings()).toHaveTextContent('25');
    expect(screen.getByText('2 payments, 25 coins')).toBeInTheDocument();
    expect(screen.getByTestId('chat')).toHaveTextContent('The chat opens when you go live.');
    await waitFor(() => expect(fakeSocket().emitsOf('room:leave')).toEqual([{ roomId: 'r-1' }]));
    expect(deletes).toBe(1);
  });

  it('shows a refused end and stays live', async () => {
    serveStudio(liveRoom);
    server.use(
      http.delete('/api/rooms/r-1/live', () =>
        HttpResponse.json({ error: { code: 'internal', message: 'Could not end the session.' } }, { status: 500 }),
      ),
    );
    renderStudioRoom();
    await userEvent.click(await screen.findByRole('button', { name: 'End stream' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Could not end the session.');
    expect(screen.getByRole('button', { name: 'End stream' })).toBeEnabled();
    expect(screen.getByText('Live')).toBeInTheDocument();
  });
});

describe('StudioRoom live stats', () => {
  it('follows the viewer count and lists viewers entering and leaving, newest first', async () => {
    serveStudio(liveRoom);
    renderStudioRoom();
    await waitFor(() => expect(fakeSocket().emitsOf('room:join')).toHaveLength(1));
    await waitFor(() => expect(viewerCount()).toHaveTextContent('2'));
    expect(screen.getByText('Viewers who enter or leave show up here.')).toBeInTheDocument();

    presence('room:viewer_joined', 'nia', 3);
    await waitFor(() => expect(viewerCount()).toHaveTextContent('3'));
    presence('room:viewer_joined', 'otto', 4);
    presence('room:viewer_left', 'nia', 3);
    // Another room's presence is not ours.
    presence('room:viewer_joined', 'zed', 40, 'r-2');

    await waitFor(() => expect(viewerCount()).toHaveTextContent('3'));
    const feed = screen.getByRole('list', { name: 'Viewer activity' });
    expect(within(feed).getAllByRole('listitem').map((li) => li.textContent)).toEqual([
      expect.stringContaining('nia left'),
      expect.stringContaining('otto entered'),
      expect.stringContaining('nia entered'),
    ]);
    expect(screen.queryByText(/zed/)).not.toBeInTheDocument();
  });

  it('counts the coins earned this session, and recounts when a payment arrives (balance:update)', async () => {
    const state = serveStudio(liveRoom, {
      payments: [
        aTransaction({ id: 't1', amount: 10 }),
        // A payment of an earlier session is not this session's.
        aTransaction({ id: 't0', amount: 99, liveSessionId: 's-0' }),
      ],
    });
    renderStudioRoom();

    await waitFor(() => expect(earnings()).toHaveTextContent('10'));
    expect(screen.getByText('1 payment, 10 coins')).toBeInTheDocument();
    expect(state.earningsQueries[0]).toContain('liveSessionId=s-1');
    expect(state.earningsQueries[0]).toContain('kind=stream_join');

    state.payments = [...state.payments, aTransaction({ id: 't2', amount: 10, fromUserId: 'u-nia' })];
    act(() => fakeSocket().serverEmit('balance:update', { coins: 20 }));
    await waitFor(() => expect(earnings()).toHaveTextContent('20'));
    expect(screen.getByText('2 payments, 20 coins')).toBeInTheDocument();
  });

  it('says when the server lost the picture (room:away), until it is back (room:back)', async () => {
    serveStudio(liveRoom);
    renderStudioRoom();
    await waitFor(() => expect(fakeSocket().emitsOf('room:join')).toHaveLength(1));
    expect(screen.queryByTestId('studio-away')).not.toBeInTheDocument();

    const awayUntil = new Date(Date.now() + 30_000).toISOString();
    act(() => fakeSocket().serverEmit('room:away', { roomId: 'r-1', awayUntil }));
    expect(await screen.findByTestId('studio-away')).toHaveTextContent(
      /nobody can pay meanwhile\. The session ends in 0:(29|30) unless you publish again\./,
    );
    act(() => fakeSocket().serverEmit('room:back', { roomId: 'r-1' }));
    await waitFor(() => expect(screen.queryByTestId('studio-away')).not.toBeInTheDocument());
  });

  it('says when the earnings cannot be read', async () => {
    serveStudio(liveRoom);
    server.use(
      http.get('/api/transactions', () =>
        HttpResponse.json({ error: { code: 'internal', message: 'Ledger unavailable.' } }, { status: 500 }),
      ),
    );
    renderStudioRoom();
    expect(await screen.findByText('Ledger unavailable.')).toBeInTheDocument();
    expect(earnings()).toHaveTextContent('…');
  });
});

describe('StudioRoom settings and access', () => {
  it('saves edited settings with PATCH and shows them', async () => {
    const state = serveStudio(offlineRoom);
    const patches: unknown[] = [];
    server.use(
      http.patch('/api/rooms/r-1', async ({ request }) => {
        const body = (await request.json()) as Partial<Room>;
        patches.push(body);
        state.room = { ...state.room, ...body };
        return HttpResponse.json(state.room);
      }),
    );
    renderStudioRoom();
    const title = await screen.findByLabelText('Title');
    expect(title).toHaveValue('Speedrun night');
    expect(screen.getByText(/Current price: 10 coins/)).toBeInTheDocument();

    await userEvent.clear(title);
    await userEvent.click(screen.getByRole('button', { name: 'Save changes' }));
    expect(screen.getByText('Give the room a title.')).toBeInTheDocument();
    expect(patches).toEqual([]);

    await userEvent.type(title, 'Any% world record attempts');
    const price = screen.getByLabelText('Price (coins)');
    await userEvent.clear(price);
    await userEvent.type(price, '0');
    await userEvent.click(screen.getByRole('button', { name: 'Save changes' }));

    expect(await screen.findByText('Saved.')).toBeInTheDocument();
    expect(patches).toEqual([{ title: 'Any% world record attempts', description: '', category: 'gaming', price: 0 }]);
    expect(screen.getByRole('heading', { name: 'Any% world record attempts' })).toBeInTheDocument();
    expect(screen.getByText(/Current price: Free/)).toBeInTheDocument();
  });

  it("refuses someone else's room and does not join it", async () => {
    serveStudio(aRoom({ creator: { id: 'u-other', username: 'other', displayName: 'Other' }, access: 'paid' }));
    renderStudioRoom();
    expect(await screen.findByText('This is not your room.')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Watch it instead' })).toHaveAttribute('href', '/rooms/r-1');
    expect(screen.queryByRole('button', { name: /Go live|End stream/ })).not.toBeInTheDocument();
    expect(fakeSocket().emitsOf('room:join')).toEqual([]);
  });

  it('says so when the room does not exist', async () => {
    serveStudio(offlineRoom);
    server.use(
      http.get('/api/rooms/r-1', () => HttpResponse.json({ error: { code: 'not_found', message: 'No such room.' } }, { status: 404 })),
    );
    renderStudioRoom();
    expect(await screen.findByText('This room does not exist.')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Back to your rooms' })).toHaveAttribute('href', '/studio');
  });
});
