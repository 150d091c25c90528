import { act, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { RoomView } from '@/features/room/components/room-view';
import { setAccessToken } from '@/lib/api-client';
import { PAY_STEPS } from '@/lib/pay-timeline';
import { aRoom, aTransaction, aUser } from '@/testing/data';
import { FakePeerConnection, fakeStream, installFakeMedia, type FakeMedia } from '@/testing/fake-media';
import { fakeSocket, renderWithApp } from '@/testing/render';
import { server } from '@/testing/server';
import type { Room } from '@/types/api';

const viewer = aUser({ coins: 100 });

function serveRoom(room: () => Room) {
  server.use(http.get('/api/rooms/r-1', () => HttpResponse.json(room())));
}

function renderRoom() {
  setAccessToken('token');
  return renderWithApp(<RoomView roomId="r-1" user={viewer} />, {
    url: '/rooms/r-1',
    path: '/rooms/:id',
    user: viewer,
    realtime: true,
  });
}

describe('RoomView pay flow', () => {
  it('pays the room price with an idempotency key, shows the new balance and enters the room', async () => {
    let access: Room['access'] = 'locked';
    serveRoom(() => aRoom({ price: 10, access }));
    const requests: Array<{ body: unknown; key: string | null }> = [];
    let meRequests = 0;
    server.use(
      // Sign-up coins go first: the user (its `bonusCoins`) is read again.
      http.get('/api/users/me', () => {
        meRequests += 1;
        return HttpResponse.json({ ...viewer, coins: 90 });
      }),
      http.post('/api/transactions/stream-join', async ({ request }) => {
        requests.push({ body: await request.json(), key: request.headers.get('Idempotency-Key') });
        access = 'paid';
        return HttpResponse.json({ transaction: aTransaction({ amount: 10 }), balance: 90, alreadyPaid: false });
      }),
    );
    fakeSocket().onEmit('room:join', () => ({ ok: true, role: 'viewer', viewerCount: 4, messages: [] }));

    renderRoom();
    expect(await screen.findByTestId('room-price')).toHaveTextContent('10 coins');
    await userEvent.click(screen.getByRole('button', { name: 'Pay 10 coins' }));

    expect(await screen.findByText('Paid 10 coins. Your balance is now 90 coins.')).toBeInTheDocument();
    expect(requests).toHaveLength(1);
    expect(requests[0].body).toEqual({ creatorId: 'u-creator', roomId: 'r-1', amount: 10 });
    expect(requests[0].key).toMatch(/^[0-9a-f-]{36}$/);
    // Access bought: the room is joined over Socket.IO and the pay gate is gone.
    await waitFor(() => expect(fakeSocket().emitsOf('room:join')).toEqual([{ roomId: 'r-1' }]));
    expect(screen.queryByRole('button', { name: /^Pay/ })).not.toBeInTheDocument();
    expect(await screen.findByTestId('room-viewer-count')).toHaveTextContent('4 viewers');
    await waitFor(() => expect(meRequests).toBe(1));
  });

  it("shows the server's message on 402 insufficient_funds, with the balance and the price", async () => {
    serveRoom(() => aRoom({ price: 50, access: 'locked' }));
    server.use(
      http.post('/api/transactions/stream-join', () =>
        HttpResponse.json(
          {
            error: {
              code: 'insufficient_funds',
              message: 'You need 30 more coins to enter this room.',
              balance: 20,
              required: 50,
            },
          },
          { status: 402 },
        ),
      ),
    );

    renderRoom();
    await userEvent.click(await screen.findByRole('button', { name: 'Pay 50 coins' }));

    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('You need 30 more coins to enter this room.');
    expect(alert).toHaveTextContent('Your balance is 20 coins; entry costs 50 coins.');
    expect(screen.queryByTestId('pay-bonus-note')).not.toBeInTheDocument();
    expect(fakeSocket().emitsOf('room:join')).toEqual([]);
  });

  it('explains that sign-up bonus coins do not count in this room (bonusCoinsExcluded)', async () => {
    serveRoom(() => aRoom({ price: 50, access: 'locked' }));
    server.use(
      http.post('/api/transactions/stream-join', () =>
        HttpResponse.json(
          {
            error: {
              code: 'insufficient_funds',
              // 120 coins, 100 of them sign-up bonus: 20 count here.
              message: 'You need 30 more coins to enter this room.',
              balance: 120,
              required: 50,
              bonusCoinsExcluded: 100,
            },
          },
          { status: 402 },
        ),
      ),
    );

    renderRoom();
    await userEvent.click(await screen.findByRole('button', { name: 'Pay 50 coins' }));

    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('You need 30 more coins to enter this room.');
    expect(screen.getByTestId('pay-bonus-note')).toHaveTextContent(
      "Sign-up bonus coins can't be used in this room, because its creator signed up from the same network as you: 100 coins of your balance do not count here.",
    );
    // The balance the server reported is shown.
    expect(screen.getByText('120 coins')).toBeInTheDocument();
  });

  it('counts the missing coins itself when the 402 comes without a message', async () => {
    serveRoom(() => aRoom({ price: 50, access: 'locked' }));
    server.use(
      http.post('/api/transactions/stream-join', () =>
        HttpResponse.json(
          { error: { code: 'insufficient_funds', balance: 120, required: 50, bonusCoinsExcluded: 100 } },
          { status: 402 },
        ),
      ),
    );

    renderRoom();
    await userEvent.click(await screen.findByRole('button', { name: 'Pay 50 coins' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('You need 30 more coins to enter this room.');
  });

  it('shows the new price on 409 price_mismatch and pays that with a fresh key', async () => {
    serveRoom(() => aRoom({ price: 10, access: 'locked' }));
    const requests: Array<{ amount: number; key: string | null }> = [];
    server.use(
      http.post('/api/transactions/stream-join', async ({ request }) => {
        const body = (await request.json()) as { amount: number };
        requests.push({ amount: body.amount, key: request.headers.get('Idempotency-Key') });
        return HttpResponse.json(
          { error: { code: 'price_mismatch', message: 'The price has changed.', price: 15 } },
          { status: 409 },
        );
      }),
    );

    renderRoom();
    await userEvent.click(await screen.findByRole('button', { name: 'Pay 10 coins' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('The price changed to 15 coins.');

    await userEvent.click(screen.getByRole('button', { name: 'Pay 15 coins' }));
    await waitFor(() => expect(requests).toHaveLength(2));
    expect(requests[1].amount).toBe(15);
    expect(requests[1].key).not.toBe(requests[0].key);
  });

  it('explains room_not_live', async () => {
    serveRoom(() => aRoom({ access: 'locked' }));
    server.use(
      http.post('/api/transactions/stream-join', () =>
        HttpResponse.json({ error: { code: 'room_not_live', message: 'The room is not live.' } }, { status: 409 }),
      ),
    );
    renderRoom();
    await userEvent.click(await screen.findByRole('button', { name: 'Pay 10 coins' }));
    expect(await screen.findByText('This stream is not live any more.')).toBeInTheDocument();
  });

  it('joins at once when the room is free, and shows the end of the stream', async () => {
    serveRoom(() => aRoom({ price: 0, access: 'free' }));
    fakeSocket().onEmit('room:join', () => ({ ok: true, role: 'viewer', viewerCount: 1, messages: [] }));

    renderRoom();
    await waitFor(() => expect(fakeSocket().emitsOf('room:join')).toHaveLength(1));
    expect(screen.queryByRole('button', { name: /^Pay/ })).not.toBeInTheDocument();
    expect(await screen.findByTestId('room-viewer-count')).toHaveTextContent('1 viewer');

    act(() => fakeSocket().serverEmit('room:viewer_joined', { roomId: 'r-1', user: { id: 'u9', username: 'nia' }, viewerCount: 2 }));
    await waitFor(() => expect(screen.getByTestId('room-viewer-count')).toHaveTextContent('2 viewers'));

    act(() => fakeSocket().serverEmit('room:ended', { roomId: 'r-1' }));
    expect(await screen.findByText('The stream has ended')).toBeInTheDocument();
    // Still said after the (ended) room has been left and forgotten.
    await act(() => new Promise((r) => setTimeout(r, 500)));
    expect(screen.getByText('The stream has ended')).toBeInTheDocument();
    await waitFor(() => expect(fakeSocket().emitsOf('room:leave')).toEqual([{ roomId: 'r-1' }]));
  });
});

const inSeconds = (seconds: number) => new Date(Date.now() + seconds * 1_000).toISOString();

describe('RoomView while the creator is away (issue 25)', () => {
  it('covers the player with the reconnecting notice and the time left, and clears it on room:back', async () => {
    serveRoom(() => aRoom({ price: 0, access: 'free' }));
    fakeSocket().onEmit('room:join', () => ({ ok: true, role: 'viewer', viewerCount: 1, messages: [] }));
    renderRoom();
    await waitFor(() => expect(fakeSocket().emitsOf('room:join')).toHaveLength(1));
    expect(screen.queryByText('The creator is reconnecting…')).not.toBeInTheDocument();

    act(() => fakeSocket().serverEmit('room:away', { roomId: 'r-1', awayUntil: inSeconds(45) }));
    expect(await screen.findByText('The creator is reconnecting…')).toBeInTheDocument();
    expect(screen.getByTestId('room-away-countdown')).toHaveTextContent(
      /^The session ends in 0:4[45] unless the picture comes back\.$/,
    );
    // Another room's media is none of this page's business.
    act(() => fakeSocket().serverEmit('room:back', { roomId: 'r-other' }));
    expect(screen.getByTestId('room-away-overlay')).toBeInTheDocument();

    act(() => fakeSocket().serverEmit('room:back', { roomId: 'r-1' }));
    await waitFor(() => expect(screen.queryByTestId('room-away-overlay')).not.toBeInTheDocument());
  });

  it('shows the notice at once when the room is already away', async () => {
    serveRoom(() => aRoom({ price: 0, access: 'free', awayUntil: inSeconds(90) }));
    fakeSocket().onEmit('room:join', () => ({ ok: true, role: 'viewer', viewerCount: 1, messages: [] }));
    renderRoom();
    expect(await screen.findByText('The creator is reconnecting…')).toBeInTheDocument();
    expect(screen.getByTestId('room-away-countdown')).toHaveTextContent(/1:(29|30)/);
  });

  it('watches the room behind the pay gate: Pay is disabled while away and comes back on room:back', async () => {
    serveRoom(() => aRoom({ price: 10, access: 'locked' }));
    fakeSocket().onEmit('room:watch', () => ({ ok: true, room: aRoom({ price: 10 }) }));
    const { unmount } = renderRoom();

    const pay = await screen.findByRole('button', { name: 'Pay 10 coins' });
    await waitFor(() => expect(fakeSocket().emitsOf('room:watch')).toEqual([{ roomId: 'r-1' }]));
    expect(pay).toBeEnabled();

    act(() => fakeSocket().serverEmit('room:away', { roomId: 'r-1', awayUntil: inSeconds(60) }));
    await waitFor(() => expect(screen.getByRole('button', { name: 'Pay 10 coins' })).toBeDisabled());
    expect(screen.getByTestId('pay-away')).toHaveTextContent(
      'The creator is reconnecting; you can pay as soon as the picture is back.',
    );

    act(() => fakeSocket().serverEmit('room:back', { roomId: 'r-1' }));
    await waitFor(() => expect(screen.getByRole('button', { name: 'Pay 10 coins' })).toBeEnabled());
    expect(screen.queryByTestId('pay-away')).not.toBeInTheDocument();

    // Leaving the page stops the watch (after the remount grace).
    unmount();
    await waitFor(() => expect(fakeSocket().emitsOf('room:unwatch')).toEqual([{ roomId: 'r-1' }]));
  });

  it('watches again after a socket reconnect (the server forgot the watch)', async () => {
    serveRoom(() => aRoom({ price: 10, access: 'locked' }));
    fakeSocket().onEmit('room:watch', () => ({ ok: true, room: aRoom({ price: 10 }) }));
    renderRoom();
    await waitFor(() => expect(fakeSocket().emitsOf('room:watch')).toHaveLength(1));
    act(() => fakeSocket().serverEmit('connect', undefined));
    act(() => fakeSocket().serverEmit('connect', undefined));
    await waitFor(() => expect(fakeSocket().emitsOf('room:watch')).toHaveLength(2));
  });

  it("takes the watch's answer as the room's state (away before the page knew)", async () => {
    serveRoom(() => aRoom({ price: 10, access: 'locked' }));
    fakeSocket().onEmit('room:watch', () => ({ ok: true, room: aRoom({ price: 10, awayUntil: inSeconds(30) }) }));
    renderRoom();
    await waitFor(() => expect(screen.getByRole('button', { name: 'Pay 10 coins' })).toBeDisabled());
    expect(screen.getByTestId('pay-away')).toBeInTheDocument();
    // The caller's access stays what the REST answer said.
    expect(screen.getByTestId('room-price')).toHaveTextContent('10 coins');
  });

  it('explains a 409 publisher_away, charges nothing, and lets the viewer pay once the picture is back', async () => {
    serveRoom(() => aRoom({ price: 10, access: 'locked' }));
    fakeSocket().onEmit('room:watch', () => ({ ok: true, room: aRoom({ price: 10 }) }));
    let payments = 0;
    server.use(
      http.post('/api/transactions/stream-join', () => {
        payments += 1;
        return HttpResponse.json(
          {
            error: {
              code: 'publisher_away',
              message: 'The creator is reconnecting; you can pay when the picture is back.',
              awayUntil: inSeconds(40),
              graceSecondsLeft: 40,
            },
          },
          { status: 409 },
        );
      }),
    );
    renderRoom();
    await waitFor(() => expect(fakeSocket().emitsOf('room:watch')).toHaveLength(1));
    await userEvent.click(await screen.findByRole('button', { name: 'Pay 10 coins' }));

    expect(await screen.findByTestId('pay-away')).toHaveTextContent(
      'The creator is reconnecting; you can pay as soon as the picture is back.',
    );
    expect(screen.getByRole('button', { name: 'Pay 10 coins' })).toBeDisabled();
    expect(screen.getByText(/The session ends in 0:(39|40) if it does not come back\./)).toBeInTheDocument();
    expect(payments).toBe(1);

    act(() => fakeSocket().serverEmit('room:back', { roomId: 'r-1' }));
    await waitFor(() => expect(screen.getByRole('button', { name: 'Pay 10 coins' })).toBeEnabled());
    // The refusal was about a picture that is back now: it is not shown any more.
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('hears the end of the session behind the pay gate', async () => {
    serveRoom(() => aRoom({ price: 10, access: 'locked' }));
    fakeSocket().onEmit('room:watch', () => ({ ok: true, room: aRoom({ price: 10 }) }));
    renderRoom();
    await waitFor(() => expect(fakeSocket().emitsOf('room:watch')).toHaveLength(1));

    act(() => fakeSocket().serverEmit('room:ended', { roomId: 'r-1' }));
    expect(await screen.findByText('The stream has ended')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /^Pay/ })).not.toBeInTheDocument();
  });
});

describe('RoomView from Pay to picture (issue 23)', () => {
  let media: FakeMedia | null = null;
  afterEach(() => {
    media?.restore();
    media = null;
  });

  it('readies the ICE servers behind the gate, then joins and asks for the stream as the payment answers', async () => {
    media = installFakeMedia();
    vi.stubGlobal(
      'MediaStream',
      class {
        addTrack() {}
        getTracks() {
          return [];
        }
      },
    );
    let access: Room['access'] = 'locked';
    serveRoom(() => aRoom({ price: 10, access }));
    const iceServers = [{ urls: 'turn:127.0.0.1:3478', username: 'u', credential: 'c' }];
    let iceRequests = 0;
    server.use(
      http.get('/api/media/ice-servers', () => {
        iceRequests += 1;
        return HttpResponse.json({ iceServers, ttlSeconds: 600 });
      }),
      http.get('/api/users/me', () => HttpResponse.json({ ...viewer, coins: 90 })),
      http.post('/api/transactions/stream-join', () => {
        access = 'paid';
        return HttpResponse.json({ transaction: aTransaction({ amount: 10 }), balance: 90, alreadyPaid: false });
      }),
    );
    const socket = fakeSocket();
    socket.onEmit('room:watch', () => ({ ok: true, room: aRoom({ price: 10 }) }));
    socket.onEmit('room:join', () => ({ ok: true, role: 'viewer', viewerCount: 2, messages: [] }));
    socket.onEmit('media:view', () => ({ ok: true, sdp: 'v=0 server offer' }));
    socket.onEmit('media:answer', () => ({ ok: true }));
    socket.onEmit('media:ice', () => ({ ok: true }));

    renderRoom();
    const pay = await screen.findByRole('button', { name: 'Pay 10 coins' });
    // Ready before the click: the ICE servers are loaded while the gate shows.
    await waitFor(() => expect(iceRequests).toBe(1));
    await userEvent.click(pay);

    await waitFor(() => expect(socket.emitsOf('media:answer')).toEqual([{ roomId: 'r-1', sdp: 'v=0 fake answer' }]));
    // Join and view went out together; the player took that offer rather than asking again.
    const signaling = socket.emitted.map((e) => e.event).filter((e) => e.startsWith('room:join') || e.startsWith('media:'));
    expect(signaling).toEqual(['room:join', 'media:view', 'media:answer']);
    const pc = FakePeerConnection.last();
    expect(pc.remoteDescription).toEqual({ type: 'offer', sdp: 'v=0 server offer' });
    expect(pc.config?.iceServers).toEqual(iceServers);
    expect(iceRequests).toBe(1);

    // Candidates gathered after the answer follow it (trickle ICE).
    const candidate = { candidate: 'candidate:1 1 udp 2122260223 192.0.2.1 50000 typ host', sdpMid: '0' };
    act(() => {
      pc.dispatchEvent(Object.assign(new Event('icecandidate'), { candidate: { toJSON: () => candidate } }));
    });
    await waitFor(() => expect(socket.emitsOf('media:ice')).toEqual([{ roomId: 'r-1', candidate }]));

    act(() => pc.setIceConnectionState('connected'));
    act(() => pc.receive(fakeStream()));
    const video = await screen.findByLabelText('Live video: Speedrun night');
    act(() => {
      video.dispatchEvent(new Event('loadeddata'));
    });

    await waitFor(() => expect(Object.keys(window.__ssPayTimeline?.sinceClick ?? {})).toEqual([...PAY_STEPS]));
    const steps = window.__ssPayTimeline?.sinceClick ?? {};
    const times = PAY_STEPS.map((step) => steps[step] ?? -1);
    expect(times[0]).toBe(0);
    // In order: each step after the one before it.
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });
});
