import { act, cleanup, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { PrivateSessionHost } from '@/features/private/components/private-session-host';
import { PrivateSessionView } from '@/features/private/components/private-session-view';
import { setAccessToken } from '@/lib/api-client';
import type * as WebRtc from '@/lib/webrtc';
import { aUser } from '@/testing/data';
import { FakePeerConnection, fakeStream, installFakeMedia, type FakeMedia, type FakeStream } from '@/testing/fake-media';
import { aPrivateSession, anActiveSession } from '@/testing/private-data';
import { fakeSocket, renderWithApp } from '@/testing/render';
import { server } from '@/testing/server';
import type { PrivateSession, User } from '@/types/api';

// The SDP offer is the browser's business: mocked at the lib/webrtc boundary;
// the signaling over the socket and the peer connections' handling run for real.
vi.mock('@/lib/webrtc', async (importOriginal) => ({
  ...(await importOriginal<typeof WebRtc>()),
  createPublishOffer: vi.fn(() => Promise.resolve('v=0 fake-offer')),
}));

const viewer = aUser({ coins: 80 });
const creator = aUser({ id: 'u-creator', username: 'creator', displayName: 'Cleo Creator' });

let media: FakeMedia;
beforeEach(() => {
  media = installFakeMedia();
});
afterEach(() => {
  cleanup();
  media.restore();
});

function serveSession(initial: PrivateSession) {
  const state = { session: initial, ends: 0 };
  server.use(
    http.get('/api/private/sessions', () => HttpResponse.json({ items: [state.session], nextCursor: null })),
    http.get('/api/private/sessions/p-1', () => HttpResponse.json(state.session)),
    http.post('/api/private/sessions/p-1/end', () => {
      state.ends += 1;
      state.session = {
        ...state.session,
        state: 'ended',
        endedAt: new Date().toISOString(),
        endReason: 'viewer',
        seconds: 95,
        coins: 16,
        held: 0,
      };
      return HttpResponse.json(state.session);
    }),
  );
  fakeSocket().onEmit('private:join', () => ({ ok: true, session: state.session }));
  fakeSocket().onEmit('private:publish', () => ({ ok: true, sdp: 'v=0 sfu-answer' }));
  fakeSocket().onEmit('private:view', () => ({ ok: true, sdp: 'v=0 sfu-offer' }));
  fakeSocket().onEmit('private:answer', () => ({ ok: true }));
  return state;
}

/** The page as the app shows it: under the app-wide host that writes the pushes into the cache. */
function renderSession(user: User = viewer) {
  setAccessToken('token');
  return renderWithApp(
    <>
      <PrivateSessionHost user={user} />
      <PrivateSessionView sessionId="p-1" user={user} />
    </>,
    {
    url: '/private/p-1',
      path: '/private/:id',
      user,
    },
  );
}

const viewingPc = () => FakePeerConnection.instances.find((pc) => pc.remoteDescription?.type === 'offer');
const publishingPc = () => FakePeerConnection.instances.find((pc) => pc.remoteDescription?.type === 'answer');

describe('PrivateSessionView', () => {
  it('joins, publishes the camera, answers the offer for the other party and shows their video', async () => {
    serveSession(anActiveSession(65, { coins: 10, seconds: 60, held: 10 }));
    renderSession();

    expect(await screen.findByRole('heading', { name: 'with Cleo Creator' })).toBeInTheDocument();
    await waitFor(() => expect(fakeSocket().emitsOf('private:answer')).toEqual([{ sessionId: 'p-1', sdp: 'v=0 fake answer' }]));
    expect(fakeSocket().emitsOf('private:join')).toEqual([{ sessionId: 'p-1' }]);
    expect(fakeSocket().emitsOf('private:view')).toEqual([{ sessionId: 'p-1' }]);
    await waitFor(() =>
      expect(fakeSocket().emitsOf('private:publish')).toEqual([{ sessionId: 'p-1', sdp: 'v=0 fake-offer' }]),
    );
    await waitFor(() => expect(publishingPc()?.remoteDescription?.sdp).toBe('v=0 sfu-answer'));
    expect(media.getUserMedia).toHaveBeenCalledTimes(1);
    // The join comes first: the server counts this page present, then media flows.
    const events = fakeSocket().emitted.map((e) => e.event);
    expect(events.indexOf('private:join')).toBeLessThan(events.indexOf('private:view'));
    expect(events.indexOf('private:join')).toBeLessThan(events.indexOf('private:publish'));

    // Until the other party's first frame: a waiting notice over their video.
    expect(screen.getByText("Waiting for Cleo Creator's camera…")).toBeInTheDocument();
    const remote = fakeStream();
    act(() => viewingPc()!.receive(remote));
    const video = screen.getByLabelText<HTMLVideoElement>('Video of Cleo Creator');
    await waitFor(() => expect(video.srcObject).toBe(remote));
    act(() => void video.dispatchEvent(new Event('loadeddata')));
    await waitFor(() => expect(screen.queryByText("Waiting for Cleo Creator's camera…")).not.toBeInTheDocument());

    // The running numbers: the timer from `startedAt`, the coins from the server.
    expect(screen.getByTestId('private-timer')).toHaveTextContent(/^1:0[5-7]$/);
    expect(screen.getByTestId('private-coins')).toHaveTextContent('10');
    expect(screen.getByTestId('private-balance')).toHaveTextContent('Your balance: 80 coins (about 8 more minutes)');
  });

  it("follows the server's coins (private:update) and shows the low-balance warning until more is paid", async () => {
    // Started 35 s ago: the minute held runs out in 25 s, and the viewer cannot pay the next.
    const session = anActiveSession(35, { coins: 0 });
    serveSession(session);
    renderSession();
    expect(await screen.findByTestId('private-coins')).toHaveTextContent('0');
    act(() => fakeSocket().serverEmit('private:update', { session: { ...session, coins: 10, seconds: 60 } }));
    await waitFor(() => expect(screen.getByTestId('private-coins')).toHaveTextContent('10'));

    act(() => fakeSocket().serverEmit('private:warning', { sessionId: 'p-1', endsAt: session.paidThrough }));
    expect(await screen.findByText('Your coins are running out')).toBeInTheDocument();
    expect(screen.getByTestId('private-warning')).toHaveTextContent(/^The session ends in 0:2[3-5] unless you add coins\.$/);
    // A warning about another session is not this one's.
    act(() => fakeSocket().serverEmit('private:warning', { sessionId: 'p-2', endsAt: new Date().toISOString() }));
    expect(screen.getByTestId('private-warning')).toHaveTextContent(/0:2[3-5]/);

    // Coins added in time: the next minute was paid, past the announced end.
    const later = new Date(new Date(session.paidThrough!).getTime() + 60_000).toISOString();
    act(() => fakeSocket().serverEmit('private:update', { session: { ...session, coins: 20, seconds: 60, paidThrough: later } }));
    await waitFor(() => expect(screen.queryByText('Your coins are running out')).not.toBeInTheDocument());
  });

  it('joins and connects again after the socket reconnects (the server forgot the old socket)', async () => {
    serveSession(anActiveSession(5));
    renderSession();
    await waitFor(() => expect(fakeSocket().emitsOf('private:answer')).toHaveLength(1));
    await waitFor(() => expect(fakeSocket().emitsOf('private:publish')).toHaveLength(1));
    const first = [...FakePeerConnection.instances];

    act(() => fakeSocket().serverEmit('connect', undefined));
    await waitFor(() => expect(fakeSocket().emitsOf('private:join')).toHaveLength(2));
    await waitFor(() => expect(fakeSocket().emitsOf('private:answer')).toHaveLength(2));
    await waitFor(() => expect(fakeSocket().emitsOf('private:publish')).toHaveLength(2));
    expect(first.every((pc) => pc.closed)).toBe(true);
    // The camera stays open across it.
    expect(media.getUserMedia).toHaveBeenCalledTimes(1);
  });

  it('mutes the microphone and turns the camera off without renegotiating', async () => {
    serveSession(anActiveSession(5));
    renderSession();
    const mute = await screen.findByRole('button', { name: 'Mute microphone' });
    await waitFor(() => expect(mute).toBeEnabled());
    const stream = (await media.getUserMedia.mock.results[0].value) as FakeStream;
    const [videoTrack, audioTrack] = stream.tracks as unknown as Array<{ enabled: boolean }>;
    await waitFor(() => expect(audioTrack.enabled).toBe(true));

    await userEvent.click(mute);
    await waitFor(() => expect(audioTrack.enabled).toBe(false));
    expect(screen.getByRole('button', { name: 'Unmute microphone' })).toHaveAttribute('aria-pressed', 'true');
    await userEvent.click(screen.getByRole('button', { name: 'Turn camera off' }));
    await waitFor(() => expect(videoTrack.enabled).toBe(false));
    expect(screen.getByText('Camera off')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Turn camera on' }));
    await waitFor(() => expect(videoTrack.enabled).toBe(true));
    expect(fakeSocket().emitsOf('private:publish')).toHaveLength(1);
  });

  it('ends: the end screen shows the duration and the total, and the camera goes off', async () => {
    const state = serveSession(anActiveSession(90, { coins: 10 }));
    renderSession();
    await userEvent.click(await screen.findByRole('button', { name: 'End session' }));
    expect(await screen.findByRole('heading', { name: 'The private session has ended' })).toBeInTheDocument();
    expect(screen.getByText('You ended the session.')).toBeInTheDocument();
    expect(screen.getByTestId('private-end-duration')).toHaveTextContent('1 min 35 s');
    expect(screen.getByTestId('private-end-coins')).toHaveTextContent('16 coins');
    expect(screen.getByText('Total paid')).toBeInTheDocument();
    expect(state.ends).toBe(1);
    const stream = (await media.getUserMedia.mock.results[0].value) as FakeStream;
    await waitFor(() => stream.tracks.forEach((t) => expect(t.stop).toHaveBeenCalled()));
    expect(FakePeerConnection.instances.every((pc) => pc.closed)).toBe(true);
  });

  it("shows the creator what was earned when the viewer's coins ran out", async () => {
    serveSession(
      anActiveSession(200, { state: 'ended', endReason: 'funds', seconds: 180, coins: 30, endedAt: new Date().toISOString() }),
    );
    renderSession(creator);
    expect(await screen.findByText("The viewer's coins ran out.")).toBeInTheDocument();
    expect(screen.getByTestId('private-end-duration')).toHaveTextContent('3 min');
    expect(screen.getByText('Total earned')).toBeInTheDocument();
    expect(screen.getByTestId('private-end-coins')).toHaveTextContent('30 coins');
    expect(media.getUserMedia).not.toHaveBeenCalled();
  });

  it('refuses anyone but the two parties, as the server does (404), and opens no camera', async () => {
    server.use(
      http.get('/api/private/sessions', () => HttpResponse.json({ items: [], nextCursor: null })),
      http.get('/api/private/sessions/p-1', () =>
        HttpResponse.json({ error: { code: 'not_found', message: 'No such private session.' } }, { status: 404 }),
      ),
    );
    renderSession(aUser({ id: 'u-third', username: 'third' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('This private session does not exist, or it is not yours.');
    expect(media.getUserMedia).not.toHaveBeenCalled();
    expect(fakeSocket().emitsOf('private:join')).toEqual([]);
  });

  it('lets the creator answer a request that is still open', async () => {
    serveSession(aPrivateSession());
    let accepted = 0;
    server.use(
      http.post('/api/private/sessions/p-1/accept', () => {
        accepted += 1;
        return HttpResponse.json(anActiveSession(0));
      }),
    );
    renderSession(creator);
    expect(await screen.findByRole('heading', { name: 'Vera Viewer asks for a private session' })).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Accept' }));
    expect(await screen.findByRole('heading', { name: 'with Vera Viewer' })).toBeInTheDocument();
    expect(accepted).toBe(1);
  });
});
